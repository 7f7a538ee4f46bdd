"""User accounts: creation with its rules, look-up by email, granting roles.

Emails are stored lower-cased, so one person cannot hold two accounts that differ only by
case, and every look-up lower-cases too. Passwords follow ``services.identity.password_policy``;
roles come from ``db.models.ROLES``. Public sign-up may not grant ``admin`` (see
``SIGNUP_ROLES``); the CLI creates admins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from streamsettle.db.models import ROLES, User, UserRole
from streamsettle.domain.text import has_control_characters
from streamsettle.errors import Conflict, InvalidInput
from streamsettle.services.identity.password_policy import check_password
from streamsettle.services.identity.passwords import hash_password

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


def _check_display_name(display_name: str) -> str:
    name = display_name.strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME_LENGTH or has_control_characters(name):
        raise InvalidInput(
            f"display name must be 1 to {MAX_DISPLAY_NAME_LENGTH} characters, "
            "without control or bidirectional-override characters",
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
    hasher: Callable[[str], str] = hash_password,
) -> User:
    """Insert a user (flushed, so it has an id); ``password=None`` for OIDC-only accounts.
    ``hasher`` hashes the password (the request path passes its bounded pool's).

    Raises ``InvalidInput`` on a bad email, weak password, bad display name or unknown role,
    and ``Conflict`` when the email is taken (also when a concurrent insert wins the race).
    """
    normalized = normalize_email(email)
    name = _check_display_name(display_name)
    if password is not None:
        check_password(password, email=normalized, name=name)
    role_names = _check_roles(roles, ROLES)
    if get_user_by_email(session, normalized) is not None:
        raise Conflict(f"an account with the email {normalized} already exists")
    user = User(
        email=normalized,
        display_name=name,
        password_hash=hasher(password) if password is not None else None,
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
    hasher: Callable[[str], str] = hash_password,
) -> User:
    """Public sign-up: like ``create_user`` but only viewer, creator and advertiser roles."""
    wanted = list(roles) if roles is not None else list(DEFAULT_ROLES)
    _check_roles(wanted, SIGNUP_ROLES)
    return create_user(
        session,
        email=email,
        password=password,
        display_name=display_name,
        roles=wanted,
        hasher=hasher,
    )


def grant_role(session: Session, user: User, role: str) -> bool:
    """Give ``user`` a role; False when they already hold it."""
    _check_roles([role], ROLES)
    if user.has_role(role):
        return False
    user.role_rows.append(UserRole(role=role))
    session.flush()
    return True
