"""Placing page-break markers in an EPUB chapter document (render/epub/pagelist.py)."""

from __future__ import annotations

import re

from lxml import etree

from bookbuild.model import PageStart as PageBreak
from bookbuild.render.epub.pagelist import insert_page_breaks

CHAPTER = """<html xmlns="http://www.w3.org/1999/xhtml"><body><section id="ch01">
<h1 id="page-2">Page 2</h1>
<p>One two <em>three four</em> five<a role="doc-noteref" href="#n">1</a> six seven.</p>
<p>A<a role="doc-noteref" href="#n">1</a> bc</p>
<table><tbody><tr><td>cell text</td></tr></tbody></table>
<hr/>
</section></body></html>"""


def markers(root: etree._Element) -> str:
    """The section as text, each marker shown as [label]."""
    text = etree.tostring(root.find(".//{*}section"), encoding="unicode")
    text = re.sub(r'<span [^>]*role="doc-pagebreak"[^>]*aria-label="(\w+)"[^>]*/>', r"[\1]", text)
    return text.replace(' xmlns="http://www.w3.org/1999/xhtml"', "")


def test_markers_go_before_blocks_at_word_starts_and_never_into_tables() -> None:
    root = etree.fromstring(CHAPTER)
    placed = insert_page_breaks(root, "ch01", (
        PageBreak("2", (0,)),          # before the heading, whose id is already page-2
        PageBreak("3", (1,), 8),       # 8 non-space characters in: "One two th|ree" -> before "three"
        PageBreak("4", (1,), 16),      # inside "five" (15 to 18) -> before it
        PageBreak("7", (2,), 1),       # the note call's "1" is not counted: before "bc"
        PageBreak("5", (3, 0, 0), 0),  # a path into the table's tbody/tr: inside nothing illegal
        PageBreak("6", (4,)),          # before the rule, not inside it
    ))
    assert placed == [("2", "page-2-2"), ("3", "page-3"), ("4", "page-4"), ("7", "page-7"), ("5", "page-5"), ("6", "page-6")]
    text = markers(root)
    assert '[2]\n<h1 id="page-2">' in text
    assert "One two <em>[3]three four</em> [4]five<a" in text
    assert '</a> [7]bc</p>' in text
    assert "[5]\n<table>" in text
    assert "[6]\n<hr/>" in text
    assert root.find(".//{*}span[@id='page-3']").get("{http://www.idpf.org/2007/ops}type") == "pagebreak"
