"""mdBook's constructs as mdBook shows them, on small books written here (issue 25, items 6-11,
14, 15 and Ace's heading-order): hidden Rust lines, code markers, numbered listings, captions
with their own labels, Chinese apostrophes, messages said once, headings without gaps.
The same constructs on the real excerpts are in test_real_books.py."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import FEATURES_BOOK, write_book
from lxml import etree

from bookbuild.api import build
from bookbuild.config.manifest import ChapterEntry
from bookbuild.errors import Reporter
from bookbuild.sources import read_chapter
from validators import assert_ace_clean, pdftotext, run_epubcheck

X = {"x": "http://www.w3.org/1999/xhtml"}
PNG = (FEATURES_BOOK / "images" / "diagram.png").read_bytes()
RUST = """# Code

```rust,ignore,does_not_compile
# use std::io;
#
fn main() {
    ## not hidden: a shown hash
    #[derive(Debug)]
    let x = 1;
# }
```

```rust,should_panic
fn boom() { panic!() }
```

```python title="ignore"
# a Python comment stays
```
"""
LISTING = """# Listings

See Listing 1-1.

<Listing number="1-1" file-name="src/main.rs" caption="A program that prints `Hello, world!`">

```rust
fn main() {}
```

</Listing>

<Listing caption="An *unnumbered* one">

```rust
fn other() {}
```

</Listing>

<Example number="3" caption="A custom caption element" colour="red">

```text
x
```

</Example>

<figure>

<img alt="A pinned box" src="p.png" />

<figcaption>Figure 17-6: Pinning a `Box` that points to a future</figcaption>

</figure>

