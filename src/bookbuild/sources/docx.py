"""Read a Word document (.docx) for ``bookbuild new --from-docx``: its text as HTML, its
pictures, and its properties.

The document comes from a stranger as often as from the author, so it is checked before any
library parses it. It is read once, by the one reader of files (``files.read_book_file``,
bounded at 50 MB), and everything after works on those bytes in memory: mammoth gets a
BytesIO, never a path, and its access to files outside the document is off, so a picture
linked to ``file:`` or ``http:`` is never opened. Before mammoth unpacks anything, the zip's
central directory is read with :mod:`zipfile` and bounded: the number of members, each
member's and the whole package's unpacked size (zipfile never inflates a member past the size
its directory entry gives, so the directory's sizes bound memory), no encrypted member, no
DTD in any XML part (no entity bombs). mammoth (BSD-2, a well-kept reader of .docx used by
publishing tools) turns the document into simple, semantic HTML; docx_markdown.py turns that
into Markdown. What mammoth cannot carry is found by docx_scan.py and reported with the
paragraph it came from.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers.expat import ExpatError

from lxml import etree

from ..errors import BookError, Reporter, UnreadableFile
from ..files import LIMITS, MiB, read_book_file
from ..resources import display_path
from .docx_markdown import OMITTED
from .docx_scan import DocxError, ScanResult, main_part, open_xml, refuse_dtd, scan_document
from .images import MAX_PIXELS, check_image

MAX_MEMBERS = 5000  # a long manuscript with a thousand pictures has about 1,100
MAX_UNPACKED = 256 * MiB  # all members together, as the central directory declares them
MAX_XML_PART = 32 * MiB  # one XML part: mammoth builds a DOM of it (a novel's is about 5 MB)
MAX_PICTURE = LIMITS["image"]  # a larger picture is left out with a warning
WEB_PICTURES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg",
                "image/webp": ".webp"}
CONVERTIBLE = {"image/tiff", "image/bmp", "image/x-ms-bmp"}  # made PNG, which every reading system shows
# mammoth's messages that say what the scan has reported with its paragraph, or that do not matter
_KNOWN = re.compile(r"Unrecognised (paragraph|run) style|could not open external image|Image of type|"
                    r"An unrecognised element was ignored: (m:|\{[^}]*/math\}|w:fldSimple)")
PROPERTY_NAMES = ("title", "subject", "creator", "description", "keywords", "language", "created", "modified")

# Word's own styles -> our constructs (mammoth's default map does headings 1-6, lists, links).
STYLE_MAP = """
p[style-name='Title'] => p.docx-title:fresh
p[style-name='Subtitle'] => p.docx-subtitle:fresh
p[style-name='Caption'] => p.docx-caption:fresh
p[style-name='Quote'] => blockquote > p:fresh
p[style-name='Intense Quote'] => blockquote > p:fresh
p[style-name='Block Text'] => blockquote > p:fresh
p[style-name='Heading 7'] => h6:fresh
p[style-name='Heading 8'] => h6:fresh
p[style-name='Heading 9'] => h6:fresh
p[style-name^='toc '] => !
p[style-name='TOC Heading'] => !
p[style-name='HTML Preformatted'] => pre:separator('\\n')
p[style-name='Source Code'] => pre:separator('\\n')
p[style-name='Code'] => pre:separator('\\n')
r[style-name='HTML Code'] => code
r[style-name='Verbatim Char'] => code
r[style-name='Intense Emphasis'] => em
r[style-name='Emphasis'] => em
r[style-name='Strong'] => strong
"""


@dataclass(frozen=True)
class DocxProperties:
    """The document's properties (docProps/core.xml) and its default language (styles.xml)."""

    title: str = ""
    subject: str = ""
    creator: str = ""
    description: str = ""
    keywords: str = ""
    language: str = ""
    created: str = ""
    modified: str = ""


@dataclass(frozen=True)
class DocxPicture:
    """A picture of the document, as the new book's ``images/`` will hold it."""

    name: str  # images/NAME
    data: bytes


