"""The finished EPUB checked against Amazon's requirements for Kindle books.

Amazon takes an EPUB as it is (Kindle Direct Publishing converts it), so there is nothing to
convert here: this reads the EPUB the renderer made and warns where it would break what the
Kindle Publishing Guidelines (KPG) and KDP's help pages ask, with the place to fix it. The
figures and their sources are in docs/stores.md; each warning names the guideline it cites.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote

from lxml import etree

from ...errors import Reporter
from ...model import Book
from ...xhtml import SAFE_XML_PARSER, XHTML_NS
from .kepub import CONTAINER_NS, OPF_NS
from .semantics import EPUB_TYPE

NCX_TYPE = "application/x-dtbncx+xml"
# KDP, "Cover Image Guidelines": ideal 1,600 x 2,560 pixels (a reminder at upload below it),
# 1,000 x 625 the minimum allowed, 10,000 x 10,000 the maximum, under 500 px on the shortest
# side not displayed on the website.
COVER_IDEAL = (1600, 2560)
COVER_MINIMUM = (625, 1000)
COVER_MAXIMUM = 10000
COVER_SHOWN = 500
# KPG "Embedded Font Guidelines": "These fonts can be either Open Type (OTF) or True Type (TTF)."
KINDLE_FONT_TYPES = frozenset({"font/otf", "font/ttf", "application/vnd.ms-opentype", "application/x-font-ttf",
                               "application/font-sfnt", "font/sfnt", "application/x-font-opentype"})
NEGATIVE_LINE_HEIGHT = re.compile(r"line-height\s*:\s*-")
# The author's sheets as author_styles.py packs them; warn_for_kindle checks them as written
# (sources/kindle_styles.py), so a warning names the author's file and line, not these.
AUTHOR_SHEET = re.compile(r"styles/(?:book|import)-\d+\.css")
# A manifest item's bytes.
Member = Callable[[etree._Element], bytes]


@dataclass(frozen=True)
class KindleProblem:
    """One requirement the EPUB breaks: what, and how to mend it."""

    message: str
    hint: str


def kindle_problems(epub: bytes, author_sheets: bool = True) -> list[KindleProblem]:
    """Every Kindle requirement this EPUB breaks, in a fixed order (cover, contents, fonts, scripts, CSS);
    without ``author_sheets``, the CSS of the author's packed sheets is left to the caller."""
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"), SAFE_XML_PARSER)
        opf_name = container.find(f".//{{{CONTAINER_NS}}}rootfile").get("full-path")
        folder = PurePosixPath(opf_name).parent
        package = etree.fromstring(archive.read(opf_name), SAFE_XML_PARSER)
        items = list(package.iter(f"{{{OPF_NS}}}item"))

        def member(item: etree._Element) -> bytes:
            return archive.read(unquote(str(folder / item.get("href"))))

        problems = _cover_problems(items, member)
        problems += _contents_problems(items, member)
        problems += _font_problems(items)
        problems += _script_problems(items)
        problems += _css_problems([item for item in items if author_sheets
                                   or not AUTHOR_SHEET.fullmatch(item.get("href") or "")], member)
    return problems


def _properties(item: etree._Element) -> list[str]:
    return (item.get("properties") or "").split()


def _cover_problems(items: list[etree._Element], member: Member) -> list[KindleProblem]:
    from PIL import Image

    cover = next((item for item in items if "cover-image" in _properties(item)), None)
    if cover is None:
        return [KindleProblem("the EPUB has no cover image: Kindle's library shows none (KPG 4.2 makes an "
                              "internal cover mandatory for books not sent through KDP)",
                              "set [book] cover, or leave [epub] generate_cover on")]
    if cover.get("media-type") == "image/svg+xml":
        return [KindleProblem("the cover is an SVG drawing: Amazon's cover must be a JPEG or TIFF image "
                              "(KDP, Cover Image Guidelines)", "give [book] cover a JPEG of 1600 x 2560 pixels")]
    with Image.open(io.BytesIO(member(cover))) as image:
        width, height = image.size
    size = f"{width} x {height} pixels"
    if min(width, height) < COVER_SHOWN:
        reason = f"under {COVER_SHOWN} pixels on its shortest side, Amazon does not show it on the website"
    elif width < COVER_MINIMUM[0] or height < COVER_MINIMUM[1]:
        reason = f"below the minimum of {COVER_MINIMUM[0]} x {COVER_MINIMUM[1]} pixels KDP allows"
    elif max(width, height) > COVER_MAXIMUM:
        reason = f"over the maximum of {COVER_MAXIMUM} x {COVER_MAXIMUM} pixels KDP allows"
    elif width < COVER_IDEAL[0] or height < COVER_IDEAL[1]:
        reason = f"smaller than the {COVER_IDEAL[0]} x {COVER_IDEAL[1]} pixels Amazon recommends (KDP reminds you at upload)"
    else:
        return []
    return [KindleProblem(f"the cover image is {size}: {reason} (KDP, Cover Image Guidelines)",
                          f"use a cover of {COVER_IDEAL[0]} x {COVER_IDEAL[1]} pixels (height 1.6 times the width); "
                          "do not stretch a small one")]


