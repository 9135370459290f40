"""Template helpers: the navigation by role and display filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, request, url_for
from flask_login import current_user

from app.models import Role


@dataclass(frozen=True)
class NavItem:
    """One entry of the top navigation: who sees it and where it leads."""

    label: str
    endpoint: str
    roles: tuple[Role, ...] = ()  # empty: everyone

    def visible(self) -> bool:
        """Whether the current user may see this entry."""
        if not self.roles:
            return True
        return current_user.is_authenticated and current_user.has_role(*self.roles)


# Areas append their entries here as they are built, in the order they should appear.
NAVIGATION: list[NavItem] = [
    NavItem("Users", "admin.users", (Role.ADMIN,)),
    NavItem("System", "admin.system", (Role.ADMIN,)),
]


def nav_items() -> list[dict]:
    """The navigation entries the current user sees, with the current one marked active."""
    items = []
    for item in NAVIGATION:
        if item.visible():
            url = url_for(item.endpoint)
            items.append({"label": item.label, "url": url, "active": request.path.startswith(url)})
    return items


def format_datetime(value: datetime | None) -> str:
    """A timestamp as people read it in e-logs: UTC, to the minute."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def register(app: Flask) -> None:
    """Install the helpers in the app's Jinja environment."""
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.filters["datetime"] = format_datetime
