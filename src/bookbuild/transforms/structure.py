"""Parts, front/body/back matter and chapter numbers, from the manifest's chapter entries.

Everything before the first numbered chapter is front matter (unnumbered; roman-paged in
the PDF); chapters are numbered 1, 2, 3...; appendices A, B, C...; other kinds after the
first chapter are back matter, unnumbered. A section (a file that continues the chapter
before it) takes that chapter's matter and part and no number of its own.
"""

from __future__ import annotations

import string

from ..config.manifest import SECTION, ChapterEntry
from ..model import Book, Part


def assign_structure(book: Book, entries: tuple[ChapterEntry, ...]) -> Book:
    """Set each chapter's part (from its manifest entry), matter and number."""
    parts: list[Part] = []
    chapters = []
    numbered = appendices = 0
    body_started = not any(chapter.kind == "chapter" for chapter in book.chapters)
    for chapter, entry in zip(book.chapters, entries):
        part = None
        if entry.part is not None:
            # Consecutive chapters of one part share it; a title written again later is a new part.
            previous = chapters[-1].part if chapters else None
            if previous is not None and previous.title == entry.part:
                part = previous
            else:
                part = Part(id=f"part{len(parts) + 1:02d}", number=len(parts) + 1, title=entry.part)
                parts.append(part)
        number = None
        if chapter.kind == SECTION and chapters:  # continues its chapter: its matter, no number
            chapters.append(chapter.replace(part=part, matter=chapters[-1].matter, number=None))
            continue
        if chapter.kind == "chapter":
            body_started, numbered = True, numbered + 1
            number = str(numbered)
            matter = "body"
        elif chapter.kind == "appendix":
            appendices += 1
            number = _letter(appendices)
            matter = "back"
        else:
            matter = "back" if body_started else "front"
        chapters.append(chapter.replace(part=part, matter=matter, number=number))
    return book.replace(chapters=tuple(chapters))


def _letter(n: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return letters
