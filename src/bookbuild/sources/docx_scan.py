"""Find what a Word document holds that the new book cannot carry, paragraph by paragraph.

mammoth accepts tracked changes silently (insertions kept, deletions dropped), leaves
comments, equations, charts and SmartArt out, moves a text box's text after its paragraph,
and keeps a field's last shown result as plain text. An author must know each of these, and
where it was: this module reads the main document part (with a parser that loads no DTD,
after refusing any part that has one) and reports each as a warning naming the paragraph,
by its number and first words, as Word shows it. It also records where each embedded
picture is, so that a picture left out later can be named by its paragraph too.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from lxml import etree

from ..errors import BookError, Reporter

WORD = ("http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "http://purl.oclc.org/ooxml/wordprocessingml/main")
MATH = ("http://schemas.openxmlformats.org/officeDocument/2006/math",
        "http://purl.oclc.org/ooxml/officeDocument/math")
FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
MAX_SAME = 10  # warnings of one kind given one by one; the rest are counted in one more
SNIPPET = 40  # characters of a paragraph's text that name it
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True)
HINTS = {
    "tracked change": "to choose for yourself, accept or reject the changes in Word (Review) before importing",
    "comment": "comments are notes between people, not text of the book; answer them in Word",
    "text box": "move the text into the page in Word, or put it where it belongs in the chapter",
    "field": "a field's text is what Word last showed it as; check it, or write it out in Word",
    "contents": "bookbuild makes the book's contents from the chapters' headings",
    "equation": "write it in TeX in the chapter ($...$) and set math = true in book.toml",
    "object": "save the chart or drawing as a PNG or SVG picture and insert that",
    "linked picture": "insert the picture into the document (Insert > Pictures), not a link to it",
}


class DocxError(BookError):
    """The Word document cannot be imported: not a .docx, or a package bookbuild refuses."""


def _tags(local: str, namespaces: tuple[str, ...] = WORD) -> tuple[str, ...]:
    return tuple(f"{{{ns}}}{local}" for ns in namespaces)


P, T = _tags("p"), _tags("t")


@dataclass
class ScanResult:
    """Each paragraph's first words, by number, and the paragraph of each embedded picture."""

    paragraphs: list[str] = field(default_factory=list)
    pictures: dict[str, int] = field(default_factory=dict)  # zip member -> paragraph number
    languages: Counter = field(default_factory=Counter)  # runs by their marked language ("": none)

    def where(self, number: int) -> str:
        """``paragraph 12 “The storm broke…”``: how an author finds it in Word."""
        text = self.paragraphs[number - 1] if 0 < number <= len(self.paragraphs) else ""
        return f"paragraph {number} “{text}”" if text else f"paragraph {number}"

    def picture_place(self, member: str) -> str:
        number = self.pictures.get(member)
        shown = f"picture '{PurePosixPath(member).name}'"
        return f"{self.where(number)}: {shown}" if number else shown


def open_xml(archive: zipfile.ZipFile, member: str, name: str) -> etree._Element:
    """A part of the package parsed without DTD, entities or network; a part with a DTD (which
    no Word part has, and every entity bomb needs) is refused."""
    data = archive.read(member)
    refuse_dtd(data, member, name)
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocxError(f"part '{member}' is not well-formed XML ({exc})", name) from None


def refuse_dtd(data: bytes, member: str, name: str) -> None:
    """A part with a DTD is refused before any parser sees it: no Word part has one, and
    every entity bomb needs one."""
    if _DTD.search(data):
        raise DocxError(f"part '{member}' declares a DTD or entities, which Word never writes: not read", name)


def main_part(archive: zipfile.ZipFile, name: str) -> str:
    """The main document's part name, found as mammoth finds it (``_rels/.rels``)."""
    if "_rels/.rels" in archive.namelist():
        for relationship in open_xml(archive, "_rels/.rels", name).iter("{*}Relationship"):
            if relationship.get("Type", "").endswith("/officeDocument"):
                return str(PurePosixPath(relationship.get("Target", "").lstrip("/")))
    return "word/document.xml"