@dataclass
class DocxDocument:
    """What the reader hands to the Markdown writer: mammoth's HTML (pictures pointing to
    ``images/NAME``), the pictures, the properties and where each paragraph came from."""

    name: str
    html: str
    properties: DocxProperties
    pictures: list[DocxPicture] = field(default_factory=list)
    scan: ScanResult = field(default_factory=ScanResult)


def read_docx(path: Path, reporter: Reporter) -> DocxDocument:
    """Read the .docx at ``path`` (any folder: the author names it on the command line).

    Raises :class:`DocxError` for a file that is not a Word document or that bookbuild refuses
    (too large, too many members, encrypted, a DTD); what cannot be carried into the book
    (tracked changes, comments, text boxes, fields, equations, linked or unusable pictures)
    is a warning naming the paragraph.
    """
    name = display_path(path)
    real = Path(path).resolve()  # a link the author named is followed: containment is for books
    try:
        data = read_book_file(Path(path), real.parent, "docx", error=DocxError)
    except UnreadableFile as exc:  # a FIFO or device: the same message, as a DocxError
        raise DocxError(exc.diagnostic.message, name) from None
    archive = open_package(data, name)
    properties = read_properties(archive)
    scan = scan_document(archive, name, reporter)
    html, pictures = _convert(data, archive, name, scan, reporter)
    return DocxDocument(name, html, properties, pictures, scan)


def open_package(data: bytes, name: str) -> zipfile.ZipFile:
    """The .docx as a zip whose central directory is within bounds, or :class:`DocxError`."""
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise DocxError("is a Word 97-2003 document (.doc), not a .docx", name,
                        hint="open it in Word or LibreOffice and save it as Word Document (.docx)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise DocxError("is not a Word document: not a zip archive", name,
                        hint="save it from Word as Word Document (.docx)") from None
    if len(members) > MAX_MEMBERS:
        raise DocxError(f"holds {len(members):,} files: more than {MAX_MEMBERS:,} (a zip bomb?)", name)
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED:
        raise DocxError(f"would unpack to {unpacked // MiB:,} MB: more than {MAX_UNPACKED // MiB} MB (a zip bomb?)",
                        name)
    for member in members:
        if member.flag_bits & 0x1:
            raise DocxError(f"part '{member.filename}' is encrypted", name,
                            hint="remove the password protection in Word and save it again")
        if member.filename.endswith((".xml", ".rels")):
            if member.file_size > MAX_XML_PART:
                raise DocxError(f"part '{member.filename}' would unpack to {member.file_size // MiB:,} MB: "
                                f"more than {MAX_XML_PART // MiB} MB", name)
            refuse_dtd(_read_member(archive, member, name), member.filename, name)
    if main_part(archive, name) not in archive.namelist():
        raise DocxError("is not a Word document: it has no main document part", name,
                        hint="save it from Word as Word Document (.docx)")
    return archive


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> bytes:
    """A member's bytes; a member whose data does not match its directory entry is refused."""
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise DocxError(f"part '{member.filename}' is damaged ({exc})", name) from None


def read_properties(archive: zipfile.ZipFile) -> DocxProperties:
    """Title, author, language... from docProps/core.xml; the language, when core.xml has
    none, is the document's default (styles.xml's ``w:docDefaults``), as Word shows it."""
    values = dict.fromkeys(PROPERTY_NAMES, "")
    if "docProps/core.xml" in archive.namelist():
        for element in open_xml(archive, "docProps/core.xml", "docProps/core.xml").iter():
            local = etree.QName(element).localname if isinstance(element.tag, str) else ""
            if local in values and not values[local]:
                values[local] = " ".join((element.text or "").split())
    if not values["language"] and "word/styles.xml" in archive.namelist():
        for lang in open_xml(archive, "word/styles.xml", "word/styles.xml").iterfind(
                "{*}docDefaults/{*}rPrDefault/{*}rPr/{*}lang"):
            values["language"] = next((v for k, v in lang.attrib.items() if k.endswith("}val")), "")
    return DocxProperties(**values)


