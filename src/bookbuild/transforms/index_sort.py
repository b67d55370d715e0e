"""The order of the index: the Unicode Collation Algorithm, not code points.

A code-point sort puts every capital before every small letter and ``Äpfel`` after ``Zebra``.
The index sorts with the Unicode Collation Algorithm and its default table (DUCET, through
pyuca: pure Python, no compiled ICU needed): case and accents count only when the letters are
equal (``cote < coté < côte < côté``, ``Affe < Äpfel < Bär``), which is the order of English,
French (France) and German (DIN 5007-1, the dictionary order). Languages whose CLDR collation
tailors the table (Swedish å ä ö after z, Spanish ñ after n, Danish æ ø å) get the default
order; PyICU would tailor them but installs here only from source.

Entries are grouped under the base letter of their first character (``Ä`` under ``A``); an
entry that starts with a digit or a symbol goes under the language's "Symbols".
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any


@cache
def _collator() -> Any:
    # its table is read once (about 0.2 s), and only for a book with an index
    from pyuca import Collator

    return Collator()


def sort_key(term: str) -> tuple:
    """The key that sorts ``term`` as a reader of the language expects (see the module text);
    the term itself breaks ties, so equal-looking terms keep one order on every machine."""
    return tuple(_collator().sort_key(term.strip())), term


def sorted_terms(terms: list[str]) -> list[str]:
    """``terms`` in index order."""
    return sorted(terms, key=sort_key)


def group_letter(term: str) -> str | None:
    """The letter an entry is listed under (``Äpfel`` -> ``A``, ``été`` -> ``E``); None for
    one that begins with a digit or a symbol."""
    text = term.strip()
    if not text or not text[0].isalpha():
        return None
    base = unicodedata.normalize("NFKD", text[0])[0]
    return base.upper() if base.isalpha() else text[0].upper()
