"""mammoth's HTML -> the new book's Markdown, one chapter at a time.

mammoth writes a small, known set of HTML (paragraphs, headings, lists, tables, emphasis,
links, pictures, line breaks, block quotes and code from our style map, footnotes as a list
at the end), so the conversion is ours and small rather than a general HTML-to-Markdown
library's: what matters here is what bookbuild's Markdown reads, and that text from a
stranger stays text. Every character that bookbuild's reader gives a meaning (emphasis,
links, raw HTML, attributes, includes, math, tables, line-start markers) is escaped; a
table with merged cells or blocks in its cells is written as an HTML table whose cells hold
Markdown, so footnotes and links in it still work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import html as lxml_html
from lxml.html import HtmlElement

BLOCKS = {"p", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
NOTE_ID = re.compile(r"^(footnote|endnote)-(\d+)$")
OMITTED = "bookbuild-omitted:"  # the src docx.py gives a picture it left out
BREAK = "\x00"  # a line break inside a block, resolved by where it stands
_ESCAPE = re.compile(r"([\\`*_\[\]<>{}~|$])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^(#|-|\+|=|:|\d+(?=[.)])|Table(?=:))")
_SPACES = re.compile(r"[ \t\r\n]+")
KEPT_SCHEMES = ("http://", "https://", "mailto:")
_LIST_START = re.compile(r"(- |\d+\. |-\n|\d+\.\n)")
MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "s": "~~", "del": "~~"}


def escape(text: str) -> str:
    """Text as Markdown that reads as the same text, wherever in a line it stands."""
    return _ENTITY.sub(r"\\&", _ESCAPE.sub(r"\\\1", text))


def _start_of_line(text: str) -> str:
    """Escape what would make a line a heading, list item, definition or table caption."""
    match = _LINE_START.match(text)
    if not match:
        return text
    marker = match.group(0)
    if marker[0].isdigit():
        return marker + "\\" + text[len(marker):]
    if marker == "Table":
        return "Table\\" + text[len(marker):]
    return "\\" + text


def attribute(text: str) -> str:
    """A value for ``{alt="..."}``: bookbuild's attribute reader has no escapes, so the three
    characters it cannot hold become their typographic look-alikes."""
    text = " ".join(text.split())
    text = re.sub(r'(^|[\s(\[])"', "\\1\u201c", text).replace('"', "\u201d")
    return text.replace("{", "(").replace("}", ")")


@dataclass
class Section:
    """A part of the document that starts at a heading (``level`` 0: the text before any)."""

    level: int
    title: str
    heading: HtmlElement | None = None
    elements: list = field(default_factory=list)


def parse(html: str) -> tuple[list, dict]:
    """mammoth's HTML as top-level elements, and its notes by id (``footnote-1``...)."""
    root = lxml_html.fragment_fromstring(html or "<p></p>", create_parent="div")
    notes: dict[str, HtmlElement] = {}
    body = []
    for element in root:
        items = list(element) if element.tag == "ol" else []
        if items and all(NOTE_ID.match(item.get("id") or "") for item in items):
            notes.update((item.get("id"), item) for item in items)
        else:
            body.append(element)
    return body, notes


def split(body: list, level: int) -> list[Section]:
    """Sections at headings of ``level`` or above (those above become parts)."""
    sections = [Section(0, "")]
    for element in body:
        depth = int(element.tag[1]) if re.fullmatch(r"h[1-6]", element.tag or "") else 0
        title = " ".join(element.text_content().split()) if depth else ""
        if depth and depth <= level and title:
            sections.append(Section(depth, title, element))
        else:
            sections[-1].elements.append(element)
    return sections


