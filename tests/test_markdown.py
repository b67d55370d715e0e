from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bookbuild.errors import SourceError
from bookbuild.config.manifest import ChapterEntry
from bookbuild.sources import read_chapter
from bookbuild.xhtml import MATHML_NS

M = f"{{{MATHML_NS}}}"


def chapter_from(tmp_path: Path, text: str, name: str = "chap.md", title: str | None = None, index: int = 1):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return read_chapter(ChapterEntry(path, title), index)


def parse(body: str) -> etree._Element:
    return etree.fromstring(f"<div>{body}</div>")  # raises if not well-formed


def test_gfm_table_strikethrough_and_lists(tmp_path: Path) -> None:
    chapter = chapter_from(tmp_path, "# T\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n~~gone~~\n\n- [x] done\n")
    root = parse(chapter.body)
    assert root.find(".//table/thead/tr/th").text == "a"
    assert "text-align:right" in root.findall(".//td")[1].get("style").replace(" ", "")
    assert root.find(".//s").text == "gone"
    assert root.find(".//input[@type='checkbox']") is not None


def test_heading_ids_are_slugs_unique_and_explicit_ids_kept(tmp_path: Path) -> None:
    chapter = chapter_from(tmp_path, "# Title\n\n## Same\n\n## Same\n\n## Custom {#my-id .wide}\n")
    ids = [h.id for h in chapter.headings]
    assert ids == ["title", "same", "same-2", "my-id"]
    assert chapter.headings[3].text == "Custom"
    assert parse(chapter.body).find(".//h2[@id='my-id']").get("class") == "wide"


def test_footnotes_move_into_the_model_with_book_wide_ids(tmp_path: Path) -> None:
    chapter = chapter_from(tmp_path, "# T\n\nText[^a] more[^b] again[^a].\n\n[^a]: First *note*.\n[^b]: Second.\n",
                           index=3)
    root = parse(chapter.body)
    refs = root.findall(".//a[@role='doc-noteref']")
    assert [r.get("href") for r in refs] == ["#ch03-fn-1", "#ch03-fn-2", "#ch03-fn-1"]
    assert [r.text for r in refs] == ["1", "2", "1"]
    assert [n.number for n in chapter.footnotes] == [1, 2]
    assert chapter.footnotes[0].ref_ids == ("ch03-fnref-1", "ch03-fnref-1-2")
    assert "<em>note</em>" in chapter.footnotes[0].body
    assert "First" not in chapter.body  # the note text lives in the model, not the body


def test_raw_html_becomes_well_formed_xhtml(tmp_path: Path) -> None:
    chapter = chapter_from(tmp_path, "# T\n\n<div class=x>a<br>b<img src=i.png alt=pic></div>\n\nok <b>bold\n")
    root = parse(chapter.body)
    assert root.find(".//div[@class='x']/br") is not None
    assert "<br/>" in chapter.body


def test_front_matter_title_and_manifest_override(tmp_path: Path) -> None:
    assert chapter_from(tmp_path, "---\ntitle: From Front Matter\n---\n# Heading\n").title == "From Front Matter"
    assert chapter_from(tmp_path, "# Heading\n", title="Override").title == "Override"
    assert chapter_from(tmp_path, "# Heading\n").title == "Heading"


def test_chapter_without_heading_gets_its_title_as_h1(tmp_path: Path) -> None:
    chapter = chapter_from(tmp_path, "Just text.\n", name="my-notes.md")
    assert chapter.title == "my-notes"
    assert parse(chapter.body)[0].tag == "h1"


def test_source_lines_are_recorded_for_later_warnings(tmp_path: Path) -> None:
    chapter = chapter_from(tmp_path, "# T\n\nfirst\n\nsecond\n")
    paragraphs = parse(chapter.body).findall("p")
    assert [p.get("data-bb-line") for p in paragraphs] == ["3", "5"]


