"""What a print preset promises, checked in the written PDF with pikepdf.

The checks a printer's preflight makes and bookbuild can make without Acrobat: the PDF/X
version key and an output intent with a CMYK profile; on every page a TrimBox of the trim
size and a BleedBox (and MediaBox) of the trim plus the bleed on the top, bottom and
outside edges; every font embedded (subsets are what both printers' PDF/X-1a presets make); no annotations; no RGB colour
anywhere (PDF/X-1a), no colour at all in a black-and-white interior; no soft mask or
constant alpha. Each problem is one line naming the page.
"""

from __future__ import annotations

import io
from typing import Any

from ...config.print import PrintOptions, length_in
from ...config.printers import Printer

TOLERANCE = 0.01  # points: pydyf writes boxes with a few decimals
_RGB_OPERATORS = {"rg", "RG"}
_COLOUR_OPERATORS = {"k", "K", "rg", "RG", "sc", "SC", "scn", "SCN"}


def check_interior(data: bytes, options: PrintOptions, printer: Printer, page_size_css: str) -> list[str]:
    """The problems of an interior PDF against its preset (empty: it passes)."""
    width, height = (length_in(part) * 72 for part in page_size_css.split())  # type: ignore[operator]
    bleed = printer.bleed * 72 if options.bleed else 0.0
    return check_pdf(data, printer, (width, height), bleed, grey=options.interior == "bw", cover=False)


def check_pdf(data: bytes, printer: Printer, trim: tuple[float, float], bleed: float, *, grey: bool,
              cover: bool) -> list[str]:
    """The problems of a press PDF whose pages are ``trim`` points large with ``bleed`` points
    of bleed (on every edge of a ``cover``; on all but the inside edge of an interior page)."""
    import pikepdf

    problems: list[str] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        problems += _pdfx_keys(pdf, printer)
        fonts: dict[str, Any] = {}
        for number, page in enumerate(pdf.pages, start=1):
            problems += _boxes(page.obj, number, trim, bleed, cover)
            if "/Annots" in page.obj:
                problems.append(f"page {number}: annotations (links) the printer refuses")
            problems += _content(page.obj, number, grey, fonts, set())
        for name, font in fonts.items():
            problems += _font(name, font)
    return problems


def _pdfx_keys(pdf: Any, printer: Printer) -> list[str]:
    problems = []
    version = str(pdf.docinfo.get("/GTS_PDFXVersion", ""))
    flavour = printer.pdf_variant.split("/")[1].upper()  # X-1A
    if not version.upper().startswith(f"PDF/{flavour}"):
        problems.append(f"the PDF/X version key is '{version}', not PDF/{flavour}")
    intents = pdf.Root.get("/OutputIntents") or []
    profiles = [intent.get("/DestOutputProfile") for intent in intents if intent.get("/S") == "/GTS_PDFX"]
    if not profiles or profiles[0] is None or int(profiles[0].get("/N", 0)) != 4:
        problems.append("no PDF/X output intent with a CMYK profile")
    return problems


def _boxes(page: Any, number: int, trim: tuple[float, float], bleed: float, cover: bool) -> list[str]:
    box = [float(value) for value in page.get("/TrimBox", page.MediaBox)]
    problems = []
    if abs(box[2] - box[0] - trim[0]) > TOLERANCE or abs(box[3] - box[1] - trim[1]) > TOLERANCE:
        problems.append(f"page {number}: TrimBox {box[2] - box[0]:.2f} x {box[3] - box[1]:.2f} pt is not the trim "
                        f"{trim[0]:.2f} x {trim[1]:.2f} pt")
    left = right = bleed
    if not cover and bleed:
        if number % 2:  # a recto page is bound on its left
            left = 0.0
        else:
            right = 0.0
    wanted = [box[0] - left, box[1] - bleed, box[2] + right, box[3] + bleed]
    for key in ("/BleedBox", "/MediaBox"):
        found = [float(value) for value in page.get(key, page.MediaBox)]
        if any(abs(a - b) > TOLERANCE for a, b in zip(found, wanted)):
            problems.append(f"page {number}: {key[1:]} {_box(found)} is not the trim with its bleed {_box(wanted)}")
    return problems


