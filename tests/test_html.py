"""The HTML rendering behind the preview: one page per chapter, navigation, shared CSS."""

from __future__ import annotations

from lxml import html as lxml_html

from bookbuild.api import load_book
from bookbuild.errors import Reporter
from bookbuild.config.manifest import load_manifest
from bookbuild.render.html.site import render_site, site_files
from conftest import FEATURES_BOOK


def _features():
    return load_book(load_manifest(FEATURES_BOOK), Reporter())


def test_a_page_per_chapter_with_navigation_and_shared_css() -> None:
    book = _features()
    pages = render_site(book)
    assert sorted(pages) == ["ch01.html", "ch02.html", "ch03.html", "index.html"]
    page = lxml_html.fromstring(pages["ch02.html"])
    assert page.get("lang") == "en"
    assert [link.get("href") for link in page.xpath("//link[@rel='stylesheet']")] == [
        "styles/base.css", "styles/screen.css", "styles/book-1.css"]
    assert [a.text for a in page.xpath("//nav[@class='site-nav']/ol/li/a")] == [
        "Tables and Lists", "Notes and Pictures", "Links"]
    assert page.xpath("//li[@class='current']/a/@aria-current") == ["page"]
    assert page.xpath("//a[@rel='prev']/@href") == ["ch01.html"]
    assert page.xpath("//a[@rel='next']/@href") == ["ch03.html"]
    assert not page.xpath("//script"), "no live-reload script outside the preview"
    index = lxml_html.fromstring(pages["index.html"])
    assert index.xpath("//h1[@class='book-title']/text()") == ["Features of the Skeleton"]


def test_links_point_at_the_page_holding_the_target_and_notes_follow_the_chapter() -> None:
    book = _features()
    pages = render_site(book)
    links = lxml_html.fromstring(pages["ch03.html"])
    hrefs = links.xpath("//section[@class='chapter']//a/@href")
    assert "ch02.html#introduction-2" in hrefs and "#the-end" in hrefs and "https://example.org/" in hrefs
    notes = lxml_html.fromstring(pages["ch02.html"])
    assert len(notes.xpath("//aside[@role='doc-footnote']")) == 2
    image = notes.xpath("//img")[0]
    assert image.get("alt") == "A diagram: two boxes joined by an arrow"
    assert site_files(book, Reporter())[image.get("src")].name == "diagram.png"


def test_empty_elements_do_not_swallow_the_text_after_them(tmp_path) -> None:
    from conftest import write_book

    write_book(tmp_path, '[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\nchapters = ["one.md"]\n',
               {"one.md": "# One\n\nBefore ![](gone.png) after.\n\nNext paragraph.\n"})
    book = load_book(load_manifest(tmp_path), Reporter())
    page = lxml_html.fromstring(render_site(book, live_reload=True)["ch01.html"])
    span = page.xpath("//span[@class='missing-image']")[0]
    assert span.text_content() == "" and span.tail == " after."
    assert page.xpath("//script/@src") == ["__bookbuild__/live.js"]
