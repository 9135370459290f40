"""A thin, typed client of the DQM Playground REST API (``/api/v1``)."""

from __future__ import annotations

from typing import Any

import requests


class ApiError(Exception):
    """The server refused a call; the message is the server's own."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Client:
    """Calls the API of one platform as one user."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one call; raises ApiError with the server's message when it is refused."""
        try:
            response = self.session.request(method, f"{self.url}/api/v1{path}", timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise ApiError(0, "unreachable", f"cannot reach {self.url}: {error}") from None
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    def me(self) -> dict[str, Any]:
        """The user the token belongs to: username and roles."""
        return self.request("GET", "/me").json()


def _error_of(response: requests.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, error.get("code", "error"), error.get("message", response.reason))
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "http_error", f"{response.status_code} {response.reason}")
