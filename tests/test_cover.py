"""The generated typographic cover: size, determinism, wrapping."""

from __future__ import annotations

import io

from PIL import Image, ImageChops

from bookbuild.config.manifest import BookMeta, load_manifest
from bookbuild.render.epub.cover import (BACKGROUND, HEIGHT, MARGIN, WIDTH, _font, _font_file, _wrap,
                                         cover_alt_text, generate_cover)

META = BookMeta(title="A Rather Long Title That Must Wrap Over Several Lines Of The Cover",
                subtitle="And a subtitle", authors=("Ada Example", "Ben Sample"), language="en", identifier="x")


def test_cover_is_a_large_png_with_the_same_bytes_every_time() -> None:
    first, second = generate_cover(META), generate_cover(META)
    assert first == second
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG" and image.size == (1600, 2560)
    assert cover_alt_text(META) == ("Cover: A Rather Long Title That Must Wrap Over Several Lines Of The Cover: "
                                    "And a subtitle, by Ada Example, Ben Sample")


def test_title_lines_fit_inside_the_margins() -> None:
    font = _font(_font_file("bold", "en"), 150)
    lines = _wrap(META.title + " Supercalifragilisticexpialidociousnessness", font.getlength, WIDTH - 2 * MARGIN)
    assert len(lines) > 2
    assert all(font.getlength(line) <= WIDTH - 2 * MARGIN for line in lines)


# A Persian book by an author who writes her name in Latin letters (issue 25 item 13).
PERSIAN = BookMeta(title="کتاب کوچک حروف‌چینی فارسی برای آزمودن سطرها", authors=("Maryam Ahmadi",),
                   language="fa", identifier="x")
TITLE_TOP, AUTHORS_TOP, AUTHORS_BOTTOM = 600, HEIGHT - 700, HEIGHT - 232  # above the gold rule


def ink(cover: bytes, top: int, bottom: int) -> Image.Image:
    """The drawn text between two heights, as a 1-bit mask (the background is flat)."""
    image = Image.open(io.BytesIO(cover)).convert("RGB").crop((0, top, WIDTH, bottom))
    difference = ImageChops.difference(image, Image.new("RGB", image.size, BACKGROUND)).convert("L")
    return difference.point(lambda value: 255 if value > 60 else 0).convert("1")


def bands(mask: Image.Image, axis: int, gap: int = 1) -> list[tuple[int, int]]:
    """Runs of rows (axis 0) or columns (axis 1) with ink, split by ``gap`` empty ones or more."""
    width, height = mask.size
    pixels = mask.load()
    lengths = (height, width) if axis == 0 else (width, height)
    inked = [any(pixels[(j, i) if axis == 0 else (i, j)] for j in range(lengths[1])) for i in range(lengths[0])]
    found: list[tuple[int, int]] = []
    for index, has_ink in enumerate(inked):
        if has_ink and found and index - found[-1][1] <= gap:
            found[-1] = (found[-1][0], index + 1)
        elif has_ink:
            found.append((index, index + 1))
    return found


def test_a_latin_author_on_a_persian_cover_is_drawn_in_letters_not_boxes() -> None:
    """Drawn in a font without Latin letters, every letter is the same empty box: count the
    distinct shapes of the author line's glyphs (separate columns of ink)."""
    mask = ink(generate_cover(PERSIAN), AUTHORS_TOP, AUTHORS_BOTTOM)
    shapes = {mask.crop((left, 0, right, mask.height)).crop(mask.crop((left, 0, right, mask.height)).getbbox()).tobytes()
              for left, right in bands(mask, axis=1)}
    assert len(shapes) >= 6  # M a r y m A h d i: boxes made 1


def test_a_persian_title_is_set_flush_right_in_lines_that_do_not_touch() -> None:
    cover = generate_cover(PERSIAN)
    mask = ink(cover, TITLE_TOP, AUTHORS_TOP)
    lines = bands(mask, axis=0, gap=12)  # the dots above and below a line are closer than that
    assert len(lines) == 3, lines  # three lines, apart (at 150 px); Nastaliq drawn 1.18 em apart made one
    for top, bottom in lines:
        left, _, right, _ = mask.crop((0, top, WIDTH, bottom)).getbbox()
        assert WIDTH - MARGIN - 12 <= right <= WIDTH - MARGIN + 2, (left, right)
    last_left = mask.crop((0, lines[-1][0], WIDTH, lines[-1][1])).getbbox()[0]
    assert last_left > MARGIN + 100  # the short last line is flush right, not left
    authors = ink(cover, AUTHORS_TOP, AUTHORS_BOTTOM).getbbox()
    assert WIDTH - MARGIN - 12 <= authors[2] <= WIDTH - MARGIN + 2 and authors[0] > MARGIN + 300


