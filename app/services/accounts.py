"""Creating and finding accounts, shared by the web forms and the server commands."""

from __future__ import annotations

import re

from sqlalchemy import func

from app.extensions import db
from app.models import Role, User

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """An account could not be created or changed; the message says why, ``field`` says about what."""

    def __init__(self, message: str, field: str = "username") -> None:
        super().__init__(message)
        self.field = field


def find_user(username: str) -> User | None:
    """The user with this username, compared without regard to case."""
    return db.session.execute(
        db.select(User).where(func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def all_users() -> list[User]:
    """Every user, by username."""
    return list(db.session.execute(db.select(User).order_by(User.username)).scalars())


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", "password")


def create_user(username: str, password: str, *, email: str | None = None, roles: set[Role] | None = None) -> User:
    """Add a new user to the session (the caller commits); raises AccountError on bad or taken names."""
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            "A username has 2 to 64 characters: letters, digits, '_', '.' or '-', starting with a letter or digit."
        )
    if find_user(username) is not None:
        raise AccountError(f"The username {username!r} is already taken.")
    email = (email or "").strip().lower() or None
    if email and db.session.execute(db.select(User.id).where(User.email == email)).first():
        raise AccountError("An account with this e-mail address already exists.", "email")
    check_password_strength(password)
    user = User(username=username, email=email)
    user.set_password(password)
    user.set_roles(roles if roles is not None else {Role.RESEARCHER})
    db.session.add(user)
    db.session.flush()
    return user
