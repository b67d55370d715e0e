"""Configuration at the door: book.toml and command-line overrides, loaded and validated once
into frozen options (house rule 3). After this package, code trusts its options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .manifest import Manifest


@dataclass(frozen=True)
class BuildContext:
    """What the transforms and renderers need besides the book (mdBook's ``RenderContext``):
    the validated options, and where derived data may be kept between builds.

    ``config.epub`` and ``config.pdf`` are the renderers' options; ``cache_dir`` is None when
    nothing may be kept; ``source_mtime`` is the newest source's time (the EPUB's
    ``dcterms:modified`` when SOURCE_DATE_EPOCH is not set).
    """

    config: Manifest
    cache_dir: Path | None = None
    source_mtime: float = 0.0
