"""The one-piece paperback cover a print-on-demand printer asks for: back, spine and front.

Laid out by WeasyPrint from a small HTML page (print-cover.css is the design; this module
only measures): the page is the trim of both covers and the spine, with the printer's bleed
on all four edges; the spine is as wide as the interior's page count and paper make it
(config/printers.py), its text (title, authors) printed only when the printer allows text on
a spine that narrow; the barcode's box on the back is left blank; the front is the book's
cover image, or a typographic design in the colours of the EPUB's generated cover; the back
carries the title, the ``description`` and the authors. Then the same press step and checks
as the interior (print_press.py, print_check.py), in CMYK.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

from ...config import BuildContext
from ...config.printers import Printer
from ...errors import OutputError, Reporter
from ...files import read_own_file
from ...model import Book
from ...resources import display_path, stylesheet
from ..templates import render_template
from .document import ASSET_ROOT, book_fetcher
from .print_preset import spine_width

COVER_SHEET = "print-cover.css"


@dataclass(frozen=True)
class WrapCover:
    """The cover's measures in inches: each cover's trim, the spine, the bleed."""

    width: float  # one cover's trim width
    height: float
    spine: float
    bleed: float
    spine_text: bool

    @property
    def trim(self) -> tuple[float, float]:
        """The whole cover's trim: back, spine and front."""
        return 2 * self.width + self.spine, self.height


def wrap_cover(pages: int, build: BuildContext) -> WrapCover:
    """The measures of the cover of an interior of ``pages`` pages with this book's options."""
    options = build.config.print
    printer = options.printer
    if printer is None:
        raise OutputError("a print cover is made for a printer", hint="name one: bookbuild print-cover --for kdp")
    width, height = (float(part[:-2]) for part in _inches(build.config.pdf.page_size_css))
    spine = spine_width(pages, options, printer)
    return WrapCover(width, height, spine, printer.bleed, spine_text_allowed(pages, spine, printer))


def spine_text_allowed(pages: int, spine: float, printer: Printer) -> bool:
    """Whether the printer prints text on this spine (KDP by page count, IngramSpark by width)."""
    if printer.spine_text_pages is not None and pages < printer.spine_text_pages:
        return False
    return printer.spine_text_width is None or spine + 1e-9 >= printer.spine_text_width


def render_wrap_cover(book: Book, build: BuildContext, reporter: Reporter, pages: int) -> bytes:
    """The cover PDF for an interior of ``pages`` pages, press-ready and checked."""
    from weasyprint import CSS, HTML

    from .print_check import check_pdf
    from .print_preset import set_pdfx_dates
    from .print_press import prepare_for_press

    printer = build.config.print.printer
    cover = wrap_cover(pages, build)
    warn_low_cover_resolution(book, cover, printer, reporter)
    html = render_template(
        "pdf/print-cover.html",
        meta=book.meta, lang=book.meta.language, direction=book.language.direction,
        front_image=ASSET_ROOT + book.cover.href if book.cover is not None and book.cover.data else None,
        spine_text=cover.spine_text,
    )
    fetcher = book_fetcher(book, build.config.allow_remote)
    design = stylesheet(COVER_SHEET)
    sheets = [CSS(file_obj=io.BytesIO(read_own_file(design)), base_url=design.as_uri(), url_fetcher=fetcher),
              CSS(string=_measures_sheet(cover, printer))]
    document = HTML(string=html, base_url=ASSET_ROOT, url_fetcher=fetcher).render(stylesheets=sheets)
    if len(document.pages) != 1:
        raise OutputError(f"the cover's text does not fit on one page ({len(document.pages)} pages)",
                          hint="shorten [book] description")
    set_pdfx_dates(document, build.source_mtime)
    data = document.write_pdf(pdf_variant=printer.pdf_variant)
    options = dataclasses.replace(build.config.print, bleed=False)  # a cover bleeds on all four edges
    data = prepare_for_press(data, options, printer, grey=False)
    width, height = cover.trim
    problems = check_pdf(data, printer, (width * 72, height * 72), cover.bleed * 72, grey=False, cover=True)
    if problems:
        raise OutputError(f"the {printer.label} cover fails its check: {problems[0]}")
    return data


def warn_low_cover_resolution(book: Book, cover: WrapCover, printer: Printer, reporter: Reporter) -> None:
    """A warning naming ``[book] cover`` when it prints at less than the printer's resolution
    on the front: print-cover.css fills the front and its bleed with it (``object-fit: cover``),
    so its resolution is the smaller of width and height in pixels over those in inches."""
    if book.cover is None or not book.cover.data or book.cover.media_type == "image/svg+xml":
        return
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(book.cover.data)) as image:
            pixels = image.size
    except (UnidentifiedImageError, OSError):
        return  # the book's image checks have said so
    width, height = cover.width + cover.bleed, cover.height + 2 * cover.bleed  # the front and its bleed
    ppi = min(pixels[0] / width, pixels[1] / height)
    if ppi + 0.5 >= printer.image_ppi:
        return
    reporter.warn(f"cover image printed at {ppi:.0f} ppi on the front, under the {printer.image_ppi} ppi "
                  f"{printer.label} asks for ({pixels[0]} x {pixels[1]} px on {width:g} x {height:g} in)",
                  display_path(book.cover.source) if book.cover.source else None,
                  hint=f"use an image of {round(width * printer.image_ppi)} x {round(height * printer.image_ppi)} "
                       "px or more (the front with its bleed)")


def _measures_sheet(cover: WrapCover, printer: Printer) -> str:
    """The cover's measures as CSS custom properties and the page size: print-cover.css uses them."""
    barcode_width, barcode_height, barcode_bottom, barcode_spine = printer.barcode
    width, height = cover.trim
    values = {
        "cover-width": cover.width, "cover-height": cover.height, "spine": cover.spine, "bleed": cover.bleed,
        "safe": printer.cover_safe, "spine-clearance": printer.spine_clearance,
        "barcode-width": barcode_width, "barcode-height": barcode_height,
        "barcode-bottom": barcode_bottom, "barcode-spine": barcode_spine,
        "spine-text-size": min(14.0, max(5.0, (cover.spine - 2 * printer.spine_clearance) * 72 * 0.55)),
    }
    properties = "; ".join(f"--{name}: {value:.4f}{'pt' if name.endswith('size') else 'in'}"
                           for name, value in values.items())
    return (f"@page {{ size: {width:.4f}in {height:.4f}in; bleed: {cover.bleed:g}in; margin: 0; }}\n"
            f":root {{ {properties}; }}\n")


def _inches(size_css: str) -> list[str]:
    """The page size in inches, as "6.0000in" strings."""
    from ...config.print import length_in

    return [f"{length_in(part) or 0:.4f}in" for part in size_css.split()]
