"""HTML and XHTML chapters: the ``<body>`` of the file is the chapter body."""

from __future__ import annotations

import re

from ..xhtml import line_marker

_BODY_OPEN = re.compile(r"<body\b", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


def xhtml_body(text: str, file: str) -> str:
    """The content of ``<body>`` (or the whole text for a bare fragment), as HTML.

    Found with single forward searches (a backtracking pattern took minutes on a file of
    repeated ``<body``). A line marker in front tells the cleaner where the body starts, so
    its warnings name the line in the author's file.
    """
    opening = _BODY_OPEN.search(text)
    start = text.find(">", opening.end()) + 1 if opening else 0
    if not opening or start == 0:
        return line_marker(1) + text
    closings = [m.start() for m in _BODY_CLOSE.finditer(text, start)]
    end = closings[-1] if closings else len(text)
    return line_marker(text.count("\n", 0, start) + 1) + text[start:end]
