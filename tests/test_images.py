"""Images as the book gives them: one whose name lies about its type is used as what it is."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from bookbuild.api import build
from bookbuild.errors import Reporter
from conftest import LITTLE_MANIFEST, write_book
from validators import run_epubcheck


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def test_a_png_named_jpg_is_packed_as_png_and_said_so(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", LITTLE_MANIFEST, {"one.md": "# One\n\n![A red box](photo.jpg)\n",
                                                          "two.md": "# Two\n\nText.\n"})
    (book / "photo.jpg").write_bytes(_png())
    reporter = Reporter()
    results = build(book, ["epub", "pdf"], output_dir=tmp_path / "out", reporter=reporter)
    epub = next(r.path for r in results if r.format == "epub")
    warnings = [d.format() for d in reporter.warnings]
    assert any("one.md:3:14: warning: image 'photo.jpg' is really PNG, not what its name says: packed as .png" in w
               and "(hint: rename it photo.png)" in w for w in warnings), warnings
    with zipfile.ZipFile(epub) as archive:
        names = archive.namelist()
        opf = archive.read("EPUB/content.opf").decode()
        chapter = archive.read("EPUB/ch01.xhtml").decode()
    packed = [name for name in names if name.startswith("EPUB/images/") and "photo" in name]
    assert len(packed) == 1 and packed[0].endswith(".png"), names
    assert 'media-type="image/png"' in opf and packed[0].removeprefix("EPUB/") in chapter
    report = run_epubcheck(epub, tmp_path)
    assert report.problems == [], report
    pdf = next(r.path for r in results if r.format == "pdf")
    assert b"/Subtype /Image" in pdf.read_bytes() or b"/Subtype/Image" in pdf.read_bytes()


def _with_chunk_damaged(png: bytes, chunk: bytes, at: int = 0) -> bytes:
    """The PNG with one byte of ``chunk``'s data changed, its length and CRC left as they were."""
    start = png.index(chunk) + 4 + at
    return png[:start] + bytes([png[start] ^ 0x01]) + png[start + 1:]


@pytest.mark.parametrize(("damage", "said"), [
    ("a bit flipped in the pixels", "is damaged or truncated"),
    ("a bit flipped in a text chunk", "is not a readable PNG image"),  # before the pixels: Pillow's open fails
    ("cut short", "is damaged or truncated"),
])
def test_a_damaged_png_is_refused_at_its_line(tmp_path: Path, damage: str, said: str) -> None:
    """A PNG is read to its end and every chunk checked against its CRC (sources/images.py):
    damage the decoder would not notice (a byte of an ancillary chunk, a flipped bit the
    inflater still takes) is refused like a file cut short, and the chapter builds without it."""
    png = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "drawn for the test")
    Image.new("RGB", (64, 48), (20, 90, 160)).save(png, "PNG", pnginfo=info)
    data = png.getvalue()
    data = {"a bit flipped in the pixels": lambda: _with_chunk_damaged(data, b"IDAT", at=12),
            "a bit flipped in a text chunk": lambda: _with_chunk_damaged(data, b"tEXt", at=3),
            "cut short": lambda: data[:-20]}[damage]()
    book = write_book(tmp_path / "b", LITTLE_MANIFEST, {"one.md": "# One\n\nText.\n\n![A blue box](box.png)\n",
                                                          "two.md": "# Two\n\nText.\n"})
    (book / "box.png").write_bytes(data)
    reporter = Reporter()
    (result,) = build(book, ["epub"], output_dir=tmp_path / "out", reporter=reporter)
    warnings = [d.format() for d in reporter.warnings]
    assert any("one.md:5" in w and f"image 'box.png' {said}" in w for w in warnings), warnings
    with zipfile.ZipFile(result.path) as archive:
        assert not [name for name in archive.namelist() if name.endswith(".png") and "box" in name]
