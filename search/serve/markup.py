"""Text into HTML: every piece escaped, highlights as <mark>, links only to http(s) addresses.

Templates autoescape whatever they print; these helpers build the few pieces of markup the
templates cannot (a highlighted run), from escaped text only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from ..render import readable_url

__all__ = ["marked", "safe_href", "readable_url", "utc"]


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
