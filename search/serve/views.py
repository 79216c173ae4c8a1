"""What each page and API answer holds, computed once from the `Index` API: the page renders
it as HTML, the API as the CLI's JSON (`Hit.to_dict`, `StoredArticle.to_dict`, ...), so the two
cannot drift apart. Hits are made here, while the request holds its Index (a Hit makes its
snippet later, if need be, from the text it was read with)."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.errors import QuerySyntaxError

from ..api import Index, IndexStats, StoredArticle
from ..snippets import find_spans
from ..values import Facets, Hit
from .params import SearchParams
from .timeline import Chart, lay_out

Spans = list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Found:
    params: SearchParams
    total: int
    hits: list[Hit]
    facets: Facets | None = None  # by outlet, over the result without the outlet filter
    chart: Chart | None = None

    def to_dict(self) -> dict:
        """/api/search: the CLI's `--json` hits under the result's total."""
        return {"total": self.total, "hits": [h.to_dict() for h in self.hits]}


def find(ix: Index, p: SearchParams, *, counts: bool = False) -> Found:
    """A page of hits; with `counts` (the HTML page), the outlet counts and the timeline too."""
    facets = counts and not p.sources  # the same match then counts the outlets
    hits = ix.search(p.q, limit=p.limit, offset=p.offset, sort=p.sort, facets=facets, **p.filters())
    made = hits.hits  # snippets are made now, while this request holds the Index
    if not counts:
        return Found(p, hits.total, made)
    outlets = hits.facets if facets else ix.facets(p.q, **{**p.filters(), "sources": None})
    chart = lay_out(ix.timeline(p.q, by="auto", **p.filters())) if hits.total else None
    return Found(p, hits.total, made, outlets, chart)


def timeline(ix: Index, p: SearchParams, by: str) -> dict:
    """/api/timeline: `timeline --json`'s periods, and the period length `auto` chose."""
    periods = ix.timeline(p.q, by=by, **p.filters())
    return {"by": periods[0].by if periods else by, "periods": [x.to_dict() for x in periods]}


def facets(ix: Index, p: SearchParams) -> dict:
    """/api/facets: what `search --facets --json` prints."""
    return ix.facets(p.q, **p.filters()).to_dict()


def stats(ix: Index) -> IndexStats:
    return ix.stats()


@dataclass(frozen=True, slots=True)
class Reading:
    """An article to read, with the query's words marked in its whole text."""

    article: StoredArticle
    title: Spans
    lead: Spans
    paragraphs: list[tuple[str, Spans]]
    query_error: str | None = None


def read(ix: Index, url: str, q: str = "") -> Reading | None:
    """The article at `url` (None if not indexed), marked as its snippets are for `q`."""
    article = ix.get(url)
    if article is None:
        return None
    words, error = [], None
    if q.strip():
        try:
            words = ix.highlight_words(q)
        except QuerySyntaxError as exc:  # the article is still worth reading
            error = str(exc)

    def spans(text: str) -> Spans:
        return find_spans(text, words) if words else []

    paragraphs = [p.strip() for p in article.body.split("\n") if p.strip()]
    return Reading(article, spans(article.title), spans(article.lead), [(p, spans(p)) for p in paragraphs], error)
