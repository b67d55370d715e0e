"""The EPUB zip, re-packed so that unchanged sources give the same bytes (reproducible-builds.org).

ebooklib writes a valid container but with the clock's timestamps and an OPF without the
package-level ``xml:lang`` that Ace asks for; this is the last stage and fixes both.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from pathlib import Path

from lxml import etree

from ..epub_zip import DeflateCache, write_zip

OPF_NAME = "EPUB/content.opf"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def modified_time(source_mtime: float) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible-builds.org), else the newest source's mtime."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else int(source_mtime)
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)


def repack(data: bytes, modified: dt.datetime, language: str, deflate_cache: Path | None = None) -> bytes:
    """The same entries, ``mimetype`` first and stored, every timestamp set to ``modified``.

    ebooklib's zip arrives uncompressed; members are deflated once here, reusing the cached
    deflate streams of unchanged bytes (epub_zip) when ``deflate_cache`` names a folder.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(source.namelist(), key=lambda name: name != "mimetype")

    def members():  # noqa: ANN202 - a generator of (name, bytes, stored)
        for name in names:
            content = source.read(name)
            if name == OPF_NAME:
                content = _finish_package(content, language)
            yield name, content, name == "mimetype"

    return write_zip(members(), modified, DeflateCache(deflate_cache))


def _finish_package(opf: bytes, language: str) -> bytes:
    """The package document with the book's language on its root (EPUB 3.3 section 5.4.1)."""
    root = etree.fromstring(opf)
    root.set(XML_LANG, language)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)
