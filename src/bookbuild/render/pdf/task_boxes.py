"""A task list's checkbox in the PDF: its glyph, ☐ or ☑, instead of a drawn form control.

The model keeps a native checkbox inside a ``<label>`` with the item's text, which the EPUB
shows as it is: a screen reader says "checkbox, checked, buy milk" in the reader's own
language. WeasyPrint draws an ``<input>`` as lines that carry no text, so in the tagged PDF
whether a task is done was lost; as a glyph it is text, read aloud ("ballot box with
check"), found by search and copied with the item.
"""

from __future__ import annotations

from lxml import etree

BOXES = {False: "\u2610", True: "\u2611"}  # ☐ BALLOT BOX, ☑ BALLOT BOX WITH CHECK


def checkboxes_to_glyphs(wrapper: etree._Element) -> None:
    """Replace every checkbox below ``wrapper`` with ``<span class="task-box">`` and its glyph."""
    for box in list(wrapper.iter("input")):
        if (box.get("type") or "").lower() != "checkbox":
            continue
        glyph = etree.Element("span", {"class": "task-box"})
        glyph.text = BOXES[box.get("checked") is not None]
        glyph.tail = box.tail
        box.getparent().replace(box, glyph)
