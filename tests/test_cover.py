"""The generated typographic cover: size, determinism, wrapping."""

from __future__ import annotations

import io

from PIL import Image

from bookbuild.config.manifest import BookMeta
from bookbuild.render.epub.cover import MARGIN, WIDTH, _font, _font_file, _wrap, cover_alt_text, generate_cover

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
    lines = _wrap(META.title + " Supercalifragilisticexpialidociousnessness", font, WIDTH - 2 * MARGIN)
    assert len(lines) > 2
    assert all(font.getlength(line) <= WIDTH - 2 * MARGIN for line in lines)


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
