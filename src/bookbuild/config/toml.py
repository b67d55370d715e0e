"""book.toml as text and TOML: typed access to its tables, errors that point at the line.

tomllib gives values without positions; :class:`ManifestText` finds the line where a key is
written, and :class:`TableReader` checks each value's type and names its key and line when
it is wrong. The same readers read the command line's overrides (config/overrides.py).
"""

from __future__ import annotations

import datetime as _dt
import re
import tomllib
from pathlib import Path
from typing import Any

from ..errors import BookError, ManifestError
from ..files import read_book_file
from ..resources import display_path, resolve_in_book


class ManifestText:
    """The manifest text, for pointing errors at the line where a key is written."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.name = display_path(path)
        self.lines = text.splitlines()

    def line_of(self, table: str | None, key: str | None = None, needle: str | None = None) -> int | None:
        current: str | None = None
        first_in_table: int | None = None
        key_line: int | None = None
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            header = re.match(r"^\[\s*([^\]\s]+)\s*\]", line)
            if header:
                current = header.group(1)
                if current == table and first_in_table is None:
                    first_in_table = number
                continue
            if current != table:
                continue
            if needle is not None and needle in raw:
                return number
            if key is not None and key_line is None and re.match(rf"^{re.escape(key)}\s*=", line):
                if needle is None:
                    return number
                key_line = number  # the needle may be written escaped: fall back to the key's line
        return key_line or first_in_table

    def error(self, message: str, table: str | None, key: str | None = None,
              needle: str | None = None, hint: str | None = None) -> ManifestError:
        return ManifestError(message, self.name, self.line_of(table, key, needle), hint=hint)

    def shown(self, table: str, key: str | None = None) -> str:
        """The table as the file writes it (an mdBook book.toml writes ``[pdf]`` elsewhere)."""
        return table


# tomllib's terse messages, explained for the mistakes authors make most; {fixed} is the
# broken line's own key and value as they should be written (see _fixed_value).
_TOML_HINTS = {
    "Invalid value": "put text in double quotes: {fixed}",
    "Unclosed array": "separate the items with commas and close the list with ]",
    "Expected '=' after a key in a key/value pair": 'write one key = value per line',
    "Cannot overwrite a value": "a key is written twice; keep one",
    "Unclosed string": "close the text with the same quote it opens with: {fixed}",
    "Illegal character '\\n'": "close the text on the same line: {fixed}",
}
_KEY_VALUE = re.compile(r'^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$')

def read_toml(path: Path) -> tuple[ManifestText, dict]:
    """The manifest's text and its TOML, or a ManifestError at the line TOML stopped at."""
    raw = read_book_file(path, path.parent, "manifest", error=ManifestError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError("not valid UTF-8", display_path(path), line) from None
    source = ManifestText(path, text)
    try:
        return source, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        line, col = (int(match.group(1)), int(match.group(2))) if match else (len(source.lines) or None, None)
        hint = _TOML_HINTS.get(message.split(" (")[0])
        if hint is not None and "{fixed}" in hint:
            hint = hint.format(fixed=_fixed_value(source.lines[line - 1] if line and line <= len(source.lines) else "",
                                                  col))
        raise ManifestError(f"malformed TOML: {message}", source.name, line, col, hint=hint) from None


def _fixed_value(line: str, col: int | None) -> str:
    """The broken line's value as TOML text, for the hint: ``language = "en`` -> ``language =
    "en"``; an unquoted word in a list (``[intro.md]``) -> ``"intro.md"``."""
    match = _KEY_VALUE.match(line)
    if match is None:
        return 'key = "text"'
    key, value = match.groups()
    if value.startswith("[") and col:  # one item of a list: quote the word at the column
        word = re.match(r"[^,\]\s]+", line[col - 1:]) if col <= len(line) else None
        return f'"{word.group(0).strip(chr(34))}"' if word else f'{key} = ["text"]'
    text = value.strip().strip("\"'")
    return f'{key} = "{text}"' if text else f'{key} = "text"'



class TableReader:
    """Typed access to one TOML table, raising errors that name the key and its line."""

    def __init__(self, source: ManifestText, table: str, values: dict[str, Any]) -> None:
        self.source, self.table, self.values = source, table, values

    def _fail(self, key: str, expected: str, value: Any) -> ManifestError:
        return self.source.error(f"[{self.table}] {key}: expected {expected}, got {type_name(value)}",
                                 self.table, key)

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.values.get(key)
        if value is None:
            if required:
                raise self.source.error(f"[{self.table}] {key}: required key missing", self.table)
            return None
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        if required and not value.strip():
            raise self.source.error(f"[{self.table}] {key}: must not be empty", self.table, key)
        return value

    def string_list(self, key: str, required: bool = False) -> list[str]:
        value = self.values.get(key)
        if value is None:
            if required:
                raise self.source.error(f"[{self.table}] {key}: required key missing", self.table)
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings", value)
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.string(key)
        if value is not None and value not in choices:
            close = closest(value, choices)
            raise self.source.error(f"[{self.table}] {key}: '{value}' is not one of {', '.join(choices)}",
                                    self.table, key, hint=f"did you mean '{close}'?" if close else None)
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def date(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, _dt.datetime):  # 2020-06-16T10:00:00Z: the day the author wrote
            return value.date().isoformat()
        if isinstance(value, _dt.date):
            return value.isoformat()
        problem = _date_problem(value) if isinstance(value, str) else ""
        if problem is None:
            return value
        shown = f"'{value}'" if isinstance(value, str) else type_name(value)
        message = f"{shown} is not a date: {problem}" if problem else \
            f"{shown} is not a date written YYYY, YYYY-MM or YYYY-MM-DD"
        day = re.match(r"\d{4}-\d{2}-\d{2}(?=[T ])", value) if isinstance(value, str) else None
        hint = f'write the day alone: {key} = "{day.group(0)}"' if day else \
            f'for example {key} = "2020", "2020-06" or 2020-06-16'
        raise self.source.error(f"[{self.table}] {key}: {message}", self.table, key, hint=hint)

    def file(self, name: str, key: str, what: str) -> Path:
        folder, what = self.source.path.parent, f"[{self.table}] {key}: {what}"
        try:
            return resolve_in_book(folder, folder, name, what=what, file=self.source.name, error=ManifestError)
        except BookError:  # the line is looked for only now: a long book lists many files
            line = self.source.line_of(self.table, key, needle=name) or self.source.line_of(self.table, key)
            return resolve_in_book(folder, folder, name, what=what, file=self.source.name, line=line,
                                   error=ManifestError)


def type_name(value: Any) -> str:
    return {
        str: "a string", int: "an integer", float: "a number", bool: "true/false",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)


def closest(value: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The choice ``value`` was meant to be: the same word in other case ("APA", "Footnote"),
    else one written nearly so ("footnotes", "color"); None when none is close."""
    import difflib

    folded = {choice.casefold(): choice for choice in choices}
    if value.strip().casefold() in folded:
        return folded[value.strip().casefold()]
    close = difflib.get_close_matches(value.strip().casefold(), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _date_problem(text: str) -> str | None:
    """What is wrong with a date written as text ("month 13 does not exist", "day 31: June 2020
    has 30 days"; "" when it is not written ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` at all), or
    None for a real date of one of those forms (EPUB's dc:date)."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text)
    if match is None:
        return ""
    year, month, day = (int(part) if part else 1 for part in match.groups())
    if not 1 <= month <= 12:
        return f"month {match.group(2)} does not exist (01 to 12)"
    try:
        _dt.date(year, month, day)
    except ValueError:
        if year == 0:
            return "year 0000 does not exist"
        last = (_dt.date(year + (month == 12), month % 12 + 1, 1) - _dt.timedelta(days=1)).day
        return f"day {match.group(3)}: {_MONTHS[month - 1]} {year} has {last} days"
    return None
