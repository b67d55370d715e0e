"""What the book's language means for layout: direction, hyphenation, quotation marks, labels.

One place answers "how is a book in this BCP 47 tag set?", so renderers and the typography
stage never guess from the tag themselves. The facts follow CLDR and common publishing
practice; the tables are deliberately small and easy to extend.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .labels import LABELS

# Languages written right to left in their default script (CLDR likely subtags).
RTL_LANGUAGES = frozenset({
    "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ji", "ks", "ps", "sd", "syr", "ug", "ur", "yi",
})
# Scripts written right to left, for tags that name the script (az-Arab, pa-Arab, ...).
RTL_SCRIPTS = frozenset({"arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg", "mand", "samr"})
# Scripts and languages that are not hyphenated: CJK breaks between characters, Arabic and
# Hebrew justify without hyphens, Thai and Lao break at dictionary word boundaries.
NO_HYPHENATION = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my", *RTL_LANGUAGES})
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
TRADITIONAL_CHINESE_REGIONS = frozenset({"tw", "hk", "mo"})
# A Han, kana or Hangul letter (with their extensions and half-width forms): text written
# without spaces between words, which rules made for spaced scripts misread.
CJK_CHARACTER = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3040-\u30ff\u3130-\u318f"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f]"
)


@dataclass(frozen=True)
class Quotes:
    """Primary and secondary (nested) quotation marks."""

    open: str
    close: str
    inner_open: str
    inner_close: str


ENGLISH_QUOTES = Quotes("\u201c", "\u201d", "\u2018", "\u2019")
# CLDR delimiters; French and Russian guillemets, German low-high quotes, CJK corner brackets.
# The one table: the Markdown reader sets these marks, the EPUB's fonts are subset for them.
# Chinese by script: Simplified “ ” ‘ ’ (GB/T 15834-2011, the mainland's standard, also
# Singapore's); Traditional 「 」 『 』 (Taiwan, Hong Kong, Macau), as Japanese.
QUOTES: dict[str, Quotes] = {
    "en": ENGLISH_QUOTES,
    "zh-hans": ENGLISH_QUOTES,
    "zh-hant": Quotes("\u300c", "\u300d", "\u300e", "\u300f"),
    "ja": Quotes("\u300c", "\u300d", "\u300e", "\u300f"),
    "ko": ENGLISH_QUOTES,
    "ar": Quotes("\u00ab", "\u00bb", "\u2039", "\u203a"),
    "fa": Quotes("\u00ab", "\u00bb", "\u2039", "\u203a"),
    "ur": Quotes("\u201d", "\u201c", "\u2019", "\u2018"),
    "he": Quotes("\u201d", "\u201d", "\u2019", "\u2019"),
    "fr": Quotes("\u00ab\u00a0", "\u00a0\u00bb", "\u2039\u00a0", "\u00a0\u203a"),
    "de": Quotes("\u201e", "\u201c", "\u201a", "\u2018"),
    "es": Quotes("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "it": Quotes("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "pt": Quotes("\u201c", "\u201d", "\u2018", "\u2019"),
    "ru": Quotes("\u00ab", "\u00bb", "\u201e", "\u201c"),
    "pl": Quotes("\u201e", "\u201d", "\u00ab", "\u00bb"),
    "nl": ENGLISH_QUOTES,
}

LATIN_DIGITS = "0123456789"
ARABIC_INDIC_DIGITS = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
PERSIAN_DIGITS = "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"  # Extended Arabic-Indic
# The digits a printed number takes: CLDR's default numbering system ("arab", "arabext");
# languages not listed write 0-9 (Urdu, Uyghur and Hebrew among them, as CLDR says).
DIGITS = {"ar": ARABIC_INDIC_DIGITS, "ckb": ARABIC_INDIC_DIGITS, "sd": ARABIC_INDIC_DIGITS,
          "fa": PERSIAN_DIGITS, "ps": PERSIAN_DIGITS, "ks": PERSIAN_DIGITS}
# Arabic in the Maghreb writes 0-9 (CLDR: ar-MA, ar-DZ, ar-TN, ar-LY, ar-EH use latn).
LATIN_DIGIT_REGIONS = {"ar": frozenset({"ma", "dz", "tn", "ly", "eh"})}

@functools.lru_cache(maxsize=8)
def _digit_table(digits: str) -> dict[int, int]:
    """The translation table from 0-9 to ``digits``: made once (the parallel PDF writes every
    anchor's page number with it, many times over)."""
    return str.maketrans(LATIN_DIGITS, digits)


@dataclass(frozen=True)
class LanguageFacts:
    """How text in one language is laid out; built by :func:`language_facts`."""

    tag: str
    primary: str
    script: str | None
    direction: str
    hyphenate: bool
    quotes: Quotes
    digits: str = LATIN_DIGITS

    @property
    def is_rtl(self) -> bool:
        return self.direction == "rtl"

    def number(self, value: int | str) -> str:
        """``value`` written with this language's digits (``۱۲`` in Persian); letters, such as
        an appendix's ``A``, stay as they are. Labels written as text use it; the PDF's
        counters get the same digits from a counter style (render/scripts.py)."""
        text = str(value)
        return text if self.digits == LATIN_DIGITS else text.translate(_digit_table(self.digits))

    @property
    def is_cjk(self) -> bool:
        return self.primary in CJK_LANGUAGES

    def label(self, name: str, /, **fields: str) -> str:
        """A label in this language (``contents``; ``cover_of``, title=...): see labels.py.
        English when the language has no table."""
        text = self._table()[name]
        return text.format(**fields) if fields else text

    def labels(self) -> list[str]:
        """Every label of this language as written (with its fields' names): what the
        renderers may print, for font subsetting."""
        return list(self._table().values())

    def _table(self) -> dict[str, str]:
        return LABELS.get(self.variant) or LABELS.get(self.primary) or LABELS["en"]

    @property
    def variant(self) -> str:
        """The key of the tables: the primary subtag, or ``zh-hans``/``zh-hant`` for Chinese."""
        if self.primary != "zh":
            return self.primary
        return "zh-hant" if self.script == "hant" else "zh-hans"


def language_facts(tag: str, direction: str | None = None) -> LanguageFacts:
    """The layout facts for a BCP 47 tag; ``direction`` (``[book] direction``) overrides."""
    subtags = tag.lower().replace("_", "-").split("-")
    primary = subtags[0]
    script = next((s for s in subtags[1:] if len(s) == 4 and s.isalpha()), None)
    if primary == "zh" and script is None:
        regions = {s for s in subtags[1:] if len(s) == 2}
        script = "hant" if regions & TRADITIONAL_CHINESE_REGIONS else "hans"
    if direction is None:
        rtl = script in RTL_SCRIPTS if script else primary in RTL_LANGUAGES
        direction = "rtl" if rtl else "ltr"
    facts = LanguageFacts(tag=tag, primary=primary, script=script, direction=direction,
                          hyphenate=primary not in NO_HYPHENATION and script not in RTL_SCRIPTS,
                          quotes=ENGLISH_QUOTES)
    quotes = QUOTES.get(facts.variant) or QUOTES.get(primary, ENGLISH_QUOTES)
    latin = LATIN_DIGIT_REGIONS.get(primary, frozenset()) & set(subtags[1:])
    digits = LATIN_DIGITS if latin else DIGITS.get(primary, LATIN_DIGITS)
    return LanguageFacts(**{**facts.__dict__, "quotes": quotes, "digits": digits})
