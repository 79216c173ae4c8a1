"""Posting lists of one searcher snapshot as numpy arrays, and a true BM25F over them.

A query's cost grows with the postings of its words: a common word matches most
of a large index (56,000 documents at x20 in `make bench-scale`). Whoosh's
matchers cost a few Python calls per posting; here a posting list is read whole
into two arrays (docnums, term frequencies; indexer/codec reads the bytes), and
matching and scoring are array operations over every document of the snapshot:
document sets are boolean masks indexed by docnum.

BM25F (Robertson & Zaragoza): a term's field frequencies are weighted and
length-normalised first, then saturated once. Whoosh's BM25F adds one BM25
score per field, so a single title occurrence outweighed a dozen in the body
(measured on bench/relevance.py: 24 of 39 body-query losses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from indexer.codec.chars import CharsReader, term_key
from indexer.codec.w3 import EMPTY, Plist, leaf_postings, lengths as field_lengths


@dataclass
class Postings:
    """Posting lists of one searcher snapshot, read once per (field, term) and kept."""

    reader: object
    chars: list[tuple[CharsReader, int]] = field(default_factory=list)  # each segment's, with its base
    _cache: dict[tuple[str, str], Plist] = field(default_factory=dict)
    _lengths: dict[str, np.ndarray] = field(default_factory=dict)  # also field_factors(), per snapshot

    @property
    def size(self) -> int:
        """Docnums run from 0 to size - 1, deleted documents included."""
        return self.reader.doc_count_all()

    def get(self, fieldname: str, term: str) -> Plist:
        """The term's postings; deleted documents included (callers mask them with the live ones)."""
        key = (fieldname, term)
        found = self._cache.get(key)
        if found is None:
            # an index without documents has no segment: its reader is Whoosh's EmptyReader
            leaves = self.reader.leaf_readers() if self.size else []
            parts = [p for segreader, base in leaves
                     if (p := leaf_postings(segreader, fieldname, term, base)) is not None]
            if not parts:
                found = EMPTY
            elif len(parts) == 1:
                found = parts[0]
            else:  # segments' docnums are consecutive ranges: concatenation keeps them ascending
                found = Plist(np.concatenate([p.ids for p in parts]), np.concatenate([p.tf for p in parts]))
            self._cache[key] = found
        return found

    def mask(self, fieldname: str, term: str) -> np.ndarray:
        """Boolean by docnum: which documents hold the term."""
        return self.mask_any((fieldname,), term)

    def chars_mask(self, term: str) -> np.ndarray:
        """Boolean by docnum: which documents hold the Han character or bigram `term`."""
        out = np.zeros(self.size, dtype=bool)
        key = term_key(term)
        for reader, base in self.chars:
            reader.mark(key, out[base:base + reader.doccount])
        return out

    def mask_any(self, fieldnames: tuple[str, ...], term: str) -> np.ndarray:
        """Boolean by docnum: which documents hold the term in any of the fields."""
        out = np.zeros(self.size, dtype=bool)
        for f in fieldnames:
            out[self.get(f, term).ids] = True
        return out

    def lengths(self, fieldname: str) -> np.ndarray:
        """Every document's length in tokens of `fieldname`, by docnum."""
        found = self._lengths.get(fieldname)
        if found is None:
            parts = [field_lengths(segreader, fieldname) for segreader, _ in self.reader.leaf_readers()]
            found = np.concatenate(parts) if parts else np.empty(0)
            self._lengths[fieldname] = found
        return found

    def field_factors(self, fieldname: str, weight: float, b: float) -> np.ndarray:
        """By docnum, weight / (1 - b + b * length / average length): BM25F's per-field factor."""
        key = f"{fieldname} {weight} {b}"
        found = self._lengths.get(key)
        if found is None:
            avg = self.average_length(fieldname)
            found = weight / (1 - b + b * self.lengths(fieldname) / avg)
            self._lengths[key] = found
        return found

    def average_length(self, fieldname: str) -> float:
        total = self.reader.field_length(fieldname)
        return total / max(self.reader.doc_count_all(), 1) or 1.0


def bm25f(postings: Postings, words: list[tuple[str, tuple[str, ...]]], docs: np.ndarray,
          weights: dict[str, float], b: float, k1: float) -> np.ndarray:
    """BM25F scores by docnum (0 outside the mask `docs`) for the query words, each
    (word, the fields it may match in)."""
    n = max(postings.size, 1)
    scores = np.zeros(postings.size)
    for word, fields in words:
        lists = [(f, p) for f in fields if len((p := postings.get(f, word)).ids)]
        if not lists:
            continue
        # Weighted and saturated for the documents of `docs` alone: a phrase's or a narrow
        # query's few thousand matches, where the word's lists (的, 美国) hold most of a x100 index
        parts, whole = [], True
        for f, p in lists:
            ids, tf = p.ids, p.tf
            if not (inside := docs[ids]).all():  # (a common word's query: they all are)
                ids, tf, whole = ids[inside], tf[inside], False
            parts.append((postings.field_factors(f, weights.get(f, 1.0), b), ids, tf))
        weighted = np.zeros(postings.size)
        found = sum(len(ids) for _, ids, _ in parts)
        if found > postings.size // 8:
            # Most documents hold it: whole-array passes, twice as fast as indexing 250,000 of
            # 447,000 at x100 (the same products and sums: 0 where a field's list has no posting)
            for k, (factors, ids, tf) in enumerate(parts):
                dense = weighted if k == 0 else np.zeros(postings.size)
                dense[ids] = tf
                dense *= factors
                if k:
                    weighted += dense
            df = np.count_nonzero(weighted) if whole else _document_frequency(postings.size, lists)
            saturated = weighted * idf(n, df)
            saturated /= weighted + k1
            scores += saturated
            continue
        for factors, ids, tf in parts:
            # ids are distinct within one list, so fancy-indexed += adds each posting once
            weighted[ids] += tf * factors[ids]
        # the word's matches, where the saturation is computed (a posting's weight is above 0:
        # tf >= 1, factors > 0)
        held = parts[0][1] if len(parts) == 1 else np.flatnonzero(weighted) if found > postings.size // 32 else \
            np.unique(np.concatenate([ids for _, ids, _ in parts]))
        df = len(held) if whole else _document_frequency(postings.size, lists)
        w = weighted[held]
        scores[held] += idf(n, df) * w / (k1 + w)
    return scores


def idf(n: int, df: int) -> float:
    """BM25's inverse document frequency of a word `df` of `n` documents hold (as Lucene's: never
    below 0)."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _document_frequency(size: int, lists: list[tuple[str, Plist]]) -> int:
    """How many documents hold the word in any of its fields' lists."""
    if len(lists) == 1:
        return len(lists[0][1].ids)
    held = np.zeros(size, dtype=bool)
    for _, p in lists:
        held[p.ids] = True
    return int(np.count_nonzero(held))
