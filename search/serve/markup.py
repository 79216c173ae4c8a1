"""Text into HTML: every piece escaped, highlights as <mark>, links only to http(s) addresses.

Templates autoescape whatever they print; these helpers build the few pieces of markup the
templates cannot (a highlighted run), from escaped text only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from flask import request
from markupsafe import Markup, escape

from ..render import readable_url

__all__ = ["marked", "safe_href", "readable_url", "utc", "page_href", "article_href"]


def marked(text: str, spans: Sequence[Sequence[int]]) -> Markup:
    """`text` escaped, with each [start, end) of `spans` (sorted, disjoint: a Hit's highlights) in <mark>."""
    out, pos = [], 0
    for start, end in spans:
        out += [escape(text[pos:start]), Markup("<mark>"), escape(text[start:end]), Markup("</mark>")]
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def safe_href(url: str) -> str | None:
    """The URL when it may be a link (http or https with a host), else None: a `javascript:`
    or `data:` address in a bad article file must not become something a click runs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def utc(dt: datetime | None, minutes: bool = True) -> str:
    if dt is None:
        return "undated"
    return dt.strftime("%Y-%m-%d %H:%M UTC" if minutes else "%Y-%m-%d")


# Links of the app's own pages, written directly: werkzeug's url_for takes ~0.1 ms a link, and
# a page has ~60 of them (outlets, timeline bars, pages, articles).
def page_href(args: dict) -> str:
    """The search page with these arguments (lists are repeated: source=a&source=b)."""
    return f"{request.script_root}/?{urlencode(args, doseq=True)}" if args else f"{request.script_root}/"


def article_href(url: str, q: str = "") -> str:
    return f"{request.script_root}/article?{urlencode({'url': url, 'q': q} if q else {'url': url})}"
