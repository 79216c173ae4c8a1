"""From a parsed query to a page of Hits: filters, ordering, paging, snippets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

import numpy as np

from indexer.codec.chars import CharsReader, segment_path
from indexer.codec.w3 import live, numbers
from indexer.errors import IndexClosed
from indexer.schema import originals, published_keys, stored_published, texts

from . import query as ql
from .anymatch import match_any
from .values import Hit, Hits, Marks
from .postings import Postings
from .ranking import add_recency, evaluate, first_by_keys, positive_leaves, prepare, rank
from .snippets import find_spans, make_snippet
from .textstore import TextStore


def _snapshot(reader, folder: str) -> dict:
    """What every query of one searcher snapshot needs for every match, read once, as arrays
    (per document, is_deleted() and Whoosh's column readers cost microseconds each)."""
    # an index without documents has no segment, and its reader no column at all
    leaves = reader.leaf_readers() if reader.doc_count_all() else []
    # one int per story (copies of one text share it), numbered 0.. for array work
    _, story = np.unique(np.concatenate([numbers(seg, "story") for seg, _ in leaves] or [np.empty(0, np.int64)]),
                         return_inverse=True)
    return {
        "live": np.concatenate([live(seg) for seg, _ in leaves] or [np.empty(0, bool)]),
        "date": published_keys(reader),
        "story": story.astype(np.int64).reshape(-1),
        "stories": int(story.max()) + 1 if len(story) else 0,
        "raw": (store := TextStore(reader)),
        "texts": partial(texts, store),
        # a hit lists the URLs of its story's other copies: 19 of them for each hit at x20, where
        # reading each copy's stored fields (a zlib pickle with its body) cost 1.6 ms a hit, and
        # 99 at x100, where Whoosh's column reader cost ~5 µs a URL
        "url": TextStore(reader, "url"),
    }


def open_chars(reader, folder: str) -> list:
    """Each segment's character index (codec/chars.py) with its docnum base, for a snapshot."""
    leaves = reader.leaf_readers() if reader.doc_count_all() else []
    return [(CharsReader(segment_path(folder, seg.segment())), base) for seg, base in leaves]


def snapshot_postings(searcher, cache: dict) -> Postings:
    """A query's posting lists, with `cache` filled for the searcher's snapshot (see _snapshot)."""
    reader = searcher.reader()
    if "live" not in cache:
        cache.update(_snapshot(reader, cache["folder"]))
        if "chars" not in cache:
            cache["chars"] = open_chars(reader, cache["folder"])
    return Postings(reader, cache["chars"], _lengths=cache.setdefault("lengths", {}))


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


def _page(order: Order, story: np.ndarray | None, offset: int, limit: int, stories: int):
    """The page of hits (docnums) in order, and with `story`, each hit's other copies.
    `stories`: how many the index holds (its documents per story guess how many to fold)."""
    ids = order.ids
    want = len(ids) if limit == 0 else offset + limit
    if story is None:
        return order.top(want)[offset:], {}
    # an archive where each text has many copies needs that many times the page to fill it:
    # each round below partitions every match
    n = 4 * want * max(1, round(len(story) / max(stories, 1)))
    while True:  # fold the best n; fetch more while copies leave fewer than `want` stories
        kept = first_of_each_story(story, order.top(n))
        if len(kept) >= want or n >= len(ids):
            break
        n *= 4
    page = kept[offset:want]
    # a hit's copies are all the matches of its story, not only those among the best n
    head = {int(story[d]): d for d in page}
    shown = np.zeros(stories, dtype=bool)
    shown[list(head)] = True
    same = ids[shown[story[ids]]]  # (np.isin sorts every match's story: 3 ms at x100)
    copies: dict[int, list[int]] = {}
    for d in same.tolist():
        h = head[int(story[d])]
        if h != d:
            copies.setdefault(h, []).append(d)
    return page, {h: order.sort(c) for h, c in copies.items()}


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows a query's matches besides the query itself (the same for search and counts)."""

    since: datetime | None = None
    until: datetime | None = None
    sources: list[str] | None = None  # lower-case outlet codes
    new: np.ndarray | None = None  # boolean by docnum: the articles the last change added or changed


@dataclass(frozen=True, slots=True)
class Matches:
    """The documents a query matches within one snapshot, and what was needed to find them."""

    postings: Postings
    docs: np.ndarray  # boolean by docnum
    ids: np.ndarray  # the same, ascending docnums
    leaves: dict


def match(searcher, cache: dict, tree: ql.Node, filters: Filters, *, min_match: float | None = None,
          exclude: int | None = None, postings: Postings | None = None, variants=None) -> Matches:
    """Evaluate `tree` once over the live documents `filters` allow.

    `cache` lives as long as the searcher's snapshot: what every query of it would recompute.
    `min_match`: the tree is anymatch.relax()ed and a match needs only that fraction of its
    top-level parts. `exclude`: a docnum whose story (it and its copies) is left out.
    `postings`: this query's, when the caller has read some already (snapshot_postings).
    `variants`: the name-variant groups (search/variants.py) its word runs expand to."""
    if postings is None:
        postings = snapshot_postings(searcher, cache)
    leaves = prepare(tree, variants)
    universe = cache["live"]
    allowed = _filter(postings, cache["date"], filters.since, filters.until, filters.sources)
    if allowed is not None:
        universe = universe & allowed
    if filters.new is not None:
        universe = universe & filters.new
    if exclude is not None:
        story = cache["story"]
        universe = universe & (story != story[exclude])
    if min_match is None:
        docs = evaluate(cache["texts"], cache["raw"], postings, tree, leaves, universe)
    else:
        docs = match_any(cache["texts"], cache["raw"], postings, tree, leaves, universe, min_match)
    return Matches(postings, docs, np.flatnonzero(docs), leaves)


def run_search(searcher, cache: dict, tree: ql.Node, text: str, *,
               limit, offset, filters: Filters, sort, fold, facets: bool = False,
               min_match: float | None = None, exclude: int | None = None,
               postings: Postings | None = None, rescore=None, variants=None) -> Hits:
    """The page of hits (made as they are read) of `tree`; see match() for the matching options.

    `rescore(score, docs, date)`: adjusts the relevance scores in place before the page is cut.
    `facets`: count the whole result by outlet and month (Hits.facets)."""
    m = match(searcher, cache, tree, filters, min_match=min_match, exclude=exclude, postings=postings,
              variants=variants)
    postings, docs, ids = m.postings, m.docs, m.ids
    date, story = cache["date"], cache["story"]
    text_of = cache["texts"]
    positive = positive_leaves(tree, m.leaves)

    if sort == "date":
        score = None
    else:
        score = rank(text_of, cache["raw"], postings, docs, positive)
        add_recency(score, docs, date)
        if rescore is not None:
            rescore(score, docs, date)
    page, copies = _page(Order(ids, score, date), story if fold else None, offset, limit, cache["stories"])
    if score is None:  # the date order needs no scores: score only what is shown
        shown = np.zeros(postings.size, dtype=bool)
        shown[page] = True
        score = rank(text_of, cache["raw"], postings, shown, positive)
    if fold:
        seen = np.zeros(cache["stories"], dtype=bool)
        seen[story[ids]] = True
        total = int(np.count_nonzero(seen))
    else:
        total = len(ids)
    needles = _needles(positive)
    url = cache["url"]

    def make(i: int, d: int) -> Hit:
        if searcher.is_closed:
            raise IndexClosed("these hits' Index was closed or refreshed before they were all made; "
                              "iterate them while it is open")
        return _hit(searcher, text_of, d, offset + i + 1, float(score[d]), needles,
                    [url[c].decode("utf-8") for c in copies.get(d, [])])

    counts = None
    if facets:
        from .facets import count_facets

        counts = count_facets(searcher, cache, ids, fold)
    return Hits(total=total, query=text, offset=offset, page=page, make=make, facets=counts)


def highlight_words(tree: ql.Node, leaves: dict) -> list[str]:
    """What a hit of `tree` highlights (`leaves`: ranking.prepare's), in snippets and whole articles."""
    return _needles(positive_leaves(tree, leaves))


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


def _hit(searcher, text_of, docnum: int, rank: int, score: float, needles: list[str], duplicates: list[str]) -> Hit:
    """The hit, its snippet to be made from the text read here when first asked for."""
    doc = searcher.stored_fields(docnum)
    norm = text_of(docnum)
    own = originals(doc, norm)
    title = own["title"]

    def marks() -> Marks:
        snippet = make_snippet(own["lead"], own["body"], needles, normalized=(norm["lead"], norm["body"]))
        return Marks(snippet.text, [tuple(s) for s in snippet.highlights], find_spans(title, needles, norm["title"]))

    return Hit(
        rank=rank,
        url=doc["url"],
        title=title,
        published=stored_published(doc.get("published")),
        source=doc.get("source", ""),
        path=doc.get("path", ""),
        score=round(float(score), 4),
        duplicates=duplicates,
        marks=marks,
    )

__all__ = ["Filters", "Matches", "highlight_words", "match", "run_search", "snapshot_postings"]
