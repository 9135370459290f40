"""The HTTP side of the client: one session per platform, retries on 429 and 503, and the server's errors.

A call answered 429 (rate limit) or 503 (unavailable) is sent again after the server's ``Retry-After``,
or with exponential back-off, a bounded number of times; a lost connection is retried only for calls
that change nothing. A refusal raises ApiError with the server's own message.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from playground_client import transfer

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Retry-After counts whole seconds, rounded down: 0 means "within the second", not "at once".
MIN_RETRY_AFTER = 1.0
CONNECTION_RETRIES = 2


class _LargeBlocks(HTTPAdapter):
    """Sends request bodies read from disk in 1 MB blocks rather than urllib3's 16 kB."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blocksize"] = transfer.CHUNK
        super().init_poolmanager(*args, **kwargs)


def _session() -> requests.Session:
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _LargeBlocks())
    return session


class ApiError(Exception):
    """The server refused a call, or could not be reached; the message is the server's own."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Connection:
    """Sends the API calls of one platform as one user (anonymously without a token), retrying as the server asks.

    ``max_retries`` and ``max_wait`` bound the waiting on 429 and 503: a ``Retry-After`` longer than
    ``max_wait`` seconds (a used-up daily quota, say) is not waited for but raised.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 60,
        progress: bool | None = None,
        max_retries: int = 5,
        max_wait: float = 120,
        on_wait: Callable[[str], object] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.progress = progress
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.on_wait = on_wait
        self.sleep: Callable[[float], object] = time.sleep
        self.session = _session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self._store_sessions = threading.local()

    def request(self, method: str, path: str, *, body: Callable[[], Any] | None = None, **kwargs: Any):
        """Send one API call, retrying on 429 and 503; raises ApiError with the server's message when refused.

        ``body`` builds the request body afresh for each attempt (a file being uploaded).
        """
        response = self._send(self.session, method, f"{self.url}/api/v1{path}", body=body, **kwargs)
        if response.status_code >= 400:
            raise error_of(response)
        return response

    def _send(self, session: requests.Session, method: str, url: str, *, body=None, **kwargs: Any):
        for attempt in range(self.max_retries + 1):
            if body is not None:
                kwargs["data"] = body()
            try:
                response = session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as error:
                # Only calls that change nothing are safe to send again after a lost connection.
                if method in ("GET", "HEAD", "PUT", "DELETE") and attempt < min(self.max_retries, CONNECTION_RETRIES):
                    self._wait(backoff(attempt), f"cannot reach {_host(url)} ({_reason(error)})")
                    continue
                raise ApiError(0, "unreachable", f"cannot reach {_host(url)}: {_reason(error)}") from None
            if response.status_code not in RETRY_STATUSES or attempt == self.max_retries:
                return response
            wait = _retry_after(response)
            if wait is None:
                wait = backoff(attempt)
            if wait > self.max_wait:
                return response
            response.close()
            self._wait(wait, f"the server answered {response.status_code}")
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, seconds: float, why: str) -> None:
        if self.on_wait is not None:
            self.on_wait(f"{why}; retrying in {seconds:.0f} s")
        self.sleep(seconds)

    def _store(self) -> requests.Session:
        """A session without the API token, one per thread, for presigned storage URLs."""
        session = getattr(self._store_sessions, "session", None)
        if session is None:
            session = self._store_sessions.session = _session()
        return session


def backoff(attempt: int) -> float:
    return min(2.0**attempt, 30.0)


def _retry_after(response: requests.Response) -> float | None:
    """The server's Retry-After in seconds, at least MIN_RETRY_AFTER; None when absent or a date."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(MIN_RETRY_AFTER, float(value))
    except ValueError:
        return None  # an HTTP date: rare enough to use the back-off instead


def _host(url: str) -> str:
    return url.split("/api/v1", 1)[0].split("?", 1)[0]


def _reason(error: requests.RequestException) -> str:
    """The operating system's words for a failed connection, without urllib3's object dump."""
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
    return match.group(1).strip() if match else error.__class__.__name__


def error_of(response: requests.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, error.get("code", "error"), error.get("message", response.reason))
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "http_error", f"{response.status_code} {response.reason}")
