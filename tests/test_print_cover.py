"""bookbuild print-cover: the one-piece paperback cover (back, spine, front) for a printer.

The spine's width is the printers' published figure for the interior's page count and paper;
the cover's page is the trim of both covers and the spine with the bleed around it; spine
text appears only from the printer's threshold on; the barcode's box on the back stays blank.
Interiors of a given page count are made with pikepdf (the cover only counts their pages),
except one laid out for real from the sample book.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from clirun import run
from PIL import Image
from validators import pdftotext, qpdf_check

from bookbuild.config.print import PrintOptions
from bookbuild.config.printers import KDP
from bookbuild.errors import BookError, Reporter
from bookbuild.api.print_cover import make_print_cover
from bookbuild.render.pdf.print_check import check_pdf
from bookbuild.render.pdf.print_preset import spine_width
from conftest import IN_PLACE

ROOT = Path(__file__).resolve().parent.parent
BLEED = 0.125  # KDP, "Create a Paperback Cover": add 0.125" to the top, bottom and outside edges

pytestmark = pytest.mark.slow


# KDP, "Create a Paperback Cover" (G201953020) and CreateSpace's "How to Create a Cover PDF":
# white paper "multiply page count by 0.002252", cream "by 0.0025"; the published example:
# "60 x 0.002252 = 0.135"" for 60 pages on white paper.
@pytest.mark.parametrize(("pages", "paper", "published"), [
    (60, "white", 0.135), (200, "white", 0.4504), (300, "white", 0.6756),
    (60, "cream", 0.15), (200, "cream", 0.5), (300, "cream", 0.75),
])
def test_kdp_spine_width_is_the_published_figure(pages: int, paper: str, published: float) -> None:
    assert spine_width(pages, PrintOptions(preset="kdp", paper=paper), KDP) == pytest.approx(published, abs=0.0005)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cover")


def _interior(folder: Path, pages: int) -> Path:
    """An interior PDF of ``pages`` 6 x 9 in pages: all the cover reads of it is their number."""
    path = folder / f"interior-{pages}.pdf"
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(432, 648))
    pdf.save(path)
    return path


def _sample(folder: Path, name: str, extra: str = "", cover: bool = False) -> Path:
    book = folder / name
    shutil.copytree(ROOT / "book", book, ignore=IN_PLACE)
    manifest = book / "book.toml"
    text = manifest.read_text(encoding="utf-8")
    if cover:  # a cover image in RGB, as authors have them
        (book / "cover.png").parent.mkdir(exist_ok=True)
        image = Image.new("RGB", (1800, 2700), (200, 60, 40))
        image.paste((30, 90, 160), (300, 600, 1500, 2100))
        image.save(book / "cover.png")
        text = text.replace("[book]\n", '[book]\ncover = "cover.png"\n', 1)
    manifest.write_text(text + extra, encoding="utf-8")
    return book


def _cover(book: Path, printer: str, interior: Path | None, name: str) -> tuple[Path, int]:
    made = make_print_cover(book, printer, book / name, interior, Reporter())
    return made.path, made.pages


def _spine_words(path: Path, spine: float) -> list[str]:
    """The words printed inside the spine's band (pdftotext's boxes, in points from the bleed's corner)."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    left = (BLEED + 6) * 72
    words = []
    for line in out.splitlines():
        if "xMin=" not in line:
            continue
        x_min, x_max = (float(line.split(f'{key}="')[1].split('"')[0]) for key in ("xMin", "xMax"))
        if x_min >= left - 0.5 and x_max <= left + spine * 72 + 0.5:
            words.append(line.rsplit(">", 2)[-2].split("<")[0])
    return words


@pytest.fixture(scope="module")
def sample_cover(folder: Path) -> tuple[Path, int]:
    """The sample book's KDP cover, its interior laid out for real (14 pages, 24 with KDP's least)."""
    return _cover(_sample(folder, "sample"), "kdp", None, "cover.pdf")


def test_the_cover_is_trim_spine_and_bleed_exactly(sample_cover: tuple[Path, int]) -> None:
    path, pages = sample_cover
    assert pages == 24
    spine = 24 * 0.002252
    with pikepdf.open(path) as pdf:
        page = pdf.pages[0].obj
        trim = [float(v) for v in page.TrimBox]
        media = [float(v) for v in page.MediaBox]
        assert trim[2] - trim[0] == pytest.approx((2 * 6 + spine) * 72, abs=0.01)
        assert trim[3] - trim[1] == pytest.approx(9 * 72, abs=0.01)
        assert media[2] - media[0] == pytest.approx((2 * 6 + spine + 2 * BLEED) * 72, abs=0.01)
        assert media[3] - media[1] == pytest.approx((9 + 2 * BLEED) * 72, abs=0.01)
        assert [float(v) for v in page.BleedBox] == pytest.approx(media, abs=0.01)
        assert str(pdf.docinfo["/GTS_PDFXVersion"]).startswith("PDF/X-1a")
        assert int(pdf.Root.OutputIntents[0].DestOutputProfile.N) == 4
    assert check_pdf(path.read_bytes(), KDP, ((12 + spine) * 72, 648), BLEED * 72, grey=False, cover=True) == []
    assert qpdf_check(path).returncode == 0
    assert _spine_words(path, spine) == []  # 24 pages: under the 79 KDP needs for spine text
    text = pdftotext(path, layout=False)
    assert "from CTO of a start-up" in text  # the back carries [book] description