def test_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        chapter_from(tmp_path, b"# T\n\nfine\n\xff bad\n")
    assert "chap.md:4: error: not valid UTF-8" in str(caught.value)


def test_bom_is_dropped(tmp_path: Path) -> None:
    chapter = chapter_from(tmp_path, "\ufeff# Title\n".encode("utf-8"))
    assert chapter.title == "Title"


def test_xhtml_chapter_takes_the_body(tmp_path: Path) -> None:
    html = "<html><head><title>x</title></head><body><h1>From HTML</h1><p>Para</p></body></html>"
    chapter = chapter_from(tmp_path, html, name="c.xhtml")
    assert chapter.title == "From HTML"
    assert parse(chapter.body).find("p").text == "Para"


def test_unknown_chapter_type_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown chapter type '.docx'"):
        chapter_from(tmp_path, "x", name="c.docx")


def test_task_list_checkboxes_are_labelled_by_their_items_text(tmp_path: Path) -> None:
    """Ace (axe) calls an unlabelled checkbox critical; the item's text, wrapped with the box
    in a <label>, names it for a screen reader ("checkbox, checked, buy milk")."""
    chapter = chapter_from(tmp_path, "# T\n\n- [ ] write the *draft*\n- [x] buy milk\n\n"
                                     "1. [X] loose item\n\n   more\n\n2. [ ] second\n")
    root = parse(chapter.body)
    items = root.findall(".//li")
    assert [item.get("class") for item in items] == ["task-list-item"] * 4
    labels = [item.find(".//label") for item in items]
    assert ["".join(label.itertext()).strip() for label in labels] == \
        ["write the draft", "buy milk", "loose item", "second"]
    boxes = [label.find("input") for label in labels]
    assert [box.get("checked") for box in boxes] == [None, "checked", "checked", None]
    assert {(box.get("type"), box.get("disabled")) for box in boxes} == {("checkbox", "disabled")}


@pytest.mark.parametrize("info", ['python title="example.py"', "{.python title=example.py}",
                                  "python title='example.py' linenos"])
def test_code_block_title_is_a_caption_above_the_code(tmp_path: Path, info: str) -> None:
    chapter = chapter_from(tmp_path, f"# T\n\n```{info}\nprint(1)\n```\n\n```python\nplain()\n```\n")
    root = parse(chapter.body)
    block = root.find("div[@class='code-block']")
    assert [child.tag for child in block] == ["p", "pre"]
    assert block[0].get("class") == "code-title" and block[0].text == "example.py"
    assert block[1].find("code").get("class") == "language-python"
    assert block.get("data-bb-line") == "3"
    assert len(root.findall("div[@class='code-block']")) == 1  # a block without a title stays bare
    assert "".join(root.find("pre/code").itertext()) == "plain()\n"


MATH_TEXTS = {
    # The Rust book, ch14-04: a `$` inside a code span never closes a formula.
    "rust": "Stored in *$HOME/.cargo/bin*. Ensure that directory is in your `$PATH` to run them.",
    "prices": "It costs $20,000 and $30,000 now.",  # the closing $ is followed by a digit
    "spaces": "Not $ a$ nor $b $ either.",  # space after the opening, before the closing $
    "escaped": r"Costs \$5 and \$6.",
}


def test_dollar_math_follows_pandocs_rules(tmp_path: Path) -> None:
    text = "# T\n\n" + "\n\n".join(MATH_TEXTS.values()) + "\n\nBut $x^2$, $$y$$, $$ z $$ and $\\$a$ are math.\n"
    root = parse(chapter_from(tmp_path, text).body)
    paragraphs = root.findall("p")
    for paragraph in paragraphs[:4]:
        assert paragraph.find(f".//{M}math") is None, etree.tostring(paragraph, encoding="unicode")
    assert "".join(paragraphs[0].itertext()) == MATH_TEXTS["rust"].replace("*", "").replace("`", "")
    assert paragraphs[0].find("code").text == "$PATH"
    assert [m.get("alttext") for m in paragraphs[4].iter(f"{M}math")] == ["x^2", "y", "z", "\\$a"]


