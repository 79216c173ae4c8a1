"""Posting lists as numpy arrays, and a true BM25F over them.

A query's cost grows with the postings of its words: a common word matches most
of a large index (56,000 documents at x20 in `make bench-scale`). Whoosh's
matchers cost a few Python calls per posting; here a posting list is read a
block at a time into two arrays (docnums, term frequencies), and matching and
scoring are array operations over every document of the snapshot: document
sets are boolean masks indexed by docnum.

The blocks are the W3 codec's, written by indexer/segment.py with their id
deltas and weights pickled as arrays, so a block becomes numpy arrays without a
Python object per posting. This leans on the codec's layout, hence the exact
Whoosh pin in pyproject.toml; tests compare it with Whoosh's own matchers.

BM25F (Robertson & Zaragoza): a term's field frequencies are weighted and
length-normalised first, then saturated once. Whoosh's BM25F adds one BM25
score per field, so a single title occurrence outweighed a dozen in the body
(measured on bench/relevance.py: 24 of 39 body-query losses).
"""

from __future__ import annotations

import io
import math
import pickle
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_BLOCK_SIZE = struct.Struct("!i")
_MAGIC = 4  # the W3 header magic before a term's first block


@dataclass(frozen=True, slots=True)
class Plist:
    """One term's postings: ascending docnums (int64) and their term frequencies (float64)."""

    ids: np.ndarray
    tf: np.ndarray


_EMPTY = Plist(np.empty(0, np.int64), np.empty(0, np.float64))


def _block_weights(weights, count: int) -> np.ndarray:
    # None: every weight 1.0; one float: all equal (how the W3 codec shortens a block)
    if weights is None:
        return np.ones(count)
    if isinstance(weights, float):
        return np.full(count, weights)
    return np.asarray(weights, dtype=np.float64)


def _read_blocks(buf: bytes, base: int) -> Plist:
    """Decode one term's blocks (a W3 postings extent after its magic)."""
    f = io.BytesIO(buf)
    deltas, weights, lasts = [], [], []
    pos, end = 0, len(buf)
    while pos < end:
        size = abs(_BLOCK_SIZE.unpack_from(buf, pos)[0])  # negative marks the last block
        f.seek(pos + 4)
        count, last, _, compression, _, _ = pickle.load(f)
        pos += 4 + size
        data = buf[f.tell():pos]
        block_deltas, block_weights, _ = pickle.loads(zlib.decompress(data) if compression else data)
        deltas.append(block_deltas)
        weights.append(_block_weights(block_weights, count))
        lasts.append(last)
    if len(deltas) == 1:  # most lists of a segment: numpy's calls cost more than its work here
        ids = np.array(deltas[0], dtype=np.int64)
        tf = weights[0]
    else:
        ids = np.concatenate([np.asarray(d) for d in deltas]).astype(np.int64)
        # each block's first delta is from 0 (blocks decode alone): make it from the previous
        # block's last id, and one running sum gives every docnum
        ids[np.cumsum([len(d) for d in deltas[:-1]])] -= lasts[:-1]
        tf = np.concatenate(weights)
    ids.cumsum(out=ids)
    ids += base
    return Plist(ids, tf)


def _leaf_postings(segreader, fieldname: str, term: str, base: int) -> Plist | None:
    terms = segreader._terms
    try:
        info = terms.term_info(fieldname, segreader._text_to_bytes(fieldname, term))
    except TermNotFound:
        return None
    if info.is_inlined():  # short lists live in the term table (indexer/segment.py)
        ids, weights, _ = info.inlined_postings()
        return Plist(np.add(ids, base, dtype=np.int64), np.asarray(weights, dtype=np.float64))
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh 2.7.4's from_bytes() leaves it a 1-tuple
        length = length[0]
    return _read_blocks(terms._postfile.get(offset + _MAGIC, length - _MAGIC), base)


@dataclass
class Postings:
    """Posting lists of one searcher snapshot, read once per (field, term) and kept."""

    reader: object
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
            parts = [p for segreader, base in self.reader.leaf_readers()
                     if (p := _leaf_postings(segreader, fieldname, term, base)) is not None]
            if not parts:
                found = _EMPTY
            elif len(parts) == 1:
                found = parts[0]
            else:  # segments' docnums are consecutive ranges: concatenation keeps them ascending
                found = Plist(np.concatenate([p.ids for p in parts]), np.concatenate([p.tf for p in parts]))
            self._cache[key] = found
        return found

    def mask(self, fieldname: str, term: str) -> np.ndarray:
        """Boolean by docnum: which documents hold the term."""
        return self.mask_any((fieldname,), term)

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
            parts = []
            for segreader, _ in self.reader.leaf_readers():
                count = segreader.doc_count_all()
                column = segreader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
                codes = bytes(count) if column is None else bytes(column[d] for d in range(count))
                parts.append(_LENGTH_OF_BYTE[np.frombuffer(codes, dtype=np.uint8)])
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
        weighted = np.zeros(postings.size)
        for f, p in lists:
            # ids are distinct within one list, so fancy-indexed += adds each posting once
            weighted[p.ids] += p.tf * postings.field_factors(f, weights.get(f, 1.0), b)[p.ids]
        df = int(np.count_nonzero(postings.mask_any(fields, word)))
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        scores += idf * weighted / (k1 + weighted)
    scores[~docs] = 0.0
    return scores
