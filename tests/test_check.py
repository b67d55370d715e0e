"""``bookbuild check``: compiler-style problems without rendering, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run
from conftest import SAMPLE_BOOK, write_book

MANIFEST = """[book]
title = "Little Book"
authors = ["A. Writer"]
language = "en"
chapters = ["one.md", "two.md"]
"""


def test_clean_book_exits_0_with_a_summary(tmp_path: Path) -> None:
    result = run(["check", str(SAMPLE_BOOK)], tmp_path)
    assert result.exit_code == 0
    assert result.output.strip().endswith("4 chapter(s) checked: no problems")


def test_check_does_not_render(tmp_path: Path, monkeypatch) -> None:
    import bookbuild.pipeline

    def no_rendering(*args: object) -> bytes:
        raise AssertionError("check rendered the book")

    monkeypatch.setattr(bookbuild.pipeline, "render", no_rendering)
    assert run(["check", str(SAMPLE_BOOK)], tmp_path).exit_code == 0
    assert not (tmp_path / "dist").exists()


def test_broken_links_and_images_are_errors_with_line_and_column(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", MANIFEST, {
        "one.md": "# One\n\nSee [gone](nowhere.md) and [bad](two.md#nope).\n\n![pic](missing.png)\n",
        "two.md": "# Two\n\n![x](../outside.png)\n",
    })
    (tmp_path / "outside.png").write_bytes(b"x")
    result = run(["check", "b"], tmp_path)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert "b/one.md:3:12: error: link target 'nowhere.md' is not a chapter of this book" in lines[0]
    assert lines[1].startswith("b/one.md:3:34: error: link target 'two.md#nope' not found: no id 'nope'")
    assert lines[2].startswith("b/one.md:5:8: error: image 'missing.png' not found")
    assert "did you mean" not in lines[2]
    assert lines[3].startswith("b/two.md:3:6: error: image '../outside.png' is outside the book folder")
    assert lines[-1] == "b/book.toml: 2 chapter(s) checked: 4 error(s), 0 warning(s)"
    assert (book / "one.md").is_file()


def test_warnings_exit_0_and_strict_makes_them_errors(tmp_path: Path) -> None:
    book = write_book(tmp_path / "b", MANIFEST + 'colour = "blue"\n', {
        "one.md": "# One\n\n![](pic.png)\n", "two.md": "# Two\n",
    })
    (book / "pic.png").write_bytes((SAMPLE_BOOK.parent / "tests/books/features/images/diagram.png").read_bytes())
    result = run(["check", "b"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "b/book.toml:6:1: warning: [book] unknown key 'colour' ignored" in result.output
    assert "b/one.md:3:5: warning: image 'pic.png' has no alternative text" in result.output
    assert run(["check", "b", "--strict"], tmp_path).exit_code == 1


def test_json_format_for_editors_and_ci(tmp_path: Path) -> None:
    write_book(tmp_path / "b", MANIFEST, {"one.md": "# One\n\n[x](two.md#nope)\n", "two.md": "# Two\n"})
    result = run(["check", "b", "--format", "json"], tmp_path)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["errors"] == 1 and report["warnings"] == 0 and report["ok"] is False
    assert report["diagnostics"] == [{
        "severity": "error", "file": "b/one.md", "line": 3, "column": 5,
        "message": "link target 'two.md#nope' not found: no id 'nope' in b/two.md", "hint": "its ids: '#two'",
    }]


def test_every_unreadable_chapter_is_reported_not_only_the_first(tmp_path: Path) -> None:
    write_book(tmp_path / "b", MANIFEST, {"one.md": "---\ntitle: [x\n---\n# One\n", "two.md": "# Two\n"})
    (tmp_path / "b" / "two.md").write_bytes(b"# Two\n\xff\n")
    result = run(["check", "b"], tmp_path)
    assert result.exit_code == 1
    assert "b/one.md:2: error: front matter is not valid YAML" in result.output
    assert "b/two.md:2: error: not valid UTF-8 (hint: save the file as UTF-8)" in result.output


def test_manifest_errors_are_reported_with_their_line(tmp_path: Path) -> None:
    write_book(tmp_path / "b", MANIFEST.replace('"two.md"', '"tow.md"'), {"one.md": "# One\n", "two.md": "# 2\n"})
    result = run(["check", "b"], tmp_path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "b/book.toml:5: error: [book] chapters: chapter 'tow.md' not found (hint: did you mean 'two.md'?)",
        "b/book.toml: 1 error(s), 0 warning(s)",
    ]


def test_duplicate_ids_and_markdown_that_was_not_understood(tmp_path: Path) -> None:
    one = ("# One {#start}\n\n## Again {#start}\n\n{{#playground example.rs}}\n\n"
           "A [reference][nowhere] and a note[^missing].\n\n<fancy-box>hi</fancy-box>\n\n"
           "`[code][not-a-link]`\n\n<svg viewBox=\"0 0 2 2\"><circle cx=\"1\" cy=\"1\" r=\"1\"/></svg>\n\n"
           "<math><mi>x</mi></math>\n")
    write_book(tmp_path / "b", MANIFEST, {"one.md": one, "two.md": "# Two\n"})
    result = run(["check", "b"], tmp_path)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "b/one.md:3:12: warning: duplicate id 'start' (first at line 1)" in out
    assert "b/one.md:5:1: warning: mdBook directive '{{#playground example.rs}}' is not supported" in out
    assert "b/one.md:7:3: warning: reference link '[reference][nowhere]' has no definition" in out
    assert "b/one.md:7:34: warning: footnote '[^missing]' has no definition" in out
    assert "b/one.md:9: warning: element <fancy-box> removed, its content kept" in out  # the reader's cleaner
    assert "not-a-link" not in out and "circle" not in out and "<mi>" not in out


def test_fonts_named_but_not_found(tmp_path: Path) -> None:
    css = ("@font-face {\n  font-family: 'Mine';\n  src: url(fonts/mine.woff2);\n}\n"
           "h1 { font-family: 'Mine', serif; }\n"
           "p { font-family: \"No Such Font Anywhere\", serif; }\n"
           "code { font-family: 'DejaVu Sans Mono', monospace; }\n")
    write_book(tmp_path / "b", MANIFEST.replace("chapters =", 'styles = ["book.css"]\nchapters ='),
               {"one.md": "# One\n", "two.md": "# Two\n", "book.css": css})
    result = run(["check", "b"], tmp_path)
    out = result.output
    assert "b/book.css:3:12: warning: font file 'fonts/mine.woff2' not found" in out
    assert "b/book.css:6:19: warning: font 'No Such Font Anywhere' is neither declared with @font-face nor installed" in out
    assert "Mine'" not in out.replace("mine.woff2", "") and "DejaVu" not in out


def test_a_link_to_a_missing_id_suggests_the_ids_that_exist(tmp_path: Path) -> None:
    write_book(tmp_path / "b", MANIFEST, {
        "one.md": "# One\n\n[a](two.md#instalation) and [b](two.md#zzz)\n",
        "two.md": "# Two\n\n## Installation\n\nA note.[^1]\n\n[^1]: Note.\n",
    })
    out = run(["check", "b"], tmp_path).output
    assert "no id 'instalation' in b/two.md (hint: did you mean '#installation'?)" in out
    assert "no id 'zzz' in b/two.md (hint: its ids: '#two', '#installation')" in out


def test_toml_mistakes_come_with_a_hint(tmp_path: Path) -> None:
    cases = {
        'title = Little Book': "book.toml:2:9: error: malformed TOML: Invalid value (hint: put text in double quotes",
        'title = "Little Book': "book.toml:2:21: error: malformed TOML: Illegal character '\\n' (hint: close the text",
    }
    for wrong, expected in cases.items():
        write_book(tmp_path / "b", MANIFEST.replace('title = "Little Book"', wrong), {"one.md": "# 1\n", "two.md": "# 2\n"})
        out = run(["check", "b"], tmp_path).output
        assert expected in out, out
    missing_comma = MANIFEST.replace('chapters = ["one.md", "two.md"]', 'chapters = [\n  "one.md"\n  "two.md",\n]')
    write_book(tmp_path / "b", missing_comma, {})
    assert "(hint: separate the items with commas and close the list with ])" in run(["check", "b"], tmp_path).output


def test_a_chapter_file_left_out_of_the_manifest_is_pointed_out(tmp_path: Path) -> None:
    write_book(tmp_path / "b", MANIFEST, {"one.md": "# 1\n", "two.md": "# 2\n", "three.md": "# 3\n",
                                         "README.md": "notes", "sub/other.md": "# elsewhere\n"})
    result = run(["check", "b"], tmp_path)
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "b/book.toml:5: warning: 'three.md' is not listed in chapters "
        "(hint: add it to chapters = [...] in reading order, or it stays out of the book)")
    assert "README" not in result.output and "other.md" not in result.output


GLOSSARY_BOOK = """[book]
title = "Little Book"
authors = ["A. Writer"]
language = "en"
chapters = ["one.md", "two.md", { file = "gloss.md", kind = "glossary" }]
"""


def test_check_reads_the_chapters_of_a_book_toml_with_errors(tmp_path: Path) -> None:
    """Newcomer report item 15: a theme typo in book.toml does not hide the chapters' mistakes."""
    write_book(tmp_path / "b", MANIFEST + 'theme = "clasic"\ndate = "2020-13-01"\n', {
        "one.md": "# One\n\nSee [bad](two.md#nope).\n", "two.md": "# Two\n\n![](missing.png)\n"})
    result = run(["check", "b"], tmp_path)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert [line.split(": ")[0] for line in lines[:-1] if ": error" in line or ": warning" in line] == [
        "b/book.toml:6", "b/book.toml:7", "b/one.md:3:11", "b/two.md:3:5"], result.output
    assert "month 13 does not exist" in result.output
    assert lines[-1].endswith("4 error(s), 0 warning(s)"), result.output
    unreadable = write_book(tmp_path / "c", MANIFEST.replace('title = "Little Book"\n', ""),
                            {"one.md": "# One\n\n[bad](two.md#nope)\n", "two.md": "# Two\n"})
    result = run(["check", str(unreadable)], tmp_path)  # no title: the book cannot be read, check stops
    assert result.exit_code == 1 and "required key missing" in result.output and "nope" not in result.output


