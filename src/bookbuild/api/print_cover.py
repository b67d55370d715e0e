"""``bookbuild print-cover``: the one-piece paperback cover for a print-on-demand printer.

The spine's width comes from the interior's real page count: the interior PDF named with
``interior`` (one built with the same preset), or else the interior laid out now through the
pipeline, exactly as ``bookbuild pdf --for ...`` would make it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.overrides import Overrides
from ..config.printers import Printer
from ..errors import BookError, OutputError, Reporter, UsageError
from ..files import read_book_file, write_atomically
from ..pipeline import build_context, load_book, load_config, render, render_print_cover
from ..resources import display_path


@dataclass(frozen=True)
class PrintCover:
    """What :func:`make_print_cover` wrote."""

    path: Path
    pages: int  # the interior's
    size: int


def make_print_cover(book: str | Path | None, printer: str | None = None, output: str | Path | None = None,
                     interior: str | Path | None = None, reporter: Reporter | None = None,
                     strict: bool = False) -> PrintCover:
    """Write the cover PDF (default ``dist/<slug>-cover.pdf``) for ``printer`` (or ``[print] preset``).

    Only what concerns the cover is reported: book.toml and the cover image. The chapters'
    warnings (citations, glossary, links) are the interior's, which its own build reports;
    laying the interior out here to count its pages says nothing. With ``strict``, a warning
    stops the cover before it is written."""
    reporter = reporter or Reporter()
    manifest = load_config(book, reporter, Overrides(printer=printer))
    chosen = manifest.print.printer
    if chosen is None:
        raise UsageError("no printer named", hint="bookbuild print-cover --for kdp (or ingramspark), "
                                                   "or [print] preset in book.toml")
    reading = Reporter()
    model = load_book(manifest, reading)
    concerns = {display_path(manifest.path), *([display_path(model.cover.source)] if model.cover else [])}
    for diagnostic in reading.diagnostics:
        if diagnostic.location.file in concerns:
            reporter.warn(diagnostic.message, diagnostic.location.file, diagnostic.location.line,
                          diagnostic.location.col, hint=diagnostic.hint)
    context = build_context(manifest, book=model)
    if interior is not None:
        path = Path(interior)
        pages = check_interior_fits(read_book_file(path, path.resolve().parent, "pdf"), display_path(path), chosen,
                                    manifest.pdf.page_size_css)
    else:
        pages = page_count(render("pdf", model, context, Reporter()), display_path(manifest.path))
    data = render_print_cover(model, context, reporter, pages)
    if strict and reporter.warnings:
        count = len(reporter.warnings)
        raise BookError(f"{count} warning{'s' if count != 1 else ''} treated as errors (--strict)",
                        hint="fix them, or make the cover without --strict")
    target = Path(output) if output is not None else manifest.root / "dist" / f"{manifest.slug}-cover.pdf"
    write_atomically(target, data)
    return PrintCover(target, pages, len(data))


def page_count(data: bytes, name: str) -> int:
    """The pages of an interior PDF."""
    with _open_interior(data, name) as pdf:
        return len(pdf.pages)


def _open_interior(data: bytes, name: str) -> Any:
    """The interior as a pikepdf document, or an error saying plainly that it is not a PDF."""
    import pikepdf

    hint = "name the interior PDF that bookbuild pdf --for PRINTER wrote (dist/<slug>-PRINTER.pdf)"
    if b"%PDF-" not in data[:1024]:  # a PDF starts so (readers allow some bytes before it)
        raise OutputError("the interior is not a PDF", name, hint=hint)
    try:
        return pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError:
        raise OutputError("the interior is a damaged PDF: its pages cannot be counted", name, hint=hint) from None


def check_interior_fits(data: bytes, name: str, printer: Printer, page_size_css: str) -> int:
    """The interior's page count; an error for an interior the cover would not fit: one made
    for another printer (bookbuild marks its interiors), of another trim (its TrimBox), or
    shorter than the printer prints."""
    from ..config.print import length_in
    from ..config.printers import PRINTERS
    from ..render.pdf.print_press import PRINTER_KEY

    with _open_interior(data, name) as pdf:
        made_for = str(pdf.docinfo.get(PRINTER_KEY, ""))
        pages = len(pdf.pages)
        first = pdf.pages[0].obj if pages else None
        box = first.get("/TrimBox", first.get("/MediaBox")) if first is not None else None
        trim = [float(value) for value in box] if box is not None else None
    if made_for and made_for != printer.name:
        other = PRINTERS[made_for].label if made_for in PRINTERS else made_for
        raise OutputError(f"the interior was made for {other}, not {printer.label}", name,
                          hint=f"build it with bookbuild pdf --for {printer.name}, or make the cover --for {made_for}")
    wanted = [length_in(part) or 0.0 for part in page_size_css.split()]
    if trim is not None and len(wanted) == 2:
        size = ((trim[2] - trim[0]) / 72, (trim[3] - trim[1]) / 72)
        if any(abs(have - want) > 1 / 72 for have, want in zip(size, wanted, strict=True)):
            raise OutputError(f"the interior's pages are {size[0]:.3g} x {size[1]:.3g} in, not the book's trim "
                              f"of {wanted[0]:g} x {wanted[1]:g} in", name,
                              hint=f"build the interior again with bookbuild pdf --for {printer.name}")
    if printer.min_pages is not None and pages < printer.min_pages:
        raise OutputError(f"the interior has {pages} pages, under the {printer.min_pages} {printer.label} prints",
                          name, hint=f"build it with bookbuild pdf --for {printer.name}, which adds the blank pages")
    return pages
