"""The demo data set: a login for every role, so that a newcomer can walk through every page."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.models import Role, User
from app.services import accounts

DEMO_PASSWORD = "playground-demo"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account as printed for the newcomer."""

    username: str
    password: str
    roles: tuple[Role, ...]


DEMO_USERS = (
    DemoLogin("admin", DEMO_PASSWORD, (Role.ADMIN,)),
    DemoLogin("olga", DEMO_PASSWORD, (Role.ORGANISER, Role.RESEARCHER)),
    DemoLogin("lea", DEMO_PASSWORD, (Role.SHIFT_LEADER, Role.SHIFTER)),
    DemoLogin("sam", DEMO_PASSWORD, (Role.SHIFTER,)),
    DemoLogin("rita", DEMO_PASSWORD, (Role.RESEARCHER,)),
    DemoLogin("ravi", DEMO_PASSWORD, (Role.RESEARCHER,)),
)


def database_is_empty() -> bool:
    """Whether no account exists yet."""
    return db.session.execute(db.select(User.id).limit(1)).first() is None


def seed() -> list[DemoLogin]:
    """Create whatever of the demo is missing (idempotent); returns the demo logins."""
    for login in DEMO_USERS:
        if accounts.find_user(login.username) is None:
            accounts.create_user(
                login.username, login.password, email=f"{login.username}@demo.invalid", roles=set(login.roles)
            )
    db.session.commit()
    return list(DEMO_USERS)
