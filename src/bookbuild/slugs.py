"""Names made from titles: ASCII file-name slugs and XML-safe heading ids."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w\s-]", re.UNICODE)
_DASHES = re.compile(r"[\s_-]+", re.UNICODE)


def file_slug(text: str, default: str = "book", max_length: int = 60) -> str:
    """ASCII-only, lower-case slug for output and internal file names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else slug[:max_length]
    return slug.strip("-") or default


def id_slug(text: str, default: str = "section") -> str:
    """A heading id: Unicode letters kept (CJK titles stay readable), valid as an XML NCName."""
    text = unicodedata.normalize("NFKC", text).lower()
    slug = _DASHES.sub("-", _NOT_WORD.sub("", text)).strip("-")
    if not slug:
        return default
    if not (slug[0].isalpha() or slug[0] == "_"):
        slug = f"{default[0]}-{slug}"
    return slug


def mdbook_id(text: str) -> str:
    """A heading id as mdBook makes it, so that links written for an mdBook book resolve:
    every letter, digit, ``_`` and ``-`` kept (ASCII letters lower-cased, others as written),
    each white-space character a ``-``, everything else dropped; runs of ``-`` are kept
    (``Concatenating with + or format!`` -> ``concatenating-with--or-format``)."""
    kept = []
    for ch in text.strip().lstrip("#").strip():
        if ch.isalnum() or ch in "_-":
            kept.append(ch.lower() if ch.isascii() else ch)
        elif ch.isspace():
            kept.append("-")
    return "".join(kept)


def mdbook_unique(candidate: str, counts: dict[str, int], taken: set[str]) -> str:
    """mdBook's second ``setup`` heading of a page is ``setup-1``, its third ``setup-2``; a name
    another id of the chapter already has is made unique as bookbuild does."""
    seen = counts.get(candidate, 0)
    counts[candidate] = seen + 1
    return unique(f"{candidate}-{seen}" if seen else candidate, taken)


def unique(candidate: str, taken: set[str]) -> str:
    """``candidate`` or ``candidate-2``, ``-3``... whichever is not yet in ``taken``; records it."""
    name, n = candidate, 1
    while name.casefold() in taken:
        n += 1
        name = f"{candidate}-{n}"
    taken.add(name.casefold())
    return name
