"""``bookbuild preview``: serve the book as HTML on 127.0.0.1 and reload the page on edits.

A :class:`PreviewSite` holds the last good rendering in memory. On a change it parses
again only the chapter files that changed (parsed chapters are cached by file state),
re-runs the cheap book-wide transforms, and re-renders only the pages whose content or
navigation changed. Stylesheets and images are served from disk, so editing them only
bumps the version. A failed rebuild keeps the last good pages and records the error;
the page's small script asks ``/__bookbuild__/state`` for the next rebuild, shows errors
over the page, and when the version changes puts the new page's text in place (or reloads
the page, when a stylesheet, an image or ``book.toml`` changed). Nothing here prints: messages go to ``log``.
"""

from __future__ import annotations

import json
import mimetypes
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ..config.manifest import ChapterEntry, Manifest
from ..errors import BookError, Diagnostic, Reporter
from ..model import Book, Chapter
from ..pipeline import load_book, load_config, read_book_chapter
from ..render.html.site import (
    INDEX_PAGE,
    navigation,
    render_chapter_page,
    render_index,
    site_files,
)
from ..files import read_book_file
from ..resources import display_path, styles_dir
from .watch import watch_changes

HOST = "127.0.0.1"
VERSION_MARK = "__BOOKBUILD_VERSION__"
STATE_WAIT = 20.0  # seconds a page's question for the next rebuild is held open (then asked again)
LIVE_SCRIPT = """(function () {
  var me = document.currentScript, version = me.getAttribute("data-version"), delay = 250, box = null;
  function show(state) {
    var lines = state.errors.concat(state.warnings), text = lines.join("\\n");
    var hidden = !state.errors.length && sessionStorage.getItem("bookbuild-hidden") === text;
    if (!lines.length || hidden) { if (box) { box.remove(); box = null; } return; }
    if (!box) { box = document.createElement("div"); box.id = "bookbuild-problems";
      box.setAttribute("role", "alert"); document.body.appendChild(box); }
    box.className = state.errors.length ? "errors" : "warnings-only";
    box.onclick = state.errors.length ? null : function () { sessionStorage.setItem("bookbuild-hidden", text); show(state); };
    var title = state.errors.length ? "The book did not build; this page shows the last good build."
                                    : state.warnings.length + " warning(s) (click to hide)";
    box.innerHTML = "";
    var strong = document.createElement("strong"); strong.textContent = title;
    box.appendChild(strong); box.appendChild(document.createTextNode("\\n" + lines.join("\\n")));
  }
  function poll(since) {
    // the server answers when a rebuild has ended after "since" (or after a while): no polling delay
    fetch("/__bookbuild__/state?since=" + since, {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (state) {
        if (String(state.version) !== version) {
          if (state.reload > Number(version)) { location.reload(); return; }
          swap(state); return;
        }
        show(state); delay = 250; poll(state.serial);
      })
      .catch(function () { delay = Math.min(delay * 2, 4000); setTimeout(function () { poll(-1); }, delay); });
  }
  function sheets(doc) {
    return Array.prototype.map.call(doc.querySelectorAll("link[rel=stylesheet]"),
                                     function (l) { return l.getAttribute("href"); }).join(" ");
  }
  function swap(state) {
    // Only chapter text changed: put the new page's navigation and text in place of the old,
    // without reloading the sheets, fonts and images (and the reader keeps their place).
    fetch(location.pathname, {cache: "no-store"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); } return r.text();
    }).then(function (text) {
      var next = new DOMParser().parseFromString(text, "text/html"), script = next.querySelector("script[data-version]");
      var parts = ["nav.site-nav", "main.site-main"], here = parts.map(function (s) { return document.querySelector(s); });
      var there = parts.map(function (s) { return next.querySelector(s); });
      if (!script || sheets(next) !== sheets(document) || here.concat(there).indexOf(null) >= 0) { location.reload(); return; }
      here.forEach(function (node, i) { node.replaceWith(document.adoptNode(there[i])); });
      document.title = next.title; version = script.getAttribute("data-version");
      show(state); delay = 250; poll(state.serial);
    }).catch(function () { location.reload(); });
  }
  poll(-1);
})();
"""
_NOTICE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>bookbuild preview</title>
<link rel="stylesheet" href="/styles/base.css"><link rel="stylesheet" href="/styles/screen.css"></head>
<body class="preview"><main class="site-main"><h1>{title}</h1>
<p>{text}</p></main>
<script src="/__bookbuild__/live.js" data-version="{version}"></script></body></html>
"""
WAITING_PAGE = _NOTICE_PAGE.format(
    title="Waiting for a good build", version=VERSION_MARK,
    text="The book does not build yet; fix the error below and this page reloads by itself.")
MISSING_PAGE = _NOTICE_PAGE.format(
    title="Not in the book", version=VERSION_MARK,
    text='This page is not part of the book (any more). <a href="/">Back to the title page</a>.')


# Files whose edit changes only pages' text (chapters, their includes, bibliographies): the
# open page swaps its text in place instead of reloading its sheets, fonts and images.
TEXT_SOURCES = frozenset({".md", ".markdown", ".html", ".htm", ".xhtml", ".txt", ".bib", ".json", ".yaml", ".yml"})


class PreviewError(BookError):
    """The preview cannot start (for instance, its port is taken)."""


class ChapterCache:
    """Parsed chapters keyed by file state: an unchanged file is never parsed again."""

    def __init__(self) -> None:
        self._chapters: dict[tuple, Chapter] = {}
        self.parsed: list[Path] = []

    def read(self, entry: ChapterEntry, index: int, reporter: Reporter, manifest: Manifest) -> Chapter:
        """Like :func:`~bookbuild.pipeline.read_book_chapter`, but from the cache when the file has not changed."""
        stat = entry.path.stat()
        key = (entry.path, stat.st_mtime_ns, stat.st_size, entry.title, index)
        chapter = self._chapters.get(key)
        if chapter is None:
            chapter = read_book_chapter(entry, index, reporter, manifest)
            self._chapters = {k: v for k, v in self._chapters.items() if k[0] != entry.path}
            self._chapters[key] = chapter
            self.parsed.append(entry.path)
        return chapter


class PreviewSite:
    """The rendered site in memory, its version, and the problems of the last rebuild."""

    def __init__(self, book_path: Path | None, log: Callable[[str], None],
                 diagnostic_sink: Callable[[Diagnostic], None] | None = None) -> None:
        self.book_path = book_path
        self.log = log
        self.diagnostic_sink = diagnostic_sink
        self.lock = threading.Lock()
        self.rebuilt = threading.Condition(self.lock)  # notified when a rebuild ends, built or not
        self.serial = 0  # rebuilds ended so far: what the page's script waits past
        self.cache = ChapterCache()
        self.pages: dict[str, str] = {}
        self.files: dict[str, Path] = {}
        self.roots: tuple[Path, ...] = (styles_dir(),)  # where served files may lie: the book, the packaged sheets
        self.version = 0
        self.reload = 0  # the last version a page must reload for (not only chapter text changed)
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.title = ""
        self._rendered: dict[str, tuple] = {}
        self._shared: tuple | None = None  # what every page was rendered with last

    def rebuild(self, reason: str = "", edited: set[Path] | None = None) -> bool:
        """Rebuild what changed; on failure keep the last good pages. True when it built.

        ``reason`` (the changed files) starts the one line logged for this rebuild. When every
        ``edited`` file is chapter text, open pages swap their text in place; otherwise
        (stylesheets, images, book.toml, or unknown) they reload.
        """
        started = time.perf_counter()
        reporter = Reporter(sink=self.diagnostic_sink)
        self.cache.parsed = []
        try:
            manifest = load_config(self.book_path, reporter)
            book = load_book(manifest, reporter, read=self.cache.read)
            pages, changed = self._render(book, manifest.theme)
            files = site_files(book, reporter, manifest.theme)  # reads the author's sheets: inside the try
        except BookError as exc:
            return self._failed(str(exc), reporter, reason)
        except Exception as exc:  # a bug of ours must not stop the server
            return self._failed(f"bookbuild: internal error: {type(exc).__name__}: {exc}", reporter, reason)
        with self.lock:
            self.pages, self.files = pages, files
            self.roots = (book.root, styles_dir())
            self.title = manifest.meta.title
            self.errors, self.warnings = [], [d.format() for d in reporter.diagnostics]
            self.version += 1
            if edited is None or any(path.suffix.lower() not in TEXT_SOURCES for path in edited):
                self.reload = self.version
            self._ended()
        self.log(f"{reason + ': ' if reason else ''}{'rebuilt' if self.version > 1 else 'built'} in "
                 f"{time.perf_counter() - started:.2f} s ({len(self.cache.parsed)} chapter(s) parsed, "
                 f"{len(changed)} chapter page(s) rendered)")
        return True

    def _failed(self, message: str, reporter: Reporter, reason: str) -> bool:
        with self.lock:
            self.errors = [message]
            self.warnings = [d.format() for d in reporter.diagnostics]
            self._ended()
        self.log(f"{reason + ': ' if reason else ''}not rebuilt; the page shows the error")
        self.log(message)
        return False

    def _render(self, book: Book, theme: str) -> tuple[dict[str, str], list[str]]:
        """Re-render only pages whose chapter, navigation, metadata or theme changed."""
        nav = navigation(book)
        shared = (book.meta, nav, book.styles, theme)
        pages = {INDEX_PAGE: render_index(book, live_reload=True, theme=theme)}
        owners = book.id_owner  # where cross-chapter links point
        # what every page shares, compared once (it was compared again for each page)
        same = self._shared == (shared, owners)
        self._shared = (shared, owners)
        changed = []
        rendered: dict[str, tuple] = {}
        for position, chapter in enumerate(book.chapters):
            name = f"{chapter.id}.html"
            neighbours = tuple(c.title for c in book.chapters[max(0, position - 1):position + 2])
            key = (chapter, neighbours)
            if same and self._rendered.get(name) == key and name in self.pages:
                pages[name] = self.pages[name]
            else:
                pages[name] = render_chapter_page(book, position, live_reload=True, theme=theme)
                changed.append(name)
            rendered[name] = key
        self._rendered = rendered
        return pages, changed

    def _ended(self) -> None:
        """A rebuild ended (the lock held): wake the pages waiting for it."""
        self.serial += 1
        self.rebuilt.notify_all()

    def state(self, since: int | None = None, wait: float = 0.0) -> dict[str, object]:
        """What the page's script asks for: the version, the problems of the last rebuild, and
        ``serial``. With ``since``, it waits (up to ``wait`` seconds) until a rebuild has ended
        after the one numbered ``since``: the page learns of an edit as soon as it is built."""
        with self.lock:
            if since is not None:
                self.rebuilt.wait_for(lambda: self.serial != since, timeout=wait)
            return {"version": self.version, "errors": list(self.errors), "warnings": list(self.warnings),
                    "serial": self.serial, "reload": self.reload}

    def page(self, name: str) -> bytes | None:
        """A generated page with the current version stamped in, or None."""
        with self.lock:
            text = self.pages.get(name)
            if text is None and not self.pages and name.endswith(".html"):
                text = WAITING_PAGE
            return None if text is None else text.replace(VERSION_MARK, str(self.version)).encode("utf-8")

    def file(self, name: str) -> Path | bytes | None:
        """A stylesheet or image of the book (a file, or its packed bytes), only if the site lists it."""
        with self.lock:
            return self.files.get(name)


def make_handler(site: PreviewSite) -> type[BaseHTTPRequestHandler]:
    """A request handler serving only what the site lists: no directory listing, no ``..``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            if host not in ("127.0.0.1", "localhost"):  # no DNS rebinding: pages for this machine only
                return self._send(b"forbidden host", "text/plain", HTTPStatus.FORBIDDEN)
            url = urlsplit(self.path)
            path = unquote(url.path).lstrip("/") or INDEX_PAGE
            if path == "__bookbuild__/state":
                since = parse_qs(url.query).get("since", [""])[0]
                state = site.state(int(since), STATE_WAIT) if since.lstrip("-").isdigit() else site.state()
                return self._send(json.dumps(state).encode("utf-8"), "application/json")
            if path == "__bookbuild__/live.js":
                return self._send(LIVE_SCRIPT.encode("utf-8"), "text/javascript")
            page = site.page(path)
            if page is not None:
                return self._send(page, "text/html; charset=utf-8")
            file = site.file(path)
            if file is None and path.startswith("styles/"):
                file = site_files_fallback(path)
            if isinstance(file, bytes):
                return self._send(file, mimetypes.guess_type(path)[0] or "application/octet-stream")
            if file is not None:
                try:
                    data = read_book_file(file, site.roots, "resource")
                except BookError:
                    data = None
                if data is not None:
                    return self._send(data, mimetypes.guess_type(file.name)[0] or "application/octet-stream")
            if path.endswith(".html"):  # a chapter that went away: reloads when it is back
                page = MISSING_PAGE.replace(VERSION_MARK, str(site.state()["version"])).encode("utf-8")
                return self._send(page, "text/html; charset=utf-8", HTTPStatus.NOT_FOUND)
            self._send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

        def _send(self, body: bytes, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet by design
            return

    return Handler


def site_files_fallback(path: str) -> Path | None:
    """The shared sheets, so the waiting page is styled before the first good build."""
    from ..resources import stylesheet

    name = path.removeprefix("styles/")
    return stylesheet(name) if name in ("base.css", "screen.css") else None


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A page that went away mid-answer (a reload while it waited for a rebuild) is no
        error of ours: say nothing. Anything else is printed as http.server does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def start_server(site: PreviewSite, port: int, tries: int = 1) -> ThreadingHTTPServer:
    """Bind 127.0.0.1 (only) on ``port``, or the next free one of ``tries``; serve in a thread."""
    last: OSError | None = None
    for candidate in range(port, port + max(1, tries)):
        try:
            server = _Server((HOST, candidate), make_handler(site))
            break
        except OSError as exc:
            last = exc
    else:
        raise PreviewError(f"cannot listen on {HOST}:{port}: {last.strerror if last else 'unknown'}",
                           hint="choose another port with --port, or --port 0 for any free one")
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return server


def serve(site: PreviewSite, server: ThreadingHTTPServer, root: Path, stop_event: threading.Event,
          ignored: tuple[Path, ...] = ()) -> None:
    """Rebuild on every relevant change under ``root`` until ``stop_event`` or Ctrl-C; then stop."""
    try:
        for changed in watch_changes(root, stop_event, ignored):
            site.rebuild(reason=", ".join(sorted(display_path(path) for path in changed)) + " changed",
                         edited=changed)
    finally:
        server.shutdown()
        server.server_close()
