"""From a parsed query to a page of Hits: filters, ordering, paging, snippets."""

from __future__ import annotations

from indexer.schema import published_key, stored_published

from . import query as ql
from .api import Hit, Hits
from .postings import Postings
from .ranking import add_recency, evaluate, positive_leaves, prepare, rank
from .snippets import find_spans, make_snippet


def _filter_docs(searcher, since, until, sources) -> set[int] | None:
    from whoosh import query as wq

    parts: list[wq.Query] = []
    if since is not None or until is not None:
        naive = lambda d: None if d is None else d.replace(tzinfo=None)  # noqa: E731 (stored naive UTC)
        parts.append(wq.DateRange("published", naive(since), naive(until)))
    if sources:
        parts.append(wq.Or([wq.Term("source", s) for s in sources]))
    if not parts:
        return None
    return set(searcher.docs_for_query(wq.And(parts)))


def fold_copies(story, order: list[int]) -> tuple[list[int], dict[int, list[int]]]:
    """One hit per story: later copies of the same text under other URLs join the first."""
    first: dict[str, int] = {}
    kept: list[int] = []
    copies: dict[int, list[int]] = {}
    for d in order:
        key = story[d]
        if key in first:
            copies.setdefault(first[key], []).append(d)
        else:
            first[key] = d
            kept.append(d)
    return kept, copies


def run_search(searcher, cache: dict, tree: ql.Node, text: str, *,
               limit, offset, since, until, sources, sort, fold) -> Hits:
    """`cache` lives as long as the searcher's snapshot: what every query of it would recompute."""
    reader = searcher.reader()
    postings = Postings(reader, _lengths=cache.setdefault("lengths", {}))
    leaves = prepare(tree)
    if "live" not in cache:
        cache["live"] = frozenset(reader.all_doc_ids())  # is_deleted() per document is slow
    universe = set(cache["live"])
    allowed = _filter_docs(searcher, since, until, sources)
    if allowed is not None:
        universe &= allowed
    docs = evaluate(searcher, postings, tree, leaves, universe) & universe
    positive = positive_leaves(tree, leaves)
    date = published_key(reader)
    story = reader.column_reader("story")

    if sort == "date":
        order = sorted(docs, key=lambda d: (date(d), -d), reverse=True)
    else:
        score = rank(searcher, postings, docs, positive)
        add_recency(score, date)
        order = sorted(docs, key=lambda d: (round(score[d], 6), date(d), -d), reverse=True)
    copies: dict[int, list[int]] = {}
    if fold:
        order, copies = fold_copies(story, order)
    page = order[offset:] if limit == 0 else order[offset:offset + limit]
    if sort == "date":  # the order needs no scores: score only what is shown
        score = rank(searcher, postings, set(page), positive)
    total = len(order) if fold else len(docs)
    needles = _needles(positive)
    hits = [_hit(searcher, d, offset + i + 1, score.get(d, 0.0), needles, copies.get(d, []))
            for i, d in enumerate(page)]
    return Hits(total=total, hits=hits, query=text, offset=offset)


def _needles(positive) -> list[str]:
    """What snippets highlight: each run literally, and its words (longest wins in find_spans)."""
    out: list[str] = []
    for leaf in positive:
        for n in [leaf.needle] + ([] if leaf.literal_only else leaf.words):
            if n and n not in out:
                out.append(n)
    return out


def _hit(searcher, docnum: int, rank: int, score: float, needles: list[str], copies: list[int]) -> Hit:
    doc = searcher.stored_fields(docnum)
    snippet = make_snippet(doc.get("lead", ""), doc.get("body", ""), needles)
    title = doc.get("title", "")
    return Hit(
        rank=rank,
        url=doc["url"],
        title=title,
        published=stored_published(doc.get("published")),
        source=doc.get("source", ""),
        path=doc.get("path", ""),
        score=round(float(score), 4),
        snippet=snippet.text,
        highlights=[tuple(s) for s in snippet.highlights],
        title_highlights=find_spans(title, needles),
        duplicates=[searcher.stored_fields(c)["url"] for c in copies],
    )


__all__ = ["run_search"]
