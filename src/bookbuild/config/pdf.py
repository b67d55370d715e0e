"""The ``[pdf]`` table of book.toml: page setup and print options, with their defaults.

Split from manifest.py (which reads the table through this module) to keep both small;
nothing here imports WeasyPrint, so the manifest is checked at the door (house rule 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from .toml import TableReader

# Chapter sources (bytes) from which the PDF is laid out in parallel unless [pdf] parallel
# says otherwise: about ten pages. Shorter books lay out faster as one document than the
# workers take to start (the measurements: docs/benchmarks.md).
PARALLEL_PDF_FROM = 30_000

PAGE_SIZES = {
    "a4": "210mm 297mm",
    "letter": "8.5in 11in",
    "a5": "148mm 210mm",
    "b5": "176mm 250mm",
    "trade": "6in 9in",
    "6x9in": "6in 9in",
}

PDF_KEYS = {
    "page_size", "margin_top", "margin_bottom", "margin_inner", "margin_outer", "two_sided",
    "variant", "crop_marks", "bleed", "page_references", "parallel", "link_urls",
}
# Where the print PDF prints an external link's URL (render/pdf/link_urls.py): at the page
# foot, after the link's text, or not at all. The link stays clickable in every case.
LINK_URLS = ("footnote", "after", "none")

# The PDF variants WeasyPrint knows (weasyprint.pdf.VARIANTS); listed here so that the
# manifest is checked at the door without importing WeasyPrint (house rule 7).
PDF_VARIANTS = (
    "pdf/a-1b", "pdf/a-2b", "pdf/a-3b", "pdf/a-2u", "pdf/a-3u", "pdf/a-4u",
    "pdf/a-1a", "pdf/a-2a", "pdf/a-3a", "pdf/a-4e", "pdf/a-4f", "pdf/ua-1", "pdf/ua-2",
)
# Lengths past this (in any unit) are refused: 10,000 mm is ten metres, and WeasyPrint
# overflows on absurd sizes (the same bound as author stylesheets: sources/sources/stylesheets.py).
MAX_LENGTH = 10_000
_LENGTH = r"\d+(\.\d+)?(mm|cm|in|pt|pc|px|q)"
_CSS_LENGTH = re.compile(rf"^(0|{_LENGTH})$", re.IGNORECASE)
_PAGE_LENGTHS = re.compile(rf"^{_LENGTH}(\s+{_LENGTH})?$", re.IGNORECASE)
# "6x9in", "5.06 x 7.81 in", "148x210mm": a trim as printers write it (and config/printers.py lists them)
_TRIM = re.compile(r"^(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(mm|cm|in)$", re.IGNORECASE)
PAGE_SIZE_HINT = "use A4, Letter, A5, B5, a trim such as 6x9in, or lengths such as '210mm 297mm'"


def page_size_value(page_size: str) -> str | None:
    """The CSS ``size`` for a preset (``A4``, ``letter landscape``) or one or two lengths;
    None for anything else, which the layout engine would silently ignore."""
    words = page_size.split()
    if words and words[0].lower() in PAGE_SIZES and len(words) <= 2:
        width, height = PAGE_SIZES[words[0].lower()].split()
        orientation = words[1].lower() if len(words) == 2 else "portrait"
        if orientation in ("portrait", "landscape"):
            return f"{height} {width}" if orientation == "landscape" else f"{width} {height}"
        return None
    text = " ".join(words)
    trim = _TRIM.match(text)
    if trim:
        width, height, unit = trim.groups()
        return f"{width}{unit.lower()} {height}{unit.lower()}"
    return text if _PAGE_LENGTHS.match(text) else None


@dataclass(frozen=True)
class PdfOptions:
    """The ``[pdf]`` table, plus the PDF-only command-line choices (chapters, handout).

    Lengths are CSS lengths ("20mm", "0.75in"); ``margin_inner`` is the binding side.
    """

    page_size: str = "A4"
    margin_top: str = "20mm"
    margin_bottom: str = "22mm"
    margin_inner: str = "22mm"
    margin_outer: str = "16mm"
    two_sided: bool = True
    variant: str | None = None
    crop_marks: bool = False
    bleed: str | None = None
    page_references: bool = True  # cross-references to other chapters say "see page N"
    # a footnote keeps the sentence whole (a long URL inline breaks the line and the reading)
    link_urls: str = "footnote"
    chapters: str | None = None  # a selection such as "2-3" or "1,intro": only these chapters
    handout: bool = False  # compact single-sided layout without blank pages
    # chapters laid out in worker processes, then joined (render/parallel/plan.py); None: for
    # a book whose chapters are longer than a few pages (PARALLEL_PDF_FROM)
    parallel: bool | None = None

    @property
    def page_size_css(self) -> str:
        """The ``size`` value for ``@page``: a preset's dimensions or the user's own."""
        return page_size_value(self.page_size) or self.page_size

    def in_parallel(self, sources: Iterable[Path]) -> bool:
        """Whether the PDF of a book with these chapter files is laid out in parallel:
        ``parallel`` if set, else whether they pass PARALLEL_PDF_FROM bytes; never for a PDF/A
        or PDF/UA variant (WeasyPrint adds catalog entries, XMP metadata and output intents
        that the join does not carry), a handout (its chapters do not start on a new page)
        or a selection of chapters."""
        if self.variant or self.handout or self.chapters:
            return False
        if self.parallel is not None:
            return self.parallel
        return sum(_size(path) for path in sources) >= PARALLEL_PDF_FROM


def read_pdf_options(reader: TableReader, command_line: bool = False) -> PdfOptions:
    """The ``[pdf]`` table: every key typed and checked, defaults from :class:`PdfOptions`;
    ``command_line`` also reads the PDF-only choices that only a command line makes
    (``chapters``, ``handout``; see config/overrides.py)."""
    values: dict[str, Any] = {}
    if command_line:
        values.update(chapters=reader.string("chapters"), handout=bool(reader.boolean("handout", default=False)))
    for key in ("page_size", "margin_top", "margin_bottom", "margin_inner", "margin_outer", "bleed"):
        value = reader.string(key)
        if value is None:
            continue
        if key == "page_size" and page_size_value(value) is None:
            raise reader.source.error(f"[pdf] page_size: '{value}' is neither a preset nor a width and height",
                                      "pdf", key, hint=PAGE_SIZE_HINT)
        if any(float(number) > MAX_LENGTH for number in re.findall(r"\d+(?:\.\d+)?", value)):
            raise reader.source.error(f"[pdf] {key}: '{value}' is out of range", "pdf", key,
                                      hint=f"lengths up to {MAX_LENGTH:,} in any unit are accepted")
        if key != "page_size" and not _CSS_LENGTH.match(value.strip()):
            raise reader.source.error(f"[pdf] {key}: '{value}' is not a length", "pdf", key,
                                      hint="write a number and a unit, such as 20mm, 0.75in or 12pt")
        values[key] = value.strip()
    for key in ("two_sided", "crop_marks", "page_references", "parallel"):
        flag = reader.boolean(key)
        if flag is not None:
            values[key] = flag
    link_urls = reader.choice("link_urls", LINK_URLS)
    if link_urls is not None:
        values["link_urls"] = link_urls
    variant = reader.string("variant")
    if variant is not None:
        if variant.strip().lower() not in PDF_VARIANTS:
            raise reader.source.error(f"[pdf] variant: unknown PDF variant '{variant}'", "pdf", "variant",
                                      hint="for example pdf/ua-1 or pdf/a-3b")
        values["variant"] = variant.strip().lower()
    return PdfOptions(**values)


def chapter_selection(selection: str, entries: Sequence[tuple[str, str]]) -> frozenset[int]:
    """The reading-order positions (1-based) of the entries a ``--chapters`` selection names,
    from the book's entries as (file stem, kind); a :class:`UsageError` for a selection that
    names none of them.

    A selection is a comma-separated list of what a reader sees: chapter numbers and ranges
    (``2-4``: Chapters 2 to 4, counted as transforms/structure.py numbers them, front matter
    and other unnumbered entries not counted), appendix letters and ranges (``A``, ``A-C``),
    and file stems (``02-next``, ``preface``), which name any entry; a stem wins over a
    number or letter that looks the same.
    """
    by_stem: dict[str, int] = {}
    numbered: list[int] = []  # positions of Chapter 1, 2, 3...
    lettered: list[int] = []  # positions of Appendix A, B, C...
    for position, (stem, kind) in enumerate(entries, start=1):
        by_stem.setdefault(stem.casefold(), position)
        if kind == "chapter":
            numbered.append(position)
        elif kind == "appendix":
            lettered.append(position)
    hint = _selection_hint(len(numbered), bool(lettered), entries[0][0])
    wanted: set[int] = set()
    for part in selection.split(","):
        part = part.strip()
        if not part:
            raise UsageError("--chapters: empty chapter selection", hint=hint)
        if part.casefold() in by_stem:
            wanted.add(by_stem[part.casefold()])
        else:
            wanted.update(_selected_positions(part, numbered, lettered, hint))
    for position, (_stem, kind) in enumerate(entries, start=1):  # a section prints with its chapter
        if kind == "section" and position - 1 in wanted:
            wanted.add(position)
    return frozenset(wanted)


def _selection_hint(chapters: int, appendices: bool, stem: str) -> str:
    letters = ", appendix letter (A)" if appendices else ""
    if not chapters:
        return f"name chapters by file stem ({stem})" if not appendices else (
            f"name appendices by letter (A) and chapters by file stem ({stem})")
    return f"name chapters 1-{chapters} by number, range (2-3){letters} or file stem ({stem})"


def _selected_positions(part: str, numbered: list[int], lettered: list[int], hint: str) -> list[int]:
    """The positions a chapter number or range, or an appendix letter or range, names."""
    match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
    if match is not None:
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if not numbered:
            raise UsageError(f"--chapters: '{part}': the book has no numbered chapters", hint=hint)
        names, labels = numbered, f"chapters 1-{len(numbered)}"
        outside = f"--chapters: '{part}' is outside the book's {labels}"
    else:
        match = re.fullmatch(r"([a-z]{1,2})(?:\s*-\s*([a-z]{1,2}))?", part, re.IGNORECASE)
        if match is None or not lettered:
            raise UsageError(f"--chapters: no chapter file named '{part}'", hint=hint)
        first, last = _letter_number(match.group(1)), _letter_number(match.group(2) or match.group(1))
        names = lettered
        outside = f"--chapters: '{part}' is no appendix (A-{_letter(len(lettered))}) and no chapter file"
    if first > last:
        raise UsageError(f"--chapters: range '{part}' runs backwards", hint=hint)
    if first < 1 or last > len(names):
        raise UsageError(outside, hint=hint)
    return names[first - 1:last]


def _letter_number(letters: str) -> int:
    """A -> 1, Z -> 26, AA -> 27: an appendix's letter as transforms/structure.py gives it."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _letter(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading the chapter says what is wrong
