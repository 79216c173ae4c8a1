"""Similar stories: the words that make a source distinctive, as a relaxed query.

The source is an indexed article or a pasted text. Its words are jieba's words
(names it knows stay whole), normalised like every query (full width, case,
traditional to simplified), so a traditional text finds simplified coverage.
Each word is weighted by where it occurs (title words count more), times its
inverse document frequency over the index (from the posting lists); the best
MAX_TERMS become the parts of a `match="any"` query (search/anymatch.py), ranked
by BM25F. The words go into the query as ordinary leaves, so they get the same
leaf preparation (ranking.prepare) as a typed query: any expansion of query
words (variant folding, issue 14) applies to them too.
"""

from __future__ import annotations

import re
from functools import partial
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from indexer import analysis
from indexer.errors import QuerySyntaxError
from indexer.schema import TEXT_FIELDS

from . import query as ql
from .postings import Postings, idf

# A pasted text longer than this is cut (the CLI warns): a long article is ~10,000 characters.
MAX_TEXT_CHARS = 100_000
# The query's words and how many of them a hit must share (bench/similar.py; README, "Similar stories").
MAX_TERMS = 25
SIMILAR_MIN_MATCH = 0.2
# Coverage of one event clusters in time: a hit's score is divided by 1 + (days between it and a
# dated source) / PROXIMITY_DAYS; an undated hit counts as UNDATED_DAYS away.
PROXIMITY_DAYS = 10.0
UNDATED_DAYS = 30.0
# Where a word occurs in the source: a title word says more about the story than a body word.
FIELD_WEIGHTS = {"title": 3.0, "lead": 1.5, "body": 1.0}
# Only the most frequent (weighted) words get a document frequency: each costs a term lookup
# per segment and field, and a word used once in a long body rarely decides the story.
CANDIDATES = 40

_URL = re.compile(r"\s*https?://\S+\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Source:
    """What to find similar stories for: (field, text) pairs, and for an indexed article its
    docnum (it and its copies are left out) and date (for a window of days around it)."""

    fields: tuple[tuple[str, str], ...]
    docnum: int | None = None
    published: datetime | None = None


def is_url(text: str) -> bool:
    return _URL.fullmatch(text) is not None


def text_source(text: str) -> Source:
    """A pasted text as a source: the first MAX_TEXT_CHARS characters, read as a body."""
    text = text[:MAX_TEXT_CHARS]
    if not text.strip():
        raise QuerySyntaxError("empty text: nothing to find similar stories for")
    if not ql.has_word_chars(text):
        raise QuerySyntaxError("the text has no searchable words")
    return Source((("body", text),))


def _eligible(word: str) -> bool:
    # single Han characters are mostly function words; bare numbers tie unrelated stories
    return len(word) >= 2 and not word.isdigit()


def weighted_counts(source: Source) -> Counter:
    counts: Counter = Counter()
    for name, text in source.fields:
        weight = FIELD_WEIGHTS.get(name, 1.0)
        for word in analysis.query_words(text):
            counts[word] += weight
    return counts


def distinctive_words(postings: Postings, source: Source, live: np.ndarray, others: np.ndarray) -> list[str]:
    """The source's MAX_TERMS words of highest weighted tf x idf, best first. `live`: the snapshot's
    documents; `others`: those that could be hits (a word only the source holds ties nothing)."""
    counts = weighted_counts(source)
    if not counts:
        raise QuerySyntaxError("the text has no searchable words")
    eligible = Counter({w: c for w, c in counts.items() if _eligible(w)}) or counts
    total = max(int(np.count_nonzero(live)), 1)
    scored = []
    for word, weight in eligible.most_common(CANDIDATES):
        holds = postings.mask_any(TEXT_FIELDS, word)
        if not np.any(holds & others):
            continue
        df = int(np.count_nonzero(holds & live))
        scored.append((weight * idf(total, df), word))
    scored.sort(key=lambda sw: -sw[0])  # stable: equal scores keep the source's order
    return [w for _, w in scored[:MAX_TERMS]]


def words_query(words: list[str]) -> ql.Node:
    """The words as query parts (each one a Term, prepared as a typed word is)."""
    terms = tuple(ql.Term(w) for w in words)
    return terms[0] if len(terms) == 1 else ql.And(terms)


def run_similar(searcher, cache: dict, source: Source, *, limit, offset, filters, fold,
                min_match: float = SIMILAR_MIN_MATCH, variants=None):
    """Hits about the source's story (never the source or its copies); `Hits.query` holds the
    words chosen."""
    from .values import Hits
    from .results import run_search, snapshot_postings

    postings = snapshot_postings(searcher, cache)
    live, story = cache["live"], cache["story"]
    others = live if source.docnum is None else live & (story != story[source.docnum])
    words = distinctive_words(postings, source, live, others)
    if not words:  # no word of the text is in any other article
        return Hits(total=0, query="", offset=offset)
    near = None if source.docnum is None else int(cache["date"][source.docnum])
    return run_search(searcher, cache, words_query(words), " ".join(words), limit=limit, offset=offset,
                      filters=filters, sort="relevance", fold=fold,
                      min_match=min_match, exclude=source.docnum, postings=postings,
                      rescore=None if near is None or near < 0 else partial(by_proximity, near),
                      variants=variants)


def by_proximity(near: int, score: np.ndarray, docs: np.ndarray, date: np.ndarray) -> None:
    """Divide the scores of `docs` by 1 + their distance in days from `near` / PROXIMITY_DAYS.
    Dates are schema.published_keys values (microseconds; -1 undated)."""
    ids = np.flatnonzero(docs)
    days = np.abs(date[ids] - near) / 86_400e6
    days[date[ids] < 0] = UNDATED_DAYS
    score[ids] /= 1 + days / PROXIMITY_DAYS
