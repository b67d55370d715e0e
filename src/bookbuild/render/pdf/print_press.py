"""The written PDF made ready for a print-on-demand press, with pikepdf.

WeasyPrint writes the PDF/X keys and the output intent, but it paints CSS colours and
images as they are, in RGB, and keeps links, bookmarks and transparency. A PDF/X-1a file
may hold none of those (both printers ask for PDF/X-1a; KDP's submission guidelines forbid
annotations and bookmarks and ask for flattened transparency). So every content stream's
colours become grey (a black-and-white interior) or CMYK, images are flattened on white and
converted with Pillow's ImageCms to the press's profile (or to grey), soft masks and
constant alpha go, and pages lose their annotations. A page that bleeds loses the bleed on
its inside edge: the printers ask for it on the top, bottom and outside edges only.
"""

from __future__ import annotations

import io
import zlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config.print import PrintOptions
from ...config.printers import Printer
from ...errors import OutputError
from ...files import read_book_file

if TYPE_CHECKING:
    import pikepdf
    from PIL import Image

# The CMYK profile of the output intent and of image conversion: Ghostscript's default CMYK
# ("Artifex CMYK SWOP Profile", a coated web press), from Debian's libgs-common (scripts/test.sh
# installs it). Neither printer names a profile for a PDF/X-1a file's output intent in the pages
# found; IngramSpark asks for CMYK or greyscale content.
CMYK_PROFILES = (Path("/usr/share/color/icc/ghostscript/default_cmyk.icc"),
                 Path("/usr/share/color/ghostscript/default_cmyk.icc"))
_COLOUR_OPERATORS = {"rg": ("g", "k"), "RG": ("G", "K")}


@cache
def cmyk_profile() -> bytes:
    """The bytes of the CMYK profile (see :data:`CMYK_PROFILES`)."""
    for path in CMYK_PROFILES:
        if path.is_file():
            return read_book_file(path, path.parent, "icc")
    raise OutputError("no CMYK colour profile for the press was found",
                      hint=f"install Debian's libgs-common, which provides {CMYK_PROFILES[0]}")


PRINTER_KEY = "/BookbuildPrinter"  # the document information entry naming the preset's printer


def prepare_for_press(data: bytes, options: PrintOptions, printer: Printer, *, grey: bool | None = None,
                      blank_pages: int = 0) -> bytes:
    """``data`` (a PDF WeasyPrint wrote) as the press takes it, with ``blank_pages`` blank
    pages added at the end; ``grey`` defaults to the interior's ink."""
    import pikepdf

    grey = options.interior == "bw" if grey is None else grey
    with pikepdf.open(io.BytesIO(data)) as pdf:
        seen: set[tuple[int, int]] = set()
        for index, page in enumerate(pdf.pages):
            _convert_stream(pdf, page.obj, grey)
            _convert_resources(pdf, page.obj.get("/Resources"), grey, seen)
            for key in ("/Annots", "/Group"):
                if key in page.obj:
                    del page.obj[key]
            if options.bleed:
                _outside_bleed(page.obj, recto=index % 2 == 0, bleed=printer.bleed * 72)
        for _ in range(blank_pages):
            _add_blank_page(pdf)
        for key in ("/Outlines", "/PageMode", "/AcroForm", "/OpenAction"):
            if key in pdf.Root:
                del pdf.Root[key]
        pdf.Root.OutputIntents = pikepdf.Array([output_intent(pdf)])
        pdf.docinfo[PRINTER_KEY] = pikepdf.String(printer.name)  # print-cover refuses another printer's interior
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 compress_streams=True)
    return out.getvalue()


def _convert_stream(pdf: pikepdf.Pdf, holder: Any, grey: bool) -> None:
    """The colour operators of a page's (or form's, or pattern's) content stream, in grey or CMYK."""
    import pikepdf

    instructions = pikepdf.parse_content_stream(holder)
    changed = False
    result = []
    for instruction in instructions:
        operator = str(getattr(instruction, "operator", ""))
        if operator in _COLOUR_OPERATORS:
            red, green, blue = (float(value) for value in instruction.operands)
            gray_op, cmyk_op = _COLOUR_OPERATORS[operator]
            values = [_grey(red, green, blue)] if grey else list(_cmyk(red, green, blue))
            instruction = pikepdf.ContentStreamInstruction([round(v, 4) for v in values],
                                                           pikepdf.Operator(gray_op if grey else cmyk_op))
            changed = True
        result.append(instruction)
    if not changed:
        return
    content = pikepdf.unparse_content_stream(result)
    if isinstance(holder, pikepdf.Stream):
        holder.write(content)
    else:  # a page: its content streams become one
        holder.Contents = pdf.make_stream(content)


def _convert_resources(pdf: pikepdf.Pdf, resources: Any, grey: bool, seen: set[tuple[int, int]]) -> None:
    """Images, forms, patterns and graphics states of a resource dictionary, once each."""
    import pikepdf

    if resources is None:
        return
    for state in (resources.get("/ExtGState") or {}).values():
        _opaque(state)
    for shading in (resources.get("/Shading") or {}).values():
        _convert_shading(shading, grey)
    for kind in ("/XObject", "/Pattern"):
        for item in (resources.get(kind) or {}).values():
            if not isinstance(item, pikepdf.Stream) or item.objgen in seen:
                continue
            if item.objgen != (0, 0):
                seen.add(item.objgen)
            subtype = item.get("/Subtype")
            if subtype == "/Image":
                _convert_image(pdf, item, grey)
                continue
            if "/Group" in item:
                del item["/Group"]
            _convert_stream(pdf, item, grey)
            _convert_resources(pdf, item.get("/Resources"), grey, seen)


