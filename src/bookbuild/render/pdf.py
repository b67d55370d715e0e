"""Book -> PDF through WeasyPrint (imported here and only here: it is slow to import).

One HTML document (title page, contents, chapters) laid out with the shared CSS plus
print.css; page size and other [pdf] options arrive as a small generated sheet.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..errors import BookError, Reporter
from ..model import Book, Chapter, Footnote
from ..remote import fetch_remote
from ..resources import resolve_url, styles_dir, stylesheet
from ..xhtml import parse_fragment
from .templates import render_template

SHARED_SHEETS = ("base.css", "print.css")
# Documents refer to assets by their internal href; this virtual root maps them back.
ASSET_ROOT = "file:///bookbuild-assets/"

logger = logging.getLogger(__name__)


def render_pdf(book: Book, reporter: Reporter) -> bytes:
    """The PDF as bytes: tagged, with bookmarks, metadata and the book's language."""
    from weasyprint import CSS, HTML

    fetcher = _fetcher_class()(book)
    html = render_template(
        "pdf/book.html",
        lang=book.meta.language,
        meta=book.meta,
        contents_title="Contents",
        chapters=[chapter.replace(body=_pdf_body(chapter)) for chapter in book.chapters],
    )
    sheets = [CSS(filename=str(stylesheet(name)), url_fetcher=fetcher) for name in SHARED_SHEETS]
    sheets.append(CSS(string=options_sheet(book), url_fetcher=fetcher))
    sheets += [CSS(filename=str(path), url_fetcher=fetcher) for path in book.manifest.styles]
    document = HTML(string=html, base_url=ASSET_ROOT, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=sheets, pdf_tags=True)


def options_sheet(book: Book) -> str:
    """The [pdf] options as CSS (house rule 5: CSS is the design, Python passes values)."""
    return f"@page {{ size: {book.manifest.pdf.page_size_css}; }}\n"


def _pdf_body(chapter: Chapter) -> str:
    """The chapter body as HTML, each footnote moved to its first call (``float: footnote``)."""
    wrapper = parse_fragment(chapter.body)
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
    html = (wrapper.text or "").replace("&", "&amp;").replace("<", "&lt;")
    return html + "".join(etree.tostring(child, encoding="unicode", method="html") for child in wrapper)


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

        def __init__(self, book: Book) -> None:
            super().__init__(allowed_protocols=("file", "data", "http", "https"), allow_redirects=False)
            self.assets = {asset.href: asset for asset in book.assets}
            if book.cover is not None:
                self.assets[book.cover.href] = book.cover
            self.root = book.manifest.root
            self.allow_remote = bool(getattr(book.manifest, "allow_remote", False))

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(ASSET_ROOT):
                asset = self.assets.get(unquote(url[len(ASSET_ROOT):].split("#")[0]))
                if asset is None:
                    raise ValueError(f"not an asset of this book: {url}")
                return URLFetcherResponse(url, asset.read_bytes(), {"Content-Type": asset.media_type})
            scheme = urlsplit(url).scheme.lower()
            try:
                if scheme == "file":
                    path = resolve_url(self.root, url.split("#")[0].split("?")[0], what="resource",
                                       extra_roots=(styles_dir(),))
                    return URLFetcherResponse(url, path.read_bytes(), {})
                if scheme in ("http", "https") and self.allow_remote:
                    resource = fetch_remote(url)
                    return URLFetcherResponse(resource.url, resource.data, {"Content-Type": resource.media_type})
            except BookError as exc:
                raise ValueError(f"refused to fetch {url}: {exc.diagnostic.message}") from None
            reason = "remote resources are off (--allow-remote)" if scheme in ("http", "https") else "unsupported URL"
            # stylesheets.check_stylesheets already warned the author at file:line; WeasyPrint logs this.
            raise ValueError(f"refused to fetch {url}: {reason}")

    return BookURLFetcher
