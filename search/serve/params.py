"""A request's arguments, checked and capped: the same for the page and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass, replace

from indexer.errors import QuerySyntaxError

MAX_QUERY_CHARS = 500  # below the query language's own 1,000: a page's box, not a pasted article
MAX_LIMIT = 100
MAX_OFFSET = 10_000  # a page further than this ranks the whole result for nothing a person reads
PAGE_SIZE = 10
SORTS = ("relevance", "date")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class BadParameter(QuerySyntaxError):
    """A parameter the server refuses (400), with the query's position where it is about the query."""


@dataclass(frozen=True, slots=True)
class SearchParams:
    q: str = ""
    limit: int = PAGE_SIZE
    offset: int = 0
    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()
    sort: str = "relevance"
    fold: bool = True

    def filters(self) -> dict:
        """The keyword arguments that narrow `Index.search`, `facets` and `timeline` alike."""
        return {"since": self.since, "until": self.until, "sources": list(self.sources) or None, "fold": self.fold}

    def link(self, **changes) -> dict:
        """URL arguments of this search with `changes` (a page, a filter), defaults left out."""
        p = replace(self, **changes)
        args = {"q": p.q, "since": p.since, "until": p.until, "source": list(p.sources),
                "sort": None if p.sort == "relevance" else p.sort, "fold": None if p.fold else "0",
                "offset": p.offset or None, "limit": None if p.limit == PAGE_SIZE else p.limit}
        return {k: v for k, v in args.items() if v not in (None, "", [])}

    def toggled(self, source: str) -> dict:
        """The link that adds an outlet to the filter, or takes it out; back to the first page."""
        have = [s for s in self.sources if s.lower() != source.lower()]
        return self.link(sources=tuple(have if len(have) < len(self.sources) else [*self.sources, source]), offset=0)


def search_params(args) -> SearchParams:
    """From a request's arguments (a werkzeug MultiDict); BadParameter says what is wrong."""
    q = args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise BadParameter(f"query longer than {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS)
    limit = _number(args, "limit", PAGE_SIZE)
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise BadParameter(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    return SearchParams(
        q=q,
        limit=MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT),  # 0 is "all" in the CLI: here, the cap
        offset=_number(args, "offset", 0, MAX_OFFSET),
        since=args.get("since") or None,
        until=args.get("until") or None,
        sources=tuple(s for s in args.getlist("source") if s),
        sort=sort,
        fold=_flag(args, "fold", True),
    )


def _number(args, name: str, default: int, most: int | None = None) -> int:
    text = args.get(name)
    if text in (None, ""):
        return default
    if not (text.isascii() and text.isdigit()):
        raise BadParameter(f"{name} must be a whole number >= 0, not {text[:40]!r}")
    value = int(text)
    if most is not None and value > most:
        raise BadParameter(f"{name} must be at most {most:,}")
    return value


def _flag(args, name: str, default: bool) -> bool:
    text = (args.get(name) or "").lower()
    if not text:
        return default
    if text not in _TRUE + _FALSE:
        raise BadParameter(f"{name} must be 1 or 0, not {text[:40]!r}")
    return text in _TRUE