def plain(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


class ChapterWriter:
    """Writes one chapter's Markdown: its notes numbered from 1 in the order they are called,
    internal links sent to the chapter holding their target, pictures from the chapter's folder."""

    def __init__(self, notes: dict, link: Callable[[str], str | None], anchors: set[str],
                 warn: Callable[[str], None], base_level: int, images: str = "../images/") -> None:
        self.notes, self.link, self.anchors, self.warn = notes, link, anchors, warn
        self.base_level, self.images = base_level, images
        self.labels: dict[str, str] = {}

    def chapter(self, section: Section) -> str:
        blocks = [self.heading(section.heading)] if section.heading is not None else []
        blocks += self.blocks(section.elements)
        definitions, done = [], 0
        while done < len(self.labels):  # a note may call another
            note_id, label = list(self.labels.items())[done]
            definitions.append(self.definition(label, self.notes[note_id]))
            done += 1
        return "\n\n".join(block for block in blocks + definitions if block.strip()) + "\n"

    def definition(self, label: str, note: HtmlElement) -> str:
        for back in note.iterfind(".//a"):
            if (back.get("href") or "").startswith(("#footnote-ref-", "#endnote-ref-")):
                _drop(back)
        blocks = self.blocks(list(note)) if len(note) else [self.inline(note).strip()]
        text = "\n\n".join(blocks).strip()
        return f"[^{label}]: " + _indent(text, "    ", first="")

    def blocks(self, elements: list) -> list[str]:
        out: list[str] = []
        for index, element in enumerate(elements):
            previous = elements[index - 1] if index else None
            following = elements[index + 1] if index + 1 < len(elements) else None
            if _is_caption(element) and (_picture_alone(previous) is not None or _is_table(following)):
                continue  # written with its picture or table
            out.append(self.block(element, previous, following))
        return [block for block in out if block.strip()]

    def block(self, element: HtmlElement, previous: HtmlElement | None = None,
              following: HtmlElement | None = None) -> str:
        tag = element.tag
        if tag in ("ul", "ol"):
            return self.listing(element)
        if tag == "table":
            caption = previous if _is_caption(previous) else None
            return self.table(element, caption)
        if tag == "blockquote":
            return _indent("\n\n".join(self.blocks(list(element))), "> ", first="> ", blank=">")
        if tag == "pre":
            return _fenced(element.text_content())
        if re.fullmatch(r"h[1-6]", tag or ""):
            return self.heading(element)
        picture = _picture_alone(element)
        if picture is not None:
            return self.figure(picture, following if _is_caption(following) else None)
        return self.paragraph(element)

    def heading(self, element: HtmlElement) -> str:
        level = max(1, min(6, int(element.tag[1]) - self.base_level + 1))
        anchors = [a.get("id") for a in element.iterfind(".//a[@id]") if a.get("id") in self.anchors]
        text = self.inline(element, anchors_here=False).replace(BREAK, " ").strip()
        if not text:
            return ""
        return "#" * level + " " + _start_of_line(text) + (f" {{#{anchors[0]}}}" if anchors else "")

    def paragraph(self, element: HtmlElement) -> str:
        text = self.inline(element)
        paragraphs = [p for p in re.split(BREAK + "{2,}", text) if p.strip()]
        lines = []
        for part in paragraphs:
            lines.append("\\\n".join(_start_of_line(line.strip()) for line in part.split(BREAK) if line.strip()))
        return "\n\n".join(lines)

    def figure(self, picture: HtmlElement, caption: HtmlElement | None) -> str:
        text = self.inline(caption).replace(BREAK, " ").strip() if caption is not None else ""
        return self.picture(picture, _strip_label(text))

    def picture(self, element: HtmlElement, caption: str = "") -> str:
        """``![caption](src){alt="..."}``: Word's description is the alternative text; its
        caption, when it has one, makes the picture a numbered figure."""
        source = element.get("src") or ""
        if not source or source.startswith(OMITTED):
            return ""
        alt = " ".join((element.get("alt") or "").split())
        if not alt and not caption:
            self.warn(f"picture '{source}' has no alternative text in Word: describe what it shows")
        attributes = f'{{alt="{attribute(alt)}"}}' if alt and alt != caption else ""
        return f"![{caption}]({self.images}{source.removeprefix('images/')}){attributes}"

    def listing(self, element: HtmlElement) -> str:
        items = []
        for number, item in enumerate(element.iterfind("li"), start=1):
            marker = f"{number}. " if element.tag == "ol" else "- "
            blocks = self.item_blocks(item)
            body, pad = _join_item(blocks), " " * len(marker)
            if not blocks:
                items.append(marker.rstrip())
            elif _LIST_START.match(blocks[0]):  # opens with a list: on the next line
                items.append(marker.rstrip() + "\n" + _indent(body, pad))
            else:
                items.append(marker + _indent(body, pad, first=""))
        return "\n".join(items)

    def item_blocks(self, item: HtmlElement) -> list[str]:
        """A list item's text and the blocks in it (a nested list, a table...), in order."""
        blocks: list[str] = []
        run = lxml_html.Element("p")
        run.text = item.text
        for child in list(item):
            if child.tag in BLOCKS:
                blocks.append(self.paragraph(run))
                blocks.append(self.block(child))
                run = lxml_html.Element("p")
                run.text = child.tail
            else:
                run.append(child)  # moves it, with its tail
        blocks.append(self.paragraph(run))
        return [block for block in blocks if block.strip()]

    def table(self, element: HtmlElement, caption: HtmlElement | None) -> str:
        rows = element.findall(".//tr")
        header = [cell for cell in rows[0]] if rows else []
        simple = rows and all(_simple_cell(cell) for row in rows for cell in row) and \
            len({len(row) for row in rows}) == 1 and len(element.findall(".//thead/tr")) <= 1 and \
            all(plain(cell) for cell in header)  # an empty header cell says nothing to a screen reader
        title = _strip_label(self.inline(caption).replace(BREAK, " ").strip()) if caption is not None else ""
        before = f'{{caption="{attribute(title)}"}}\n' if title else ""
        if not simple:
            return before + self.html_table(rows)
        lines = ["| " + " | ".join(self.cell(cell) for cell in header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(self.cell(cell) for cell in row) + " |" for row in rows[1:]]
        return before + "\n".join(lines)

    def cell(self, cell: HtmlElement) -> str:
        parts = [self.inline(p) for p in cell.iterfind("p")] if cell.find("p") is not None else [self.inline(cell)]
        text = "<br>".join(part.replace(BREAK, "<br>").strip() for part in parts if part.strip())
        return text or " "

    def html_table(self, rows: list) -> str:
        lines = ["<table>"]
        for row in rows:
            lines.append("<tr>")
            for cell in row:
                spans = "".join(f' {name}="{int(cell.get(name))}"' for name in ("rowspan", "colspan")
                                if (cell.get(name) or "").isdigit())
                tag = "th" if cell.tag == "th" and plain(cell) else "td"
                content = "\n\n".join(self.blocks(list(cell))) if len(cell) else escape(plain(cell))
                lines += [f"<{tag}{spans}>", "", content, "", f"</{tag}>"] if content else [f"<{tag}{spans}></{tag}>"]
            lines.append("</tr>")
        return "\n".join([*lines, "</table>"])

    def inline(self, element: HtmlElement, anchors_here: bool = True) -> str:
        out = [escape(_SPACES.sub(" ", element.text or ""))]
        for child in element:
            tail = escape(_SPACES.sub(" ", child.tail or ""))
            text = self.inline_element(child, anchors_here)
            if child.tag in MARKS:
                text = _emphasis(text, MARKS[child.tag], "".join(out)[-1:])
            out += [text, tail]
        return "".join(out)

    def inline_element(self, child: HtmlElement, anchors_here: bool) -> str:
        tag = child.tag
        if tag == "br":
            return BREAK
        if tag == "sup" and len(child) == 1 and NOTE_ID.match((child[0].get("href") or "#").lstrip("#")):
            return self.note_reference(child[0].get("href").lstrip("#"))
        if tag == "a":
            return self.anchor(child, anchors_here)
        if tag == "img":
            return self.picture(child)
        inner = self.inline(child, anchors_here)
        if tag in ("sup", "sub"):
            return f"<{tag}>{inner}</{tag}>" if inner.strip() else inner
        if tag == "code":
            return _code_span(child.text_content())
        return inner

    def note_reference(self, note_id: str) -> str:
        if note_id not in self.notes:
            return ""
        label = self.labels.setdefault(note_id, str(len(self.labels) + 1))
        return f"[^{label}]"

    def anchor(self, child: HtmlElement, anchors_here: bool) -> str:
        text = self.inline(child, anchors_here)
        mark = f'<span id="{child.get("id")}"></span>' if anchors_here and child.get("id") in self.anchors else ""
        href = child.get("href")
        if href is None:
            return mark + text
        if href.startswith("#"):
            target = self.link(href[1:])
            return mark + (f"[{text}]({target})" if target and text.strip() else text)
        if href.lower().startswith(KEPT_SCHEMES) and not re.search(r"[\s<>]", href):
            shown = plain(child)
            if shown == href and not href.lower().startswith("mailto:"):
                return mark + f"<{href}>"
            return mark + f"[{text}]({href.replace('(', '%28').replace(')', '%29')})"
        self.warn(f"link to '{href[:80]}' left out (only web and mail links are kept): its text “{plain(child)}” stays")
        return mark + text


def _strip_label(caption: str) -> str:
    """Word's caption "Figure 3: The harbour" without its number: the book numbers figures and tables."""
    return re.sub(r"^(figure|fig\\?\.|abbildung|figura|figuur|рисунок|rysunek|table|tableau|tabelle|tabla|tabella|"
                  r"tabel|tabela|таблица)\s*\d+\s*[:.\u2013\u2014-]?\s*", "",
                  caption, flags=re.IGNORECASE) or caption


def _join_item(blocks: list[str]) -> str:
    """A list item's blocks: a nested list right under the text keeps the list tight."""
    out = blocks[:1]
    for block in blocks[1:]:
        out.append(("\n" if _LIST_START.match(block) else "\n\n") + block)
    return "".join(out)


def _emphasis(inner: str, mark: str, before: str) -> str:
    """``*x*`` when Markdown surely reads it back as emphasis: the text starts and ends with
    a letter or digit (so the delimiters flank it whatever stands around them) and no
    delimiter stands right before (runs would merge); else the HTML element, which always does."""
    stripped = inner.strip()
    if not stripped:
        return inner
    lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()):]
    core = stripped.strip("*~")
    if core and core[0].isalnum() and core[-1].isalnum() and BREAK not in stripped and \
            (lead or before not in ("*", "~")):
        return f"{lead}{mark}{stripped}{mark}{trail}"
    html = {"**": "strong", "*": "em", "~~": "s"}[mark]
    return f"{lead}<{html}>{stripped}</{html}>{trail}"


