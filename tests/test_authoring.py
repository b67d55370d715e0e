"""The authoring constructs of one chapter, as the reader turns them into model XHTML."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bookbuild.errors import SourceError
from bookbuild.config.manifest import ChapterEntry
from bookbuild.sources import read_chapter
from bookbuild.sources.code import pygments_css
from bookbuild.xhtml import MATHML_NS

M = f"{{{MATHML_NS}}}"


def chapter(tmp_path: Path, text: str, name: str = "chap.md", language: str = "en"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_chapter(ChapterEntry(path), 1, language=language, root=tmp_path)


def root(tmp_path: Path, text: str, **kwargs) -> etree._Element:
    return etree.fromstring(f"<div>{chapter(tmp_path, text, **kwargs).body}</div>")


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "“Hi” ‘you’"), ("en-GB", "“Hi” ‘you’"), ("fr", "«\u00a0Hi\u00a0» ‹\u00a0you\u00a0›"),
    ("de", "„Hi“ ‚you‘"), ("ja", "「Hi」 『you』"), ("zh-Hant", "「Hi」 『you』"), ("zh-Hans", "“Hi” ‘you’"),
])
def test_quotes_follow_the_book_language(tmp_path: Path, language: str, expected: str) -> None:
    body = root(tmp_path, "# T\n\n\"Hi\" 'you'\n", language=language)
    assert body.find("p").text == expected


def test_dashes_and_ellipsis_but_never_inside_code(tmp_path: Path) -> None:
    body = root(tmp_path, '# T\n\npages 10--20---so... `"a" -- b...`\n\n```\n"x" -- y...\n```\n')
    paragraph = body.find("p")
    assert paragraph.text == "pages 10–20—so… "
    assert paragraph.find("code").text == '"a" -- b...'
    assert "".join(body.find("pre").itertext()) == '"x" -- y...\n'


def test_lone_image_is_a_figure_with_caption_alt_and_id(tmp_path: Path) -> None:
    body = root(tmp_path, "# T\n\n![A *fine* view](x.png){#fig-view}\n\n![Cap](y.png){alt=\"Other\"}\n\n"
                          "Text ![inline](z.png) here.\n")
    first, second = body.findall("figure")
    assert first.get("id") == "fig-view"
    assert first.find("img").get("alt") == "A fine view"
    assert first.find("img").get("id") is None
    assert etree.tostring(first.find("figcaption"), encoding="unicode", with_tail=False) == \
        "<figcaption>A <em>fine</em> view</figcaption>"
    assert second.find("img").get("alt") == "Other"
    assert body.find("p/img").get("alt") == "inline"  # an image inside text stays inline


def test_table_captions_from_a_following_line_or_an_attribute(tmp_path: Path) -> None:
    body = root(tmp_path, "# T\n\n| a |\n|---|\n| 1 |\n\n: Results of \"it\" {#tbl-r}\n\n"
                          "{#tbl-s caption=\"Sizes\"}\n| b |\n|---|\n| 2 |\n\n"
                          "| c |\n|---|\n| 3 |\n\nTable: Pandoc style\n\n| d |\n|---|\n| 4 |\n\nJust text.\n")
    tables = body.findall("table")
    assert [t.get("id") for t in tables] == ["tbl-r", "tbl-s", None, None]
    captions = [t.find("caption") for t in tables]
    assert ["".join(c.itertext()) for c in captions[:3]] == ["Results of “it”", "Sizes", "Pandoc style"]
    assert captions[3] is None
    assert all(t[0].tag == "caption" for t in tables[:3])
    assert ["".join(p.itertext()) for p in body.findall("p")] == ["Just text."]


@pytest.mark.parametrize("kind", ["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"])
def test_github_alerts_become_labelled_asides(tmp_path: Path, kind: str) -> None:
    body = root(tmp_path, f"# T\n\n> [!{kind}]\n> Mind the *gap*.\n")
    aside = body.find("aside")
    assert aside.get("class") == f"callout callout-{kind.lower()}"
    assert aside.get("role") in ("note", "doc-tip")
    assert aside.get("aria-label") == kind.capitalize()
    assert aside.find("p[@class='callout-title']").text == kind.capitalize()
    assert "".join(aside.findall("p")[1].itertext()) == "Mind the gap."
    assert "[!" not in etree.tostring(body, encoding="unicode")


def test_fenced_divs_callouts_custom_titles_other_classes_and_language(tmp_path: Path) -> None:
    body = root(tmp_path, "# T\n\n::: warning\nHot.\n:::\n\n::: note Read this\nText.\n:::\n\n"
                          "::: {.sidebar #side}\nAside.\n:::\n")
    warning, note = body.findall("aside")
    assert warning.get("class") == "callout callout-warning" and warning.get("aria-label") == "Warning"
    assert note.find("p").text == "Read this"
    assert body.find("div[@class='sidebar']").get("id") == "side"
    french = root(tmp_path, "# T\n\n> [!WARNING]\n> Chaud.\n", language="fr")
    assert french.find("aside").get("aria-label") == "Avertissement"


def test_code_is_highlighted_with_classes_only(tmp_path: Path) -> None:
    body = root(tmp_path, "# T\n\n```rust,ignore\nfn main() {}\n```\n\n```{.python linenos}\nx = 1\ny = 2\n```\n\n"
                          "```nosuchlang\n<b>\n```\n")
    rust, python, plain = body.iter("pre")  # the marked rust block sits in its div.code-block
    assert rust.get("class") == "highlight" and rust.find("code").get("class") == "language-rust"
    assert rust.find("code/span[@class='k']").text == "fn"
    assert python.get("class") == "highlight linenos"
    assert [s.text for s in python.iterfind(".//span[@class='linenos']")] == ["1", "2"]
    assert plain.find("code").text == "<b>\n"
    assert not [node for node in body.iter() if node.get("style")]


def test_base_css_styles_every_pygments_class() -> None:
    base = (Path(__file__).resolve().parent.parent / "styles" / "base.css").read_text(encoding="utf-8")
    assert pygments_css() in base, "regenerate: python -m bookbuild.sources.code, between the PYGMENTS markers"


def test_math_becomes_mathml_without_tex(tmp_path: Path) -> None:
    result = chapter(tmp_path, "# T\n\nInline $\\alpha^2$ and $5 or $10.\n\n$$\n\\frac{1}{2}\n$$ (eq-half)\n")
    body = etree.fromstring(f"<div>{result.body}</div>")
    inline, block = body.iter(f"{M}math")
    assert inline.get("display") == "inline" and block.get("display") == "block"
    assert block.getparent().get("id") == "eq-half"
    assert block.find(f".//{M}mfrac") is not None
    assert "$5 or $10" in "".join(body.find("p").itertext())
    shown = "".join(body.itertext())  # the TeX is shown to no reader; it stays as the alttext
    assert "\\frac" not in shown and "\\alpha" not in shown and block.get("alttext") == "\\frac{1}{2}"


def test_bad_tex_is_an_error_with_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        chapter(tmp_path, "# T\n\nfine\n\n$$\n\\frac{1}{2\n$$\n")
    assert caught.value.diagnostic.location.line == 5
    assert "not valid TeX: a '{' is never closed" in str(caught.value)
    with pytest.raises(SourceError, match=r"chap.md:3: error: .*unknown command \\nosuch"):
        chapter(tmp_path, "# T\n\nSee $\\nosuch x$.\n")


def test_includes_whole_lines_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.rs").write_text("one\n// ANCHOR: mid\ntwo\n// ANCHOR_END: mid\nthree\n")
    text = ("# T\n\n```\n{{#include src/a.rs}}\n```\n\n```\n{{#include src/a.rs:3:5}}\n```\n\n"
            "```\n{{#rustdoc_include src/a.rs:mid}}\n```\n\n```\n{{#include src/a.rs:1}}\n```\n")
    codes = ["".join(pre.itertext()) for pre in root(tmp_path, text).findall("pre")]
    assert codes == ["one\ntwo\nthree\n", "two\nthree\n", "two\n", "one\n"]


def test_lines_after_an_include_are_the_lines_the_author_wrote(tmp_path: Path) -> None:
    (tmp_path / "five.txt").write_text("1\n2\n3\n4\n5\n")
    text = "# T\n\n```\n{{#include five.txt}}\n```\n\nAfter.\n\n```\n{{#include five.txt:2:3}}\n```\n\nEnd.\n"
    body = root(tmp_path, text)
    assert [p.get("data-bb-line") for p in body.findall("p")] == ["7", "13"]
    assert [pre.get("data-bb-line") for pre in body.findall("pre")] == ["3", "9"]
    with pytest.raises(SourceError, match=r"chap.md:13: error: .*never closed"):
        chapter(tmp_path, text.replace("End.", "$\\frac{1$"))


@pytest.mark.parametrize(("directive", "message"), [
    ("{{#include ../outside.rs}}", "outside the book folder"),
    ("{{#include nope.rs}}", "not found"),
    ("{{#include a.rs:missing}}", "no 'ANCHOR: missing' line"),
])
def test_include_errors_name_the_line(tmp_path: Path, directive: str, message: str) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "a.rs").write_text("x\n")
    with pytest.raises(SourceError) as caught:
        chapter(book, f"# T\n\n{directive}\n")
    assert message in str(caught.value)
    assert caught.value.diagnostic.location.line == 3


def test_chapter_whose_top_heading_is_h2(tmp_path: Path) -> None:
    result = chapter(tmp_path, "## Getting Started\n\nText.\n\n### Install\n")
    assert result.title == "Getting Started"
    assert [(h.level, h.text) for h in result.headings] == [(1, "Getting Started"), (2, "Install")]


def test_html_chapter_body_is_well_formed_and_takes_the_same_path(tmp_path: Path) -> None:
    result = chapter(tmp_path, "<html><head><title>x</title></head><body><h1>Web</h1><p>a<br>b"
                               "<!-- c --></p></body></html>", name="web.html")
    assert result.title == "Web"
    assert "<br/>" in result.body and "<!--" not in result.body and "<title>" not in result.body
