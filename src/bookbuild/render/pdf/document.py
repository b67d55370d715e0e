"""Book -> PDF through WeasyPrint (imported here and only here: it is slow to import).

One HTML document (title page, contents, chapters) laid out with the shared CSS plus
print.css; page size and other [pdf] options arrive as a small generated sheet.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from ...config import BuildContext
from ...config.pdf import PdfOptions
from ...config.themes import DEFAULT_THEME, theme_sheets
from ...errors import BookError, Reporter
from ...files import read_book_file
from ...model import Book, Chapter, Footnote, part_openers
from ...resources import resolve_url, styles_dir, stylesheet
from ...xhtml import parse_fragment, unwrap
from ..scripts import isolate_inline_runs, pdf_options_sheet
from ..templates import render_template
from .cycles import weak_layout_contexts
from .glossary_uses import print_glossary_uses
from .glyphs import collect_missing_glyphs, report_missing_glyphs
from .index import for_print, layout_with_index
from .leaders import joined_leaders
from .math_svg import math_to_svg
from .task_boxes import checkboxes_to_glyphs
from .link_urls import print_link_urls
from .page_labels import write_page_labels
from .page_setup import page_sheet, print_layout, select_chapters
from .stylesheets import load_stylesheets

SHARED_SHEETS = ("base.css", "print.css")
HANDOUT_SHEET = "handout.css"
# Documents refer to assets by their internal href; this virtual root maps them back.
ASSET_ROOT = "file:///bookbuild-assets/"

logger = logging.getLogger(__name__)


def render_pdf(book: Book, build: BuildContext, reporter: Reporter) -> bytes:
    """The PDF as bytes: tagged, with bookmarks, metadata, the book's language, and page
    labels that say what the pages print (page_labels.py).

    ``[pdf]`` options (and the command line's ``--chapters``/``--handout``) choose the
    layout; ``variant`` (PDF/UA, PDF/A) is handed to WeasyPrint as it is.
    """
    variant = build.config.pdf.variant
    with collect_missing_glyphs() as missing:
        document = layout_with_index(book, build, reporter, layout_pdf)  # with the index's numbers
        data = document.write_pdf(pdf_tags=True, pdf_variant=variant, finisher=write_page_labels)
    report_missing_glyphs(missing, book, reporter)
    return data


@dataclass(frozen=True)
class PdfSource:
    """What WeasyPrint lays out: the HTML, the generated CSS and the stylesheet files."""

    html: str
    css: str  # the [pdf] options as CSS, then the caller's extra rules
    sheets: tuple[Path, ...]  # shared sheets first, then the book's


def pdf_source(book: Book, options: PdfOptions, *, only: frozenset[str] | None = None, front_matter: bool = True,
               page_numbers: Mapping[str, str] | None = None, extra_css: str = "",
               theme: str = DEFAULT_THEME) -> PdfSource:
    """The HTML and CSS of the book (or of one piece of it: see :func:`layout_pdf`) with
    these ``[pdf]`` options, in the ``[book] theme``'s design."""
    from markupsafe import Markup

    layout = print_layout(options)
    options_css = page_sheet(options, layout, book.meta.language) + pdf_options_sheet(book, ASSET_ROOT)
    chapters = select_chapters(book.chapters, options.chapters)
    printed = {chapter.id for chapter in chapters}
    numbers = page_numbers or {}
    pieces = [chapter for chapter in chapters if only is None or chapter.id in only]
    html = render_template(
        "pdf/book.html",
        front_matter=front_matter,
        toc_chapters=chapters,
        part_openers=part_openers(chapters),
        page_attr=lambda anchor: Markup(' data-page="{}"').format(numbers[anchor]) if anchor in numbers else "",
        lang=book.meta.language,
        direction=book.language.direction,
        meta=book.meta,
        layout_classes=layout.html_classes,
        furniture=layout.furniture,
        contents_title=book.language.label("contents"),
        label=book.language.label,
        chapters=[chapter.replace(body=_pdf_body(for_print(chapter, numbers), book, printed,
                                                  numbers if options.page_references else {},
                                                  options.link_urls))
                  for chapter in pieces],
        body_start=_body_start(chapters),
    )
    names = SHARED_SHEETS + ((HANDOUT_SHEET,) if layout.handout else ())
    sheets = tuple(stylesheet(name) for name in names) + theme_sheets(theme) + book.styles
    return PdfSource(html, options_css + extra_css, sheets)


def layout_pdf(book: Book, build: BuildContext, reporter: Reporter, *,  # noqa: ANN201
               only: frozenset[str] | None = None,
               front_matter: bool = True, page_numbers: Mapping[str, str] | None = None,
               extra_css: str = "", pdf_tags: bool = True, source: PdfSource | None = None,
               fetcher: object | None = None, fonts: object | None = None):
    """The laid-out WeasyPrint document, before writing; the EPUB page list reads its pages.

    The keywords serve the chapter-parallel PDF (parallel/plan.py), which lays out one piece
    of the book at a time: ``only`` the chapters with these ids, the furniture and contents
    or not, and ``page_numbers`` (anchor id -> page number) printed as such in the contents
    and in "see page N" instead of ``target-counter``, whose target is in another piece.
    A ``source`` made beforehand (by :func:`pdf_source`) replaces those four; a ``fetcher``
    (from :func:`book_fetcher`) lets the caller see what the layout read; ``fonts``, a
    WeasyPrint font configuration to share with other layouts (a new one by default).
    """
    from weasyprint import HTML
    from weasyprint.css.counters import CounterStyle

    if source is None:
        source = pdf_source(book, build.config.pdf, only=only, front_matter=front_matter,
                            page_numbers=page_numbers, extra_css=extra_css, theme=build.config.theme)
    fetcher = fetcher or book_fetcher(book, build.config.allow_remote)
    shared_fonts = fonts is not None  # a worker's, for all its pieces: its own sheets are parsed once
    fonts = fonts or font_configuration()  # without it WeasyPrint ignores @font-face ([book] fonts, the book's CSS)
    # what WeasyPrint skips in bookbuild's sheets is kept quiet, in the book's reported (stylesheets.py)
    counters = CounterStyle()  # the sheets' @counter-style rules, for this layout
    sheets = load_stylesheets(source.sheets, source.css, book, reporter, fetcher, fonts, counters, shared_fonts)
    document = HTML(string=source.html, base_url=ASSET_ROOT, url_fetcher=fetcher)
    # the contents' dot leaders: a text box each, not thousands (leaders.py); a layout freed
    # without the garbage collector (cycles.py)
    with joined_leaders(), weak_layout_contexts():
        return document.render(stylesheets=sheets, font_config=fonts, counter_style=counters, pdf_tags=pdf_tags,
                               pdf_variant=build.config.pdf.variant)


def font_configuration():  # noqa: ANN201
    """A WeasyPrint font configuration whose copies of the ``@font-face`` fonts are removed
    when the process exits, if not before. WeasyPrint copies them into a ``weasyprint-*``
    temporary folder that it removes only when the configuration is freed, which a worker's
    exit (``os._exit``) or a layout kept in a reference cycle never does: every PDF of a book
    with fonts left them in /tmp. The removal is a multiprocessing finalizer, which runs at
    the exit of the main process and of a worker alike."""
    return font_configuration_class()()


def remove_font_copies(fonts: Any) -> None:
    """Remove a font configuration's copies of the ``@font-face`` fonts now (at exit, or in a
    PDF worker that starts another build: parallel/pieces.py), and forget their folder:
    WeasyPrint's own removal, when the configuration is freed during the interpreter's
    teardown, would find its ``rmtree`` gone and print a traceback."""
    folder = getattr(fonts, "_folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        fonts._folder = None


def _remove_font_copies_of(configuration: weakref.ref) -> None:
    fonts = configuration()
    if fonts is not None:  # else freed already, and WeasyPrint removed the folder
        remove_font_copies(fonts)


@cache
def font_configuration_class() -> type:
    from multiprocessing.util import Finalize

    from weasyprint.text.fonts import FontConfiguration

    class RemovedAtExit(FontConfiguration):
        def add_font_face(self, rule_descriptors: Any, url_fetcher: Any) -> Any:
            had_folder = getattr(self, "_folder", None) is not None
            try:
                return super().add_font_face(rule_descriptors, url_fetcher)
            finally:
                folder = getattr(self, "_folder", None)
                if folder is not None and not had_folder:
                    Finalize(None, _remove_font_copies_of, args=(weakref.ref(self),), exitpriority=0)

    return RemovedAtExit


def book_fetcher(book: Book, allow_remote: bool = False):  # noqa: ANN201
    """The URL fetcher WeasyPrint gets: the book's assets and files only (see below), and
    public http(s) resources with ``allow_remote``; its ``fetched`` maps every URL asked for
    to the SHA-256 of what it served (None: refused)."""
    return _fetcher_class()(book, allow_remote)


def _body_start(printed: list[Chapter]) -> str:
    """The id of the section where arabic page 1 falls: the first printed body chapter, or the
    part page printed just before it (the template prints a part page before a part's first
    printed chapter)."""
    position = next((n for n, c in enumerate(printed) if c.matter == "body"), 0)
    chapter = printed[position]
    return chapter.part.id if chapter.id in part_openers(printed) else chapter.id


def _pdf_body(chapter: Chapter, book: Book, printed: set[str], numbers: Mapping[str, str],
              link_urls: str = "footnote") -> str:
    """The chapter body as HTML, each footnote moved to its first call (``float: footnote``)."""
    wrapper = parse_fragment(chapter.body)
    isolate_inline_runs(wrapper)
    notes = {note.id: note for note in chapter.footnotes}
    placed: set[str] = set()
    for ref in list(wrapper.iter("a")):
        if ref.get("role") != "doc-noteref":
            continue
        note_id = ref.get("href", "")[1:]
        note = notes.get(note_id)
        if note is None:
            continue
        if note_id in placed:
            ref.set("class", "noteref-again")
            continue
        placed.add(note_id)
        ref.getparent().replace(ref, _footnote_span(note, ref.tail))
    math_to_svg(wrapper)
    checkboxes_to_glyphs(wrapper)
    _mark_cross_references(wrapper, chapter, book, printed, numbers)
    print_glossary_uses(wrapper)  # a chapter's first use and its page, not "2" (glossary_uses.py)
    print_link_urls(wrapper, link_urls)  # the addresses of external links, on paper ([pdf] link_urls)
    html = (wrapper.text or "").replace("&", "&amp;").replace("<", "&lt;")
    return html + "".join(etree.tostring(child, encoding="unicode", method="html") for child in wrapper)


def _mark_cross_references(wrapper: etree._Element, chapter: Chapter, book: Book, printed: set[str],
                           numbers: Mapping[str, str]) -> None:
    """Class ``xref`` on links to other chapters (print.css adds "see page N"), and
    ``to-frontmatter`` on those into the front matter, whose pages print roman numbers; links
    to chapters left out of a ``--chapters`` selection keep their text and lose the link."""
    for link in list(wrapper.iter("a")):
        href = link.get("href") or ""
        target = book.other_chapter(href, chapter)
        if target is None or link.get("role") == "doc-noteref" or "index-locator" in (link.get("class") or ""):
            continue
        if target.id not in printed:
            unwrap(link)
            continue
        if link.get("role") in ("doc-glossref", "doc-biblioref") or "gloss-again" in (link.get("class") or "").split():
            continue  # a glossary term, a term's second use, a citation: a link, no "see page N"
        classes = (link.get("class"), "xref", "to-frontmatter" if target.matter == "front" else None)
        link.set("class", " ".join(filter(None, classes)))
        if href[1:] in numbers:
            link.set("data-page", numbers[href[1:]])


def _footnote_span(note: Footnote, tail: str | None) -> etree._Element:
    """A footnote as inline content: WeasyPrint floats it to the page foot."""
    span = etree.fromstring(f"<span>{note.body}</span>")
    span.set("class", "footnote")
    span.set("id", note.id)
    span.set("role", "doc-footnote")
    for block in list(span):
        if block.tag == "p":
            block.tag = "span"
            block.set("class", "footnote-para")
    span.tail = tail
    return span


def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class BookURLFetcher(URLFetcher):
        """Serves the book's assets and files inside the book folder or the packaged styles,
        through the one resolver; remote http(s) only with ``allow_remote`` (never to local
        or private addresses); everything else refused, so WeasyPrint reads nothing else."""

        def __init__(self, book: Book, allow_remote: bool = False) -> None:
            super().__init__(allowed_protocols=("file", "data", "http", "https"), allow_redirects=False)
            self.assets = {asset.href: asset for asset in book.assets}
            if book.cover is not None:
                self.assets[book.cover.href] = book.cover
            self.root = book.root
            self.allow_remote = allow_remote
            self.fetched: dict[str, str | None] = {}

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            try:
                response = self._fetch(url, headers)
            except ValueError:
                self.fetched.setdefault(url, None)  # an absence is a state the layout saw
                raise
            body = response.read()
            self.fetched.setdefault(url, hashlib.sha256(body).hexdigest())
            return URLFetcherResponse(response.url, body, response.headers, status=response.status)

        def _fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(ASSET_ROOT):
                asset = self.assets.get(unquote(url[len(ASSET_ROOT):].split("#")[0]))
                if asset is None:
                    raise ValueError(f"not an asset of this book: {url}")
                return URLFetcherResponse(url, asset.content(), {"Content-Type": asset.media_type})
            scheme = urlsplit(url).scheme.lower()
            try:
                if scheme == "file":
                    path = resolve_url(self.root, url.split("#")[0].split("?")[0], what="resource",
                                       extra_roots=(styles_dir(),))
                    data = read_book_file(path, (self.root, styles_dir()), "resource")
                    if path.suffix.lower() == ".svg":  # a stylesheet's drawing: cleaned as a chapter's is
                        data = _sanitize_svg(data)
                    return URLFetcherResponse(url, data, {})
                if scheme in ("http", "https") and self.allow_remote:
                    from ...sources.remote import fetch_remote

                    resource = fetch_remote(url)
                    data = _sanitize_svg(resource.data) if resource.media_type == "image/svg+xml" else resource.data
                    return URLFetcherResponse(resource.url, data, {"Content-Type": resource.media_type})
            except BookError as exc:
                raise ValueError(f"refused to fetch {url}: {exc.diagnostic.message}") from None
            reason = "remote resources are off (--allow-remote)" if scheme in ("http", "https") else "unsupported URL"
            # stylesheets.check_stylesheets already warned the author at file:line; WeasyPrint logs this.
            raise ValueError(f"refused to fetch {url}: {reason}")

    return BookURLFetcher


def _sanitize_svg(data: bytes) -> bytes:
    """sources/svg.py's cleaning, imported when a drawing is fetched: importing the readers'
    package (markdown-it, Pygments, the HTML cleaning) was 30 ms of each PDF worker's start,
    on the way to a one-chapter rebuild's first layout."""
    from ...sources.svg import sanitize_svg

    return sanitize_svg(data)
