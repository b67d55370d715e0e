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

from ...errors import Diagnostic, Location, Reporter
from ...model import Book
from ...resources import display_path
from ...xhtml import body_text

WEASYPRINT_LOGGER = "weasyprint"
CJK_SCRIPTS = {"Hira": "Hani", "Kana": "Hani", "Hang": "Hani", "Bopo": "Hani"}
# Full-width punctuation and CJK compatibility forms: common to no script, set by CJK fonts.
CJK_FORMS = ((0x3000, 0x303F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
NOTDEF_MESSAGE = ".notdef glyph rendered"

# ISO 15924 script -> (Debian/Ubuntu package, open font family to install on macOS) for it.
FONT_PACKAGES: dict[str, tuple[str, str]] = {
    "Hani": ("fonts-noto-cjk", "Noto Sans CJK / Noto Serif CJK"),
    "Arab": ("fonts-noto-core", "Noto Naskh Arabic"),
    "Hebr": ("fonts-noto-core", "Noto Serif Hebrew"),
    "Deva": ("fonts-noto-core", "Noto Serif Devanagari"),
    "Thai": ("fonts-noto-core", "Noto Serif Thai"),
    "Zsye": ("fonts-noto-color-emoji", "Noto Color Emoji"),
}
DEFAULT_PACKAGES = ("fonts-noto-core fonts-noto-extra", "the Noto font for the script")


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
    """The ISO 15924 code of the script a character belongs to (``Hani``, ``Arab``, ...).

    Shared characters (CJK punctuation, Arabic comma) count for the script that uses them,
    and kana and hangul count as CJK (``Hani``): one CJK font package provides them all,
    so a missing CJK font is one warning; ``Zyyy`` (common) is what no script claims.
    """
    from fontTools import unicodedata

    script = unicodedata.script(character)
    if script not in ("Zyyy", "Zinh"):
        return CJK_SCRIPTS.get(script, script)
    extensions = {CJK_SCRIPTS.get(s, s) for s in unicodedata.script_extension(character)} - {"Zyyy", "Zinh"}
    if "Hani" in extensions or any(low <= ord(character) <= high for low, high in CJK_FORMS):
        return "Hani"
    return sorted(extensions)[0] if extensions else script


def script_name(code: str) -> str:
    from fontTools import unicodedata

    return {"Hani": "CJK (Chinese, Japanese or Korean)", "Zsye": "emoji"}.get(code) or unicodedata.script_name(code)


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
    texts = [(chapter, chapter.title + body_text(chapter.body)) for chapter in book.chapters]
    diagnostics = []
    for script, characters in sorted(by_script.items()):
        where, example = None, characters[0]
        for chapter, text in texts:
            found = next((c for c in text if c in characters), None)
            if found is not None:
                where, example = chapter.source, found
                break
        debian, family = FONT_PACKAGES.get(script, DEFAULT_PACKAGES)
        count = f"{len(characters)} characters print" if len(characters) != 1 else "1 character prints"
        diagnostics.append(Diagnostic(
            "warning",
            f"no installed font has {script_name(script)} glyphs: {count} as empty boxes in the PDF, "
            f"e.g. '{example}' U+{ord(example):04X}",
            Location(display_path(where) if where else display_path(book.source)),
            hint=f"install a font for the script: apt-get install {debian} (Debian/Ubuntu), "
                 f"on macOS {family} from fonts.google.com/noto, or name a font file in [book] fonts",
        ))
    return diagnostics


def report_missing_glyphs(missing: MissingGlyphs, book: Book, reporter: Reporter) -> None:
    """Hand the missing-glyph warnings to the build's reporter."""
    for diagnostic in missing_glyph_diagnostics(missing, book):
        reporter.warn(diagnostic.message, diagnostic.location.file, hint=diagnostic.hint)
