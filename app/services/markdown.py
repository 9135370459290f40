"""Markdown written by organisers, rendered to HTML that cannot run scripts."""

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"table", "thead", "tbody", "tr", "th", "td", "pre", "code", "img", "hr"}


def render(text: str) -> Markup:
    """HTML of the Markdown text, sanitised: no scripts, no event handlers, no javascript: links."""
    html = md.markdown(text or "", extensions=["tables", "fenced_code", "sane_lists"])
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, link_rel="noopener noreferrer nofollow"))
