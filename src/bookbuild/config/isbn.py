"""``[book] identifier`` as an ISBN: its check digit, and an ISBN written in a form bookbuild
does not read as one.

An identifier written ``isbn:...`` or ``urn:isbn:...`` is printed on the copyright page as an
ISBN (render/front_matter.py), so it must be one: 10 or 13 digits (hyphens and spaces allowed;
an ISBN-10 may end in X) whose check digit is right (ISO 2108: ISBN-13 weighs its digits 1, 3,
1, 3...; ISBN-10 weighs them 10 down to 1, modulo 11). The check digit is all there is to
check offline, so this is a few lines rather than a dependency (python-stdnum and isbnlib
also check the registration groups, which change over time and need no checking to print).
"""

from __future__ import annotations

import re

ISBN_SCHEMES = ("urn:isbn:", "isbn:")
# "ISBN 978-...", "ISBN: 0-306-...", "isbn978...": an ISBN written as prose, not as isbn:...
_PROSE_ISBN = re.compile(r"^\s*isbn(?:-1[03])?\s*:?\s*([0-9][0-9 -]{8,}[0-9Xx])\s*$", re.IGNORECASE)


def isbn_problem(identifier: str) -> str | None:
    """What is wrong with an ``isbn:`` or ``urn:isbn:`` identifier's ISBN ("its check digit
    should be 8, not 9"), or None when it is right or the identifier is not written as an ISBN."""
    lowered = identifier.lower()
    scheme = next((s for s in ISBN_SCHEMES if lowered.startswith(s)), None)
    if scheme is None:
        return None
    written = identifier[len(scheme):].strip()
    digits = re.sub(r"[\s-]", "", written).upper()
    if not re.fullmatch(r"\d{13}|\d{9}[\dX]", digits):
        return f"'{written}' is not an ISBN: an ISBN has 13 digits (or 10, the last of which may be X)"
    expected = check_digit(digits[:-1])
    if digits[-1] != expected:
        return f"'{written}' is not an ISBN: its check digit should be {expected}, not {digits[-1]}"
    return None


def check_digit(body: str) -> str:
    """The check digit of an ISBN-13's first 12 digits or an ISBN-10's first 9."""
    if len(body) == 12:
        total = sum(int(d) * (3 if n % 2 else 1) for n, d in enumerate(body))
        return str((10 - total % 10) % 10)
    total = sum(int(d) * (10 - n) for n, d in enumerate(body))
    value = (11 - total % 11) % 11
    return "X" if value == 10 else str(value)


def prose_isbn(identifier: str) -> str | None:
    """The ISBN of an identifier written as prose ("ISBN 978-0-00-000001-9"), as the
    identifier should be written ("isbn:9780000000019"); None for any other identifier."""
    match = _PROSE_ISBN.match(identifier)
    if match is None or identifier.lower().startswith(ISBN_SCHEMES):
        return None
    return "isbn:" + re.sub(r"[\s-]", "", match.group(1)).upper()