def _convert_shading(shading: Any, grey: bool) -> None:
    """A CSS gradient's colours in grey or CMYK: WeasyPrint writes its stops as RGB triples
    (under DeviceCMYK when the output intent is CMYK, which would print wrong colours)."""
    import pikepdf

    def functions(function: Any) -> list[Any]:
        return [function] + [inner for sub in function.get("/Functions", []) for inner in functions(sub)]

    stops = [f for f in functions(shading.get("/Function", pikepdf.Dictionary())) if "/C0" in f or "/C1" in f]
    if not stops or any(len(f.get(key, [0, 0, 0])) != 3 for f in stops for key in ("/C0", "/C1")):
        return
    for function in stops:
        for key in ("/C0", "/C1"):
            red, green, blue = (float(value) for value in function.get(key, [0, 0, 0]))
            values = [_grey(red, green, blue)] if grey else list(_cmyk(red, green, blue))
            function[key] = pikepdf.Array([round(value, 4) for value in values])
    shading.ColorSpace = pikepdf.Name.DeviceGray if grey else pikepdf.Name.DeviceCMYK


def _opaque(state: Any) -> None:
    """No transparency in a graphics state (PDF/X-1a)."""
    import pikepdf

    for key in ("/ca", "/CA"):
        if key in state:
            state[key] = 1
    if "/SMask" in state:
        state.SMask = pikepdf.Name.None_
    if "/BM" in state:
        state.BM = pikepdf.Name.Normal


def _convert_image(pdf: pikepdf.Pdf, image: pikepdf.Stream, grey: bool) -> None:
    """An image flattened on white, in grey or in the press's CMYK, stored losslessly."""
    import pikepdf
    from PIL import Image

    space = image.get("/ColorSpace")
    has_mask = "/SMask" in image or "/Mask" in image
    if not has_mask and (space == "/DeviceGray" or (space == "/DeviceCMYK" and not grey)):
        return
    picture = pikepdf.PdfImage(image).as_pil_image()
    if "/SMask" in image:
        mask = pikepdf.PdfImage(image.SMask).as_pil_image().convert("L")
        if mask.size != picture.size:
            mask = mask.resize(picture.size)
        picture = Image.composite(picture.convert("RGB"), Image.new("RGB", picture.size, "white"), mask)
    for key in ("/SMask", "/Mask", "/Decode", "/DecodeParms", "/Intent"):
        if key in image:
            del image[key]
    if grey:
        converted, space_name = picture.convert("L"), pikepdf.Name.DeviceGray
    else:
        converted, space_name = to_cmyk(picture), pikepdf.Name.DeviceCMYK
    image.write(zlib.compress(converted.tobytes(), 6), filter=pikepdf.Name.FlateDecode)
    image.ColorSpace = space_name
    image.BitsPerComponent = 8
    image.Width, image.Height = converted.size


def to_cmyk(picture: Image.Image) -> Image.Image:
    """An image in the press's CMYK (Pillow's ImageCms, perceptual) from sRGB."""
    from PIL import ImageCms

    if picture.mode == "CMYK":
        return picture
    return ImageCms.applyTransform(picture.convert("RGB"), _rgb_to_cmyk())


@cache
def _rgb_to_cmyk() -> Any:
    from PIL import ImageCms

    press = ImageCms.ImageCmsProfile(io.BytesIO(cmyk_profile()))
    return ImageCms.buildTransform(ImageCms.createProfile("sRGB"), press, "RGB", "CMYK",
                                   renderingIntent=ImageCms.Intent.PERCEPTUAL)


def _grey(red: float, green: float, blue: float) -> float:
    """The grey of an sRGB colour, weighted as Pillow's convert("L") weighs it."""
    return 0.299 * red + 0.587 * green + 0.114 * blue


def _cmyk(red: float, green: float, blue: float) -> tuple[float, float, float, float]:
    """A flat colour in CMYK, black as black ink only (text must not print in four inks)."""
    black = 1 - max(red, green, blue)
    if black >= 1:
        return 0.0, 0.0, 0.0, 1.0
    return tuple((1 - channel - black) / (1 - black) for channel in (red, green, blue)) + (black,)  # type: ignore[return-value]


def _outside_bleed(page: Any, recto: bool, bleed: float) -> None:
    """The media and bleed boxes lose the bleed on the inside edge (left of a recto page)."""
    media = [float(value) for value in page.MediaBox]
    trim = [float(value) for value in page.TrimBox]
    if recto:
        media[0] = trim[0]
    else:
        media[2] = trim[2]
    page.MediaBox = media
    page.BleedBox = media


def _add_blank_page(pdf: pikepdf.Pdf) -> None:
    """A blank page at the end, with the boxes of the last page of the same side."""
    import pikepdf

    model = pdf.pages[-2] if len(pdf.pages) > 1 else pdf.pages[-1]
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, Resources=pikepdf.Dictionary(),
                              Contents=pdf.make_stream(b""))
    for key in ("/MediaBox", "/TrimBox", "/BleedBox"):
        if key in model.obj:
            page[key] = pikepdf.Array([float(value) for value in model.obj[key]])
    pdf.pages.append(pikepdf.Page(page))


def output_intent(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    """The PDF/X output intent: the press's CMYK profile (WeasyPrint writes one only when a
    stylesheet declares ``@color-profile device-cmyk``, which the book's sheets cannot reach)."""
    import pikepdf
    from PIL import ImageCms

    data = cmyk_profile()
    name = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(data))).strip() or "CMYK press"
    profile = pdf.make_stream(data)
    profile.N = 4
    return pikepdf.Dictionary(Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFX,
                              OutputConditionIdentifier=pikepdf.String("Custom"),
                              OutputCondition=pikepdf.String(name), Info=pikepdf.String(name),
                              RegistryName=pikepdf.String("http://www.color.org"), DestOutputProfile=profile)
