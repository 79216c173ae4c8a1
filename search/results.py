"""From a parsed query to a page of Hits: filters, ordering, paging, snippets."""

from __future__ import annotations

from functools import partial

import numpy as np

from indexer.schema import published_keys, stored_published, texts

from . import query as ql
from .api import Hit, Hits
from .postings import Postings
from .ranking import add_recency, evaluate, first_by_keys, positive_leaves, prepare, rank
from .snippets import find_spans, make_snippet


def _snapshot(reader) -> dict:
    """What every query of one searcher snapshot needs for every match, read once.

    Per document, is_deleted() and Whoosh's column readers cost microseconds each."""
    stories = list(reader.column_reader("story"))
    codes: dict[str, int] = {}
    column = reader.column_reader("text")
    live = np.zeros(reader.doc_count_all(), dtype=bool)
    live[list(reader.all_doc_ids())] = True
    return {
        "live": live,
        "date": np.array(published_keys(reader), dtype=np.int64),
        # one int per story key (copies of one text share it), for array work
        "story": np.array([codes.setdefault(k, len(codes)) for k in stories], dtype=np.int64),
        "stories": len(codes),
        "texts": partial(texts, column),
        "raw": column.__getitem__,
        # a hit lists the URLs of its story's other copies: 19 of them for each hit at x20, where
        # reading each copy's stored fields (a zlib pickle with its body) cost 1.6 ms a hit
        "url": reader.column_reader("url"),
    }


def _filter(postings: Postings, date: np.ndarray, since, until, sources) -> np.ndarray | None:
    """Boolean by docnum: the documents the date range and sources allow (None: no filter)."""
    out = None
    if since is not None or until is not None:
        from whoosh.util.times import datetime_to_long

        out = date >= 0  # undated documents are in no date range
        # stored naive UTC, as Whoosh's DATETIME field keys them
        if since is not None:
            out &= date >= datetime_to_long(since.replace(tzinfo=None))
        if until is not None:
            out &= date <= datetime_to_long(until.replace(tzinfo=None))
    if sources:
        allowed = np.zeros(postings.size, dtype=bool)
        for s in sources:
            allowed[postings.get("source", s).ids] = True
        out = allowed if out is None else out & allowed
    return out


def first_of_each_story(story: np.ndarray, order: list[int]) -> list[int]:
    """One hit per story: later copies of the same text under other URLs are left out."""
    seen: set[int] = set()
    kept: list[int] = []
    for d, key in zip(order, story[order].tolist()):
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept


class Order:
    """The result order over the matched ids: descending score (to 6 places), then the newer
    date, then the lower docnum; with no score, by date alone."""

    def __init__(self, ids: np.ndarray, score: np.ndarray | None, date: np.ndarray):
        self.ids = ids
        # primary key last, as np.lexsort takes them; negated so that ascending order is ours
        self.keys = [ids, -date[ids]] + ([] if score is None else [-np.round(score[ids], 6)])

    def top(self, n: int) -> list[int]:
        """The first n ids in order, without sorting them all."""
        return first_by_keys(self.keys, n)

    def sort(self, ids: list[int]) -> list[int]:
        """`ids` (some of the matched ones) in order."""
        where = np.searchsorted(self.ids, ids)  # self.ids ascend (np.flatnonzero)
        keys = [k[where] for k in self.keys]
        return keys[0][np.lexsort(keys)].tolist()


def _page(order: Order, story: np.ndarray | None, offset: int, limit: int):
    """The page of hits (docnums) in order, and with `story`, each hit's other copies."""
    ids = order.ids
    want = len(ids) if limit == 0 else offset + limit
    if story is None:
        return order.top(want)[offset:], {}
    n = 4 * want
    while True:  # fold the best n; fetch more while copies leave fewer than `want` stories
        kept = first_of_each_story(story, order.top(n))
        if len(kept) >= want or n >= len(ids):
            break
        n *= 4
    page = kept[offset:want]
    # a hit's copies are all the matches of its story, not only those among the best n
    head = {int(story[d]): d for d in page}
    same = ids[np.isin(story[ids], list(head))]
    copies: dict[int, list[int]] = {}
    for d in same.tolist():
        h = head[int(story[d])]
        if h != d:
            copies.setdefault(h, []).append(d)
    return page, {h: order.sort(c) for h, c in copies.items()}


def run_search(searcher, cache: dict, tree: ql.Node, text: str, *,
               limit, offset, since, until, sources, sort, fold, variants=None) -> Hits:
    """`cache` lives as long as the searcher's snapshot: what every query of it would recompute."""
    reader = searcher.reader()
    postings = Postings(reader, _lengths=cache.setdefault("lengths", {}))
    if "live" not in cache:
        cache.update(_snapshot(reader))
    leaves = prepare(tree, variants)
    universe = cache["live"]
    date, story = cache["date"], cache["story"]
    allowed = _filter(postings, date, since, until, sources)
    if allowed is not None:
        universe = universe & allowed
    text_of = cache["texts"]
    docs = evaluate(text_of, cache["raw"], postings, tree, leaves, universe)
    ids = np.flatnonzero(docs)
    positive = positive_leaves(tree, leaves)

    if sort == "date":
        score = None
    else:
        score = rank(text_of, postings, docs, positive)
        add_recency(score, docs, date)
    page, copies = _page(Order(ids, score, date), story if fold else None, offset, limit)
    if score is None:  # the date order needs no scores: score only what is shown
        shown = np.zeros(postings.size, dtype=bool)
        shown[page] = True
        score = rank(text_of, postings, shown, positive)
    if fold:
        seen = np.zeros(cache["stories"], dtype=bool)
        seen[story[ids]] = True
        total = int(np.count_nonzero(seen))
    else:
        total = len(ids)
    needles = _needles(positive)
    url = cache["url"]
    hits = [_hit(searcher, d, offset + i + 1, float(score[d]), needles, [url[c] for c in copies.get(d, [])])
            for i, d in enumerate(page)]
    return Hits(total=total, hits=hits, query=text, offset=offset)


def _needles(positive) -> list[str]:
    """What snippets highlight: each run literally (with its variants), and its words and
    variants (longest wins in find_spans)."""
    out: list[str] = []
    for leaf in positive:
        variants = [o.needle for e in leaf.expansions for o in e.others]
        for n in leaf.needles + ([] if leaf.literal_only else leaf.words + variants):
            if n and n not in out:
                out.append(n)
    return out


def _hit(searcher, docnum: int, rank: int, score: float, needles: list[str], duplicates: list[str]) -> Hit:
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
        duplicates=duplicates,
    )


__all__ = ["run_search"]
