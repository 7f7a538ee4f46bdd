"""User accounts: creation with its rules, look-up by email, granting roles.

Emails are stored lower-cased, so one person cannot hold two accounts that differ only by
case, and every look-up lower-cases too. The password rule is deliberately simple (at least
8 characters, at most 1024 so hashing cannot be used to burn CPU); roles come from
``db.models.ROLES``. Public sign-up may not grant ``admin`` (see ``SIGNUP_ROLES``); the CLI
creates admins.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from streamsettle.db.models import ROLES, User, UserRole
from streamsettle.errors import Conflict, InvalidInput
from streamsettle.services.identity.passwords import hash_password

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_DISPLAY_NAME_LENGTH = 200
SIGNUP_ROLES = ("viewer", "creator", "advertiser")
DEFAULT_ROLES = ("viewer",)


def normalize_email(email: str) -> str:
    """The stored form of an email: syntax checked, lower-cased; ``InvalidInput`` otherwise.

    Reserved domains such as ``.invalid`` or ``.local`` are refused; ``.test`` is allowed so
    that demo and test data need no real domain.
    """
    try:
        result = validate_email(email.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email address: {exc}", {"field": "email"}) from exc
    normalized: str = result.normalized
    return normalized.lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", {"field": "password"}
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at most {MAX_PASSWORD_LENGTH} characters", {"field": "password"}
        )


def has_control_characters(text: str) -> bool:
    """True for text with NUL, newlines or other control characters (PostgreSQL refuses
    NUL outright; the others have no place in a name or a title)."""
    return any(unicodedata.category(c) == "Cc" for c in text)


def _check_display_name(display_name: str) -> str:
    name = display_name.strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME_LENGTH or has_control_characters(name):
        raise InvalidInput(
            f"display name must be 1 to {MAX_DISPLAY_NAME_LENGTH} characters, "
            "without control characters",
            {"field": "display_name"},
        )
    return name


def _check_roles(roles: Sequence[str], allowed: Sequence[str]) -> list[str]:
    unknown = sorted(set(roles) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"roles must be among {', '.join(allowed)}; not allowed: {', '.join(unknown)}",
            {"field": "roles"},
        )
    if not roles:
        raise InvalidInput("at least one role is required", {"field": "roles"})
    return sorted(set(roles))


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    display_name: str,
    roles: Sequence[str],
) -> User:
    """Insert a user (flushed, so it has an id); ``password=None`` for OIDC-only accounts.

    Raises ``InvalidInput`` on a bad email, weak password, bad display name or unknown role,
    and ``Conflict`` when the email is taken (also when a concurrent insert wins the race).
    """
    normalized = normalize_email(email)
    if password is not None:
        check_password(password)
    name = _check_display_name(display_name)
    role_names = _check_roles(roles, ROLES)
    if get_user_by_email(session, normalized) is not None:
        raise Conflict(f"an account with the email {normalized} already exists")
    user = User(
        email=normalized,
        display_name=name,
        password_hash=hash_password(password) if password is not None else None,
        role_rows=[UserRole(role=r) for r in role_names],
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent sign-up won; the unit of work rolls back
        raise Conflict(f"an account with the email {normalized} already exists") from exc
    return user


def signup(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    roles: Sequence[str] | None = None,
) -> User:
    """Public sign-up: like ``create_user`` but only viewer, creator and advertiser roles."""
    wanted = list(roles) if roles is not None else list(DEFAULT_ROLES)
    _check_roles(wanted, SIGNUP_ROLES)
    return create_user(
        session, email=email, password=password, display_name=display_name, roles=wanted
    )


def grant_role(session: Session, user: User, role: str) -> bool:
    """Give ``user`` a role; False when they already hold it."""
    _check_roles([role], ROLES)
    if user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=role))
    session.flush()
    return True