def _convert(data: bytes, archive: zipfile.ZipFile, name: str, scan: ScanResult,
             reporter: Reporter) -> tuple[str, list[DocxPicture]]:
    """mammoth's HTML, with each picture written once under a name of its own."""
    import mammoth  # the docx extra: imported only when a document is imported

    pictures = _Pictures(archive, name, scan, reporter)
    try:
        result = mammoth.convert_to_html(io.BytesIO(data), style_map=STYLE_MAP, external_file_access=False,
                                         convert_image=mammoth.images.img_element(pictures.convert))
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error, ExpatError,
            NotImplementedError) as exc:
        raise DocxError(f"cannot be read as a Word document ({type(exc).__name__}: {exc})", name) from None
    for message in result.messages:
        if not _KNOWN.match(message.message):
            reporter.warn(f"mammoth: {message.message}", name)
    return result.value, pictures.written


class _Pictures:
    """mammoth's ``convert_image``: each picture checked (type, size, pixels), converted to
    PNG when a reading system could not show it, and named once per distinct picture."""

    def __init__(self, archive: zipfile.ZipFile, name: str, scan: ScanResult, reporter: Reporter) -> None:
        self.archive, self.name, self.scan, self.reporter = archive, name, scan, reporter
        self.written: list[DocxPicture] = []
        self.by_digest: dict[str, str] = {}

    def convert(self, image: object) -> dict[str, str]:
        """mammoth's ``convert_image``: the attributes of the picture's ``<img>``."""
        try:
            with image.open() as stream:  # type: ignore[attr-defined] - mammoth's Image
                data = stream.read(MAX_PICTURE + 1)
        except Exception:  # noqa: BLE001 - a linked picture (reported by the scan) or a missing part
            return {"src": OMITTED + "linked"}
        where = self._where(data)
        if len(data) > MAX_PICTURE:
            return self._omit(where, f"is larger than {MAX_PICTURE // MiB} MB", "scale it down in Word")
        try:
            data, suffix = self._usable(data, image.content_type or "")
        except BookError as exc:
            return self._omit(where, exc.diagnostic.message, exc.diagnostic.hint)
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.by_digest:
            self.by_digest[digest] = f"image-{len(self.by_digest) + 1:02d}{suffix}"
            self.written.append(DocxPicture(self.by_digest[digest], data))
        return {"src": "images/" + self.by_digest[digest]}

    def _usable(self, data: bytes, content_type: str) -> tuple[bytes, str]:
        if content_type in WEB_PICTURES:
            return check_image(data, WEB_PICTURES[content_type]), WEB_PICTURES[content_type]
        if content_type in CONVERTIBLE:
            return _as_png(data), ".png"
        kind = "a Windows metafile (EMF/WMF)" if "emf" in content_type or "wmf" in content_type \
            else f"of type '{content_type or 'unknown'}'"
        raise BookError(f"is {kind}, which e-books cannot show", hint="save it as PNG or SVG and insert that")

    def _where(self, data: bytes) -> str:
        """The picture's part and paragraph, found by its checksum among the package's members."""
        if len(data) > MAX_PICTURE:  # read only in part: the one member that large
            large = [m for m in self.archive.infolist() if m.file_size > MAX_PICTURE]
            return self.scan.picture_place(large[0].filename) if len(large) == 1 else "a picture"
        crc = zlib.crc32(data)
        for member in self.archive.infolist():
            if member.CRC == crc and member.file_size == len(data):
                return self.scan.picture_place(member.filename)
        return "a picture"

    def _omit(self, where: str, why: str, hint: str | None) -> dict[str, str]:
        self.reporter.warn(f"{where} {why}: left out", self.name, hint=hint)
        return {"src": OMITTED + "unusable"}


def _as_png(data: bytes) -> bytes:
    """A TIFF or BMP as PNG, within the pixel limit of every image of a book."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.size[0] * image.size[1] > MAX_PIXELS:
                raise BookError(f"has {image.size[0]} x {image.size[1]} pixels: over the limit of {MAX_PIXELS:,}")
            out = io.BytesIO()
            image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, "PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BookError(f"cannot be read ({exc})") from None