def _contents_problems(items: list[etree._Element], member: Member) -> list[KindleProblem]:
    problems = []
    if not any(item.get("media-type") == NCX_TYPE for item in items):
        problems.append(KindleProblem("the EPUB has no NCX: Kindle apps build their contents menu from it "
                                      "(KDP, Navigation Guidelines)", "build the EPUB with bookbuild, which writes one"))
    nav = next((item for item in items if "nav" in _properties(item)), None)
    links = etree.fromstring(member(nav), SAFE_XML_PARSER) if nav is not None else None
    landmarks = [] if links is None else [
        a for nav_element in links.iter(f"{{{XHTML_NS}}}nav") if nav_element.get(EPUB_TYPE) == "landmarks"
        for a in nav_element.iter(f"{{{XHTML_NS}}}a") if a.get(EPUB_TYPE) == "toc"]
    if not landmarks:
        problems.append(KindleProblem("the contents page is not in the landmarks: Kindle's 'Go to contents' needs it "
                                      "(KPG, HTML TOC must be referenced)",
                                      "build the EPUB with bookbuild, which lists it"))
    return problems


def _font_problems(items: list[etree._Element]) -> list[KindleProblem]:
    fonts = sorted(PurePosixPath(item.get("href")).name for item in items
                   if (item.get("media-type") or "").startswith(("font/", "application/font", "application/x-font"))
                   and item.get("media-type") not in KINDLE_FONT_TYPES)
    if not fonts:
        return []
    return [KindleProblem(f"font {', '.join(fonts)} is neither OpenType (OTF) nor TrueType (TTF), the only embedded "
                          "fonts Kindle supports (KPG, Embedded Font Guidelines)",
                          "list the .otf or .ttf file in [book] fonts instead")]


def _script_problems(items: list[etree._Element]) -> list[KindleProblem]:
    scripted = sorted(item.get("href") for item in items if "scripted" in _properties(item))
    if not scripted:
        return []
    return [KindleProblem(f"{', '.join(scripted)} has scripts: Kindle strips every script "
                          "(KPG, HTML Guideline: avoid using scripting)", "keep what the reader needs in the text")]


def _css_problems(items: list[etree._Element], member: Member) -> list[KindleProblem]:
    sheets = sorted(item.get("href") for item in items if item.get("media-type") == "text/css"
                    and NEGATIVE_LINE_HEIGHT.search(member(item).decode("utf-8", "replace")))
    if not sheets:
        return []
    return [KindleProblem(f"stylesheet {', '.join(sheets)} sets a negative line-height, which Kindle does not "
                          "support (KPG, HTML Guideline: avoid negative values for line height)",
                          "use a positive line-height")]


def warn_for_kindle(epub: bytes, reporter: Reporter, manifest_file: str, book: Book | None = None) -> bytes:
    """Warn of each Kindle requirement the EPUB breaks (at the book's book.toml; the author's
    stylesheets' at their own file:line); the EPUB is returned as it is, since Amazon takes it
    unchanged."""
    for problem in kindle_problems(epub, author_sheets=book is None):
        reporter.warn(f"Kindle: {problem.message}", manifest_file, hint=problem.hint)
    if book is not None:
        from ...sources.kindle_styles import warn_kindle_styles

        warn_kindle_styles(book.styles, book.root, reporter)
    return epub
