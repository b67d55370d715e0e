"""Print-on-demand presets ([print] preset, --for kdp|ingramspark): the interior PDF a printer accepts.

Each book is built once per module: the sample book for KDP and for IngramSpark, and a
generated book of about 200 pages (benchmarks/generate.py) for KDP with a black-and-white
interior and for IngramSpark in colour with bleed. Every PDF is checked with pikepdf (the
PDF/X key, the output intent, the boxes of every page, annotations, colour spaces,
transparency, fonts) and with qpdf; figures are the printers' (config/printers.py cites them).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from clirun import run
from validators import qpdf_check

from bookbuild.api import BuildOptions, build
from bookbuild.config.manifest import load_manifest
from bookbuild.config.overrides import Overrides
from bookbuild.config.printers import INGRAMSPARK, KDP
from bookbuild.errors import ManifestError, Reporter, UsageError
from bookbuild.render.pdf.print_check import check_pdf
from conftest import IN_PLACE

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

pytestmark = pytest.mark.slow
TRIM_6X9 = (6 * 72, 9 * 72)
BLEED = 0.125 * 72  # both printers: 0.125" (config/printers.py)


def _build(folder: Path, printer: str) -> tuple[Path, Reporter]:
    reporter = Reporter()
    result = build(folder, ["pdf"], options=BuildOptions(printer=printer), reporter=reporter,
                   output=folder / f"{printer}.pdf")
    return result[0].path, reporter


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("print") / "sample"
    shutil.copytree(ROOT / "book", folder, ignore=IN_PLACE)
    return folder


@pytest.fixture(scope="module")
def sample_kdp(sample: Path) -> tuple[Path, Reporter]:
    return _build(sample, "kdp")


@pytest.fixture(scope="module")
def sample_ingramspark(sample: Path) -> tuple[Path, Reporter]:
    return _build(sample, "ingramspark")


def _long_book(folder: Path, extra: str) -> Path:
    """The generated medium book cut to its first 12 chapters: about 200 pages at 6 x 9 in."""
    manifest = generate("medium", folder)
    lines = manifest.read_text(encoding="utf-8").splitlines()
    chapters = [line for line in lines if line.strip().startswith('"chapters/')]
    dropped = set(chapters[12:])
    manifest.write_text("\n".join(line for line in lines if line not in dropped) + "\n" + extra, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def long_kdp(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Reporter]:
    # a gutter under KDP's least for 151-300 pages: the preset widens it to 0.5in
    folder = _long_book(tmp_path_factory.mktemp("print") / "long-kdp", '[pdf]\nmargin_inner = "0.3in"\n')
    return _build(folder, "kdp")


@pytest.fixture(scope="module")
def long_ingramspark(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Reporter]:
    folder = _long_book(tmp_path_factory.mktemp("print") / "long-ingram",
                        '[print]\npreset = "ingramspark"\ninterior = "colour"\nbleed = true\n')
    return _build(folder, "ingramspark")


def _images(pdf: pikepdf.Pdf) -> list[pikepdf.Stream]:
    found, seen = [], set()

    def walk(resources: pikepdf.Dictionary | None) -> None:
        for item in ((resources or {}).get("/XObject") or {}).values():
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
            if item.get("/Subtype") == "/Image":
                found.append(item)
            else:
                walk(item.get("/Resources"))

    for page in pdf.pages:
        walk(page.obj.get("/Resources"))
    return found


def _pdfx_and_boxes(path: Path, trim: tuple[float, float], bleed: float = 0.0) -> pikepdf.Pdf:
    pdf = pikepdf.open(path)
    assert str(pdf.docinfo["/GTS_PDFXVersion"]).startswith("PDF/X-1a")
    intent = pdf.Root.OutputIntents[0]
    assert intent.S == "/GTS_PDFX" and int(intent.DestOutputProfile.N) == 4  # a CMYK press profile
    for number, page in enumerate(pdf.pages, start=1):
        trim_box = [float(v) for v in page.obj.TrimBox]
        assert trim_box[2] - trim_box[0] == pytest.approx(trim[0], abs=0.01)
        assert trim_box[3] - trim_box[1] == pytest.approx(trim[1], abs=0.01)
        left, right = (0.0, bleed) if number % 2 else (bleed, 0.0)  # no bleed on the bound (inside) edge
        wanted = [trim_box[0] - left, trim_box[1] - bleed, trim_box[2] + right, trim_box[3] + bleed]
        assert [float(v) for v in page.obj.BleedBox] == pytest.approx(wanted, abs=0.01)
        assert [float(v) for v in page.obj.MediaBox] == pytest.approx(wanted, abs=0.01)
        assert "/Annots" not in page.obj  # no links: KDP's submission guidelines forbid annotations
    assert "/Outlines" not in pdf.Root  # ...and bookmarks
    return pdf


def test_sample_book_for_kdp_is_pdfx_with_kdp_boxes(sample_kdp: tuple[Path, Reporter]) -> None:
    path, reporter = sample_kdp
    with _pdfx_and_boxes(path, TRIM_6X9) as pdf:
        assert len(pdf.pages) == 24  # KDP prints 24 pages or more: blank pages added at the end...
    assert any("24 Amazon KDP prints" in w.message and w.location.file.endswith("book.toml")
               for w in reporter.warnings)  # ...and said, naming book.toml
    assert check_pdf(path.read_bytes(), KDP, TRIM_6X9, 0, grey=True, cover=False) == []
    assert qpdf_check(path).returncode == 0


def test_sample_book_for_ingramspark(sample_ingramspark: tuple[Path, Reporter]) -> None:
    path, _ = sample_ingramspark
    with _pdfx_and_boxes(path, TRIM_6X9) as pdf:
        assert len(pdf.pages) < 24  # no least page count found for IngramSpark: nothing added
    assert check_pdf(path.read_bytes(), INGRAMSPARK, TRIM_6X9, 0, grey=True, cover=False) == []
    assert qpdf_check(path).returncode == 0


def test_long_book_for_kdp_black_and_white(long_kdp: tuple[Path, Reporter]) -> None:
    path, reporter = long_kdp
    with _pdfx_and_boxes(path, TRIM_6X9) as pdf:
        pages = len(pdf.pages)
        assert 151 <= pages <= 300, pages
        images = _images(pdf)
        assert images and all(image.ColorSpace == "/DeviceGray" and "/SMask" not in image for image in images)
        for page in pdf.pages:  # black-and-white: no RGB and no CMYK colour operator
            operators = {str(i.operator) for i in pikepdf.parse_content_stream(page) if hasattr(i, "operator")}
            assert not operators & {"rg", "RG", "k", "K"}
    # KDP's gutter for 151-300 pages is 0.5in: book.toml's 0.3in was widened (text of page 51, a recto)
    words = subprocess.run(["pdftotext", "-bbox", "-f", "51", "-l", "51", str(path), "-"], capture_output=True,
                           text=True, check=True).stdout
    lefts = [float(line.split('xMin="')[1].split('"')[0]) for line in words.splitlines() if "xMin=" in line]
    assert lefts and min(lefts) >= 0.5 * 72 - 0.5
    # images printed under 300 ppi (KDP's figure) are warned about, each naming its file: a 640 px
    # figure across the text block, 6in less the 0.5in gutter and the 16mm outside margin, is 131 ppi
    low = [w for w in reporter.warnings if "ppi" in w.message]
    assert round(640 / (6 - 0.5 - 16 / 25.4)) == 131
    assert low and low[0].location.file.endswith("fig-001.png") and "131 ppi" in low[0].message
    assert check_pdf(path.read_bytes(), KDP, TRIM_6X9, 0, grey=True, cover=False) == []
    assert qpdf_check(path).returncode == 0


def test_long_book_for_ingramspark_colour_with_bleed(long_ingramspark: tuple[Path, Reporter]) -> None:
    path, _ = long_ingramspark
    with _pdfx_and_boxes(path, TRIM_6X9, BLEED) as pdf:
        assert 151 <= len(pdf.pages) <= 300
        images = _images(pdf)
        assert images and all(image.ColorSpace == "/DeviceCMYK" and "/SMask" not in image for image in images)
        picture = pikepdf.PdfImage(images[0]).as_pil_image()
        assert picture.mode == "CMYK" and any(low != high for low, high in picture.getextrema())  # not blanked
        for page in list(pdf.pages)[:40]:
            operators = {str(i.operator) for i in pikepdf.parse_content_stream(page) if hasattr(i, "operator")}
            assert not operators & {"rg", "RG"}  # PDF/X-1a: no RGB
    assert check_pdf(path.read_bytes(), INGRAMSPARK, TRIM_6X9, BLEED, grey=False, cover=False) == []
    assert qpdf_check(path).returncode == 0


def _book(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "ch.md").write_text("# One\n\nText.\n", encoding="utf-8")
    (tmp_path / "book.toml").write_text('[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                                        'chapters = ["ch.md"]\n' + extra, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("extra", "line", "words"), [
    ('[pdf]\npage_size = "A4"\n[print]\npreset = "kdp"\n', 7, "'A4' is not one of Amazon KDP's trim sizes"),
    ('[pdf]\npage_size = "6in 9in"\ncrop_marks = true\n[print]\npreset = "kdp"\n', 8, "refuses files with crop marks"),
    ('[pdf]\nmargin_outer = "0.3in"\n[print]\npreset = "ingramspark"\n', 7, "under IngramSpark's least margin of 0.5in"),
    ('[print]\npreset = "lulu"\n', 7, "preset"),
    ('[print]\npreset = "kdp"\npaper = "colour"\n', 8, "'colour' paper is for a colour interior"),
])
def test_a_book_the_printer_cannot_take_is_refused_at_its_line(tmp_path: Path, extra: str, line: int,
                                                                words: str) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(_book(tmp_path, extra))
    diagnostic = caught.value.diagnostics[0]
    assert words in diagnostic.message and diagnostic.location.line == line, diagnostic


def test_for_overrides_the_preset_and_names_the_flag(tmp_path: Path) -> None:
    book = _book(tmp_path, '[print]\npreset = "kdp"\n')
    manifest = load_manifest(book, overrides=Overrides(printer="ingramspark"))
    assert manifest.print.preset == "ingramspark" and manifest.pdf.page_size == "6in 9in"
    assert manifest.pdf.variant == "pdf/x-1a"
    with pytest.raises(UsageError, match="--for"):
        load_manifest(book, overrides=Overrides(printer="lulu"))
    result = run(["pdf", str(book), "--for", "lulu"], tmp_path)
    assert result.exit_code == 2 and "--for" in result.output


def test_without_a_preset_the_pdf_is_unchanged(tmp_path: Path) -> None:
    manifest = load_manifest(_book(tmp_path, ""))
    assert manifest.print.printer is None and manifest.pdf.variant is None and manifest.pdf.page_size == "A4"


def test_the_press_ready_pdf_is_the_same_bytes_when_built_again(sample_kdp: tuple[Path, Reporter],
                                                                  sample: Path) -> None:
    first = sample_kdp[0].read_bytes()
    again, _ = _build(sample, "kdp")
    assert again.read_bytes() == first


def _shadings(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    found: list[pikepdf.Dictionary] = []

    def walk(resources: pikepdf.Dictionary | None, depth: int = 0) -> None:
        found.extend((resources or {}).get("/Shading", {}).values())
        for kind in ("/Pattern", "/XObject"):
            for item in ((resources or {}).get(kind) or {}).values():
                if "/Resources" in item and depth < 5:
                    walk(item.Resources, depth + 1)

    walk(pdf.pages[0].obj.Resources)
    return found


@pytest.mark.parametrize(("interior", "space", "stops"), [("colour", "/DeviceCMYK", 4), ("bw", "/DeviceGray", 1)])
def test_a_css_gradient_prints_in_the_interiors_ink(tmp_path: Path, interior: str, space: str, stops: int) -> None:
    """WeasyPrint writes a gradient's stops as RGB triples, under DeviceCMYK once the output
    intent is CMYK (wrong colours on the press): the press step converts them."""
    book = _book(tmp_path, f'styles = ["g.css"]\n[print]\npreset = "ingramspark"\ninterior = "{interior}"\n')
    (book / "g.css").write_text("h1 { background: linear-gradient(red, blue); }\n", encoding="utf-8")
    path = build(book, ["pdf"], reporter=Reporter())[0].path
    assert path.name == "t-ingramspark.pdf"  # a printer's interior never replaces the ordinary PDF
    with pikepdf.open(path) as pdf:
        shadings = _shadings(pdf)
        assert shadings and all(shading.ColorSpace == space for shading in shadings)
        functions = [f for s in shadings for f in s.Function.get("/Functions", [s.Function])]
        assert functions and all(len(f.C0) == stops and len(f.C1) == stops for f in functions)
        if interior == "colour":  # red is magenta and yellow ink, blue cyan and magenta
            assert [float(v) for v in functions[0].C0] == pytest.approx([0, 1, 1, 0])
            assert [float(v) for v in functions[0].C1] == pytest.approx([1, 1, 0, 0])
    assert check_pdf(path.read_bytes(), INGRAMSPARK, TRIM_6X9, 0, grey=interior == "bw", cover=False) == []


def test_the_trims_the_refusal_lists_are_accepted_as_written(tmp_path: Path) -> None:
    """Newcomer report item 3: `bookbuild new` writes page_size = "A5"; the refusal says which
    line to change to what, and every trim it lists ("5.06x7.81in") is a page size as written."""
    with pytest.raises(ManifestError) as caught:
        load_manifest(_book(tmp_path, '[pdf]\npage_size = "A5"\n[print]\npreset = "kdp"\n'))
    hint = caught.value.diagnostics[0].hint
    assert hint.startswith('in [pdf], change page_size = "A5" to one of 5x8in, 5.06x7.81in, ') and \
        hint.endswith('; for example page_size = "6x9in"'), hint
    for trim in hint.split("one of ")[1].split(";")[0].split(", "):
        manifest = load_manifest(_book(tmp_path, f'[pdf]\npage_size = "{trim}"\n[print]\npreset = "kdp"\n'))
        assert manifest.print.preset == "kdp", trim
