"""Security headers: every response carries them, HSTS only in production, uploads may reach only their store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from app.security import PLOTLY_STYLE_ATTRIBUTES as PLOTLY_STYLES
from config import Config
from tests.conftest import make_app

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
JINJA_COMMENT = re.compile(r"{#.*?#}", re.DOTALL)
HASHES = {  # sha256 of each style attribute, in base64, as Chromium names them when it refuses one
    "": "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    PLOTLY_STYLES[1]: "'sha256-AR/cKIZjWPcPmBUPDA6oti9XBiTbJvz0Cro2J1VzzS8='",
}
EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def directives(headers) -> dict[str, str]:
    """The Content-Security-Policy among these headers, directive by directive."""
    policy = headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def answer(client, path: str, method: str = "GET"):
    """The status and headers of a request's response (its body, a file maybe, closed)."""
    with client.open(path, method=method) as response:
        return response.status_code, response.headers


@pytest.fixture
def failing_app(app):
    """The app with routes that fail unexpectedly, served as in production (no propagation)."""

    def boom():
        raise RuntimeError("unexpected")

    app.add_url_rule("/boom", view_func=boom)
    app.add_url_rule("/api/v1/boom", view_func=boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/competitions", 200),
        ("GET", "/api/v1/competitions", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("GET", "/api/v1/docs", 200),
        ("GET", "/api/v1/competitions/no-such-competition", 404),
        ("GET", "/api/v1/submissions/1", 401),
        ("GET", "/no/such/page", 404),
        ("POST", "/login", 400),  # no CSRF token
        ("GET", "/boom", 500),
        ("GET", "/api/v1/boom", 500),
        ("GET", "/static/css/app.css", 200),
        ("GET", "/vendor/plotly.min.js", 200),
        ("GET", "/favicon.ico", 200),
        ("GET", "/healthz", 200),
    ],
)
def test_every_response_carries_the_security_headers(failing_app, method, path, status):
    """Pages, JSON answers, error pages and static files alike."""
    code, headers = answer(failing_app.test_client(), path, method)
    assert code == status
    for name, value in EVERY_RESPONSE.items():
        assert headers.get(name) == value, name
    assert directives(headers)["frame-ancestors"] == "'none'"
    assert "Strict-Transport-Security" not in headers


def test_the_policy_allows_only_this_origin_and_no_inline_script(client):
    """Scripts, styles and requests from the site itself; no inline script, eval, plugin or foreign form target."""
    policy = directives(client.get("/").headers)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["connect-src"] == "'self'"  # files stay on the platform: no store to upload to
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    header = client.get("/").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    # Style attributes only with exactly the values Plotly's heatmaps set, by their hashes.
    assert policy["style-src-attr"].split() == ["'unsafe-hashes'", *(HASHES[value] for value in PLOTLY_STYLES)]


def test_hsts_is_sent_in_production_only(tmp_path):
    """Production is served over https and browsers should insist on it; development is plain http."""
    environment = {"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path}/db", "STORAGE_URL": f"file://{tmp_path}"}
    _, production = answer(create_app(Config(environment | {"APP_ENV": "production"})).test_client(), "/")
    _, development = answer(create_app(Config(environment | {"APP_ENV": "development"})).test_client(), "/")
    assert production["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in development
    assert production["X-Frame-Options"] == development["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("settings", "store"),
    [
        ({"S3_ENDPOINT_URL": "http://minio:9000"}, "http://minio:9000"),
        (
            {"S3_ENDPOINT_URL": "http://minio.internal:9000", "S3_PUBLIC_ENDPOINT_URL": "https://s3.example.org/"},
            "https://s3.example.org",
        ),
        ({}, "https://uploads.s3.amazonaws.com"),
    ],
)
def test_on_s3_the_browser_may_reach_the_store_it_uploads_to_and_nothing_else(tmp_path, monkeypatch, settings, store):
    """The submit page PUTs files to the store's public origin, which presigned URLs name: that origin only."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    app = make_app(f"sqlite:///{tmp_path}/db", tmp_path, STORAGE_URL="s3://uploads/web", **settings)
    policy = directives(answer(app.test_client(), "/healthz")[1])
    assert policy["connect-src"] == f"'self' {store}"


def test_pages_link_an_icon_and_favicon_ico_answers(client):
    """Browsers ask for an icon on every page: it exists, so none logs a 404."""
    page = client.get("/").get_data(as_text=True)
    links = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert links
    for href in links:
        assert answer(client, href)[0] == 200
    with client.get("/favicon.ico") as icon:
        assert icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # the ICO signature


def test_templates_hold_no_inline_script_handler_or_style():
    """What the policy would block: script without src, on* handler attributes, javascript: URLs, style attributes."""
    forbidden = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+\s*=|javascript:|\sstyle\s*=|<style", re.IGNORECASE)
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in forbidden.finditer(JINJA_COMMENT.sub("", path.read_text()))
    ]
    assert found == []
