"""The interior PDF for a print-on-demand printer (``[print] preset``, ``--for kdp``).

The book is laid out as any PDF, in the printer's PDF/X flavour, untagged (nothing on paper
reads tags); the gutter grows to the printer's least inside margin for the page count the
layout found (and the book is laid out again when it had to grow); fonts are embedded as
subsets (neither printer asks for whole fonts, and a CJK font is 20 MB). The written file is
then made ready for the press (print_press.py: the CMYK output intent, grey or CMYK colours
and images, no transparency, no links or bookmarks, the bleed on the outside edges only) and
checked against the preset (print_check.py) before it is handed back.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime

from ...config import BuildContext
from ...config.print import PrintOptions, length_in
from ...config.printers import Printer
from ...errors import BookError, OutputError, Reporter
from ...model import Book
from ...resources import display_path
from .glyphs import collect_missing_glyphs, report_missing_glyphs
from .page_labels import write_page_labels

MAX_LAYOUTS = 3  # a grown gutter may add pages, which may need a wider gutter: rarely more than twice


def render_print_pdf(book: Book, build: BuildContext, reporter: Reporter) -> bytes:
    """The press-ready interior as bytes, or a :class:`BookError` saying what the printer
    would refuse (too few pages; a check of the written file that fails)."""
    from .document import layout_pdf
    from .index import layout_with_index
    from .print_check import check_interior
    from .print_press import prepare_for_press

    options = build.config.print
    printer = options.printer
    assert printer is not None  # only called for a preset (pipeline.render)
    with collect_missing_glyphs() as missing:
        for _ in range(MAX_LAYOUTS):
            # the index prints the pages of its marks, as in the ordinary PDF (render/pdf/index.py)
            document = layout_with_index(book, build, reporter, functools.partial(layout_pdf, pdf_tags=False))
            pages = len(document.pages)
            wanted = printer.gutter(pages)
            if (length_in(build.config.pdf.margin_inner) or 0) + 1e-6 >= wanted:
                break
            pdf = dataclasses.replace(build.config.pdf, margin_inner=f"{wanted:g}in")
            build = dataclasses.replace(build, config=dataclasses.replace(build.config, pdf=pdf))
        blanks = blank_pages_needed(pages, printer, build, reporter)
        warn_low_resolution(document, book, printer, reporter)
        set_pdfx_dates(document, build.source_mtime)
        data = document.write_pdf(pdf_variant=printer.pdf_variant, pdf_tags=False,
                                  finisher=write_page_labels)
    report_missing_glyphs(missing, book, reporter)
    data = prepare_for_press(data, options, printer, blank_pages=blanks)
    problems = list(dict.fromkeys(check_interior(data, options, printer, build.config.pdf.page_size_css)))
    if problems:
        raise OutputError(f"the {printer.label} PDF fails its check: {problems[0]}",
                          hint="; ".join(problems[1:4]) or None)
    return data


def blank_pages_needed(pages: int, printer: Printer, build: BuildContext, reporter: Reporter) -> int:
    """The blank pages that bring a short book to the printer's least page count, with a
    warning naming book.toml (a printer refuses a shorter file; blank end pages are what it
    would add itself)."""
    if printer.min_pages is None or pages >= printer.min_pages:
        return 0
    missing = printer.min_pages - pages
    reporter.warn(f"the book has {pages} pages, under the {printer.min_pages} {printer.label} prints: {missing} blank "
                  "page(s) added at the end", display_path(build.config.path),
                  hint="add content, or choose a smaller trim size, to fill those pages")
    return missing


def warn_low_resolution(document: object, book: Book, printer: Printer, reporter: Reporter) -> None:
    """A warning for each raster image printed at less than the printer's resolution, naming its file."""
    from weasyprint.formatting_structure import boxes

    sources = {asset.href: asset.source for asset in book.assets}
    told: set[str] = set()
    for page in document.pages:  # type: ignore[attr-defined]
        for box in page._page_box.descendants():
            image = getattr(box, "replacement", None)
            if not isinstance(box, boxes.ReplacedBox) or not hasattr(image, "mode") or not box.width:
                continue
            ppi = image.width / (box.width / 96)  # CSS px are 1/96 in
            src = (box.element.get("src") or "") if box.element is not None else ""
            name = src.rsplit("/bookbuild-assets/", 1)[-1]
            if ppi + 0.5 < printer.image_ppi and name not in told:
                told.add(name)
                where = sources.get(name)
                reporter.warn(f"image printed at {ppi:.0f} ppi, under the {printer.image_ppi} ppi {printer.label} "
                              "asks for", display_path(where) if where else name,
                              hint=f"use an image of {round(box.width / 96 * printer.image_ppi)} px wide or more, "
                                   "or print it smaller")


def set_pdfx_dates(document: object, mtime: float) -> None:
    """PDF/X needs creation and modification dates: the newest source's, so rebuilds are identical."""
    when = datetime.fromtimestamp(mtime or 0, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata = document.metadata  # type: ignore[attr-defined]
    metadata.created = metadata.created or when
    metadata.modified = metadata.modified or when


def spine_width(pages: int, options: PrintOptions, printer: Printer) -> float:
    """The spine's width in inches: the printer's figure per page for the paper, or the
    author's ``[print] spine_width`` when the printer publishes none (IngramSpark)."""
    if options.spine_width_in is not None:
        return options.spine_width_in
    per_page = printer.papers.get(options.paper)
    if per_page is None:
        raise BookError(f"{printer.label} publishes no spine width per page for {options.paper} paper",
                        hint="copy the spine width from the printer's cover template into book.toml: "
                             "[print] spine_width = \"0.5in\"")
    return pages * per_page
