"""Page list: where the PDF's pages begin, marked in the EPUB chapters."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ...model import Book


@dataclass(frozen=True)
class PageBreak:
    """Page ``label`` begins in the chapter's block at ``path``, before word ``word``."""

    label: str
    path: tuple[int, ...]
    word: int = 0

    @property
    def id(self) -> str:
        return f"page-{self.label}"


def page_breaks(book: Book) -> dict[str, tuple[PageBreak, ...]]:
    return {}


def insert_page_breaks(root: etree._Element, breaks: tuple[PageBreak, ...]) -> None:
    return None