def test_the_published_example_cover_width(folder: Path) -> None:
    """CreateSpace's worked example: a 6 x 9 in cover of 60 pages on white paper is
    0.125 + 6 + 0.135 + 6 + 0.125 = 12.385 in wide and 9.25 in high."""
    path, _ = _cover(_sample(folder, "sixty"), "kdp", _interior(folder, 60), "cover-60.pdf")
    with pikepdf.open(path) as pdf:
        media = [float(v) for v in pdf.pages[0].obj.MediaBox]
    assert (media[2] - media[0]) / 72 == pytest.approx(12.385, abs=0.001)
    assert (media[3] - media[1]) / 72 == pytest.approx(9.25, abs=0.0001)


@pytest.mark.parametrize(("pages", "paper", "text"), [(78, "white", False), (79, "white", True),
                                                       (200, "cream", True)])
def test_spine_text_only_from_79_pages(folder: Path, pages: int, paper: str, text: bool) -> None:
    book = _sample(folder, f"spine-{pages}-{paper}", f'\n[print]\npaper = "{paper}"\n')
    path, _ = _cover(book, "kdp", _interior(folder, pages), "cover.pdf")
    spine = pages * KDP.papers[paper]
    with pikepdf.open(path) as pdf:  # the spine is the published figure for the paper
        trim = [float(v) for v in pdf.pages[0].obj.TrimBox]
    assert (trim[2] - trim[0]) / 72 - 12 == pytest.approx(spine, abs=0.0001)
    words = _spine_words(path, spine)
    assert ("Qi" in words) is text, words


def test_ingramspark_spine_from_its_template(folder: Path) -> None:
    book = _sample(folder, "ingram")
    with pytest.raises(BookError, match="publishes no spine width per page") as caught:
        _cover(book, "ingramspark", _interior(folder, 200), "cover.pdf")
    assert "spine_width" in (caught.value.diagnostic.hint or "")
    (book / "book.toml").write_text((book / "book.toml").read_text() + '\n[print]\nspine_width = "0.4in"\n')
    path, _ = _cover(book, "ingramspark", _interior(folder, 200), "cover.pdf")
    assert "Qi" in _spine_words(path, 0.4)  # Lightning Source: text on spines of 0.35 in or more
    (book / "book.toml").write_text((book / "book.toml").read_text().replace('"0.4in"', '"0.3in"'))
    path, _ = _cover(book, "ingramspark", _interior(folder, 200), "cover-narrow.pdf")
    assert _spine_words(path, 0.3) == []


def test_front_art_in_cmyk_and_the_barcode_box_blank(folder: Path) -> None:
    book = _sample(folder, "art", cover=True)
    result = run(["print-cover", str(book), "--for", "kdp", "--interior", str(_interior(folder, 120)),
                  "-o", str(book / "wrap.pdf"), "-v"], folder)
    assert result.exit_code == 0, result.output
    assert "interior of 120 pages" in result.output
    path = book / "wrap.pdf"
    with pikepdf.open(path) as pdf:
        images = list(pdf.pages[0].obj.Resources.XObject.values())
        pictures = [image for image in images if image.get("/Subtype") == "/Image"]
        assert pictures and all(image.ColorSpace == "/DeviceCMYK" for image in pictures)
    spine = 120 * 0.002252
    assert check_pdf(path.read_bytes(), KDP, ((12 + spine) * 72, 648), BLEED * 72, grey=False, cover=True) == []
    # KDP's barcode box: 2 x 1.2 in, 0.25 in above the bottom trim and from the spine: no word in it
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    box = ((BLEED + 6 - 0.25 - 2) * 72, (BLEED + 9 - 0.25 - 1.2) * 72, (BLEED + 6 - 0.25) * 72, (BLEED + 9 - 0.25) * 72)
    for line in out.splitlines():
        if "xMin=" in line:
            x0, y0, x1, y1 = (float(line.split(f'{k}="')[1].split('"')[0]) for k in ("xMin", "yMin", "xMax", "yMax"))
            assert x1 < box[0] or x0 > box[2] or y1 < box[1] or y0 > box[3], line


def test_print_cover_needs_a_printer(folder: Path) -> None:
    result = run(["print-cover", str(_sample(folder, "no-printer"))], folder)
    assert result.exit_code == 2 and "no printer named" in result.output and "--for kdp" in result.output


