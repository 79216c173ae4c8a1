"""Reading posting lists a block at a time, and scoring with a true BM25F.

Whoosh's matchers cost a few Python calls per posting and its BM25F adds one
BM25 score per field: a single title occurrence then outweighs a dozen in the
body (measured on bench/relevance.py: 24 of 39 body-query losses). Here each
posting block is read whole (Whoosh 2.7.4's W3 codec keeps a block's ids and
weights in arrays), and a term's field frequencies are weighted and
length-normalised first, then saturated once (Robertson & Zaragoza's BM25F).

This leans on the W3 codec's block reader, hence the exact Whoosh pin in
pyproject.toml; tests compare it with Whoosh's own matchers.
"""

from __future__ import annotations

import math
from itertools import accumulate, repeat
from operator import mul
from dataclasses import dataclass, field

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

_LENGTH_OF_BYTE = [byte_to_length(b) for b in range(256)]


def _leaf_postings(segreader, fieldname: str, term: str, base: int, out: dict[int, int]) -> None:
    terms = segreader._terms
    btext = segreader._text_to_bytes(fieldname, term)
    try:
        info = terms.term_info(fieldname, btext)
    except TermNotFound:
        return
    if info.is_inlined():  # short lists live in the term table (indexer/segment.py)
        ids, weights, _ = info.inlined_postings()
        out.update(zip(map(base.__add__, ids), weights))
        return
    m = terms.matcher(fieldname, btext, segreader.schema[fieldname].format)
    while m.is_active():
        # A block is (id deltas, weights, values), weights None when all are 1.0 and one float
        # when all are equal; Whoosh's own _read_ids() decodes the deltas in a generator.
        if m._data is None:
            m._read_data()
        deltas, weights = m._data[0], m._data[1]
        ids = accumulate(deltas, initial=base)
        next(ids)
        out.update(zip(ids, weights if isinstance(weights, tuple) else repeat(1.0 if weights is None else weights)))
        m._next_block()


@dataclass
class Postings:
    """Posting lists of one searcher snapshot, read once per (field, term) and kept."""

    reader: object
    _cache: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)
    _lengths: dict[str, list] = field(default_factory=dict)  # also field_factors(), per snapshot

    def get(self, fieldname: str, term: str) -> dict[int, int]:
        """docnum -> term frequency (deleted documents included; callers intersect with live ones)."""
        key = (fieldname, term)
        found = self._cache.get(key)
        if found is None:
            found = {}
            for segreader, base in self.reader.leaf_readers():
                _leaf_postings(segreader, fieldname, term, base, found)
            self._cache[key] = found
        return found

    def docs(self, fieldname: str, term: str) -> set[int]:
        return set(self.get(fieldname, term))

    def lengths(self, fieldname: str) -> list[int]:
        """Every document's length in tokens of `fieldname`, by docnum."""
        found = self._lengths.get(fieldname)
        if found is None:
            found = []
            for segreader, _ in self.reader.leaf_readers():
                count = segreader.doc_count_all()
                column = segreader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
                if column is None:
                    found.extend([0] * count)
                else:
                    found.extend(_LENGTH_OF_BYTE[column[d]] for d in range(count))
            self._lengths[fieldname] = found
        return found

    def field_factors(self, fieldname: str, weight: float, b: float) -> list[float]:
        """By docnum, weight / (1 - b + b * length / average length): BM25F's per-field factor."""
        key = f"{fieldname} {weight} {b}"
        found = self._lengths.get(key)
        if found is None:
            avg = self.average_length(fieldname)
            found = [weight / (1 - b + b * n / avg) for n in self.lengths(fieldname)]
            self._lengths[key] = found
        return found

    def average_length(self, fieldname: str) -> float:
        total = self.reader.field_length(fieldname)
        return total / max(self.reader.doc_count_all(), 1) or 1.0


def bm25f(postings: Postings, words: list[tuple[str, tuple[str, ...]]], docs: set[int],
          weights: dict[str, float], b: float, k1: float) -> dict[int, float]:
    """BM25F scores of `docs` for the query words, each (word, the fields it may match in)."""
    n = max(postings.reader.doc_count_all(), 1)
    scores: dict[int, float] = {}
    for word, fields in words:
        per_field = [(f, postings.get(f, word)) for f in fields]
        df = len(set().union(*(p.keys() for _, p in per_field)))
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        weighted: dict[int, float] = {}
        for f, plist in per_field:
            # each posting's tf times its document's field weight / length normalisation,
            # multiplied in C (map) rather than one bytecode loop per posting
            factor = postings.field_factors(f, weights.get(f, 1.0), b)
            common = plist.keys() & docs
            parts = zip(common, map(mul, map(plist.__getitem__, common), map(factor.__getitem__, common)))
            if not weighted:
                weighted = dict(parts)
            else:
                for d, v in parts:
                    weighted[d] = weighted.get(d, 0.0) + v
        for d, tf in weighted.items():
            scores[d] = scores.get(d, 0.0) + idf * tf / (k1 + tf)
    return scores
