"""Images as the book gives them: one whose name lies about its type is used as what it is."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image

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
