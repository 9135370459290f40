"""Factories that build test data through the same code paths as the platform."""

from __future__ import annotations

import itertools

from app.extensions import db
from app.models import ApiToken, Role, User
from app.services import accounts

PASSWORD = "correct-horse-battery"
_names = itertools.count(1)


def make_user(
    username: str | None = None, *roles: Role, password: str = PASSWORD, email: str | None = None
) -> User:
    """A committed user with these roles (researcher when none are given); call inside an app context."""
    username = username or f"user{next(_names)}"
    user = accounts.create_user(username, password, email=email, roles=set(roles) or {Role.RESEARCHER})
    db.session.commit()
    return user


def make_token(user: User, name: str = "test") -> str:
    """A new API token of the user; returns the secret."""
    row, secret = ApiToken.issue(user, name)
    db.session.add(row)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}
