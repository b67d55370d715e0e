"""The ``[pdf]`` table of book.toml: page setup and print options, with their defaults.

Split from manifest.py (which reads the table through this module) to keep both small;
nothing here imports WeasyPrint, so the manifest is checked at the door (house rule 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    "variant", "crop_marks", "bleed", "page_references", "parallel",
}

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
                                      "pdf", key, hint="use A4, Letter, A5, B5, 6x9in, or lengths such as "
                                      "'210mm 297mm'")
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
    variant = reader.string("variant")
    if variant is not None:
        if variant.strip().lower() not in PDF_VARIANTS:
            raise reader.source.error(f"[pdf] variant: unknown PDF variant '{variant}'", "pdf", "variant",
                                      hint="for example pdf/ua-1 or pdf/a-3b")
        values["variant"] = variant.strip().lower()
    return PdfOptions(**values)


def chapter_selection(selection: str, stems: tuple[str, ...]) -> frozenset[int]:
    """The 1-based chapter numbers a ``--chapters`` selection names; a :class:`UsageError` for
    one that names no chapter of the book.

    A selection is a comma-separated list of chapter numbers, ranges of numbers (``2-4``) and
    file stems (``02-next``); a stem wins over a range that looks the same.
    """
    by_stem = {stem.casefold(): number for number, stem in enumerate(stems, start=1)}
    wanted: set[int] = set()
    for part in selection.split(","):
        wanted.update(_selected_numbers(part.strip(), by_stem, len(stems)))
    return frozenset(wanted)


def _selected_numbers(part: str, by_stem: dict[str, int], count: int) -> range | set[int]:
    hint = f"name chapters 1-{count} by number, range (2-3) or file stem ({next(iter(by_stem))})"
    if not part:
        raise UsageError("--chapters: empty chapter selection", hint=hint)
    if part.casefold() in by_stem:
        return {by_stem[part.casefold()]}
    match = re.fullmatch(r"(\d+)\s*-\s*(\d+)|(\d+)", part)
    if match is None:
        raise UsageError(f"--chapters: no chapter file named '{part}'", hint=hint)
    first, last = (int(match.group(1)), int(match.group(2))) if match.group(3) is None else (
        int(match.group(3)), int(match.group(3)))
    if first > last:
        raise UsageError(f"--chapters: range '{part}' runs backwards", hint=hint)
    if first < 1 or last > count:
        raise UsageError(f"--chapters: '{part}' is outside the book's chapters 1-{count}", hint=hint)
    return range(first, last + 1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading the chapter says what is wrong
