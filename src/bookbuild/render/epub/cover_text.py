"""The generated cover's text as runs: one font per script, in the order the eye reads them.

Pillow draws a string in one font, and no serif font has every script: a Persian title in a
Latin font is empty boxes, a Latin author's name in an Arabic font too. So the cover's text
is cut into runs of one script and one direction, each drawn in a font fontconfig picks for
that script (with the book's language, so Persian gets Persian forms), and the runs of a line
are put in visual order by a small version of the Unicode bidi algorithm: enough for a title
line (strong letters, neutrals between them), not for nested embeddings. Pillow's RAQM layout
shapes and orders the text inside each run (Arabic letters joined); without RAQM a
right-to-left run is drawn reversed, its letters unjoined (the fallback says so once).
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ...config.languages import CJK_CHARACTER, language_facts

# Families tried first for each script (what base.css sets the book in), then fontconfig's
# choice for the script's language: Noto Nastaliq, its first choice for Persian, needs twice
# the line height and is not the face of the book's text.
FAMILIES = {"arab": "Noto Naskh Arabic", "hebr": "Noto Serif Hebrew", "latn": "Noto Serif"}
SCRIPT_LANGUAGES = {"arab": "ar", "hebr": "he", "latn": "en", "cjk": "zh-cn"}
# Fonts tried when fontconfig is absent: Debian's fonts-noto-core and fonts-dejavu-core.
FALLBACK_FONTS = {
    "bold": ("/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf",
             "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
             "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    "regular": ("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
                "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
}


@dataclass(frozen=True)
class Run:
    """Text of one font and one direction, in logical order."""

    text: str
    font_file: str | None
    rtl: bool


def script_of(char: str) -> str | None:
    """``arab``, ``hebr``, ``cjk`` or ``latn`` (any other left-to-right letter) for a strong
    character; None for the neutrals (spaces, punctuation, digits) that go with their neighbours."""
    if CJK_CHARACTER.match(char):
        return "cjk"
    kind = unicodedata.bidirectional(char)
    if kind == "AL":
        return "arab"
    if kind == "R":
        return "hebr"
    return "latn" if kind == "L" else None


def logical_runs(text: str, weight: str, language: str, rtl: bool, start: int = 0, end: int | None = None) -> list[Run]:
    """``text[start:end]`` (a line of the paragraph ``text``) cut into runs of one font and
    direction. A neutral takes the direction of the letters on both sides in the paragraph when
    they agree, else the paragraph's (bidi rules N1, N2: the comma that ends a line between two
    names stays with them), and the font of the letter on that side when the font has its
    glyph (Noto Naskh has no parentheses)."""
    scripts = [script_of(char) for char in text]
    base = _language_script(language) if rtl else None  # the font of a neutral between two runs
    runs: list[Run] = []
    for index in range(start, len(text) if end is None else end):
        char, script = text[index], scripts[index]
        if script is None:
            before = next((s for s in reversed(scripts[:index]) if s), None)
            after = next((s for s in scripts[index + 1:] if s), None)
            sides = {_is_rtl(s, rtl) for s in (before, after)}
            char_rtl = sides.pop() if len(sides) == 1 else rtl
            script = next((s for s in (before, after) if s and _is_rtl(s, rtl) == char_rtl), None) or base or "latn"
        else:
            char_rtl = _is_rtl(script, rtl)
        font_file = font_for(script, weight, language)
        if not covers(font_file, char) and covers(font_for("latn", weight, language), char):
            font_file = font_for("latn", weight, language)
        if runs and runs[-1].font_file == font_file and runs[-1].rtl == char_rtl:
            runs[-1] = Run(runs[-1].text + char, font_file, char_rtl)
        else:
            runs.append(Run(char, font_file, char_rtl))
    return runs


def _is_rtl(script: str | None, line_rtl: bool) -> bool:
    return line_rtl if script is None else script in ("arab", "hebr")


def visual_order(runs: list[Run], rtl: bool) -> list[Run]:
    """The runs from left to right: in a right-to-left line the line is reversed but a
    sequence of left-to-right runs keeps its order (and the converse in a left-to-right line)."""
    groups: list[list[Run]] = []
    for run in runs:
        if groups and run.rtl != rtl and groups[-1][0].rtl != rtl:
            groups[-1].append(run)
        else:
            groups.append([run])
    if rtl:
        groups.reverse()
        return [run for group in groups for run in group]
    return [run for group in groups for run in (reversed(group) if group[0].rtl else group)]


@cache
def font_for(script: str, weight: str, language: str) -> str | None:
    """A serif font file for the script: the family of FAMILIES if installed, else fontconfig's
    choice for the script's language (the book's, when the book is in that script)."""
    lang = _fontconfig_lang(language) if _language_script(language) == script else SCRIPT_LANGUAGES[script]
    fc_match = shutil.which("fc-match")
    if fc_match:
        style = "Bold" if weight == "bold" else "Regular"
        family = FAMILIES.get(script)
        pattern = f"{family + ',' if family else ''}serif:style={style}:lang={lang}"
        found = subprocess.run([fc_match, "--format=%{file}", pattern], capture_output=True, text=True,
                               check=False).stdout.strip()
        if found and Path(found).is_file() and found.lower().endswith((".ttf", ".otf", ".ttc")):
            return found
    return next((name for name in FALLBACK_FONTS[weight] if Path(name).is_file()), None)


def _language_script(language: str) -> str:
    facts = language_facts(language)
    if facts.is_cjk:
        return "cjk"
    if facts.is_rtl:
        return "hebr" if facts.primary in ("he", "iw", "yi", "ji") or facts.script == "hebr" else "arab"
    return "latn"


@cache
def covers(font_file: str | None, char: str) -> bool:
    """Whether the font has a glyph for the character: Pillow does not say, so the character
    is drawn and compared with the font's .notdef (drawn for a noncharacter). Reading the
    cmap would mean reading the whole file, 27 MB for a CJK collection."""
    if font_file is None:
        return True
    drawn = _probe(font_file, char)
    return drawn != _probe(font_file, NOT_A_CHARACTER) or not any(drawn[2])


NOT_A_CHARACTER = "\U0010fffe"


@cache
def _probe(font_file: str, char: str) -> tuple[tuple[int, int], tuple[int, int, int, int], bytes]:
    from PIL import ImageFont

    font = ImageFont.truetype(font_file, size=32, layout_engine=ImageFont.Layout.BASIC)
    mask = font.getmask(char)
    return mask.size, font.getbbox(char), bytes(mask)


def _fontconfig_lang(language: str) -> str:
    """fontconfig's name for a BCP 47 tag: it knows Chinese only as zh-cn, zh-tw, zh-hk."""
    tag = language.lower()
    if tag.startswith("zh"):
        return "zh-tw" if any(part in tag.split("-") for part in ("hant", "tw", "hk", "mo")) else "zh-cn"
    return tag.split("-")[0]
