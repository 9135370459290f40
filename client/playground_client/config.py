"""Where the client keeps its login: a file only its owner can read, overridable by environment."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def config_path() -> Path:
    """The login file, under the user's configuration directory."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "dqm-playground" / "login.json"


@dataclass(frozen=True)
class Login:
    """A platform address and an API token."""

    url: str | None
    token: str | None


def save(url: str, token: str) -> Path:
    """Write the login file, readable and writable by its owner only."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    os.chmod(path, 0o600)
    return path


def load() -> Login:
    """The saved login, with PLAYGROUND_URL and PLAYGROUND_TOKEN taking precedence."""
    saved: dict = {}
    path = config_path()
    if path.is_file():
        saved = json.loads(path.read_text())
    return Login(
        url=os.environ.get("PLAYGROUND_URL") or saved.get("url"),
        token=os.environ.get("PLAYGROUND_TOKEN") or saved.get("token"),
    )