def test_without_raqm_the_persian_cover_is_still_drawn_flush_right(monkeypatch) -> None:  # noqa: ANN001
    """Pillow without libraqm: the basic layout, each right-to-left run reversed (unjoined)."""
    from PIL import features

    from bookbuild.render.epub import cover

    assert features.check("raqm")  # the fallback is the exception: this machine shapes Arabic
    monkeypatch.setattr(cover, "_raqm", lambda: False)
    monkeypatch.setattr(cover, "_font", cover._font.__wrapped__)
    drawn = ink(cover.generate_cover(PERSIAN), TITLE_TOP, AUTHORS_TOP).getbbox()
    assert WIDTH - MARGIN - 12 <= drawn[2] <= WIDTH - MARGIN + 2
    assert drawn[0] > MARGIN


def test_generated_cover_is_kept_between_builds_and_made_again_when_the_title_changes(little_book, monkeypatch) -> None:  # noqa: ANN001, E501
    import zipfile

    from bookbuild.render import epub

    from bookbuild.api import build
    from bookbuild.errors import Reporter

    def cover_of(epub) -> bytes:  # noqa: ANN001
        with zipfile.ZipFile(epub) as archive:
            return archive.read("EPUB/images/cover.png")

    (first,) = build(little_book, ["epub"], output_dir=little_book / "dist", reporter=Reporter())
    kept = list((little_book / ".bookbuild-cache" / "cover").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == cover_of(first.path)
    drawn = []
    monkeypatch.setattr(epub, "generate_cover", lambda meta: drawn.append(meta) or generate_cover(meta))
    (again,) = build(little_book, ["epub"], output_dir=little_book / "dist", reporter=Reporter())
    assert drawn == [] and cover_of(again.path) == cover_of(first.path)  # taken from the cache
    manifest = little_book / "book.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("Little Book", "Other Book"), encoding="utf-8")
    (renamed,) = build(little_book, ["epub"], output_dir=little_book / "dist", reporter=Reporter())
    assert len(drawn) == 1 and drawn[0].title == "Other Book"
    assert cover_of(renamed.path) != cover_of(first.path)
    assert cover_of(renamed.path) == generate_cover(drawn[0])
    assert len(list((little_book / ".bookbuild-cache" / "cover").iterdir())) == 1


def _in_a_fresh_process(book, code: str) -> str:  # noqa: ANN001
    """Run ``code`` in a new interpreter, with ``book`` the little book's folder: the cover is
    forked only from a process without threads, and pytest-xdist's workers run some."""
    import subprocess
    import sys
    import textwrap

    script = "import os\nfrom pathlib import Path\nbook = Path(os.environ['BOOK'])\n" + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**__import__("os").environ, "BOOK": str(book)})
    return done.stdout


_COVER = """
import zipfile
from bookbuild.api import build
from bookbuild.config.manifest import load_manifest
from bookbuild.errors import Reporter
from bookbuild.render import epub
from bookbuild.render.epub.cover import generate_cover

parent = os.getpid()
drawn_in = []
def drawn(meta):
    (book / "drawn-by").write_text(str(os.getpid()))
    if os.getpid() != parent and os.environ.get("FAIL_IN_CHILD"):
        raise MemoryError("the child ran out of memory")
    return generate_cover(meta)
epub.generate_cover = drawn
(result,) = build(book, ["epub"], output_dir=book / "dist", reporter=Reporter())
with zipfile.ZipFile(result.path) as archive:
    same = archive.read("EPUB/images/cover.png") == generate_cover(load_manifest(book).meta)
print("child" if int((book / "drawn-by").read_text()) != parent else "parent", same)
"""


def test_a_cold_build_draws_the_cover_in_a_child_process(little_book) -> None:  # noqa: ANN001
    """render/early_cover.py: drawn by a forked process while the build reads its chapters, the
    same bytes; a child that fails leaves the cover to the build, which draws it again."""
    import os

    assert _in_a_fresh_process(little_book, _COVER).split() == ["child", "True"]
    for kept in (little_book / ".bookbuild-cache").iterdir():
        if kept.name == "cover":
            for entry in kept.iterdir():
                entry.unlink()
    os.environ["FAIL_IN_CHILD"] = "1"
    try:
        assert _in_a_fresh_process(little_book, _COVER).split() == ["parent", "True"]
    finally:
        del os.environ["FAIL_IN_CHILD"]


def test_a_build_that_fails_after_the_cover_started_reaps_its_child(little_book) -> None:  # noqa: ANN001
    (little_book / "two.md").write_text("# Two\n\n{{#include missing.md}}\n", encoding="utf-8")
    printed = _in_a_fresh_process(little_book, """
        from bookbuild import pipeline
        from bookbuild.api import build
        from bookbuild.errors import BookError, Reporter

        started = []
        fork = pipeline.fork_epub_cover
        def forked(*args):
            child = fork(*args)
            started.append((child, child.pid))
            return child
        pipeline.fork_epub_cover = forked
        try:
            build(book, ["epub"], output_dir=book / "dist", reporter=Reporter())
        except BookError:
            pass
        ((child, pid),) = started
        try:
            os.waitpid(pid, os.WNOHANG)
            print("not reaped")
        except ChildProcessError:
            print("reaped", child.pid)
    """)
    assert printed.split() == ["reaped", "0"]
