"""The ``[print] table of book.toml and ``--for kdp|ingramspark``: a print-on-demand preset.

A preset (config/printers.py) turns the ``[pdf]`` options into what the printer accepts, at
the door: the page size must be one of its trims, the top, bottom and outside margins at
least its minimum, no crop marks, its bleed, and its PDF/X flavour. What depends on the
page count (the gutter, the least page count, the spine) is settled after the layout
(render/pdf/print_preset.py).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .printers import INTERIORS, PAPERS, PRINTERS, Printer

if TYPE_CHECKING:
    from .pdf import PdfOptions
    from .toml import TableReader

PRINT_KEYS = {"preset", "interior", "paper", "bleed", "spine_width"}
_UNITS = {"in": 1.0, "mm": 1 / 25.4, "cm": 1 / 2.54, "pt": 1 / 72, "pc": 1 / 6, "px": 1 / 96, "q": 1 / 101.6}
# A trim matches when both sides agree to a thousandth of an inch (6.14in is 155.956mm).
TRIM_TOLERANCE = 0.002


@dataclass(frozen=True)
class PrintOptions:
    """The ``[print]`` table: the printer, the interior's ink, the paper, whether pages bleed."""

    preset: str | None = None  # "kdp", "ingramspark"; None: an ordinary PDF
    interior: str = "bw"  # "bw": black ink, images in grey; "colour"
    paper: str = "white"  # "white", "cream" (black-and-white interiors), "colour"
    bleed: bool = False  # pages have art to the edge: the page grows by the printer's bleed
    spine_width: str | None = None  # the printer's own figure, when it publishes none per page

    @property
    def printer(self) -> Printer | None:
        return PRINTERS.get(self.preset or "")

    @property
    def spine_width_in(self) -> float | None:
        return length_in(self.spine_width) if self.spine_width else None


def length_in(value: str) -> float | None:
    """A CSS length in inches; None for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(in|mm|cm|pt|pc|px|q)\s*", value, re.IGNORECASE)
    return float(match.group(1)) * _UNITS[match.group(2).lower()] if match else None


def read_print_options(reader: TableReader) -> PrintOptions:
    """The ``[print]`` table (or the command line's ``--for``), every key checked with its line."""
    values: dict[str, Any] = {}
    preset = reader.choice("preset", tuple(PRINTERS))
    if preset is not None:
        values["preset"] = preset
    interior = reader.choice("interior", INTERIORS)
    if interior is not None:
        values["interior"] = interior
    paper = reader.choice("paper", PAPERS)
    if paper is not None:
        values["paper"] = paper
    elif interior == "colour":
        values["paper"] = "colour"
    bleed = reader.boolean("bleed")
    if bleed is not None:
        values["bleed"] = bleed
    spine = reader.string("spine_width")
    if spine is not None:
        if length_in(spine) is None or not 0 < (length_in(spine) or 0) < 5:
            raise reader.source.error(f"[print] spine_width: '{spine}' is not a spine width", "print", "spine_width",
                                      hint="copy it from the printer's cover template, such as 0.5in or 12.7mm")
        values["spine_width"] = spine.strip()
    options = PrintOptions(**values)
    if options.interior == "bw" and options.paper == "colour":
        raise reader.source.error("[print] paper: 'colour' paper is for a colour interior", "print", "paper",
                                  hint="write interior = \"colour\", or paper = \"white\" or \"cream\"")
    if options.interior == "colour" and options.paper == "cream":
        raise reader.source.error("[print] paper: a colour interior prints on white paper", "print", "paper",
                                  hint="write paper = \"colour\" (or leave it out)")
    return options


def with_preset(pdf: PdfOptions, options: PrintOptions, reader: TableReader) -> PdfOptions:
    """The ``[pdf]`` options as the preset needs them, or a :class:`ManifestError` at the
    ``[pdf]`` key the printer refuses (its trims, its least margins, crop marks, a PDF/A variant)."""
    printer = options.printer
    if printer is None:
        return pdf
    source = reader.source
    size = _page_inches(pdf.page_size_css)
    if size is None or not any(_same(size, trim) for trim in printer.trims):
        raise source.error(f"[pdf] page_size: '{pdf.page_size}' is not one of {printer.label}'s trim sizes", "pdf",
                           "page_size", hint=f"in [pdf], change page_size = \"{pdf.page_size}\" to one of "
                           f"{printer.trim_names()}; for example page_size = \"6x9in\"")
    least = printer.outside_bleed if options.bleed else printer.outside
    for key in ("margin_top", "margin_bottom", "margin_outer"):
        margin = length_in(getattr(pdf, key))
        if margin is not None and margin + 1e-6 < least:
            raise source.error(f"[pdf] {key}: {getattr(pdf, key)} is under {printer.label}'s least margin of "
                               f"{least:g}in", "pdf", key, hint=f"write {key} = \"{least:g}in\" or more")
    if pdf.crop_marks:
        raise source.error(f"[pdf] crop_marks: {printer.label} refuses files with crop marks", "pdf", "crop_marks",
                           hint="remove crop_marks: the printer trims the book itself")
    if pdf.variant is not None:
        raise source.error(f"[pdf] variant: a {printer.label} PDF is {printer.pdf_variant.upper()}, not "
                           f"{pdf.variant.upper()}", "pdf", "variant", hint="remove variant, or the print preset")
    return dataclasses.replace(pdf, bleed=f"{printer.bleed:g}in" if options.bleed else None,
                               variant=printer.pdf_variant, parallel=False)


def _page_inches(size_css: str) -> tuple[float, float] | None:
    parts = size_css.split()
    if len(parts) != 2:
        return None
    width, height = (length_in(part) for part in parts)
    return (width, height) if width is not None and height is not None else None


def _same(size: tuple[float, float], trim: tuple[float, float]) -> bool:
    return abs(size[0] - trim[0]) <= TRIM_TOLERANCE and abs(size[1] - trim[1]) <= TRIM_TOLERANCE


def print_options(source: Any, table: dict[str, Any], pdf_table: Any, preset: str | None,
                  pdf: PdfOptions | None) -> tuple[PrintOptions, PdfOptions | None]:
    """The ``[print]`` table with the command line's ``--for`` over its preset, and the
    ``[pdf]`` options the preset makes of ``pdf``: a book that names no page size is printed
    at 6 x 9 in, the trim both printers list first among trade sizes."""
    from .overrides import CommandLine
    from .toml import TableReader

    options = read_print_options(TableReader(source, "print", table))
    if preset is not None:
        given = read_print_options(TableReader(CommandLine(), "print", {"preset": preset}))
        options = dataclasses.replace(options, preset=given.preset)
    if pdf is None or options.printer is None:
        return options, pdf
    if not (isinstance(pdf_table, dict) and "page_size" in pdf_table) and pdf.page_size == "A4":
        pdf = dataclasses.replace(pdf, page_size="6in 9in")
    return options, with_preset(pdf, options, TableReader(source, "pdf", pdf_table if isinstance(pdf_table, dict) else {}))
