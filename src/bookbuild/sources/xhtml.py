"""HTML and XHTML chapters: the ``<body>`` of the file is the chapter body."""

from __future__ import annotations

import re

from ..xhtml import line_marker

_BODY = re.compile(r"<body\b[^>]*>(.*)</body\s*>", re.IGNORECASE | re.DOTALL)


def xhtml_body(text: str, file: str) -> str:
    """The content of ``<body>`` (or the whole text for a bare fragment), as HTML.

    A line marker in front tells the cleaner where the body starts, so its warnings name
    the line in the author's file.
    """
    match = _BODY.search(text)
    if match is None:
        return line_marker(1) + text
    return line_marker(text.count("\n", 0, match.start(1)) + 1) + match.group(1)
