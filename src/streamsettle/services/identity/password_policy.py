"""Which passwords an account may have, after NIST SP 800-63B (section 5.1.1.2).

- at least 8 characters, at most 1024 (so that a long passphrase fits, and hashing cannot
  be fed megabytes); every character counts, spaces and any Unicode included;
- not one of the 30,000 most common passwords of the leaked-password corpus that the
  ``zxcvbn`` package ships (compared case-insensitively, offline);
- not one character repeated, not only spaces, not the account's own email or name;
- no composition rules (no "a digit and a symbol"): they make passwords harder to remember,
  not to guess.
"""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from streamsettle.errors import InvalidInput

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def _refuse(message: str, reason: str) -> InvalidInput:
    return InvalidInput(message, {"field": "password", "reason": reason})


def check_password(password: str, *, email: str | None = None, name: str | None = None) -> None:
    """``InvalidInput`` (422) saying why ``password`` is refused; nothing when accepted."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _refuse(f"password must be at least {MIN_PASSWORD_LENGTH} characters", "too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _refuse(f"password must be at most {MAX_PASSWORD_LENGTH} characters", "too_long")
    if not password.strip():
        raise _refuse("password must not be only spaces", "blank")
    if len(set(password)) == 1:
        raise _refuse("password must not be one character repeated", "repeated")
    folded = password.casefold()
    if folded in common_passwords():
        raise _refuse(
            "password is one of the most common passwords found in leaked password lists; "
            "choose another (a few unrelated words make a good one)",
            "common",
        )
    own = {t.strip().casefold() for t in (email, name, (email or "").partition("@")[0]) if t}
    if folded.strip() in own:
        raise _refuse("password must not be your email address or your name", "personal")
