"""Free text that people see (names, titles) or that is stored as given (user agents).

Control characters have no place there (PostgreSQL refuses NUL outright; newlines and
escapes break logs and CSV exports), and the bidirectional controls (U+202A to U+202E,
U+2066 to U+2069, the marks U+200E, U+200F, U+061C) can make text read differently from
what it is: "evil\u202egpj.exe" shows as "evilexe.jpg".
"""

from __future__ import annotations

import unicodedata

MAX_USER_AGENT = 1000
"""Characters of a user agent kept with a session or accepted in an imported watch log."""

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def has_control_characters(text: str) -> bool:
    """True for text with a control character (NUL, newline, C1, …) or a bidi control."""
    return any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in text)