def _code_span(text: str) -> str:
    text = _SPACES.sub(" ", text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text.strip() else text


def _fenced(text: str) -> str:
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _indent(text: str, prefix: str, first: str | None = None, blank: str = "") -> str:
    lines = text.split("\n")
    out = [(first if first is not None else prefix) + lines[0] if lines[0] else (first or blank)]
    out += [prefix + line if line else blank for line in lines[1:]]
    return "\n".join(out)


def _drop(element: HtmlElement) -> None:
    parent = element.getparent()
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + (element.tail or "")
    else:
        parent.text = (parent.text or "") + (element.tail or "")
    parent.remove(element)


def _is_caption(element: HtmlElement | None) -> bool:
    return element is not None and element.tag == "p" and "docx-caption" in (element.get("class") or "")


def _is_table(element: HtmlElement | None) -> bool:
    return element is not None and element.tag == "table"


def _picture_alone(element: HtmlElement | None) -> HtmlElement | None:
    """The one picture of a paragraph that holds nothing else (anchors aside), or None."""
    if element is None or element.tag != "p" or (element.text or "").strip():
        return None
    pictures = element.findall(".//img")
    others = [e for e in element.iter() if e is not element and e.tag not in ("img", "a")]
    text = "".join(element.itertext()).strip()
    return pictures[0] if len(pictures) == 1 and not others and not text else None


def _simple_cell(cell: HtmlElement) -> bool:
    """A cell a pipe table can hold: no spans, only paragraphs of inline text."""
    if (cell.get("rowspan") or "1") != "1" or (cell.get("colspan") or "1") != "1":
        return False
    return all(child.tag == "p" or child.tag not in BLOCKS for child in cell)
