"""Make every id unique across the whole book, keeping a map from the ids authors wrote."""

from __future__ import annotations

from ..model import Book, Heading
from ..slugs import unique
from ..xhtml import iter_elements
from .bodies import Bodies
from .memo import TransformMemo


def unique_ids(book: Book, bodies: Bodies, memo: TransformMemo) -> Book:
    """Rename ids that clash with an earlier chapter's (``intro`` -> ``intro-2``).

    Each chapter keeps ``anchors``: (id as written, id in the book), so that a link
    ``02-next.md#intro`` finds the right target whatever renaming happened.
    """
    taken = {chapter.id.casefold() for chapter in book.chapters}
    taken |= {chapter.part.id.casefold() for chapter in book.chapters if chapter.part is not None}
    for chapter in book.chapters:
        for note in chapter.footnotes:
            taken.add(note.id.casefold())
            taken.update(ref.casefold() for ref in note.ref_ids)
    owner: dict[str, int] = {}
    chapters = []
    for position, chapter in enumerate(book.chapters):
        stored = memo.stored(chapter)
        if stored is not None:  # the ids it took, as a full run would take them
            taken.update(book_id.casefold() for book_id in stored.taken)
            owner.update((book_id, position) for _written, book_id in stored.anchors)
            owner[chapter.id] = position
            chapters.append(chapter.replace(headings=stored.headings, anchors=stored.anchors, title_id=stored.title_id))
            continue
        wrapper = bodies.chapter(chapter)
        renamed: dict[str, str] = {}
        anchors: list[tuple[str, str]] = []
        added: list[str] = []
        for node in iter_elements(wrapper):
            written = node.get("id")
            if not written:
                continue
            is_noteref = node.get("role") == "doc-noteref"
            book_id = written if is_noteref else unique(written, taken)
            if not is_noteref:
                added.append(book_id)
            node.set("id", book_id)
            renamed.setdefault(written, book_id)
            anchors.append((written, book_id))
            owner[book_id] = position
        for note in chapter.footnotes:
            anchors.append((note.id, note.id))
            owner[note.id] = position
        owner[chapter.id] = position
        memo.entry(chapter).taken = tuple(added)
        headings = tuple(Heading(h.level, h.text, renamed.get(h.id, h.id)) for h in chapter.headings)
        chapters.append(
            chapter.replace(
                headings=headings,
                anchors=tuple(anchors),
                title_id=renamed.get(chapter.title_id, chapter.title_id),
            )
        )
    return book.replace(chapters=tuple(chapters), id_owner=owner)
