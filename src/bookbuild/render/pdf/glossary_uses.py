"""The glossary's back-links on paper: the first use in each chapter, with its page.

In the EPUB (transforms/glossary.py) a definition ends with its term's uses: the first in
each chapter by the chapter's title, the others by number (``Getting Started, 2``), as
footnotes link back to their calls. On paper those numbers read like page numbers ("2"
looks like page 2 but means "the second use"), and a page number of its own for every use
would name a page twice whenever two uses share one, which CSS cannot merge in the one
layout the book gets. So the PDF keeps the chapters' links, each followed by the page it
lands on through the same "(see page N)" as every link to another chapter
(``target-counter``, or the parallel PDF's ``data-page``), and leaves the further uses out:
``↩ Getting Started (see page 1); Next Steps (see page 3)``.
"""

from __future__ import annotations

from lxml import etree

AGAIN = "gloss-again"


def print_glossary_uses(wrapper: etree._Element) -> None:
    """Each ``p.gloss-uses`` with its chapters' first back-links only, ``; `` between them,
    each a "see page" link (class ``xref``; document.py gave it to those into other chapters)."""
    for paragraph in wrapper.xpath(".//p[@class='gloss-uses']"):
        links = [node for node in paragraph.iter("a") if AGAIN not in (node.get("class") or "").split()]
        for node in list(paragraph):
            if node.tag == "a":
                paragraph.remove(node)
        for number, link in enumerate(links):
            classes = (link.get("class") or "").split()
            if "xref" not in classes:  # a use in the glossary itself: its page too
                link.set("class", " ".join([*classes, "xref"]))
            link.tail = "; " if number + 1 < len(links) else None
            paragraph.append(link)
