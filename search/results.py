"""From a parsed query to a page of Hits: filters, ordering, paging, snippets."""

from __future__ import annotations

import heapq
from functools import partial

from indexer.schema import published_keys, stored_published, texts

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


def _top(docs: set[int], key, score: dict[int, float] | None, n: int) -> list[int]:
    """The first n of `docs` in descending `key` order, without sorting them all.

    With scores, only documents within 1e-6 of the n-th best score can be among the first n
    (the key rounds scores to 6 places): a few instead of every match of a common word."""
    if n >= len(docs):
        return sorted(docs, key=key, reverse=True)
    if score is not None:
        floor = heapq.nlargest(n, score.values())[-1] - 1e-6
        docs = [d for d, s in score.items() if s >= floor]
    return heapq.nlargest(n, docs, key=key)


def _page(docs: set[int], key, score, story: list | None, offset: int, limit: int):
    """The page of hits (docnums) in order, and with `story`, each hit's other copies."""
    want = len(docs) if limit == 0 else offset + limit
    if story is None:
        return _top(docs, key, score, want)[offset:], {}
    n = 4 * want
    while True:  # fold the best n; fetch more while copies leave fewer than `want` stories
        order, _ = fold_copies(story, _top(docs, key, score, n))
        if len(order) >= want or n >= len(docs):
            break
        n *= 4
    page = order[offset:want]
    # a hit's copies are all the matches of its story, not only those among the best n
    first = {story[d]: d for d in page}
    copies: dict[int, list[int]] = {}
    for d in docs:
        head = first.get(story[d])
        if head is not None and head != d:
            copies.setdefault(head, []).append(d)
    return page, {h: sorted(c, key=key, reverse=True) for h, c in copies.items()}


def run_search(searcher, cache: dict, tree: ql.Node, text: str, *,
               limit, offset, since, until, sources, sort, fold) -> Hits:
    """`cache` lives as long as the searcher's snapshot: what every query of it would recompute."""
    reader = searcher.reader()
    postings = Postings(reader, _lengths=cache.setdefault("lengths", {}))
    leaves = prepare(tree)
    if "live" not in cache:
        # Per document, is_deleted() and Whoosh's column readers cost microseconds each: read
        # once per snapshot what every query needs for every match.
        cache["live"] = frozenset(reader.all_doc_ids())
        cache["date"] = published_keys(reader)
        cache["story"] = list(reader.column_reader("story"))
        cache["texts"] = partial(texts, reader.column_reader("text"))
    universe = cache["live"]
    allowed = _filter_docs(searcher, since, until, sources)
    if allowed is not None:
        universe = universe & allowed
    text_of = cache["texts"]
    docs = evaluate(text_of, postings, tree, leaves, universe) & universe
    positive = positive_leaves(tree, leaves)
    date = cache["date"].__getitem__
    story = cache["story"]

    if sort == "date":
        key = lambda d: (date(d), -d)  # noqa: E731
        score = None
    else:
        score = rank(text_of, postings, docs, positive)
        add_recency(score, date)
        key = lambda d: (round(score[d], 6), date(d), -d)  # noqa: E731
    page, copies = _page(docs, key, score, story if fold else None, offset, limit)
    if score is None:  # the date order needs no scores: score only what is shown
        score = rank(text_of, postings, set(page), positive)
    total = len({story[d] for d in docs}) if fold else len(docs)
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
