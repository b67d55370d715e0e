"""Say which font of the design the PDF could not use, and what it was set in instead.

The default design names its fonts first in each stack (base.css): Noto Serif for the text,
Noto Sans for headings and captions, DejaVu Sans Mono for code. WeasyPrint asks fontconfig
for them, which quietly substitutes another family when one is not installed: the same book
then looks different on a machine with Noto and one without, and nothing said why (issue 31).
Before the PDF is made, each of these families that the book's sheets still name is matched
as fontconfig (and so WeasyPrint) would; one that resolves to another family is a warning
naming both and the package that provides it. A book that brings its own fonts
(``[book] fonts``) is not told about the text and heading fonts it replaces.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

from ...errors import Reporter
from ...files import read_own_file
from ...model import Book
from ...resources import stylesheet

# (family, what the design sets in it, the Debian/Ubuntu package that provides it)
DESIGN_FONTS: tuple[tuple[str, str, str], ...] = (
    ("Noto Serif", "text", "fonts-noto-core"),
    ("Noto Sans", "headings", "fonts-noto-core"),
    ("DejaVu Sans Mono", "code", "fonts-dejavu-core"),
)
BOOK_FONT_REPLACES = frozenset({"text", "headings"})  # render/scripts.font_sheet puts the book's first


def report_substituted_fonts(book: Book, reporter: Reporter) -> None:
    """Warn once per family of the design that this machine would replace with another."""
    from .document import SHARED_SHEETS

    named = _packaged_text(tuple(stylesheet(name) for name in SHARED_SHEETS))
    own_fonts = any(asset.href.startswith("fonts/") for asset in book.assets)
    asked = [(family, role, package, _stack(named, family)) for family, role, package in DESIGN_FONTS]
    # not the design's first choice any more (a theme), or the book's font replaces it
    asked = [item for item in asked if item[3] and not (own_fonts and item[1] in BOOK_FONT_REPLACES)]
    matches = remembered_matches(tuple(stack for *_, stack in asked))
    for family, role, package, stack in asked:
        used = matches[stack]
        if used is None or used.casefold() == family.casefold():
            continue
        reporter.warn(f"the PDF's {role} font '{family}' is not installed: it is set in '{used}' instead, "
                      f"so the PDF will look different on a machine that has {family}",
                      hint=f"install it (Debian/Ubuntu: apt-get install {package}), "
                           "or name the book's own font with [book] fonts")


def _stack(css: str, family: str) -> tuple[str, ...]:
    """The first ``font-family`` stack of ``css`` that begins with ``family``, as names."""
    found = re.search(r'font-family:\s*("' + re.escape(family) + r'"[^;}]*)', css)
    if found is None:
        return ()
    return tuple(name.strip().strip('"\'') for name in found[1].split(",") if name.strip())


@cache
def _packaged_text(sheets: tuple[Path, ...]) -> str:
    return "\n".join(read_own_file(sheet).decode("utf-8", "replace") for sheet in sheets)


def remembered_matches(stacks: tuple[tuple[str, ...], ...]) -> dict[tuple[str, ...], str | None]:
    """:func:`matched_family` of each stack, kept in the user's cache folder while fontconfig's
    caches and configuration stay as they are (installing or removing a font changes the
    caches; see cache.fontconfig_state): asking fontconfig means loading Pango and fontconfig
    through WeasyPrint in the main process, a second of a rebuild that otherwise leaves
    WeasyPrint to the PDF workers."""
    from ...cache import derived_file, fontconfig_state
    from ...files import user_cache_folder

    if not stacks:
        return {}

    def match_all() -> bytes:
        return json.dumps([matched_family(stack) for stack in stacks]).encode("utf-8")

    parts = [fontconfig_state(), _fontconfig_setup(), json.dumps(stacks)]
    try:
        found = json.loads(derived_file(user_cache_folder() / "bookbuild", "design-fonts", parts, match_all))
    except ValueError:
        found = None
    if not isinstance(found, list) or len(found) != len(stacks) or \
            not all(name is None or isinstance(name, str) for name in found):
        found = json.loads(match_all())
    return dict(zip(stacks, found))


def _fontconfig_setup() -> str:
    """What else decides fontconfig's answer: the configuration files it reads (their names,
    sizes and times) and the environment that points it at others."""
    parts = [f"{name}={os.environ.get(name, '')}" for name in ("FONTCONFIG_FILE", "FONTCONFIG_PATH", "FONTCONFIG_SYSROOT",
                                                               "XDG_CONFIG_HOME", "HOME")]
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    places = [Path("/etc/fonts"), Path("/etc/fonts/conf.d"), Path(os.environ.get("XDG_CONFIG_HOME") or
                                                                  Path.home() / ".config") / "fontconfig",
              # the font folders: a font copied in without fc-cache changes them, not the caches
              Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts", data / "fonts"]
    if os.environ.get("FONTCONFIG_FILE"):
        places.append(Path(os.environ["FONTCONFIG_FILE"]))
    for place in places:
        try:
            found = os.stat(place)
            parts.append(f"{place}:{found.st_size}:{found.st_mtime_ns}")
            if place.is_dir():
                parts += sorted(f"{entry.name}:{entry.stat().st_size}:{entry.stat().st_mtime_ns}"
                                for entry in os.scandir(place))
        except OSError:
            parts.append(f"{place}:-")
    return "\0".join(parts)


@cache
def matched_family(stack: tuple[str, ...]) -> str | None:
    """The family fontconfig gives for a CSS font ``stack``, as Pango asks it for WeasyPrint
    (the first installed family of the stack, else fontconfig's default; None: no font at
    all). Kept for the process: fonts installed meanwhile count from the next run."""
    from weasyprint.text.ffi import ffi, fontconfig

    config = fontconfig.FcInitLoadConfigAndFonts()
    pattern = fontconfig.FcPatternCreate()
    try:
        for family in stack:
            fontconfig.FcPatternAddString(pattern, b"family", family.encode())
        fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
        fontconfig.FcDefaultSubstitute(pattern)
        match = fontconfig.FcFontMatch(config, pattern, ffi.new("FcResult *"))
        if match == ffi.NULL:
            return None
        try:
            name = ffi.new("FcChar8 **")
            if fontconfig.FcPatternGetString(match, b"family", 0, name) != fontconfig.FcResultMatch:
                return None
            return ffi.string(name[0]).decode("utf-8", "replace")
        finally:
            fontconfig.FcPatternDestroy(match)
    finally:
        fontconfig.FcPatternDestroy(pattern)
        fontconfig.FcConfigDestroy(config)