def _relationships(archive: zipfile.ZipFile, part: str, name: str) -> dict[str, tuple[str, str, bool]]:
    """Relationship id -> (type's last word, target, external?) of a part."""
    path = PurePosixPath(part)
    rels = str(path.parent / "_rels" / f"{path.name}.rels")
    if rels not in archive.namelist():
        return {}
    found = {}
    for rel in open_xml(archive, rels, name).iter("{*}Relationship"):
        target = rel.get("Target", "")
        external = rel.get("TargetMode") == "External"
        member = target if external else _member(path.parent, target)
        found[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], member, external)
    return found


def _member(folder: PurePosixPath, target: str) -> str:
    parts: list[str] = []
    for part in (target.lstrip("/") if target.startswith("/") else f"{folder}/{target}").split("/"):
        if part == "..":
            parts = parts[:-1]
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _comments(archive: zipfile.ZipFile, rels: dict, name: str) -> dict[str, tuple[str, str]]:
    """Comment id -> (author, text)."""
    member = next((target for kind, target, external in rels.values() if kind == "comments" and not external), None)
    if member is None or member not in archive.namelist():
        return {}
    found = {}
    for comment in open_xml(archive, member, name).iter(*_tags("comment")):
        text = " ".join("".join(t.text or "" for t in comment.iter(*T)).split())
        found[_attr(comment, "id")] = (_attr(comment, "author"), text)
    return found


def _attr(element: etree._Element, local: str) -> str:
    return next((value for key, value in element.attrib.items() if key.endswith("}" + local)), "")


def _snippet(text: str, length: int = SNIPPET) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0] if " " in text[:length] else text[:length]
    return cut + "…"


def scan_document(archive: zipfile.ZipFile, name: str, reporter: Reporter) -> ScanResult:
    """Number the paragraphs of the main document, report what will not be carried, and find
    the paragraph of each embedded picture."""
    part = main_part(archive, name)
    root = open_xml(archive, part, name)
    for fallback in list(root.iter(FALLBACK)):  # the same content twice: read the modern one
        fallback.getparent().remove(fallback)
    rels = _relationships(archive, part, name)
    scanner = _Scanner(ScanResult(), rels, _comments(archive, rels, name))
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in P and not any(True for _ in element.iterancestors(*P)):
            text = "".join(t.text or "" for t in element.iter(*T))
            scanner.result.paragraphs.append(_snippet(text))
        scanner.visit(element)
    scanner.report(reporter, name)
    return scanner.result