def _small_book(folder: Path, name: str) -> Path:
    """A 6 x 9 in book whose chapter has a broken link and whose cover is 400 x 640 px (about 65 ppi on the front)."""
    book = folder / name
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Small"\nauthors = ["A. Author"]\nlanguage = "en"\n'
                                    'cover = "front.png"\nchapters = ["c.md"]\n\n[pdf]\npage_size = "6in 9in"\n',
                                    encoding="utf-8")
    (book / "c.md").write_text("# C\n\nSee [there](#nowhere-at-all).\n", encoding="utf-8")
    Image.new("RGB", (400, 640), (200, 60, 40)).save(book / "front.png")
    return book


def test_print_cover_takes_the_common_options_and_says_only_what_concerns_the_cover(folder: Path) -> None:
    book = _small_book(folder, "small")
    interior = str(_interior(folder, 120))
    result = run(["print-cover", str(book), "--for", "kdp", "--interior", interior, "-v"], folder)
    assert result.exit_code == 0, result.output
    # (e) the cover art's resolution on the 6.125 x 9.25 in front (with its bleed), naming the file
    assert ("front.png: warning: cover image printed at 65 ppi on the front, under the 300 ppi Amazon KDP asks for "
            "(400 x 640 px on 6.125 x 9.25 in) (hint: use an image of 1838 x 2775 px or more") in result.output
    assert "nowhere-at-all" not in result.output  # (f) the chapters' warnings are the interior's build's
    # (b) the output line of every command: path, size, time; -v says the page count
    assert re.search(r"^\S*small/dist/small-cover\.pdf  \d+(\.\d)? KB  \d+\.\d\d s$", result.output, re.MULTILINE), result.output
    assert "interior of 120 pages" in result.output
    quiet = run(["print-cover", str(book), "--for", "kdp", "--interior", interior, "-q", "-o", "q.pdf"], folder)
    assert quiet.exit_code == 0 and "q.pdf" not in quiet.output and "65 ppi" in quiet.output
    strict = run(["print-cover", str(book), "--for", "kdp", "--interior", interior, "--strict", "-o", "s.pdf"], folder)
    assert strict.exit_code == 1 and "error: cover image printed at 65 ppi" in strict.output
    assert "1 warning treated as errors (--strict)" in strict.output and not (folder / "s.pdf").exists()


def _marked(path: Path, pages: int, size: tuple[float, float], printer: str | None) -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=size)
    if printer:
        pdf.docinfo["/BookbuildPrinter"] = printer
    pdf.save(path)
    return path


@pytest.mark.parametrize(("interior", "expected"), [
    (lambda f: f / "x.epub", "x.epub: error: the interior is not a PDF (hint: name the interior PDF"),
    (lambda f: f / "broken.pdf", "broken.pdf: error: the interior is a damaged PDF: its pages cannot be counted"),
    (lambda f: _marked(f / "ingram.pdf", 60, (432, 648), "ingramspark"),
     "ingram.pdf: error: the interior was made for IngramSpark, not Amazon KDP (hint: build it with bookbuild pdf --for kdp"),
    (lambda f: _marked(f / "small.pdf", 60, (360, 576), "kdp"),
     "small.pdf: error: the interior's pages are 5 x 8 in, not the book's trim of 6 x 9 in"),
    (lambda f: _marked(f / "short.pdf", 15, (432, 648), None),
     ("short.pdf: error: the interior has 15 pages, under the 24 Amazon KDP prints (hint: build it with bookbuild pdf "
      "--for kdp, which adds the blank pages)")),
])
def test_an_interior_the_cover_does_not_fit_is_refused_plainly(folder: Path, interior, expected: str) -> None:
    (folder / "x.epub").write_bytes(b"PK\x03\x04" + b"\0" * 200)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n")
    book = folder / "fit" if (folder / "fit").exists() else _small_book(folder, "fit")
    result = run(["print-cover", str(book), "--for", "kdp", "--interior", str(interior(folder)), "-o", "f.pdf"], folder)
    assert result.exit_code == 1 and expected in result.output, result.output
    assert "<_io" not in result.output and "Traceback" not in result.output and not (folder / "f.pdf").exists()


def test_the_press_step_marks_the_printer_an_interior_is_made_for(folder: Path) -> None:
    from bookbuild.config.printers import INGRAMSPARK
    from bookbuild.render.pdf.print_press import prepare_for_press

    data = _marked(folder / "plain.pdf", 2, (432, 648), None).read_bytes()
    pressed = prepare_for_press(data, PrintOptions(preset="ingramspark"), INGRAMSPARK)
    with pikepdf.open(io.BytesIO(pressed)) as pdf:
        assert str(pdf.docinfo["/BookbuildPrinter"]) == "ingramspark"
