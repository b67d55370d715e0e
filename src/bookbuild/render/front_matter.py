"""What the title and copyright pages print, the same for every format: dates in the book's
language (Babel's CLDR data), the copyright notice, and an identifier only when a reader can
use it.

The templates call these as jinja globals (render/templates.py): ``printed_date(meta.date,
meta.language)`` and ``copyright_page(meta)``. The package metadata (the OPF's ``dc:date``, the
PDF's ``dcterms.created``) keeps the ISO date: that is for machines.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..cache import derived_file
from ..config.manifest import BookMeta

# CLDR skeletons for the precision the author gave: a year, a month of a year, or a day.
_SKELETONS = {1: "y", 2: "yMMMM"}
# A rights text that is already a copyright notice: no second "© year holder" line before it.
_NOTICE = re.compile(r"^\s*(©|\(c\)|copyright\b|copr\.)", re.IGNORECASE)
_ISBN = ("urn:isbn:", "isbn:")
_DOI = ("urn:doi:", "doi:")


def printed_date(date: str | None, language: str) -> str:
    """``2020-06-16`` as the book's language writes it ("June 16, 2020", "16 juin 2020",
    "16. Juni 2020"); ``2020-06`` as month and year, ``2020`` as the year. The date is
    validated in config/ (YYYY, YYYY-MM or YYYY-MM-DD); a language Babel does not know prints
    in English rather than failing the build."""
    if not date:
        return ""
    kept = _WORDS.get(("date", date, language))
    return kept if kept is not None else _printed_date(date, language)


@lru_cache(maxsize=64)
def _printed_date(date: str, language: str) -> str:
    from babel.dates import (  # lazy: Babel loads locale data
        format_date,
        format_skeleton,
    )

    parts = [int(part) for part in date.split("-")]
    day = datetime.date(parts[0], *(parts[1:] + [1, 1])[:2])
    locale = _locale(language)
    if len(parts) >= 3:
        return format_date(day, "long", locale=locale)
    return format_skeleton(_SKELETONS[len(parts)], day, locale=locale)


@lru_cache(maxsize=32)
def _locale(language: str):
    """The CLDR locale for a BCP 47 tag, falling back to its language alone, then English."""
    from babel import Locale, UnknownLocaleError

    for tag in (language, language.split("-")[0]):
        try:
            return Locale.parse(tag, sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("en")


@dataclass(frozen=True)
class CopyrightPage:
    """The lines of the copyright page that are not plain metadata."""

    notice: str | None  # "© 2020 Qi Jun", or None when the rights text is the notice itself
    date: str  # the publication date as the book's language prints it ("" when not given)
    identifier_name: str | None  # "ISBN", "DOI", or None for a URL (printed as it is)
    identifier: str | None  # None: not meaningful to a reader (a generated urn:uuid, a private id)
    separator: str = ", "  # between the publisher and the date, and the authors: the language's list separator


def copyright_page(meta: BookMeta) -> CopyrightPage:
    """The copyright notice and identifier of the book, shared by the EPUB and the PDF.

    The holder is the authors unless ``rights`` begins as a notice of its own ("Copyright
    2025 Paula Printer. CC BY 4.0."); the year is the publication date's, or, for a book
    without ``date``, the year of the build (``SOURCE_DATE_EPOCH``'s when set, so that a
    reproducible build prints the same year). The identifier is
    printed when it is an ISBN, a DOI or a URL: a ``urn:uuid:`` bookbuild made up, or any
    other opaque id, tells a reader nothing."""
    notice = None
    separator = list_separator(meta.language)
    if not (meta.rights and _NOTICE.match(meta.rights)):
        year = meta.date[:4] if meta.date else build_year()
        notice = f"© {year} {separator.join(meta.authors)}"
    name, value = _identifier(meta.identifier)
    return CopyrightPage(notice=notice, date=printed_date(meta.date, meta.language), identifier_name=name,
                         identifier=value, separator=separator)


def build_year() -> str:
    """The year of this build: ``SOURCE_DATE_EPOCH``'s (reproducible-builds.org) when set, else today's."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    now = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc) if epoch.isdigit() else \
        datetime.datetime.now(tz=datetime.timezone.utc)
    return str(now.year)


def list_separator(language: str) -> str:
    """What separates the items of a list in the book's language: ", " in English, "、" in
    Japanese and Chinese, "، " in Urdu (CLDR's list pattern through Babel). A language whose
    pattern joins with a word (Arabic's "و", "and") gets ", "."""
    kept = _WORDS.get(("separator", language))
    return kept if kept is not None else _list_separator(language)


@lru_cache(maxsize=32)
def _list_separator(language: str) -> str:
    pattern = _locale(language).list_patterns["standard"]["start"]
    separator = pattern.replace("{0}", "").replace("{1}", "")
    return ", " if not separator or any(char.isalpha() for char in separator) else separator


def _identifier(identifier: str) -> tuple[str | None, str | None]:
    lowered = identifier.lower()
    for schemes, name in ((_ISBN, "ISBN"), (_DOI, "DOI")):
        for scheme in schemes:
            if lowered.startswith(scheme):
                return name, identifier[len(scheme):]
    if lowered.startswith(("https://", "http://")):
        return None, identifier
    return None, None


# The title page's words as the book's cache kept them: (what, *arguments) -> text
_WORDS: dict[tuple[str, ...], str] = {}


def remember_title_page_words(meta: BookMeta, folder: Path | None) -> None:
    """Take the title page's words (the list separator, the printed date) from the book's cache
    ``folder``, or make them with Babel and keep them there. Importing Babel and loading its
    locale data was a tenth of the CPU of an EPUB rebuild run as a new command. The entry's name
    is keyed by bookbuild's code and the distributions beside Babel (cache.code_fingerprint),
    so a new Babel makes the words afresh."""
    def make() -> bytes:
        words = [_list_separator(meta.language), _printed_date(meta.date, meta.language) if meta.date else ""]
        return json.dumps(words, ensure_ascii=False).encode("utf-8")

    try:
        separator, date = json.loads(derived_file(folder, "words", [meta.language, meta.date or ""], make))
    except (ValueError, TypeError):
        return  # a damaged entry: the templates ask Babel
    if isinstance(separator, str) and isinstance(date, str):
        _WORDS[("separator", meta.language)] = separator
        if meta.date:
            _WORDS[("date", meta.date, meta.language)] = date