def test_a_formula_keeps_its_tex_as_alttext(tmp_path: Path) -> None:
    tex = r"\int_0^1 x^2 \, dx = \frac{1}{3}"
    root = parse(chapter_from(tmp_path, f"# T\n\n$$\n{tex}\n$$\n\nInline $a: b \\to c$.\n").body)
    assert [m.get("alttext") for m in root.iter(f"{M}math")] == [tex, r"a: b \to c"]


def test_a_formula_that_reads_like_prose_is_warned_with_file_and_line(tmp_path: Path) -> None:
    from bookbuild.errors import Reporter

    path = tmp_path / "chap.md"
    path.write_text("# T\n\nFine $e^{i\\pi} + 1 = 0$ here.\n\nPrices in $US and the rest\nare in CA$ today.\n\n"
                    "安装在 $HOME/.cargo/bin 中。确保这个目录在你的$PATH 中。\n", encoding="utf-8")
    reporter = Reporter()
    read_chapter(ChapterEntry(path), 1, reporter)
    found = [(d.location.line, d.message) for d in reporter.warnings]
    assert [line for line, _ in found] == [5, 8], found
    assert all("chap.md" in str(d.location.file) for d in reporter.warnings)
    assert "'US and the rest are in CA'" in found[0][1] and "looks like text" in found[0][1]


def test_math_off_leaves_dollars_as_text(tmp_path: Path) -> None:
    path = tmp_path / "chap.md"
    path.write_text("# T\n\nSee $HOME and $x^2$.\n\n$$\ny\n$$\n", encoding="utf-8")
    root = parse(read_chapter(ChapterEntry(path), 1, math=False).body)
    assert root.find(f".//{M}math") is None
    assert [p.text for p in root.findall("p")] == ["See $HOME and $x^2$.", "$$\ny\n$$"]


def test_book_math_setting_is_read_from_the_manifest_with_its_line(tmp_path: Path) -> None:
    from bookbuild.config.manifest import load_manifest
    from bookbuild.errors import ManifestError
    from conftest import write_book

    base = '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["01.md"]\n'
    assert load_manifest(write_book(tmp_path / "a", base, {"01.md": "# One\n"})).math is True
    assert load_manifest(write_book(tmp_path / "b", base + "math = false\n", {"01.md": "# One\n"})).math is False
    with pytest.raises(ManifestError) as raised:
        load_manifest(write_book(tmp_path / "c", base + 'math = "no"\n', {"01.md": "# One\n"}))
    assert "[book] math" in str(raised.value) and raised.value.diagnostic.location.line == 6


@pytest.mark.parametrize("mathjax, expected", [(None, False), (False, False), (True, True)])
def test_from_mdbook_turns_math_off_unless_the_book_enables_mathjax(tmp_path: Path, mathjax, expected) -> None:
    from bookbuild.config.manifest import load_manifest
    from bookbuild.errors import Reporter
    from bookbuild.scaffold import book_from_mdbook

    config = '[book]\ntitle = "M"\nauthors = ["A"]\n'
    if mathjax is not None:
        config += f"[output.html]\nmathjax-support = {str(mathjax).lower()}\n"
    (tmp_path / "book.toml").write_text(config, encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "SUMMARY.md").write_text("# Summary\n\n- [One](one.md)\n", encoding="utf-8")
    (tmp_path / "src" / "one.md").write_text("# One\n\nCosts $5 in $HOME.\n", encoding="utf-8")
    manifest = load_manifest(book_from_mdbook(tmp_path, Reporter()))
    assert manifest.math is expected


CONSTRUCTS = """# Constructs

- [ ] write the *draft*
- [x] buy milk

```python title="example.py"
print("hi")
```

$$
\\int_0^1 x^2 \\, dx = \\frac{1}{3}
$$
"""


