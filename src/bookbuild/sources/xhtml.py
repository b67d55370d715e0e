"""HTML and XHTML chapters: the ``<body>`` of the file is the chapter body."""

from __future__ import annotations

import re

_BODY = re.compile(r"<body\b[^>]*>(.*)</body\s*>", re.IGNORECASE | re.DOTALL)


def xhtml_body(text: str, file: str) -> str:
    """The content of ``<body>`` (or the whole text for a bare fragment), as HTML."""
    match = _BODY.search(text)
    return match.group(1) if match else text