class _Scanner:
    """One pass over the document's elements in order; findings are kept per paragraph."""

    def __init__(self, result: ScanResult, rels: dict, comments: dict) -> None:
        self.result, self.rels, self.comments = result, rels, comments
        self.findings: list[tuple[str, int, str]] = []  # (kind, paragraph, message)
        self.seen: set[tuple[str, int, str]] = set()
        self.fields: list[list[str]] = []  # open complex fields: their code so far
        self.in_toc = 0

    @property
    def paragraph(self) -> int:
        return len(self.result.paragraphs)

    def add(self, kind: str, message: str) -> None:
        finding = (kind, self.paragraph, message)
        if finding not in self.seen:
            self.seen.add(finding)
            self.findings.append(finding)

    def visit(self, element: etree._Element) -> None:
        qname = etree.QName(element)
        if qname.namespace in WORD:
            self._word(qname.localname, element)
        elif qname.namespace in MATH and qname.localname == "oMath":
            self.add("equation", "an equation (Word's Office Math) is left out")
        elif qname.localname == "graphicData":
            uri = element.get("uri", "")
            if uri.endswith(("/chart", "/diagram", "/chartex")):
                what = "a chart" if "chart" in uri else "a SmartArt diagram"
                self.add("object", f"{what} is left out")
        elif qname.localname in ("blip", "imagedata"):
            self._picture(element)

    def _word(self, local: str, element: etree._Element) -> None:
        author = _attr(element, "author") or "someone"
        if local in ("ins", "moveTo") and len(element):
            text = _snippet("".join(t.text or "" for t in element.iter(*T)))
            self.add("tracked change", f"tracked insertion by {author} accepted: “{text}”")
        elif local in ("del", "moveFrom") and len(element):
            text = _snippet("".join(t.text or "" for t in element.iter(*_tags("delText"))))
            if text:
                self.add("tracked change", f"tracked deletion by {author} accepted: “{text}” is left out")
        elif local in ("rPrChange", "pPrChange"):
            self.add("tracked change", f"tracked formatting change by {author} accepted")
        elif local == "commentReference":
            who, text = self.comments.get(_attr(element, "id"), ("someone", ""))
            self.add("comment", f"comment by {who or 'someone'} left out: “{_snippet(text, 80)}”")
        elif local == "txbxContent":
            text = _snippet(" ".join("".join(t.text or "" for t in p.iter(*T)) for p in element.iter(*P)))
            self.add("text box", f"a text box: its text “{text}” is set as a paragraph after this one")
        elif local == "object" and any(True for _ in element.iter("{*}OLEObject")):
            self.add("object", "an embedded object (OLE): only the picture Word shows of it is kept")
        elif local == "r":
            lang = next(iter(element.iterfind("{*}rPr/{*}lang")), None)
            self.result.languages[_attr(lang, "val") if lang is not None else ""] += 1
        elif local in ("fldChar", "instrText", "fldSimple"):
            self._field(local, element)

    def _field(self, local: str, element: etree._Element) -> None:
        kind = _attr(element, "fldCharType")
        if local == "fldChar" and kind == "begin":
            self.fields.append([])
        elif local == "instrText" and self.fields:
            self.fields[-1].append(element.text or "")
        elif local == "fldChar" and kind == "separate" and self.fields:
            self._field_code("".join(self.fields[-1]))
            self.fields[-1] = ["\0reported", *self.fields[-1]]
        elif local == "fldChar" and kind == "end" and self.fields:
            parts = self.fields.pop()
            if parts[:1] != ["\0reported"]:  # a field without a result: reported at its end
                self._field_code("".join(parts))
            code = "".join(parts[1:] if parts[:1] == ["\0reported"] else parts).split()
            if code and code[0].upper() == "TOC":
                self.in_toc = max(0, self.in_toc - 1)
        elif local == "fldSimple":  # mammoth drops these with what they show
            words = _attr(element, "instr").split()
            shown = _snippet("".join(t.text or "" for t in element.iter(*T)))
            if words and words[0].upper() == "TOC":
                self._field_code("TOC")
            elif shown:
                self.add("field", f"a {words[0].upper() if words else ''} field is left out: it showed “{shown}”")

    def _field_code(self, instruction: str) -> None:
        words = instruction.split()
        code = words[0].upper() if words else ""
        if code == "TOC":
            self.in_toc += 1
            self.add("contents", "the table of contents (a TOC field) is left out")
        elif code in ("HYPERLINK", "") or (code == "PAGEREF" and self.in_toc):
            return
        elif code == "XE":
            self.add("field", "an index entry (XE field) is left out")
        elif code == "INCLUDEPICTURE":
            self.add("linked picture", "a picture linked by an INCLUDEPICTURE field is not fetched: left out")
        else:
            self.add("field", f"a {code} field is kept as plain text: what Word last showed")

    def _picture(self, element: etree._Element) -> None:
        embed = _attr(element, "embed") or (_attr(element, "id") if "imagedata" in element.tag else "")
        linked = _attr(element, "link")
        _, target, external = self.rels.get(embed or linked, ("", "", False))
        if linked or external:
            self.add("linked picture", f"a picture linked to '{target or linked}' is not fetched: left out")
        elif target:
            self.result.pictures.setdefault(target, self.paragraph)

    def report(self, reporter: Reporter, name: str) -> None:
        shown = Counter()
        for kind, paragraph, message in self.findings:
            shown[kind] += 1
            if shown[kind] <= MAX_SAME:
                reporter.warn(f"{self.result.where(paragraph)}: {message}", name, hint=HINTS[kind])
        for kind, count in sorted(shown.items()):
            if count > MAX_SAME:
                reporter.warn(f"{count - MAX_SAME} more of the same kind ({kind}) in the document", name,
                              hint=HINTS[kind])
