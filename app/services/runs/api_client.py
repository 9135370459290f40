"""What the clients of CERN's JSON APIs (OMS, the Run Registry) share: one pooled session per client that
asks for JSON, sends the bearer token, verifies TLS as configured and times out; and the refusal when the
API's base URL is not configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from app.services.errors import Refused


class JsonApiClient:
    """A session on one API base URL."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        verify_tls: bool = True,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.verify = verify_tls
        self.session.headers["Accept"] = "application/json"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        """Close pooled connections; the client opens new ones if used again."""
        self.session.close()


def configured_url(config: Mapping[str, Any], key: str, example: str, purpose: str) -> str:
    """The API's base URL from the configuration, or Refused (503) saying how to set it."""
    base_url = config.get(key)
    if not base_url:
        raise Refused(f"{key} is not set: set it to {example} to {purpose}", 503)
    return str(base_url)