def structure_alts(pdf: Path) -> dict[str, list[str]]:
    """The /Alt of each structure element of a tagged PDF, by its role (/S)."""
    from pypdf import PdfReader

    found: dict[str, list[str]] = {}
    stack = [PdfReader(pdf).trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop().get_object()
        if not hasattr(node, "get"):
            continue
        if "/Alt" in node:
            found.setdefault(str(node.get("/S")), []).append(str(node["/Alt"]))
        kids = node.get("/K")
        stack.extend(kids if isinstance(kids, list) else [kids] if kids is not None else [])
    return found


def test_task_list_code_title_and_formula_in_both_formats(tmp_path: Path) -> None:
    """EPUBCheck 0/0 and Ace 0 with a task list (which claims WCAG 2.1 AA); the code title in
    both formats; the formula's TeX as the tagged PDF's alternative text."""
    import zipfile

    from bookbuild.api import build
    from bookbuild.errors import Reporter
    from conftest import write_book
    from validators import assert_ace_clean, pdftotext, run_epubcheck

    book = write_book(tmp_path / "b", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["c.md"]\n',
                      {"c.md": CONSTRUCTS})
    results = {r.format: r.path for r in build(book, ["epub", "pdf"], output_dir=tmp_path / "out",
                                                reporter=Reporter())}
    assert run_epubcheck(results["epub"], tmp_path).problems == []
    assert_ace_clean(results["epub"], tmp_path)
    with zipfile.ZipFile(results["epub"]) as archive:
        chapter = archive.read("EPUB/ch01.xhtml").decode()
        package = archive.read("EPUB/content.opf").decode()
    assert '<p class="code-title">example.py</p>' in chapter
    assert "EPUB Accessibility 1.1 - WCAG 2.1 Level AA" in package
    text = pdftotext(results["pdf"])
    assert "example.py" in text
    assert "\u2610 write the draft" in text and "\u2611 buy milk" in text  # the state is text a reader hears
    assert structure_alts(results["pdf"])["/Figure"] == [r"\int_0^1 x^2 \, dx = \frac{1}{3}"]


def test_an_unlabelled_form_control_withholds_the_conformance_claim(tmp_path: Path) -> None:
    import zipfile

    from bookbuild.api import build
    from bookbuild.errors import Reporter
    from conftest import write_book

    book = write_book(tmp_path / "b", '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["c.md"]\n',
                      {"c.md": '# C\n\n<p><input type="checkbox"/> no label</p>\n'})
    epub = build(book, ["epub"], output_dir=tmp_path / "out", reporter=Reporter())[0].path
    with zipfile.ZipFile(epub) as archive:
        package = archive.read("EPUB/content.opf").decode()
    assert "WCAG 2.1" not in package and "schema:accessibilitySummary" in package


def test_mathml_written_by_hand_keeps_its_alttext_or_gets_a_linear_text_in_the_pdf(tmp_path: Path) -> None:
    from bookbuild.errors import Reporter
    from bookbuild.render.pdf.math_svg import linear_text

    path = tmp_path / "c.xhtml"
    path.write_text(f'<html><body><h1>T</h1><p><math xmlns="{MATHML_NS}" alttext="\\frac{{a}}{{b}}"><mfrac><mi>a</mi>'
                    f'<mi>b</mi></mfrac></math> and <math xmlns="{MATHML_NS}"><msubsup><mo>∫</mo><mn>0</mn><mn>1</mn>'
                    "</msubsup><msup><mi>x</mi><mn>2</mn></msup><mo>=</mo><mfrac><mn>1</mn><mrow><mn>3</mn><mi>y</mi>"
                    "</mrow></mfrac></math></p></body></html>", encoding="utf-8")
    reporter = Reporter()
    kept, bare = parse(read_chapter(ChapterEntry(path), 1, reporter).body).iter(f"{M}math")
    assert kept.get("alttext") == "\\frac{a}{b}" and reporter.warnings == []
    assert linear_text(bare) == "∫_0^1 x^2 = 1/(3 y)"
