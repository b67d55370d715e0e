"""The EPUB zip, re-packed so that unchanged sources give the same bytes (reproducible-builds.org).

ebooklib makes the files of a valid EPUB (render/epub keeps them as written rather than
zipped) with an OPF without the package-level ``xml:lang`` that Ace asks for; this last
stage adds it and zips the files with every timestamp the sources' time.
"""

from __future__ import annotations

import datetime as dt
import os

from lxml import etree

from .container import DeflateCache, stored, write_zip

OPF_NAME = "EPUB/content.opf"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def modified_time(source_mtime: float) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible-builds.org), else the newest source's mtime."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else int(source_mtime)
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)


def repack(files: list[tuple[str, bytes]], modified: dt.datetime, language: str,
           deflater: DeflateCache | None = None) -> bytes:
    """The zip of ebooklib's files: ``mimetype`` first, it and the photographs and fonts stored
    (container.stored), every timestamp ``modified``.

    Members are deflated once, reusing the cached deflate streams of unchanged bytes
    (container.py) when ``deflater`` has a folder; those it was given early are deflated already.
    """
    ordered = sorted(files, key=lambda file: file[0] != "mimetype")  # stable: ebooklib's order
    members = [(name, _finish_package(data, language) if name == OPF_NAME else data, stored(name))
               for name, data in ordered]
    return write_zip(members, modified, deflater or DeflateCache(None))


def _finish_package(opf: bytes, language: str) -> bytes:
    """The package document with the book's language on its root (EPUB 3.3 section 5.4.1)."""
    root = etree.fromstring(opf)
    root.set(XML_LANG, language)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)
