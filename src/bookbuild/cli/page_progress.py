"""WeasyPrint's page-layout log, heard for the command line's progress bar (cli/console.py).

Apart from the console because it needs :mod:`logging`, which ``bookbuild --help`` does not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class PageProgress(logging.Handler):
    """Hears WeasyPrint's progress log ("Creating layout - Page 12") for the progress bar.

    WeasyPrint logs every page again on each repagination pass (a contents page's
    ``target-counter`` numbers settle in two or three passes; most are "up-to-date" pages),
    so a 9-page book would count 1..9 three times: each layout counts a page once, the first
    time it is laid out, and a repagination pass is said once. A new layout (the EPUB page
    list's, then the PDF's) starts the count again.
    """

    def __init__(self, show: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.show = show
        self.laid_out = 0  # the highest page of this layout shown so far

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Creating formatting structure" in message:  # WeasyPrint begins a new layout
            self.laid_out = 0
        elif (repaginating := re.search(r"layout - Repagination #(\d+)", message)) and self.laid_out:
            self.show(f"settling page numbers ({self.laid_out} pages, pass {int(repaginating[1]) + 1})")
        elif (page := re.search(r"layout - Page (\d+)", message)) and int(page[1]) > self.laid_out:
            self.laid_out = int(page[1])
            self.show(f"laying out page {self.laid_out}")


@contextmanager
def pdf_pages(show: Callable[[str], None]) -> Iterator[None]:
    """Route WeasyPrint's page-layout messages to ``show`` (the logger exists before import)."""
    logger = logging.getLogger("weasyprint.progress")
    handler, saved = PageProgress(show), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
