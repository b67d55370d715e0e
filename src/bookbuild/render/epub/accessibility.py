"""EPUB Accessibility 1.1 package metadata, derived from what the book really contains.

Every claim here is a fact the code can see: a table of contents and headings are always
made; "alternativeText" only when every image has a description or is marked decorative;
"MathML" only when MathML is present; page navigation only with a page list. The
conformance claim (``dcterms:conformsTo``) is made only when the checks behind it hold; the
test suite backs the rest with Ace by DAISY on the project's own books.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ...model import Book
from ...xhtml import MATHML_NS, XHTML_NS

CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"


@dataclass(frozen=True)
class BookFacts:
    """What the accessibility metadata is derived from."""

    images: int = 0
    decorative_images: int = 0
    images_without_alt: int = 0
    tables: int = 0
    tables_without_headers: int = 0
    controls_without_label: int = 0
    has_mathml: bool = False
    has_page_list: bool = False
    has_animated_images: bool = False

    @property
    def conforms(self) -> bool:
        """The checks bookbuild can make for WCAG 2.1 AA hold: alt text, table headers and
        labelled form controls (an author's raw ``<input>``; task lists are labelled)."""
        return self.images_without_alt == 0 and self.tables_without_headers == 0 and self.controls_without_label == 0


FACT_COUNTS = ("images", "decorative_images", "images_without_alt", "tables", "tables_without_headers",
               "controls_without_label", "mathml")


def document_facts(root: etree._Element) -> dict[str, int]:
    """What one chapter's finished XHTML document contains, body and footnotes alike
    (:data:`FACT_COUNTS`); the template adds no image, table, control or formula of its own.
    Counted in the parse the renderer makes of the document anyway: parsing every chapter
    again for it was a tenth of a large book's EPUB rendering."""
    counts = dict.fromkeys(FACT_COUNTS, 0)
    for image in root.iter(_IMG):
        counts["images"] += 1
        if image.get("alt"):
            continue
        key = "decorative_images" if image.get("role") in ("presentation", "none") else "images_without_alt"
        counts[key] += 1
    for table in root.iter(_TABLE):
        counts["tables"] += 1
        if next(table.iter(_TH), None) is None:
            counts["tables_without_headers"] += 1
    for control in root.iter(_INPUT):  # named by a <label> around it, or its title
        if control.get("title") is None and next(control.iterancestors(_LABEL), None) is None:
            counts["controls_without_label"] += 1
    counts["mathml"] = int(next(root.iter(_MATH), None) is not None)
    return counts


_IMG, _TABLE, _TH, _INPUT, _LABEL = (f"{{{XHTML_NS}}}{tag}" for tag in ("img", "table", "th", "input", "label"))
_MATH = f"{{{MATHML_NS}}}math"


def book_facts(book: Book, has_page_list: bool, chapters: list[dict[str, int]]) -> BookFacts:
    """The sum of the chapters' facts (``chapters``: each chapter's :func:`document_facts`,
    in order)."""
    counts = dict.fromkeys(FACT_COUNTS, 0)
    for facts in chapters:
        for name in FACT_COUNTS:
            counts[name] += facts[name]
    mathml = counts.pop("mathml") > 0
    animated = any(asset.media_type == "image/gif" for asset in book.assets)
    return BookFacts(**counts, has_mathml=mathml, has_page_list=has_page_list, has_animated_images=animated)


def accessibility_metadata(facts: BookFacts, summary: str | None) -> list[tuple[str, str]]:
    """(property, value) pairs for ``<meta property=...>`` in the package, in a fixed order."""
    described = facts.images_without_alt == 0
    visual = facts.images > facts.decorative_images
    pairs = [("schema:accessMode", "textual")]
    if visual:
        pairs.append(("schema:accessMode", "visual"))
        pairs.append(("schema:accessModeSufficient", "textual,visual"))
    if described or not visual:
        pairs.append(("schema:accessModeSufficient", "textual"))
    features = ["tableOfContents", "structuralNavigation", "readingOrder", "displayTransformability"]
    if visual and described:
        features.append("alternativeText")
    if facts.has_mathml:
        features.append("MathML")
    if facts.has_page_list:
        features += ["pageBreakMarkers", "pageNavigation"]
    pairs += [("schema:accessibilityFeature", feature) for feature in features]
    hazards = ["unknown"] if facts.has_animated_images else ["none"]
    pairs += [("schema:accessibilityHazard", hazard) for hazard in hazards]
    pairs.append(("schema:accessibilitySummary", summary or generated_summary(facts)))
    if facts.conforms:
        pairs.append(("dcterms:conformsTo", CONFORMANCE))
    return pairs


def generated_summary(facts: BookFacts) -> str:
    """A plain-language summary of the facts, for readers choosing a book."""
    parts = ["This publication has a table of contents, structured headings and a logical reading order,"
             " and its text can be resized and restyled."]
    if facts.images:
        if facts.images_without_alt:
            parts.append(f"Images without a text description: {facts.images_without_alt} of {facts.images}.")
        else:
            parts.append("Every image has a text description or is marked as decorative.")
    if facts.has_mathml:
        parts.append("Mathematics is marked up as MathML.")
    if facts.has_page_list:
        parts.append("Page numbers match the print (PDF) edition.")
    parts.append("It has no known hazards." if not facts.has_animated_images
                 else "It contains animated images; flashing has not been checked.")
    if facts.conforms:
        parts.append(f"It is meant to meet {CONFORMANCE}.")
    return " ".join(parts)