def test_a_build_gives_the_column_check_gives_and_hints_only_written_ids(tmp_path: Path) -> None:
    """Newcomer report item 15: `epub` said ``one.md:5:`` where `check` said ``one.md:5:10:``,
    and the hint listed ids bookbuild made (gloss-ref-ch02-1)."""
    write_book(tmp_path / "b", GLOSSARY_BOOK, {
        "one.md": "# One\n\nA [gear]{.gloss} turns.\n\nSee [it](two.md#nextsteps).\n",
        "two.md": "# Two {#next-steps}\n\nA [gear]{.gloss} and a [gear]{.gloss}.[^n]\n\n[^n]: A note.\n",
        "gloss.md": "# Glossary\n\nGear\n: A wheel with teeth.\n"})
    checked = run(["check", "b"], tmp_path).output
    built = run(["epub", "b"], tmp_path).output
    expected = ("b/one.md:5:10: {}: link target 'two.md#nextsteps' not found: no id 'nextsteps' in b/two.md "
                "(hint: did you mean '#next-steps'?)")
    assert expected.format("error") in checked and expected.format("warning") in built, (checked, built)
    write_book(tmp_path / "b", GLOSSARY_BOOK, {"one.md": "# One\n\nSee [it](two.md#zzz).\n"})
    for output in (run(["check", "b"], tmp_path).output, run(["epub", "b"], tmp_path).output):
        assert "(hint: its ids: '#next-steps')" in output, output
