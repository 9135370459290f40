"""Template helpers: the navigation by role and display filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user

from app.models import Role
from app.models.types import utcnow
from app.services.runs.luminosity import format_luminosity


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
    NavItem("Competitions", "competitions.index"),
    NavItem("Datasets", "datasets.index"),
    NavItem("Certification", "certification.tasks", (Role.SHIFTER, Role.SHIFT_LEADER, Role.ORGANISER)),
    NavItem("New competition", "competitions.new", (Role.ORGANISER,)),
    NavItem("Users", "admin.users", (Role.ADMIN,)),
    NavItem("System", "admin.system", (Role.ADMIN,)),
]


def nav_items() -> list[dict]:
    """The navigation entries the current user sees, with the current one marked active."""
    items: list[dict[str, Any]] = [
        {"label": item.label, "url": url_for(item.endpoint)} for item in NAVIGATION if item.visible()
    ]
    # The longest matching URL is the current entry: /competitions/new is not also /competitions.
    matching = [item["url"] for item in items if request.path.startswith(item["url"])]
    current = max(matching, key=len, default=None)
    for item in items:
        item["active"] = item["url"] == current
    return items


def format_datetime(value: datetime | None) -> str:
    """A timestamp as people read it in e-logs: UTC, to the minute."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def format_score(value: float | None) -> str:
    """A score with six significant digits, or nothing when there is none."""
    return "" if value is None else f"{value:.6g}"


def format_size(size: int | None) -> str:
    """A file size in the unit that reads best."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def register(app: Flask) -> None:
    """Install the helpers in the app's Jinja environment."""
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["now_utc"] = utcnow
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["score"] = format_score
    app.jinja_env.filters["filesize"] = format_size
    app.jinja_env.filters["luminosity"] = format_luminosity
