"""What the ``[pdf]`` options mean for the printed page, as data and as a small CSS sheet.

print.css is the design (house rule 5); this module only turns option values into CSS
(page size, mirrored margins, bleed, crop marks, the words of "see page N") and decides
which pages of furniture a layout has and which chapters a ``--chapters`` selection keeps.
No WeasyPrint here: it is plain data, cheap to test.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...config.pdf import PdfOptions, chapter_selection
from ...model import Chapter

# Compact margins of a handout: the book's margins are for binding, a handout is stapled.
HANDOUT_MARGINS = ("14mm", "16mm", "16mm", "16mm")  # top, outer (right), bottom, inner (left)

@dataclass(frozen=True)
class PrintLayout:
    """The shape of one PDF: which furniture pages it has and how pages are paired."""

    two_sided: bool
    handout: bool
    half_title: bool
    copyright: bool

    @property
    def html_classes(self) -> str:
        """Classes on ``<html>``: print.css keys element rules (breaks, title blocks) on them."""
        classes = ["two-sided" if self.two_sided else "one-sided"]
        if self.handout:
            classes.append("handout")
        return " ".join(classes)

    @property
    def furniture(self) -> dict[str, bool]:
        return {"half_title": self.half_title, "copyright": self.copyright}


def print_layout(options: PdfOptions) -> PrintLayout:
    """A whole book gets half-title and copyright pages; a handout or selection does not."""
    whole_book = not options.handout and not options.chapters
    return PrintLayout(
        two_sided=options.two_sided and not options.handout,
        handout=options.handout,
        half_title=whole_book,
        copyright=whole_book,
    )


def page_sheet(options: PdfOptions, layout: PrintLayout, language: str) -> str:
    """The option values as CSS: size, margins (mirrored when two-sided), bleed, marks."""
    size = options.page_size_css
    if layout.handout:
        top, outer, bottom, inner = HANDOUT_MARGINS
    else:
        top, outer, bottom, inner = (options.margin_top, options.margin_outer,
                                     options.margin_bottom, options.margin_inner)
    rules = [f"@page {{ size: {size}; margin: {top} {outer} {bottom} {inner}; }}"]
    if layout.two_sided:
        # Right-hand (recto) pages are bound on their left, left-hand pages on their right.
        rules.append(f"@page :right {{ margin-left: {inner}; margin-right: {outer}; }}")
        rules.append(f"@page :left {{ margin-left: {outer}; margin-right: {inner}; }}")
    if options.crop_marks or options.bleed:
        marks = "marks: crop cross; " if options.crop_marks else ""
        bleed = options.bleed or "3mm"
        rules.append(f"@page {{ {marks}bleed: {bleed}; }}")
    if options.page_references:
        rules.append(see_page_rule("a.xref", language, "target-counter(attr(href url), page, book-digits)"))
        if not layout.handout:  # front matter pages print roman numbers (print.css @page front)
            rules.append(see_page_rule("a.xref.to-frontmatter:not([data-page])", language,
                                       "target-counter(attr(href url), page, lower-roman)"))
    return "\n".join(rules) + "\n"


def see_page_rule(selector: str, language: str, number: str) -> str:
    """The CSS that prints "(see page N)" after links to other chapters, in the book's
    language, with ``number`` the CSS value of N (``target-counter``, or a given number)."""
    from ...config.languages import language_facts

    facts = language_facts(language)
    before, after = (_css_string(part) for part in facts.label("see_page").split("{}"))
    space = "" if facts.is_cjk else " "  # CJK sets its full-width parenthesis close
    return f'{selector}::after {{ content: "{space}{before}" {number} "{after}"; }}'


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def select_chapters(chapters: tuple[Chapter, ...], selection: str | None) -> tuple[Chapter, ...]:
    """The chapters a ``--chapters`` selection names (by the numbers and letters a reader
    sees, or by file stem), in book order; the selection was checked against the manifest's
    entries at the door (config/pdf.py)."""
    if selection is None:
        return chapters
    wanted = chapter_selection(selection, tuple((chapter.file_stem, chapter.kind) for chapter in chapters))
    return tuple(chapter for chapter in chapters if chapter.index in wanted)
