"""Accounts: creating, finding and authenticating users, the password and e-mail rules, and ending sessions.

Shared by the web forms, the admin pages and the server commands, so that one rule holds everywhere.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import ApiToken, AuditEntry, Role, User
from app.models.accounts import hash_token
from app.services.errors import Refused

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 8

logger = logging.getLogger(__name__)


def find_user(username: str) -> User | None:
    """The user with this username, compared without regard to case."""
    return db.session.execute(
        db.select(User).where(func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def all_users() -> list[User]:
    """Every user, by username."""
    return list(db.session.execute(db.select(User).order_by(User.username)).scalars())


@functools.cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn's list of the 30,000 most frequent passwords of public leaks, lower-cased.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_strength(password: str, *, username: str = "", email: str | None = None) -> None:
    """Refuse a password that is too short, is the username or e-mail address, or is a common one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Refused(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    folded = password.strip().lower()
    if username and folded == username.strip().lower():
        raise Refused("The password must not be the username.", field="password")
    if email and folded in {email.lower(), email.lower().partition("@")[0]}:
        raise Refused("The password must not be the e-mail address.", field="password")
    if folded in _common_passwords():
        raise Refused(
            "This password is among the most common ones and is guessed first: choose another.", field="password"
        )


def normalise_email(email: str | None) -> str | None:
    """The e-mail address as stored (lower case), None when absent; raises Refused when it is not valid."""
    email = (email or "").strip()
    if not email:
        return None
    try:
        # The syntax only: whether the domain receives mail is not asked (and the network may be closed).
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise Refused(f"This e-mail address is not valid: {error}", field="email") from None
    return checked.normalized.lower()


def create_user(username: str, password: str, *, email: str | None = None, roles: set[Role] | None = None) -> User:
    """Add a new user to the session (the caller commits); raises Refused on bad or taken names."""
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise Refused(
            "A username has 2 to 64 characters: letters, digits, '_', '.' or '-', starting with a letter or digit.",
            field="username",
        )
    if find_user(username) is not None:
        raise Refused(f"The username {username!r} is already taken.", field="username")
    email = normalise_email(email)
    if email and db.session.execute(db.select(User.id).where(User.email == email)).first():
        raise Refused("An account with this e-mail address already exists.", field="email")
    check_password_strength(password, username=username, email=email)
    user = User(username=username, email=email)
    user.set_password(password)
    user.set_roles(roles if roles is not None else {Role.RESEARCHER})
    db.session.add(user)
    db.session.flush()
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None.

    Every attempt checks one password hash, a dummy one for an unknown name, so that the time an answer
    takes does not tell which usernames exist.
    """
    user = find_user(username)
    if user is None or not user.has_password:  # an account of single sign-on has no password to match
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def user_for_session(session_id: str) -> User | None:
    """The user a session or remember cookie names ("<id>:<session version>"), if it still holds.

    A cookie from before the last logout, password change or deactivation names an older version, and
    one from before versions existed names none: both are refused, which logs that browser out.
    """
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def api_token_hash(authorization: str | None) -> str | None:
    """The stored hash of the valid token (unrevoked, of an active user) an Authorization header carries, or None."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return db.session.execute(
        db.select(ApiToken.token_hash)
        .join(ApiToken.user)
        .where(ApiToken.token_hash == hash_token(secret.strip()), ApiToken.revoked_at.is_(None), User.active)
    ).scalar_one_or_none()


def end_sessions(user: User, reason: str, *, by: User | None = None) -> None:
    """End every session and remember cookie of the user (the caller commits); API tokens are not touched.

    ``by`` is the admin who asked, for the audit log; the user's own logout is only logged.
    """
    before = user.session_version
    user.session_version = before + 1
    if by is not None:
        _audit(by, "sessions_end", user, {"session_version": before}, {"session_version": before + 1, "reason": reason})
    logger.info("sessions of user %s (id %s) ended: %s", user.username, user.id, reason)


def change_password(user: User, current: str, new: str) -> None:
    """Replace the user's password after checking the current one, ending their sessions (the caller commits)."""
    if not user.check_password(current):
        raise Refused("This is not your current password.", field="current")
    check_password_strength(new, username=user.username, email=user.email)
    user.set_password(new)
    end_sessions(user, "password changed")
    _audit(user, "password_change", user, None, None)


def update_account(user: User, roles: set[Role], active: bool, *, by: User) -> None:
    """Set the user's roles and whether the account is active, as an admin does (the caller commits).

    Deactivation ends every session at once; the user's API tokens stop working because the account is
    inactive.
    """
    before = {"roles": sorted(r.value for r in user.roles), "active": user.active}
    user.set_roles(roles)
    user.active = active
    after = {"roles": sorted(r.value for r in user.roles), "active": user.active}
    if after != before:
        _audit(by, "account_edit", user, before, after)
    if before["active"] and not active:
        end_sessions(user, "account deactivated", by=by)


def _audit(by: User, action: str, user: User, before: dict | None, after: dict | None) -> None:
    db.session.add(
        AuditEntry(user_id=by.id, action=action, entity="user", entity_id=user.id, before=before, after=after)
    )
