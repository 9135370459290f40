"""Accounts: users, their roles and their API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import Model, db
from app.models.types import UTCDateTime, utcnow

TOKEN_PREFIX = "dqm_"


class Role(enum.StrEnum):
    """What a user may do; a user holds any number of roles, admin implies all."""

    RESEARCHER = "researcher"
    SHIFTER = "shifter"
    SHIFT_LEADER = "shift_leader"
    ORGANISER = "organiser"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role's name as people write it."""
        return self.value.replace("_", " ").capitalize()


class User(UserMixin, Model):
    """A person with a login."""

    __tablename__ = "users"
    # "Alice" and "alice" are one person to anyone reading a leaderboard.
    __table_args__ = (
        Index("uq_users_username_lower", func.lower("username"), unique=True),
        Index("uq_users_oidc_sub", "oidc_sub", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[Optional[str]] = mapped_column(String(254), unique=True)
    # Empty for an account created by single sign-on: no password matches it.
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Part of every session and remember cookie; raising it ends them all (logout, password change...).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The single sign-on provider's `sub` for this person: how a login through it finds the account.
    oidc_sub: Mapped[Optional[str]] = mapped_column(String(255))

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at login; the user loader on each request
        return self.active

    def get_id(self) -> str:
        """What the session and the remember cookie store: the id and the session version, so that raising
        the version (services.accounts.end_sessions) makes every copy of them stale."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password, never the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash (never, for an account without a password)."""
        return self.has_password and check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        """Whether the account has a local password (accounts created by single sign-on have none)."""
        return bool(self.password_hash)

    @property
    def roles(self) -> set[Role]:
        """The roles this user holds."""
        return {row.role for row in self.role_rows}

    @property
    def group_roles(self) -> set[Role]:
        """The roles granted by the single sign-on provider's groups (OIDC_ROLE_MAP) rather than by hand."""
        return {row.role for row in self.role_rows if row.from_group}

    def has_role(self, *roles: Role | str) -> bool:
        """Whether the user holds any of the roles; admins hold them all."""
        held = self.roles
        return Role.ADMIN in held or any(Role(role) in held for role in roles)

    def set_roles(self, roles: set[Role]) -> None:
        """Replace the user's roles with exactly these."""
        self.role_rows = [row for row in self.role_rows if row.role in roles]
        for role in sorted(roles - self.roles):
            self.role_rows.append(UserRole(role=role))


class UserRole(Model):
    """One role held by one user."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, values_callable=lambda e: [r.value for r in e]),
        primary_key=True,
    )
    # Granted at a single sign-on login for one of the user's groups, and taken away at the first login
    # without such a group; a role granted by hand (False) stays whatever the groups say.
    from_group: Mapped[bool] = mapped_column(default=False, server_default=false())
    user: Mapped[User] = relationship(back_populates="role_rows")


def hash_token(token: str) -> str:
    """The stored form of an API token: tokens are long and random, so a plain SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Model):
    """An API token; only its hash is stored, the token itself is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @classmethod
    def issue(cls, user: User, name: str = "default") -> tuple[ApiToken, str]:
        """Create a token for the user; returns the row and the secret, which is not stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=hash_token(secret), prefix=secret[:10])
        return row, secret

    @property
    def revoked(self) -> bool:
        """Whether the token was revoked and no longer authenticates."""
        return self.revoked_at is not None

    def revoke(self) -> None:
        """Stop the token from authenticating, keeping the row for the record."""
        if self.revoked_at is None:
            self.revoked_at = utcnow()

    @classmethod
    def authenticate(cls, secret: str) -> Optional[ApiToken]:
        """The unrevoked token of an active user matching this secret, or None."""
        row = db.session.execute(db.select(cls).where(cls.token_hash == hash_token(secret))).scalar_one_or_none()
        if row is None or row.revoked or not row.user.active:
            return None
        return row

    def touch(self) -> None:
        """Record a use, at most once a minute so that reads do not turn into writes."""
        now = utcnow()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            self.last_used_at = now
