"""Organisers' Markdown: rendered with tables and code, and never able to run a script in a visitor's browser."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from app.services import markdown


def test_headings_tables_and_code_are_rendered():
    html = markdown.render("# Rules\n\n| metric | goal |\n|---|---|\n| AUC | high |\n\n```\nscore = 1\n```\n")
    assert "<h1>Rules</h1>" in html
    assert "<table>" in html and "<th>metric</th>" in html and "<td>AUC</td>" in html
    assert "<code>score = 1\n</code>" in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src="x.png" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<iframe src="https://example.org"></iframe>',
    ],
)
def test_nothing_that_runs_a_script_survives(text):
    html = str(markdown.render(text)).lower()
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html and "<iframe" not in html


def test_links_open_without_handing_over_the_page():
    html = markdown.render("[data](https://example.org/data)")
    assert 'href="https://example.org/data"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_the_result_is_safe_to_put_in_a_page_and_no_text_renders_empty():
    assert isinstance(markdown.render("plain"), Markup)
    assert markdown.render("") == "" and markdown.render(None) == ""
