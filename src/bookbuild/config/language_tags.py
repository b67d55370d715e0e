"""Is the book's ``language`` a real BCP 47 tag? Asked of langcodes (the IANA registry).

langcodes takes about a tenth of a second to import, which a rebuild after one edit cannot
spend every time; so a tag it accepted once is remembered in the user's cache folder (not
the book's: a book cannot ship the answer), and the languages bookbuild has labels for are
known without asking. A tag it refuses gets a suggestion: the standard spelling of the same
tag (``en_us`` -> ``en-US``), or the tag of a language named in words (``english`` -> ``en``).
"""

from __future__ import annotations

from functools import cache

from ..errors import BookError
from ..files import read_own_file, user_cache_folder, write_atomically
from .labels import LABELS

_REMEMBERED = "language-tags.txt"  # in <user cache>/bookbuild/: one accepted tag a line


def language_problem(tag: str) -> str | None:
    """None when ``tag`` is a valid BCP 47 tag; else the hint to give (a suggestion)."""
    if tag.casefold() in LABELS or tag in _remembered():
        return None
    import langcodes

    if langcodes.tag_is_valid(tag) and "_" not in tag:
        _remember(tag)
        return None
    suggestion = _suggestion(tag)
    return f"did you mean '{suggestion}'?" if suggestion else "for example en, en-GB, fr, zh-Hans"


def _suggestion(tag: str) -> str | None:
    import langcodes

    try:
        standard = langcodes.standardize_tag(tag.replace("_", "-"))
        if langcodes.tag_is_valid(standard):
            return standard
    except (ValueError, LookupError):
        pass
    try:  # a language named in words; the names come with the optional language_data package
        return langcodes.find(tag).to_tag()
    except (ImportError, LookupError, ValueError):
        return None


@cache
def _remembered() -> frozenset[str]:
    try:
        return frozenset(read_own_file(user_cache_folder() / "bookbuild" / _REMEMBERED).decode().split())
    except (BookError, UnicodeDecodeError):
        return frozenset()


def _remember(tag: str) -> None:
    path = user_cache_folder() / "bookbuild" / _REMEMBERED
    try:
        write_atomically(path, "\n".join(sorted(_remembered() | {tag})).encode() + b"\n")
    except (OSError, BookError):
        return  # a read-only home: the answer is asked again next time
    _remembered.cache_clear()
