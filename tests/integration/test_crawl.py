"""Every page the demo links to answers without a server error, for a visitor and for each demo login.

The crawl seeds the demo once, then follows every same-site link (and submits every GET form with its
default values) from the home page, GET only, as each caller. It knows nothing of the demo's contents but
its login names, so it follows the demo as the demo changes. Of the URLs of one route that differ only in their
ids, each caller opens the first PER_ROUTE found (and wherever a redirect leads): every kind of page is reached
and the crawl stays within a minute or so.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from flask import Flask, got_request_exception
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException

from demo import DEMO_USERS
from tests.conftest import AuthActions

pytestmark = pytest.mark.databases("sqlite", "postgresql")

HOST = "localhost"
PER_ROUTE = 10  # URLs opened per route and query shape, for each caller
MAX_PAGES = 1500  # per caller: a bound in case the demo links to something endless
SKIPPED = ("/static/", "/logout")  # files the browser caches; the one link that ends the session
REDIRECTS = (301, 302, 303, 307, 308)


class Links(HTMLParser):
    """The targets of a page's links, and of its GET forms submitted with their default values."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.found.append(attributes["href"] or "")
        elif tag == "form" and (attributes.get("method") or "get").lower() == "get":
            self._form = (attributes.get("action") or "", [])
        elif tag in ("input", "select") and self._form is not None and attributes.get("name"):
            self._form[1].append((attributes["name"] or "", attributes.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            action, fields = self._form
            self.found.append(f"{action}?{urlencode(fields)}" if fields else action)
            self._form = None


@dataclass
class Crawl:
    """One caller's walk through the pages, breadth first from the home page."""

    app: Flask
    client: FlaskClient
    opened: int = 0
    failures: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _per_route: Counter = field(default_factory=Counter)

    def run(self, start: str = "/") -> None:
        """Open every page reachable from start, within the bounds, recording each server error."""
        queue = deque([start])
        self._seen.add(start)
        errors: list[BaseException] = []
        with got_request_exception.connected_to(lambda _, exception, **__: errors.append(exception), self.app):
            while queue and self.opened < MAX_PAGES:
                url = queue.popleft()
                errors.clear()
                with self.client.get(url) as response:  # closed, so that a downloaded file is closed too
                    self.opened += 1
                    if response.status_code >= 500:
                        said = f": {type(errors[0]).__name__}: {errors[0]}" if errors else ""
                        self.failures.append(f"{response.status_code} {url}{said}")
                    if response.status_code in REDIRECTS:
                        queue.extend(self._admit([response.headers["Location"]], url, redirect=True))
                    elif response.mimetype == "text/html":
                        links = Links()
                        links.feed(response.get_data(as_text=True))
                        queue.extend(self._admit(links.found, url))

    def _admit(self, targets: list[str], base: str, redirect: bool = False) -> list[str]:
        """The same-site targets not opened yet; beyond PER_ROUTE of a route, only where a redirect leads."""
        admitted = []
        for target in targets:
            parts = urlsplit(urljoin(f"http://{HOST}{base}", target))
            if parts.netloc != HOST or parts.path.startswith(SKIPPED):
                continue
            url = parts.path + (f"?{parts.query}" if parts.query else "")
            if url in self._seen:
                continue
            self._seen.add(url)
            route = (self._endpoint(parts.path), tuple(sorted({p.split("=")[0] for p in parts.query.split("&") if p})))
            if self._per_route[route] >= PER_ROUTE and not redirect:
                continue
            self._per_route[route] += 1
            admitted.append(url)
        return admitted

    def _endpoint(self, path: str) -> str:
        try:
            return self.app.url_map.bind(HOST).match(path, method="GET")[0]
        except HTTPException:
            return path  # no route: its own kind, opened once


def test_every_page_the_demo_links_to_answers_without_a_server_error(app, runner):
    """As a visitor and as each demo login: no 5xx anywhere a link leads."""
    seeded = runner.invoke(args=["demo"])
    assert seeded.exit_code == 0, seeded.output
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a failing page with the 500 a browser would get
    failures, opened = [], {}
    for login in (None, *DEMO_USERS):
        client = app.test_client()
        if login is not None:
            signed_in = AuthActions(client).login(login.username, login.password)
            assert signed_in.status_code == 302, f"{login.username} could not log in"
        crawl = Crawl(app, client)
        crawl.run()
        caller = login.username if login else "visitor"
        opened[caller] = crawl.opened
        failures += [f"as {caller}: {failure}" for failure in crawl.failures]
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)
    assert all(count > opened["visitor"] for caller, count in opened.items() if caller != "visitor"), opened
