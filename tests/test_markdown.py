from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bookbuild.errors import SourceError
from bookbuild.config.manifest import ChapterEntry
from bookbuild.sources import read_chapter


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
