"""The stylesheets WeasyPrint lays a PDF out with: bookbuild's own parsed quietly, the author's
with what WeasyPrint skips in them reported at their ``file:line``.

WeasyPrint logs every declaration it skips, without naming the sheet. base.css is shared with
the EPUB and holds properties EPUB reading systems use and WeasyPrint does not know
(``text-emphasis``, ``line-break``, ``text-justify``, ``word-break: keep-all`` for Chinese,
Japanese and Korean): those complaints are about bookbuild, not the book, so they are kept
from the user (tests/test_pdf.py checks that WeasyPrint finds nothing else to skip in
bookbuild's sheets). What it skips in the author's stylesheets is the author's to know: each
becomes a warning of the Reporter, with the sheet, line and column. Kept from the handlers
means kept from the root logger too, which a library's ``logging.basicConfig`` (ziafont's
first log call, when formulas are drawn) would otherwise print on every build.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import Reporter
from ...files import read_book_file, read_own_file
from ...model import Book
from ...resources import display_path
from .glyphs import WEASYPRINT_LOGGER

HINT = "WeasyPrint, which lays out the PDF, skips it"
_AT = re.compile(r" at (\d+):(\d+)")
logger = logging.getLogger(__name__)


def load_stylesheets(files: tuple[Path, ...], css: str, book: Book, reporter: Reporter, fetcher: Any,
                     fonts: Any, counters: Any = None, shared_fonts: bool = False) -> list[Any]:
    """WeasyPrint's CSS objects, in cascade order: the shared sheets (the first of ``files``),
    the generated ``css``, then the book's (the last ``len(book.styles)`` of ``files``); each
    file's bytes read through files.py (WeasyPrint would open the files itself).

    ``counters`` (a WeasyPrint ``CounterStyle``, given to the layout too) collects the sheets'
    ``@counter-style`` rules: without it WeasyPrint drops them (the generated sheet's
    ``book-digits``, the language's digits; an author's own). With ``shared_fonts`` (``fonts``
    serves many layouts), bookbuild's own sheets are parsed once for it (:func:`_own_sheet`)."""
    from weasyprint import CSS

    shared = len(files) - len(book.styles)
    with _weasyprint_messages() as ours:
        sheets = [_own_sheet(path, fetcher, fonts, counters, shared_fonts) for path in files[:shared]]
        sheets.append(CSS(string=css, url_fetcher=fetcher, font_config=fonts, counter_style=counters))
    for record in ours:
        logger.debug("bookbuild's stylesheets: %s", record.getMessage())
    for path in files[shared:]:
        data = epub_type_selectors(read_book_file(path, book.root, "stylesheet"))
        with _weasyprint_messages() as theirs:
            sheets.append(CSS(file_obj=io.BytesIO(data), base_url=path.as_uri(), url_fetcher=fetcher,
                              font_config=fonts, counter_style=counters))
        for record in theirs:
            _report(record, path, reporter)
    return sheets


# bookbuild's own sheets as parsed for a font configuration shared by many layouts (a worker
# of the chapter-parallel PDF lays out every piece with one: parallel/pieces.py): parsing
# base.css, print.css and the theme was a twelfth of each piece's layout and drawing.
_OWN_SHEETS: dict[str, tuple[bytes, Any, Any, dict, dict]] = {}


def _own_sheet(path: Path, fetcher: Any, fonts: Any, counters: Any, shared_fonts: bool) -> Any:
    """One of bookbuild's sheets, parsed; with ``shared_fonts``, as parsed for an earlier
    layout with the same ``fonts`` (the same bytes: WeasyPrint reuses a parsed sheet as it is). What that parse
    fetched (``@import``, ``@font-face``) is listed in this layout's fetches too, as the
    pieces' cache needs (parallel/cache.py), and the ``@counter-style`` rules it gave go
    into this layout's ``counters``."""
    from weasyprint import CSS

    data = read_own_file(path)
    kept = _OWN_SHEETS.get(str(path))
    if shared_fonts and kept is not None and kept[0] == data and kept[1] is fonts:
        _, _, sheet, fetched, rules = kept
        getattr(fetcher, "fetched", {}).update(fetched)
        if counters is not None:
            counters.update(rules)
        return sheet
    fetched_before = dict(getattr(fetcher, "fetched", {}))
    rules_before = dict(counters or {})
    sheet = CSS(file_obj=io.BytesIO(data), base_url=path.as_uri(), url_fetcher=fetcher, font_config=fonts,
                counter_style=counters)
    if shared_fonts:
        fetched = {url: digest for url, digest in getattr(fetcher, "fetched", {}).items() if url not in fetched_before}
        rules = {name: rule for name, rule in (counters or {}).items() if rules_before.get(name) is not rule}
        _OWN_SHEETS[str(path)] = (data, fonts, sheet, fetched, rules)
    return sheet


_EPUB_NAMESPACE = re.compile(rb'@namespace\s+epub\s+(?:url\()?["\']?http://www\.idpf\.org/2007/ops["\']?\)?\s*;')
_EPUB_TYPE_SELECTOR = re.compile(rb"\[\s*epub\|type\b")


def epub_type_selectors(css: bytes) -> bytes:
    """``[epub|type~="x"]`` as ``[data-epub-type~="x"]``, the model's name for it: WeasyPrint
    knows no ``@namespace``, so it would drop every rule that selects on the author's
    semantics (Standard Ebooks' sheets are made of them). The ``@namespace`` rule becomes
    spaces, so lines and columns of the rest stay where the author wrote them."""
    if b"epub|" not in css:
        return css
    css = _EPUB_NAMESPACE.sub(lambda match: b" " * len(match.group()), css)
    return _EPUB_TYPE_SELECTOR.sub(b"[data-epub-type", css)


@contextmanager
def _weasyprint_messages() -> Iterator[list[logging.LogRecord]]:
    """WeasyPrint's complaints about the text of the sheets parsed while the block runs (its
    warnings with a line and column), taken before any handler sees them: a logger's filter
    stops a record there, so it does not reach the root logger either. Its other messages (a
    font it could not load) go on as before."""
    records: list[logging.LogRecord] = []

    class Take(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if record.levelno < logging.WARNING or not _AT.search(record.getMessage()):
                return True
            records.append(record)
            return False

    take = Take()
    weasyprint_logger = logging.getLogger(WEASYPRINT_LOGGER)
    weasyprint_logger.addFilter(take)
    try:
        yield records
    finally:
        weasyprint_logger.removeFilter(take)


def _report(record: logging.LogRecord, path: Path, reporter: Reporter) -> None:
    """A warning at the sheet's line and column ("Ignored `x: y` at 2:13, unknown property.")."""
    message = record.getMessage()
    place = _AT.search(message)
    if place is None:  # not taken by _weasyprint_messages
        return
    text = (message[:place.start()] + message[place.end():]).rstrip(".")
    reporter.warn(f"PDF: {text[:1].lower()}{text[1:]}", display_path(path), int(place.group(1)),
                  int(place.group(2)), hint=HINT)
