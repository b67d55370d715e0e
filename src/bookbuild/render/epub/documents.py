"""Chapter documents kept from the last build, so a rebuild renders only the chapters that changed.

A chapter's XHTML document depends on the chapter as transformed, on what it was transformed
against (``Book.chapter_keys``, transforms/memo.py: the book-wide ids its links point into
are part of that) and on the document context (language, direction, metadata, stylesheets);
bookbuild's templates are in the key through the code fingerprint. Documents with page-break
markers (``[epub] page_list``) depend on the PDF's layout and are never kept.
"""

from __future__ import annotations

import logging

from ...cache import cache_secret, keyed_hash, prune_folder, write_atomically
from ...model import Book, Chapter

logger = logging.getLogger(__name__)


class KeptDocuments:
    """The finished chapter documents in ``.bookbuild-cache/epub/``, by keyed hash."""

    def __init__(self, book: Book, context: dict) -> None:
        self.book = book
        self.folder = book.cache_dir / "epub" if book.cache_dir is not None and cache_secret() else None
        self.context = repr(sorted((name, repr(value)) for name, value in context.items()))
        self.used: set[str] = set()

    def _key(self, chapter: Chapter) -> str | None:
        transformed = self.book.chapter_keys.get(chapter.id)
        if self.folder is None or transformed is None:
            return None
        key = keyed_hash("epub document", transformed, self.context)
        self.used.add(key)
        return key

    def get(self, chapter: Chapter) -> str | None:
        """The chapter's document from an earlier build, if it was made from the same inputs."""
        key = self._key(chapter)
        if key is None or self.folder is None:
            return None
        path = self.folder / f"{key}.xhtml"
        try:
            if path.is_symlink():
                return None
            data = path.read_bytes()
        except OSError:
            return None
        # The first line names the key: a file renamed or damaged is a miss.
        head, _, document = data.partition(b"\n")
        return document.decode("utf-8") if head == key.encode() else None

    def put(self, chapter: Chapter, document: str) -> None:
        key = self._key(chapter)
        if key is None or self.folder is None:
            return
        try:
            write_atomically(self.folder / f"{key}.xhtml", key.encode() + b"\n" + document.encode("utf-8"))
        except OSError as exc:
            logger.debug("cannot keep the chapter document: %s", exc)

    def prune(self) -> None:
        """Forget documents this build did not use."""
        if self.folder is not None:
            prune_folder(self.folder, self.used, (".xhtml",))
