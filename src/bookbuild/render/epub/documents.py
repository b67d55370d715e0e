"""Chapter documents kept from the last build, so a rebuild renders only the chapters that changed.

A chapter's XHTML document depends on the chapter as transformed, on what it was transformed
against (``Book.chapter_keys``, transforms/memo.py: the book-wide ids its links point into
are part of that) and on the document context (language, direction, metadata, stylesheets);
bookbuild's templates are in the key through the code fingerprint. What the accessibility
metadata counts in the chapter (images, tables, MathML) is kept beside it, so a rebuild does
not parse the chapter for that either. Documents with page-break markers (``[epub]
page_list``) depend on the PDF's layout and are never kept.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ...cache import DecodedEntries, keyed_hash
from ...cache.packs import EntryPack
from ...model import Book, Chapter


class KeptDocuments:
    """The finished chapter documents in ``.bookbuild-cache/epub.pack``, by keyed hash.

    An entry is the key, the chapter's facts (JSON), the digest of the document context,
    and the document, a line each; the facts hold whatever the context.
    """

    def __init__(self, book: Book, cache_dir: Path | None) -> None:
        self.pack = EntryPack(cache_dir, "epub")
        self.keys: dict[str, str] = {}
        self.entries: dict[str, tuple[dict[str, int], str, str]] = {}
        self._context: tuple[dict, str] | None = None  # the document context and its digest
        if self.pack.path is None:
            return
        for chapter in book.chapters:
            transformed = book.chapter_keys.get(chapter.id)
            if transformed is not None:
                self.keys[chapter.id] = key = keyed_hash("epub document", transformed)
                entry = self._load(key)
                if entry is not None:
                    self.entries[chapter.id] = entry

    def facts(self, chapter: Chapter) -> dict[str, int] | None:
        entry = self.entries.get(chapter.id)
        return entry[0] if entry else None

    def document(self, chapter: Chapter, context: dict) -> str | None:
        """The chapter's document from an earlier build, if it was made in the same context."""
        entry = self.entries.get(chapter.id)
        return entry[2] if entry and entry[1] == self._digest(context) else None

    def put(self, chapter: Chapter, facts: dict[str, int], context: dict, document: str) -> None:
        key = self.keys.get(chapter.id)
        if key is None:
            return
        data = "\n".join((key, json.dumps(facts, sort_keys=True), self._digest(context), document))
        self.pack.put(key, data.encode("utf-8"))

    def _digest(self, context: dict) -> str:
        """The context's digest, worked out once for the build's one context."""
        if self._context is None or self._context[0] is not context:
            self._context = (context, _context_digest(context))
        return self._context[1]

    def save(self) -> None:
        """Keep the documents this build used or made, and forget the others."""
        self.pack.save()

    def _load(self, key: str) -> tuple[dict[str, int], str, str] | None:
        raw = self.pack.get(key)
        if raw is None:
            return None
        remembered = _DECODED.get(key, raw)
        if remembered is not None:  # the very bytes this process read or wrote: decoded already
            return remembered  # type: ignore[return-value]
        try:
            head, facts, context, document = raw.decode("utf-8").split("\n", 3)
            counts = json.loads(facts)
            if head != key or not all(isinstance(v, int) for v in counts.values()):
                return None  # a file renamed or damaged is a miss
            _DECODED.put(key, raw, (counts, context, document))
            return counts, context, document
        except (ValueError, AttributeError):
            return None


# Documents this process decoded, with the bytes they came from (a running process reads the
# same entry files again: cache.read_entry hands back the same bytes, compared at no cost)
_DECODED = DecodedEntries()


def _context_digest(context: dict) -> str:
    return hashlib.sha256(repr(sorted((name, repr(value)) for name, value in context.items())).encode()).hexdigest()