![A figure bookbuild numbers](p.png)
"""


def chapter(tmp_path: Path, text: str, language: str = "en", reporter: Reporter | None = None) -> etree._Element:
    path = tmp_path / "c.md"
    path.write_text(text, encoding="utf-8")
    body = read_chapter(ChapterEntry(path), 1, reporter, language=language).body
    return etree.fromstring(f"<div>{body}</div>")


def text(node: etree._Element) -> str:
    return "".join(node.itertext())


def test_hidden_rust_lines_are_removed_and_double_hashes_shown(tmp_path: Path) -> None:
    codes = [text(code) for code in chapter(tmp_path, RUST).iter("code")]
    assert codes[0] == "fn main() {\n    # not hidden: a shown hash\n    #[derive(Debug)]\n    let x = 1;\n"
    assert codes[2] == "# a Python comment stays\n"  # only Rust hides lines


def test_code_markers_are_said_in_words_above_the_block(tmp_path: Path) -> None:
    root = chapter(tmp_path, RUST)
    blocks = root.findall("div")
    assert [[text(p) for p in block.findall("p")] for block in blocks] == [
        ["This code does not compile!"],  # "ignore" says less than does_not_compile
        ["This code panics!"],
        ["ignore"],  # a title that says "ignore" is a title, not a marker
    ]
    assert [child.tag for child in blocks[0]] == ["p", "pre"]
    chinese = chapter(tmp_path, "# 代码\n\n```rust,ignore\nfn f() {}\n```\n", "zh-CN")
    assert text(chinese.find("div/p")) == "此示例未经测试"


def test_listings_figures_and_messages_in_a_built_book(tmp_path: Path) -> None:
    """Both formats: the listing's number, caption and file name; a figure that carries its own
    label is not labelled again and its Markdown is read; EPUBCheck 0/0 and Ace clean."""
    book = write_book(tmp_path / "b", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n'
                      'chapters = ["code.md", "listings.md"]\n', {"code.md": RUST, "listings.md": LISTING})
    (book / "p.png").write_bytes(PNG)
    reporter = Reporter()
    results = {r.format: r.path for r in build(book, ["epub", "pdf"], output_dir=tmp_path / "out", reporter=reporter)}
    with zipfile.ZipFile(results["epub"]) as archive:
        code, listings = (etree.fromstring(archive.read(f"EPUB/ch0{n}.xhtml")) for n in (1, 2))
    assert "use std::io" not in text(code) and "This code does not compile!" in text(code)
    figures = listings.findall(".//x:figure", X)
    assert [text(f.find("x:figcaption", X)) for f in figures] == [
        "Listing 1-1: A program that prints Hello, world!",
        "Listing 1: An unnumbered one",
        "Example 3: A custom caption element",
        "Figure 17-6: Pinning a Box that points to a future",
        "Figure 1. A figure bookbuild numbers",
    ]
    assert figures[0].get("class") == "listing"
    assert text(figures[0].find("x:p[@class='code-filename']", X)) == "Filename: src/main.rs"
    assert figures[0].find("x:figcaption/x:code", X).text == "Hello, world!"
    assert figures[3].find("x:figcaption/x:code", X).text == "Box"  # Markdown in the caption
    messages = [d.message for d in reporter.warnings]
    assert "attribute 'colour' of <Example> dropped (bookbuild reads number, caption and file-name)" in messages
    assert not [m for m in messages if "<listing>" in m.lower()]
    pdf = " ".join(pdftotext(results["pdf"]).split())
    for line in ["Filename: src/main.rs", "Listing 1-1: A program that prints Hello, world!",
                 "Figure 17-6: Pinning a Box", "Figure 1. A figure bookbuild numbers", "This code panics!",
                 "# not hidden: a shown hash"]:
        assert line in pdf
    assert "use std::io" not in pdf and "Figure 2" not in pdf
    assert run_epubcheck(results["epub"], tmp_path).problems == []
    assert_ace_clean(results["epub"], tmp_path)


def test_what_is_dropped_is_said_once_with_a_count(tmp_path: Path) -> None:
    reporter = Reporter()
    rows = "".join(f"<tr name='o{n}'><td>{n}</td></tr>" for n in range(5))
    chapter(tmp_path, f"# T\n\n<table>{rows}</table>\n\n<Listing number=\"1\" a=\"1\">\n\n```\nx\n```\n\n"
                      "</Listing>\n\n<Listing number=\"2\" a=\"2\">\n\n```\ny\n```\n\n</Listing>\n", reporter=reporter)
    messages = [d.format().rpartition("/")[2] for d in reporter.warnings]
    assert [m for m in messages if "removed from <tr>" in m] == [
        "c.md:3: warning: attribute 'name' removed from <tr> (5 times)"]
    assert [m for m in messages if "of <Listing>" in m] == [
        "c.md:5: warning: attribute 'a' of <Listing> dropped (bookbuild reads number, caption and file-name) (2 times)"]


def test_a_link_scheme_bookbuild_cannot_follow_is_called_so(tmp_path: Path) -> None:
    reporter = Reporter()
    root = chapter(tmp_path, "# T\n\nSee [the spec](info:spec) and [MDN](mdn:Array).\n\n"
                             '<a href="javascript:alert(1)">bad</a>\n', reporter=reporter)
    messages = [d.message for d in reporter.warnings]
    assert any(m.startswith("'info:' is a link bookbuild cannot follow") for m in messages)
    assert any(m.startswith("'mdn:' is a link bookbuild cannot follow") for m in messages)
    assert [m for m in messages if "unsafe URL" in m] == ["unsafe URL 'javascript:alert(1)' removed from <a href>"]
    assert "the spec" in text(root) and root.find(".//a") is None


@pytest.mark.parametrize("language, wanted", [("zh-CN", 1), ("ja", 1), ("en", 0)])
def test_an_apostrophe_inside_a_latin_word_keeps_the_latin_glyph_in_cjk_text(
        tmp_path: Path, language: str, wanted: int) -> None:
    root = chapter(tmp_path, "# T\n\n有符号数以 two's complement 形式存储，他说\"你好\"。\n", language)
    paragraph = root.find("p")
    assert text(paragraph).startswith("有符号数以 two\u2019s complement")  # still U+2019, as typed
    spans = paragraph.findall("span[@class='latin-apostrophe']")
    assert [s.text for s in spans] == ["\u2019"] * wanted


def test_skipped_heading_levels_are_closed_up_with_one_warning(tmp_path: Path) -> None:
    reporter = Reporter()
    root = chapter(tmp_path, "# A\n\n> #### Note\n\nText.\n\n#### B\n\n## C\n\n##### D\n\n###### E\n",
                   reporter=reporter)
    assert [h.tag for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6")] == ["h1", "h2", "h2", "h2", "h3", "h4"]
    assert [d.format().replace(str(tmp_path) + "/", "") for d in reporter.warnings] == [
        "c.md:3: warning: heading level 4 follows a level 1 heading: set one level below it (and the levels "
        "after it likewise), so that the outline has no gap (hint: use the next level down; style headings with CSS)"]
