"""Reading a built PDF back as a book: pages, folios, contents entries, bookmarks, footnotes.

Text comes from poppler (pdftotext, via validators.py), structure from pypdf. These are
the questions the print tests ask; each helper answers one of them from the PDF alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pypdf import PdfReader

from bookbuild.model import Book
from bookbuild.xhtml import parse_fragment, text_of
from validators import pdftotext

_ROMAN = re.compile(r"^[ivxlcdm]+$")
# A contents line: title, dot leader, page number (arabic or roman).
_ENTRY = re.compile(r"^\s*(?P<title>\S.*?)\s*\.(?:\s*\.){2,}\s*(?P<number>\d+|[ivxlcdm]+)\s*$")


@dataclass(frozen=True)
class Bookmark:
    level: int
    title: str
    page_index: int


def pages_text(pdf: Path, layout: bool = True) -> list[str]:
    """The text of every page (pdftotext), one string per page."""
    return pdftotext(pdf, layout=layout).split("\f")[:-1]


def lines(page: str) -> list[str]:
    return [line.strip() for line in page.splitlines() if line.strip()]


def folio(page: str) -> str | None:
    """The printed page number: the last line of the page when it is a number or a numeral."""
    found = lines(page)
    if not found:
        return None
    last = found[-1].split()[-1]
    # at most three digits: a title page ends with its date ("June 16, 2020"), not a number
    return last if (last.isdigit() and len(last) <= 3) or _ROMAN.match(last) else None


def head(page: str) -> str | None:
    """The first line of a page (the running head, where there is one)."""
    found = lines(page)
    return found[0] if found else None


def bookmarks(reader: PdfReader) -> list[Bookmark]:
    """The outline, flattened in order, with the page each entry points at."""
    result: list[Bookmark] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                result.append(Bookmark(level, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 1)
    return result


def contents_entries(pages: list[str]) -> list[tuple[str, str]]:
    """(title, printed page number) for each line of the contents, read from its page(s).

    The contents start after a line "Contents"; a title too long for one line is joined
    with the next; the contents end at the first page that has no leader lines.
    """
    entries: list[tuple[str, str]] = []
    started = False
    for page in pages:
        page_lines = lines(page)
        if not started:
            if "Contents" not in page_lines:
                continue
            started = True
            page_lines = page_lines[page_lines.index("Contents") + 1:]
        elif not any(_ENTRY.match(line) for line in page_lines):
            break
        pending = ""
        for line in page_lines:
            match = _ENTRY.match(line)
            if match:
                entries.append((f"{pending} {match.group('title')}".strip(), match.group("number")))
                pending = ""
            elif line != folio(page) and not _ROMAN.match(line):
                pending = f"{pending} {line}".strip()
    return entries


def flat(text: str) -> str:
    """Text with line-end hyphenation undone and whitespace collapsed, for searching."""
    return " ".join(re.sub(r"[-\u2010]\n\s*", "", text).split())


def footnote_calls(book: Book) -> list[tuple[str, re.Pattern[str], str]]:
    """(chapter title, a pattern for the word carrying the call and the call's number, the
    note's marker and first words) for the first call of every footnote of the book."""
    found = []
    for chapter in book.chapters:
        wrapper = parse_fragment(chapter.body)
        for note in chapter.footnotes:
            ref = next(a for a in wrapper.iter("a") if a.get("href") == f"#{note.id}")
            before = _text_before(ref)
            note_text = text_of(etree.fromstring(f"<div>{note.body}</div>"))
            call = re.compile(re.escape(before.split()[-1]) + rf" ?{note.number}\b")
            found.append((chapter.title, call, f"{note.number}. " + " ".join(note_text.split()[:5])))
    return found


def _text_before(ref: etree._Element) -> str:
    parent = ref.getparent()
    pieces = [parent.text or ""]
    for child in parent:
        if child is ref:
            break
        pieces.append("".join(child.itertext()) + (child.tail or ""))
    return "".join(pieces)
