"""String types for data that comes from outside (an API request, an upstream system).

Each rejects the characters no store keeps the same or no reader expects: NUL
(PostgreSQL cannot store it; SQLite can, so the two would differ), other control
characters in ids and short fields (a `\\x1b` in a name, a newline in an id), and lone
surrogates (not text at all). Pydantic reports the field by name."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# Regular expressions, not a loop over characters: validation runs on the server's event
# loop, and a message may be a megabyte long.
_SURROGATES = "\ud800-\udfff"
# Tab, line feed and carriage return are ordinary in free text; no other control is.
_TEXT_BAD = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_SURROGATES}]")
# Every control character, and the invisible ones that reorder or hide text (bidi
# overrides, zero-width characters, BOM), which make one id look like another.
_PLAIN_BAD = re.compile(
    f"[\x00-\x1f\x7f-\x9f{_SURROGATES}\u00ad\u061c\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def plain(value: str) -> str:
    """`value` unless it holds a control, invisible formatting or surrogate character:
    for ids and short fields (names, locales, time zones, statuses)."""
    if _PLAIN_BAD.search(value):
        raise ValueError("must not contain control characters")
    return value


def text(value: str) -> str:
    """`value` unless it holds NUL, a control character other than tab and line breaks,
    or a surrogate: for free text (messages, comments, documents)."""
    if _TEXT_BAD.search(value):
        raise ValueError("must not contain NUL or control characters")
    return value


Plain = Annotated[str, AfterValidator(plain)]
"""An id or a short field: no control characters."""

Text = Annotated[str, AfterValidator(text)]
"""Free text: line breaks and tabs, no other control characters."""
