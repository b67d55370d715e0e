"""The EPUB zip, re-packed so that unchanged sources give the same bytes (reproducible-builds.org).

ebooklib writes a valid container but with the clock's timestamps and an OPF without the
package-level ``xml:lang`` that Ace asks for; this is the last stage and fixes both.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile

from lxml import etree

OPF_NAME = "EPUB/content.opf"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Before 1980 a zip cannot say; SOURCE_DATE_EPOCH=0 must still build.
ZIP_EPOCH = dt.datetime(1980, 1, 1)


def modified_time(source_mtime: float) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible-builds.org), else the newest source's mtime."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else int(source_mtime)
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)


def repack(data: bytes, modified: dt.datetime, language: str) -> bytes:
    """The same entries, ``mimetype`` first and stored, every timestamp set to ``modified``."""
    stamp = max(modified, ZIP_EPOCH).timetuple()[:6]
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        names = source.namelist()
        names.sort(key=lambda name: name != "mimetype")
        for name in names:
            content = source.read(name)
            if name == OPF_NAME:
                content = _finish_package(content, language)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, content, compresslevel=9 if name != "mimetype" else None)
    return out.getvalue()


def _finish_package(opf: bytes, language: str) -> bytes:
    """The package document with the book's language on its root (EPUB 3.3 section 5.4.1)."""
    root = etree.fromstring(opf)
    root.set(XML_LANG, language)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)
