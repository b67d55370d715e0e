"""The contents' dot leaders as one text box each (render/pdf/leaders.py): the pages drawn are
the pages WeasyPrint draws with a box per unit, pixel for pixel and in their text, and each
leader holds one box."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bookbuild.render.pdf import leaders
from conftest import laid_out_pdf

ROOT = Path(__file__).resolve().parent.parent
UNIT = " ."  # print.css: leader(" .")
RTL_UNIT = " . ."  # print.css, [dir="rtl"]: leader(" . .")


def _leader_boxes(box):  # noqa: ANN001, ANN202
    if getattr(box, "is_leader", False):
        yield box
    for child in getattr(box, "children", ()):
        yield from _leader_boxes(child)


def _pages(pdf: bytes, folder: Path, name: str) -> tuple[list[bytes], str]:
    """Each page drawn by poppler (grey, 50 dpi) and the text it finds."""
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-gray", str(path), str(folder / name)], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [page.read_bytes() for page in sorted(folder.glob(f"{name}-*.pgm"))], text  # PGM: a byte a pixel


@pytest.mark.parametrize("book", ["book", "tests/books/zh"])
def test_joined_leaders_draw_the_same_pages(book: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample book (Noto Serif) and a Chinese one (Noto CJK, whose advances round
    otherwise: one box a leader moved its last dots by a pixel): every page the same with a
    box a unit (WeasyPrint's own leaders) and with a box for GLYPHS_PER_BOX characters."""
    joined = laid_out_pdf(ROOT / book)
    found = [leader for page in joined.pages for leader in _leader_boxes(page._page_box)]
    assert len(found) >= 3  # the contents' entries
    for leader in found:
        for box in leader.children:
            assert box.text == box.pango_layout.text
            assert box.text and box.text.replace(UNIT, "") == ""
        assert [len(box.text) for box in leader.children[:-1]] == \
            [leaders.GLYPHS_PER_BOX] * (len(leader.children) - 1)

    monkeypatch.setattr(leaders, "join_units", lambda leader: None)
    apart = laid_out_pdf(ROOT / book)
    units = [len(leader.children) for page in apart.pages for leader in _leader_boxes(page._page_box)]
    assert len(units) == len(found) and sum(units) > 3 * len(found)
    assert [sum(len(box.text) // len(UNIT) for box in leader.children) for leader in found] == units
    assert sum(len(leader.children) for leader in found) * 4 < sum(units)

    drawn, drawn_text = _pages(joined.write_pdf(), tmp_path, "joined")
    expected, expected_text = _pages(apart.write_pdf(), tmp_path, "apart")
    assert len(drawn) == len(expected) > 3
    assert [n for n, (a, b) in enumerate(zip(drawn, expected), start=1) if a != b] == []
    assert drawn_text == expected_text
    assert ". . . ." in drawn_text


def test_right_to_left_leaders_are_left_as_weasyprint_makes_them() -> None:
    """In the Persian test book every leader keeps its copies, a unit each (leaders.py)."""
    document = laid_out_pdf(ROOT / "tests/books/fa")
    found = [leader for page in document.pages for leader in _leader_boxes(page._page_box)]
    assert len(found) >= 3
    assert all(len(leader.children) > 3 and {box.text for box in leader.children} == {RTL_UNIT} for leader in found)


def test_units_apart_or_unlike_are_left_alone() -> None:
    """Only copies of one unit that touch are joined."""

    class Box:
        def __init__(self, x: float, text: str = UNIT, layout: object = None) -> None:
            self.position_x, self.width, self.text = x, 10.0, text
            self.pango_layout, self.style = layout, {"direction": "ltr"}

    class Leader:
        def __init__(self, *children: Box) -> None:
            self.children = children

    layout = object()
    gap = Leader(Box(0, layout=layout), Box(12, layout=layout))  # a unit is 10 wide here
    other = Leader(Box(0, layout=layout), Box(10, " - -", layout))
    for leader in (gap, other):
        before = leader.children
        leaders.join_units(leader)
        assert leader.children is before
