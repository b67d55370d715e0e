"""Never a silent box: find the characters the PDF drew without a glyph, and say how to fix it.

WeasyPrint lays text out with Pango, which falls back through every installed font; when
none has a character, Pango returns an "unknown glyph" and WeasyPrint draws ``.notdef`` (an
empty box) and logs it. We collect those reports while the PDF is drawn, so the check sees
exactly the fonts actually used, then group them by script: one warning per script, with an
example, the first chapter that shows it, and the font package that provides it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .errors import Diagnostic, Location, Reporter
from .fonts import text_of
from .model import Book
from .resources import display_path

WEASYPRINT_LOGGER = "weasyprint"
NOTDEF_MESSAGE = ".notdef glyph rendered"

# ISO 15924 script -> (Debian/Ubuntu package, macOS Homebrew cask) with open fonts for it.
FONT_PACKAGES: dict[str, tuple[str, str]] = {
    "Hani": ("fonts-noto-cjk", "font-noto-sans-cjk"),
    "Hira": ("fonts-noto-cjk", "font-noto-sans-cjk"),
    "Kana": ("fonts-noto-cjk", "font-noto-sans-cjk"),
    "Hang": ("fonts-noto-cjk", "font-noto-sans-cjk"),
    "Bopo": ("fonts-noto-cjk", "font-noto-sans-cjk"),
    "Arab": ("fonts-noto-core", "font-noto-naskh-arabic"),
    "Hebr": ("fonts-noto-core", "font-noto-sans-hebrew"),
    "Deva": ("fonts-noto-core", "font-noto-sans-devanagari"),
    "Thai": ("fonts-noto-core", "font-noto-sans-thai"),
    "Zsye": ("fonts-noto-color-emoji", "font-noto-color-emoji"),
}
DEFAULT_PACKAGES = ("fonts-noto-core fonts-noto-extra", "font-noto-sans")


@dataclass
class MissingGlyphs:
    """Code points WeasyPrint drew as ``.notdef`` during one rendering."""

    codepoints: set[int] = field(default_factory=set)


class _NotdefHandler(logging.Handler):
    def __init__(self, missing: MissingGlyphs) -> None:
        super().__init__(logging.WARNING)
        self.missing = missing

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(NOTDEF_MESSAGE) and len(record.args or ()) >= 2:
            self.missing.codepoints.add(int(record.args[1]))  # type: ignore[index]


@contextmanager
def collect_missing_glyphs() -> Iterator[MissingGlyphs]:
    """Record every character WeasyPrint draws without a glyph while the block runs."""
    missing = MissingGlyphs()
    handler = _NotdefHandler(missing)
    logger = logging.getLogger(WEASYPRINT_LOGGER)
    logger.addHandler(handler)
    try:
        yield missing
    finally:
        logger.removeHandler(handler)


def script_of(character: str) -> str:
    """The ISO 15924 code of a character's script (``Hani``, ``Arab``, ``Zyyy`` for common)."""
    from fontTools import unicodedata

    return unicodedata.script(character)


def script_name(code: str) -> str:
    from fontTools import unicodedata

    return {"Hani": "Han (Chinese characters)", "Zsye": "emoji"}.get(code) or unicodedata.script_name(code)


def missing_glyph_diagnostics(missing: MissingGlyphs, book: Book) -> list[Diagnostic]:
    """One warning per script that has characters without a glyph, in book order.

    Each names an example character, the first chapter that shows it, and the font
    packages that provide the script. ``--strict`` turns these into errors.
    """
    if not missing.codepoints:
        return []
    by_script: dict[str, list[str]] = {}
    for codepoint in sorted(missing.codepoints):
        by_script.setdefault(script_of(chr(codepoint)), []).append(chr(codepoint))
    texts = [(chapter, chapter.title + text_of(chapter.body)) for chapter in book.chapters]
    diagnostics = []
    for script, characters in sorted(by_script.items()):
        where, example = None, characters[0]
        for chapter, text in texts:
            found = next((c for c in text if c in characters), None)
            if found is not None:
                where, example = chapter.source, found
                break
        debian, brew = FONT_PACKAGES.get(script, DEFAULT_PACKAGES)
        count = f"{len(characters)} character{'s' if len(characters) != 1 else ''}"
        diagnostics.append(Diagnostic(
            "warning",
            f"no installed font has {script_name(script)} glyphs: {count} print as empty boxes in the PDF, "
            f"e.g. '{example}' U+{ord(example):04X}",
            Location(display_path(where) if where else display_path(book.manifest.path)),
            hint=f"install a font for the script: apt-get install {debian} (Debian/Ubuntu), "
                 f"brew install --cask {brew} (macOS), or name one in [book] fonts",
        ))
    return diagnostics


def report_missing_glyphs(missing: MissingGlyphs, book: Book, reporter: Reporter) -> None:
    """Hand the missing-glyph warnings to the build's reporter."""
    for diagnostic in missing_glyph_diagnostics(missing, book):
        reporter.warn(diagnostic.message, diagnostic.location.file, hint=diagnostic.hint)
