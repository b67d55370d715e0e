"""A book's bibliography files -> CSL-JSON items: BibTeX through pybtex, CSL-JSON as written.

The citation stage (transforms/citations.py) formats with citeproc-py, which reads CSL-JSON.
BibTeX is parsed by pybtex, whose errors name the line, and mapped here to CSL's variables
(the glue that is ours: entry types, fields, names, dates; LaTeX accents decoded by
latexcodec). Every file is read through the one reader of book files. A malformed file is a
:class:`SourceError` naming the file and the line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..files import read_book_file
from ..resources import display_path

# BibTeX (and the common biblatex) entry types -> CSL types; anything else is a "book".
_TYPES = {
    "article": "article-journal", "book": "book", "booklet": "pamphlet", "inbook": "chapter",
    "incollection": "chapter", "inproceedings": "paper-conference", "conference": "paper-conference",
    "manual": "book", "mastersthesis": "thesis", "phdthesis": "thesis", "thesis": "thesis", "misc": "article",
    "online": "webpage", "www": "webpage", "electronic": "webpage", "proceedings": "book",
    "techreport": "report", "report": "report", "unpublished": "manuscript", "periodical": "article-journal",
}
# BibTeX field -> CSL variable, for the fields that map one to one.
_FIELDS = {
    "title": "title", "journal": "container-title", "journaltitle": "container-title",
    "booktitle": "container-title", "publisher": "publisher", "address": "publisher-place",
    "location": "publisher-place", "volume": "volume", "edition": "edition", "series": "collection-title",
    "doi": "DOI", "url": "URL", "isbn": "ISBN", "issn": "ISSN", "note": "note", "chapter": "chapter-number",
    "type": "genre", "pages": "page",
}
_PUBLISHER_STAND_INS = ("institution", "school", "organization")  # who publishes a report or thesis
_ROLES = {"author": "author", "editor": "editor", "translator": "translator"}
_MONTHS = {name: number for number, name in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_COMMAND = re.compile(r"\\([A-Za-z]+)\s*(\{)?")
_ENTRY_START = re.compile(r"^\s*@\s*(\w+)\s*[{(]\s*([^,\s]*)", re.MULTILINE)


def read_references(paths: tuple[Path, ...], root: Path) -> list[dict[str, Any]]:
    """Every item of the bibliography files, in order; a key given twice keeps its first item."""
    items: dict[str, dict[str, Any]] = {}
    for path in paths:
        raw = read_book_file(path, root, "bibliography")
        name = display_path(path)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError("not valid UTF-8", name, raw[: exc.start].count(b"\n") + 1,
                              hint="save the file as UTF-8") from None
        read = _csl_json if path.suffix.lower() == ".json" else _bibtex
        for item in read(text, name):
            items.setdefault(item["id"].lower(), item)
    return list(items.values())


def _bibtex(text: str, name: str) -> list[dict[str, Any]]:
    from pybtex.database import BibliographyDataError
    from pybtex.database.input.bibtex import Parser
    from pybtex.scanner import PybtexError, PybtexSyntaxError

    try:
        data = Parser().parse_string(text)
    except PybtexSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        if "premature end of file" in str(exc):  # the line to look at is where the open entry starts
            entry = _open_entry(text, len(text))
            if entry is not None:
                raise SourceError(f"malformed BibTeX: the entry '{entry[0]}' is not closed before the end of the file",
                                  name, entry[1], hint="close each field's { or \" and the entry's own brace") from None
        raise SourceError(f"malformed BibTeX: {_pybtex_message(exc)}", name, line,
                          hint=_unclosed_hint(text, line)) from None
    except BibliographyDataError as exc:
        key = str(exc).rpartition(":")[2].strip()
        starts = [text.count("\n", 0, m.start(1)) + 1 for m in _ENTRY_START.finditer(text) if m.group(2) == key]
        raise SourceError(f"malformed BibTeX: {exc}", name, starts[1] if len(starts) > 1 else None,
                          hint=f"give each entry its own key; '{key}' is used twice") from None
    except PybtexError as exc:
        raise SourceError(f"malformed BibTeX: {exc}", name) from None
    return [_bibtex_item(key, entry) for key, entry in data.entries.items()]


def _pybtex_message(exc: Exception) -> str:
    return re.sub(r"^syntax error in line \d+:\s*", "", str(exc))


def _open_entry(text: str, offset: int) -> tuple[str, int] | None:
    """The key and first line of the last entry that starts before ``offset``."""
    entries = [m for m in _ENTRY_START.finditer(text) if m.start() < offset]
    if not entries:
        return None
    return entries[-1].group(2), text.count("\n", 0, entries[-1].start(1)) + 1


def _unclosed_hint(text: str, line: int | None) -> str | None:
    """The entry the parser was in when it failed: a brace or quote opened there is not closed."""
    if not line:
        return None
    entry = _open_entry(text, sum(len(row) + 1 for row in text.split("\n")[: line - 1]))
    if entry is None:
        return "a BibTeX entry starts with @type{key, and holds field = {value} pairs separated by commas"
    return (f"check the entry '{entry[0]}' that starts at line {entry[1]}: a brace or quote opened in it "
            "is not closed, or a comma between two fields is missing")


def _bibtex_item(key: str, entry: Any) -> dict[str, Any]:
    """One pybtex entry as a CSL-JSON item."""
    kind = entry.type.lower()
    item: dict[str, Any] = {"id": key, "type": _TYPES.get(kind, "book")}
    fields = {name.lower(): _plain(value) for name, value in entry.fields.items()}
    for field, value in fields.items():
        variable = _FIELDS.get(field)
        if variable is not None and value:
            item.setdefault(variable, value)
    if kind == "article" and "number" in fields:
        item["issue"] = fields["number"]
    elif "number" in fields:
        item["number"] = fields["number"]
    if "page" in item:
        item["page"] = item["page"].replace("\u2013", "-")
    for stand_in in _PUBLISHER_STAND_INS:
        if stand_in in fields:
            item.setdefault("publisher", fields[stand_in])
    if kind in ("phdthesis", "mastersthesis"):
        item.setdefault("genre", "PhD thesis" if kind == "phdthesis" else "Master's thesis")
    issued = _date(fields.get("date"), fields.get("year"), fields.get("month"))
    if issued:
        item["issued"] = issued
    accessed = _date(fields.get("urldate"), None, None)
    if accessed:
        item["accessed"] = accessed
    for role, people in entry.persons.items():
        if role.lower() in _ROLES:
            item[_ROLES[role.lower()]] = [_name(person) for person in people]
    return item


def _name(person: Any) -> dict[str, str]:
    family = " ".join(_plain(part) for part in person.last_names)
    given = " ".join(_plain(part) for part in person.first_names + person.middle_names)
    if not given and len(person.last_names) == 1 and person.last_names[0].startswith("{"):
        return {"literal": family}  # {World Health Organization}: a body, not a person
    name = {"family": family, "given": given}
    if person.prelast_names:
        name["non-dropping-particle"] = " ".join(_plain(part) for part in person.prelast_names)
    if person.lineage_names:
        name["suffix"] = " ".join(_plain(part) for part in person.lineage_names)
    return {part: value for part, value in name.items() if value}


def _date(date: str | None, year: str | None, month: str | None) -> dict[str, Any] | None:
    """``date = {2004-06-16}`` (biblatex) or ``year``/``month`` (BibTeX) as CSL date parts."""
    if date:
        match = re.match(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", date)
        if match:
            return {"date-parts": [[int(part) for part in match.groups() if part]]}
        return {"literal": date}
    if not year:
        return None
    if not year.strip().isdigit():
        return {"literal": year}
    parts = [int(year)]
    number = _MONTHS.get((month or "").strip().lower()[:3]) or (int(month) if (month or "").strip().isdigit() else None)
    if number and 1 <= number <= 12:
        parts.append(number)
    return {"date-parts": [parts]}


def _plain(value: str) -> str:
    """A BibTeX value as text: accents and dashes decoded, commands and braces dropped."""
    import codecs

    import latexcodec  # noqa: F401 - registers the "ulatex" codec

    text = codecs.decode(str(value), "ulatex")
    text = _COMMAND.sub(lambda m: "" if m.group(2) else m.group(1), text)
    return " ".join(text.replace("{", "").replace("}", "").split())


def _csl_json(text: str, name: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"malformed CSL-JSON: {exc.msg}", name, exc.lineno, exc.colno) from None
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        raise SourceError("CSL-JSON must be a list of items", name, 1, hint='[{"id": "key", "type": "book", ...}]')
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("id"), (str, int)):
            needle = f'"id": {json.dumps(item.get("id"))}' if isinstance(item, dict) else None
            line = text.count("\n", 0, text.find(needle)) + 1 if needle and needle in text else None
            raise SourceError(f"CSL-JSON item {number} has no \"id\" (the key citations use)", name, line)
        item["id"] = str(item["id"])
        item.setdefault("type", "book")
    return data