def _box(values: list[float]) -> str:
    return "[" + " ".join(f"{value:.2f}" for value in values) + "]"


def _content(holder: Any, number: int, grey: bool, fonts: dict[str, Any], seen: set[tuple[int, int]]) -> list[str]:
    """Colour operators, images, graphics states and fonts of a content stream and its resources."""
    import pikepdf

    problems: list[str] = []
    operators = {str(instruction.operator) for instruction in pikepdf.parse_content_stream(holder)
                 if hasattr(instruction, "operator")}
    if operators & _RGB_OPERATORS:
        problems.append(f"page {number}: RGB colour in the content (PDF/X-1a allows CMYK and grey only)")
    elif grey and {"k", "K"} & operators:
        problems.append(f"page {number}: CMYK colour in a black-and-white interior")
    resources = holder.get("/Resources") or {}
    for state in (resources.get("/ExtGState") or {}).values():
        alpha = [float(state.get(key, 1)) for key in ("/ca", "/CA")]
        if min(alpha) < 1 or str(state.get("/SMask", "/None")) != "/None":
            problems.append(f"page {number}: transparency (PDF/X-1a allows none)")
    for name, font in (resources.get("/Font") or {}).items():
        fonts.setdefault(str(font.get("/BaseFont", name)), font)
    shadings = list((resources.get("/Shading") or {}).values())
    shadings += [item.Shading for item in (resources.get("/Pattern") or {}).values() if "/Shading" in item]
    for shading in shadings:  # gradients: the press step leaves them as drawn
        space = shading.get("/ColorSpace")
        name = str(space[0] if isinstance(space, pikepdf.Array) else space)
        components = {len(f.get(key, [])) for f in _functions(shading.get("/Function")) for key in ("/C0", "/C1")
                      if key in f}
        wrong = components - {1 if name == "/DeviceGray" else 4}
        if name not in ("/DeviceGray", "/DeviceCMYK") or (grey and name == "/DeviceCMYK") or wrong:
            problems.append(f"page {number}: a gradient the press step cannot convert ({name[1:]}); use a flat colour")
    for kind in ("/XObject", "/Pattern"):
        for item in (resources.get(kind) or {}).values():
            if not isinstance(item, pikepdf.Stream) or item.objgen in seen:
                continue
            seen.add(item.objgen)
            if item.get("/Subtype") == "/Image":
                problems += _image(item, number, grey)
            else:
                problems += _content(item, number, grey, fonts, seen)
    return problems


def _functions(function: Any) -> list[Any]:
    if function is None:
        return []
    return [function] + [inner for sub in function.get("/Functions", []) for inner in _functions(sub)]


def _image(image: Any, number: int, grey: bool) -> list[str]:
    import pikepdf

    space = image.get("/ColorSpace")
    name = str(space[0] if isinstance(space, pikepdf.Array) else space)
    problems = []
    if "/SMask" in image:
        problems.append(f"page {number}: an image with a soft mask (transparency)")
    if grey and name not in ("/DeviceGray", "None"):
        problems.append(f"page {number}: an image in {name[1:]} in a black-and-white interior")
    elif name not in ("/DeviceGray", "/DeviceCMYK", "None"):
        problems.append(f"page {number}: an image in {name[1:]} (PDF/X-1a allows CMYK and grey only)")
    return problems


def _font(name: str, font: Any) -> list[str]:
    """A font's program must be in the file (KDP and IngramSpark: embed every font)."""
    if font.get("/Subtype") == "/Type3":
        return []  # drawn by the file's own glyph procedures
    fonts = font.get("/DescendantFonts") or [font]
    descriptor = fonts[0].get("/FontDescriptor")
    if descriptor is None or not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
        return [f"font {name.lstrip('/')} is not embedded"]
    return []
