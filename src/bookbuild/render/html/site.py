"""Book -> a small static HTML site, for the preview server (and anyone who wants one).

One page per chapter plus an index (title page and contents), styled by the shared
``base.css`` and a thin ``screen.css``, then the ``[book] theme``'s sheet and the book's own,
as the EPUB and the PDF layer them; with previous/next links and a contents sidebar.
Pages are plain HTML5: chapter bodies are re-serialised with lxml's HTML method so that
empty elements such as ``<span/>`` cannot swallow the text after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ...config.themes import DEFAULT_THEME, theme_sheets
from ...errors import Reporter
from ...model import Book, Chapter
from ...resources import stylesheet
from ...xhtml import parse_fragment
from ..templates import render_template

SHARED_SHEETS = ("base.css", "screen.css")
INDEX_PAGE = "index.html"


@dataclass(frozen=True)
class NavEntry:
    """One line of the contents sidebar: a chapter and its second-level headings."""

    title: str
    href: str
    page: str
    sections: tuple[tuple[str, str], ...] = ()


def page_name(chapter: Chapter) -> str:
    """The site path of a chapter's page."""
    return f"{chapter.id}.html"


def site_files(book: Book, reporter: Reporter, theme: str = DEFAULT_THEME) -> dict[str, Path | bytes]:
    """Site paths of the files served: as they are on disk (shared sheets, the theme's, images,
    cover), or as bytes (the author's sheets, packed as in the EPUB with the files they use)."""
    from ..author_styles import epub_stylesheets

    files: dict[str, Path | bytes] = {f"styles/{name}": stylesheet(name) for name in SHARED_SHEETS}
    files.update({f"styles/theme-{path.name}": path for path in theme_sheets(theme)})
    files.update({packed.href: packed.data for packed in epub_stylesheets(book, reporter)})
    files.update({asset.href: asset.source for asset in book.assets})
    if book.cover is not None:
        files[book.cover.href] = book.cover.source
    return files


def stylesheet_hrefs(book: Book, theme: str = DEFAULT_THEME) -> list[str]:
    """The stylesheets every page links, shared ones first, then the theme's, the book's own last."""
    return ([f"styles/{name}" for name in SHARED_SHEETS]
            + [f"styles/theme-{path.name}" for path in theme_sheets(theme)]
            + [f"styles/book-{n}.css" for n in range(1, len(book.styles) + 1)])


def navigation(book: Book) -> tuple[NavEntry, ...]:
    """The contents sidebar; pages whose navigation is unchanged need no re-render."""
    return tuple(
        NavEntry(chapter.title, f"{page_name(chapter)}#{chapter.title_id}", page_name(chapter),
                 tuple((h.text, f"{page_name(chapter)}#{h.id}") for h in chapter.headings if h.level == 2))
        for chapter in book.chapters
    )


def render_index(book: Book, live_reload: bool = False, theme: str = DEFAULT_THEME) -> str:
    """The first page: the title page and the contents."""
    return render_template("html/index.html", **_context(book, live_reload, theme), page=INDEX_PAGE,
                           first=page_name(book.chapters[0]) if book.chapters else None)


def render_chapter_page(book: Book, position: int, live_reload: bool = False, theme: str = DEFAULT_THEME) -> str:
    """One chapter's page, with links to the chapters before and after it."""
    chapter = book.chapters[position]
    previous = book.chapters[position - 1] if position > 0 else None
    following = book.chapters[position + 1] if position + 1 < len(book.chapters) else None
    return render_template(
        "html/chapter.html",
        **_context(book, live_reload, theme),
        page=page_name(chapter),
        chapter=chapter,
        body=_html_body(chapter.body, chapter, book),
        footnotes=[(note, _html_body(note.body, chapter, book)) for note in chapter.footnotes],
        previous=previous,
        following=following,
        page_name=page_name,
    )


def render_site(book: Book, live_reload: bool = False, theme: str = DEFAULT_THEME) -> dict[str, str]:
    """Every generated page by site path, in the ``[book] theme``'s design."""
    pages = {INDEX_PAGE: render_index(book, live_reload, theme)}
    for position, chapter in enumerate(book.chapters):
        pages[page_name(chapter)] = render_chapter_page(book, position, live_reload, theme)
    return pages


def _context(book: Book, live_reload: bool, theme: str) -> dict[str, object]:
    return {
        "lang": book.meta.language,
        "meta": book.meta,
        "stylesheets": stylesheet_hrefs(book, theme),
        "nav": navigation(book),
        "contents_title": book.language.label("contents"),
        "live_reload": live_reload,
    }


def _html_body(body: str, chapter: Chapter, book: Book) -> str:
    """The body as HTML, each book-wide ``#id`` link pointed at the page that holds the id."""
    wrapper = parse_fragment(body)
    for link in wrapper.iter("a"):
        href = link.get("href", "")
        owner = book.other_chapter(href, chapter)
        if owner is not None:
            link.set("href", page_name(owner) + href)
    head = (wrapper.text or "").replace("&", "&amp;").replace("<", "&lt;")
    return head + "".join(etree.tostring(child, encoding="unicode", method="html") for child in wrapper)
