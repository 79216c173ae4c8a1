"""The stored normalised texts (the `text` column), read from the segments' memory maps.

A literal check (a phrase, a run the words do not prove, a variant written another way)
reads the text of every candidate document: tens of thousands at x100, where Whoosh's
column reader cost ~10 µs each before the text was even searched. Here a document's
text is a range of its segment's map, found through arrays read once per snapshot, and
a needle is searched in place (`mmap.find`), without copying the text out.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np

from indexer.codec.w3 import bytes_column
from indexer.schema import TEXT_ENCODING, TEXT_FIELDS, holds, texts


class TextStore:
    """By docnum of a (multi-segment) reader: a bytes column's value (`text`, or another such as
    `url`), and which documents hold a needle."""

    def __init__(self, reader, name: str = "text"):
        leaves = reader.leaf_readers() if reader.doc_count_all() else []  # an empty index has no segment
        parts = [bytes_column(seg, name) for seg, _ in leaves]
        self._maps = None
        if parts and all(p is not None for p in parts):
            self._maps = [m for m, _, _ in parts]
            self._starts = np.concatenate([s for _, s, _ in parts])
            self._ends = self._starts + np.concatenate([n for _, _, n in parts])
            self._segment = np.repeat(np.arange(len(parts)), [len(s) for _, s, _ in parts])
        else:  # a segment that is not mapped: Whoosh's reader (which reads the same arrays at opening)
            self._whoosh = reader.column_reader(name, translate=False) if leaves else {}

    def __getitem__(self, docnum: int) -> bytes:
        if self._maps is None:
            return self._whoosh[docnum]
        return self._maps[self._segment[docnum]][self._starts[docnum]:self._ends[docnum]]

    def holding(self, docs: np.ndarray, needle: bytes) -> np.ndarray:
        """Boolean per document of `docs`: whether its text holds `needle` (encode_text'ed) at a
        character boundary (schema.holds)."""
        if self._maps is None:
            return np.fromiter((holds(buf, needle, s, e) for buf, s, e in self._values(docs)), bool, len(docs))
        # One mmap.find per document, mapped in C, and schema.holds only where the first match
        # lies at an odd offset (inside a character): a phrase checks tens of thousands of
        # candidates at x100, where a Python call per document was most of its cost.
        out = np.zeros(len(docs), dtype=bool)
        segment, starts, ends = self._segment[docs], self._starts[docs], self._ends[docs]
        for m in np.unique(segment).tolist():
            which = np.flatnonzero(segment == m)
            buf, s, e = self._maps[m], starts[which], ends[which]
            at = np.fromiter(map(buf.find, repeat(needle), s.tolist(), e.tolist()), np.int64, len(which))
            found = at >= 0
            for k in np.flatnonzero(found & ((at - s) & 1).astype(bool)).tolist():
                found[k] = holds(buf, needle, int(s[k]), int(e[k]))
            out[which] = found
        return out

    def field_counts(self, docs: np.ndarray, run: str) -> np.ndarray:
        """Per document of `docs` and field (title, lead, body): how often it holds the Han run
        `run` (normalised), without overlaps, as snippets.count_literal counts it."""
        if any(run[:i] == run[-i:] for i in range(1, len(run))):  # 哈哈 in 哈哈哈: overlaps to skip
            counts = [[t.get(f, "").count(run) for f in TEXT_FIELDS] for t in (texts(self, d) for d in docs.tolist())]
            return np.array(counts, np.int64).reshape(len(docs), 3)
        # The texts as one array of UTF-16 code units (every value has an even length, so each
        # starts on a unit), and the run's matches found by comparing shifted views: no Python
        # step per document (a name's variant counted in 9,000 documents at x100). The texts are
        # copied once, by the join, from views of the maps (a slice of a map is a copy of its own).
        views = [memoryview(m) for m in self._maps or ()]
        try:
            values = list(self._values(docs, views))
            units = np.frombuffer(b"".join(buf[s:e] for buf, s, e in values), "<u2")
        finally:
            for v in views:
                v.release()  # a map with a view left on it could not be closed
        lengths = np.fromiter(((e - s) // 2 for _, s, e in values), np.int64, len(docs))
        starts = np.cumsum(lengths) - lengths
        code = np.frombuffer(run.encode(TEXT_ENCODING, "surrogatepass"), "<u2")
        at = np.flatnonzero(units[:max(len(units) - len(code) + 1, 0)] == code[0])
        for j in range(1, len(code)):  # the few places of the first unit, narrowed unit by unit
            at = at[units[at + j] == code[j]]
        doc = np.searchsorted(starts, at, side="right") - 1
        inside = at + len(code) <= starts[doc] + lengths[doc]  # not across two texts joined
        at, doc = at[inside], doc[inside]
        nul = np.flatnonzero(units == 0)  # the fields' separators: a text holds no other NUL
        field = np.minimum(np.searchsorted(nul, at) - np.searchsorted(nul, starts[doc]), 2)
        out = np.zeros((len(docs), 3), np.int64)
        np.add.at(out, (doc, field), 1)
        return out

    def _values(self, docs: np.ndarray, maps: list | None = None):
        """(a buffer, start, end) of each document's value; `maps`: views to give in place of
        the segments' maps."""
        if self._maps is None:
            for d in docs.tolist():
                raw = self._whoosh[d]
                yield raw, 0, len(raw)
            return
        maps = self._maps if maps is None else maps
        for m, s, e in zip(self._segment[docs].tolist(), self._starts[docs].tolist(), self._ends[docs].tolist()):
            yield maps[m], s, e
