"""The character index: which documents of a segment hold each Han character and bigram.

One file per segment, `<segment id>.chars`, beside Whoosh's compound segment
file (Whoosh's own clean-up deletes it with its segment: the name matches its
segment pattern). It replaces the Whoosh `chars` field of schema 4, which was
most of the index: 400,000 terms each with a term-table row of ~70 bytes before
its postings, per segment. Here a term is an int64 key and a posting list is a
run of bytes, read with numpy and never with a Python step per posting:

    data      the posting lists, one after another
    firsts    uint32[m]    the distinct first characters of the terms, ascending
    starts    uint32[m+1]  where each first character's terms start among the n terms
    seconds   uint32[n]    each term's second character (0: a single character), ascending
                           within its first character's run (so the terms are in term_key order)
    offsets   uint32[n+1]  where each list starts in `data` (uint64 when data passes 4 GiB)
    codes     uint8[n]     how each list is encoded (below)
    footer    magic, n, m, document count, offset width, where each table starts

A term costs 9 bytes of tables (a key and an offset of 8 bytes each would be 17: on the pool
the tables were more than the lists).

A list is the ascending docnums of the documents that hold the term, encoded as
whichever is smaller: their deltas (the first from 0) as little-endian uint8,
uint16 or uint32 (code 1, 2, 4: the narrowest that holds the largest delta), or
a bitmap of the segment's documents (code 0; frequent characters like 的).
Presence only: the field is never scored.
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array

import numpy as np

from ..errors import IndexUnusable

MAGIC = b"ZHCHARS1"
# magic, terms, first characters, documents, offset width, firsts at, starts at, seconds at,
# offsets at, codes at
_FOOTER = struct.Struct("<8sqqqqqqqqq")
_BITMAP = 0
_WIDTHS = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
# Postings decoded at once when merging: bounds a merge's memory (~100 bytes of temporary arrays a
# posting; chunks of ~8 M postings made a pool build peak at 645 MB).
MERGE_CHUNK = 1_000_000
# Terms, counted once per merged segment, whose keys a merge gathers at once: bounds its memory
# whatever the number of segments. Gathering every segment's keys at once took 2.2 GB in the
# final merge of a x100 import (~500 segments of ~150,000 terms, a key and an offset of 8 bytes
# each, then their concatenation and its sort).
MERGE_TERMS = 2_000_000


def segment_path(folder: str, segment) -> str:
    """Where a segment's character index lives: beside its compound file in the index
    folder, named like it."""
    return os.path.join(folder, segment.make_filename(".chars"))


def term_key(term: str) -> int:
    """A Han character or bigram as an int64 (code points are below 2**20)."""
    return (ord(term[0]) << 20) | (ord(term[1]) if len(term) > 1 else 0)


def key_term(key: int) -> str:
    second = key & 0xFFFFF
    return chr(key >> 20) + (chr(second) if second else "")


def _encode(keys: np.ndarray, ids: np.ndarray, lens: np.ndarray, doccount: int):
    """Bytes of the lists `ids` (concatenated, `lens` each, for sorted `keys`), their codes and sizes."""
    n = len(keys)
    starts = np.zeros(n, np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    deltas = ids.astype(np.int64)
    if len(deltas):
        deltas[1:] -= ids[:-1]
        deltas[starts[lens > 0]] = ids[starts[lens > 0]]
    top = np.zeros(n, np.int64)
    nonempty = lens > 0
    top[nonempty] = np.maximum.reduceat(deltas, starts[nonempty]) if nonempty.any() else []
    width = np.where(top < 256, 1, np.where(top < 65536, 2, 4)).astype(np.int64)
    bitmap_size = (doccount + 7) // 8
    use_bitmap = lens * width > bitmap_size
    codes = np.where(use_bitmap, _BITMAP, width).astype(np.uint8)
    sizes = np.where(use_bitmap, bitmap_size, lens * width)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.zeros(int(offsets[-1]), np.uint8)
    # every delta's bytes, placed at its list's offset + its rank in the list * width
    per = np.repeat(width, lens)
    plain = ~np.repeat(use_bitmap, lens)
    rank = np.arange(len(ids), dtype=np.int64) - np.repeat(starts, lens)
    where = np.repeat(offsets[:-1], lens) + rank * per
    for byte in range(4):
        sel = plain & (per > byte)
        out[where[sel] + byte] = (deltas[sel] >> (8 * byte)) & 0xFF
    for i in np.flatnonzero(use_bitmap).tolist():
        bits = np.zeros(bitmap_size * 8, np.uint8)
        bits[ids[starts[i]:starts[i] + lens[i]]] = 1
        out[offsets[i]:offsets[i + 1]] = np.packbits(bits, bitorder="little")
    return out, codes, sizes


def _read_deltas(data: np.ndarray, starts: np.ndarray, widths: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The little-endian deltas of consecutive lists (`counts[i]` of `widths[i]` bytes at `starts[i]`)."""
    per = np.repeat(widths, counts)
    rank = np.arange(len(per), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    where = np.repeat(starts, counts) + rank * per
    values = np.zeros(len(where), np.int64)
    for byte in range(4):
        sel = per > byte
        values[sel] |= data[where[sel] + byte].astype(np.int64) << (8 * byte)
    return values


def _running_sums(deltas: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each list's docnums from its deltas: one cumsum over all, minus each list's total before it."""
    np.cumsum(deltas, out=deltas)
    ends = np.cumsum(counts)
    firsts = ends - counts
    before = np.zeros(len(counts), np.int64)
    has = firsts > 0
    before[has] = deltas[firsts[has] - 1]
    deltas -= np.repeat(before, counts)
    return deltas


class CharsWriter:
    """Writes one segment's character index; lists are given in ascending key order, in chunks."""

    def __init__(self, path: str | os.PathLike, doccount: int):
        self.path = os.fspath(path)
        self.doccount = doccount
        self._file = open(self.path, "wb")
        self._keys: list[np.ndarray] = []
        self._codes: list[np.ndarray] = []
        self._sizes: list[np.ndarray] = []
        self._last = -1

    def add(self, keys: np.ndarray, ids: np.ndarray, lens: np.ndarray) -> None:
        """Lists of ascending `keys` (each above every key added before): `lens[i]` docnums of `ids`."""
        if not len(keys):
            return
        if keys[0] <= self._last:
            raise ValueError("character index keys must increase")
        self._last = int(keys[-1])
        data, codes, sizes = _encode(keys, ids, lens, self.doccount)
        self._file.write(data.tobytes())
        self._keys.append(keys.astype(np.int64))
        self._codes.append(codes)
        self._sizes.append(sizes)

    def close(self) -> None:
        f = self._file
        keys = np.concatenate(self._keys) if self._keys else np.empty(0, np.int64)
        sizes = np.concatenate(self._sizes) if self._sizes else np.empty(0, np.int64)
        offsets = np.zeros(len(keys) + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        width = 4 if offsets[-1] < 2**32 else 8
        firsts, starts = np.unique(keys >> 20, return_index=True)
        tables = [firsts.astype("<u4"), np.append(starts, len(keys)).astype("<u4"),
                  (keys & 0xFFFFF).astype("<u4"), offsets.astype(f"<u{width}"),
                  np.concatenate(self._codes) if self._codes else np.empty(0, np.uint8)]
        at = []
        for table in tables:
            at.append(f.tell())
            f.write(table.tobytes())
        f.write(_FOOTER.pack(MAGIC, len(keys), len(firsts), self.doccount, width, *at))
        f.flush()
        os.fsync(f.fileno())
        f.close()

    def abort(self) -> None:
        self._file.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def write_table(path: str | os.PathLike, table: dict[int, array], doccount: int) -> None:
    """Write a segment's character index from key -> array of ascending docnums."""
    writer = CharsWriter(path, doccount)
    try:
        keys = np.array(sorted(table), dtype=np.int64)
        arrays = [table[k] for k in keys.tolist()]
        lens = np.fromiter(map(len, arrays), np.int64, len(arrays))
        ids = np.concatenate([np.frombuffer(a, np.uint32) for a in arrays]) if arrays else np.empty(0, np.uint32)
        writer.add(keys, ids.astype(np.int64), lens)
        writer.close()
    except BaseException:
        writer.abort()
        raise


class CharsReader:
    """One segment's character index, read in place from its memory map."""

    def __init__(self, path: str | os.PathLike):
        try:
            self._open(path)
        except (OSError, ValueError, struct.error) as exc:
            raise IndexUnusable(f"cannot read the character index {path} ({exc}): the index is damaged; "
                                f"run `zhsearch index --rebuild`") from exc

    def _open(self, path) -> None:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < _FOOTER.size:
                raise ValueError("truncated")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        buf = self._buf = memoryview(self._map)
        end = size - _FOOTER.size
        magic, n, m, self.doccount, width, *at = _FOOTER.unpack_from(buf, end)
        if magic != MAGIC or width not in (4, 8) or at != sorted(at) or not 0 <= at[0] <= at[-1] <= end:
            raise ValueError("not a character index")
        firsts_at, starts_at, seconds_at, offsets_at, codes_at = at
        self.firsts = np.frombuffer(buf, "<u4", m, firsts_at)
        self.starts = np.frombuffer(buf, "<u4", m + 1, starts_at).astype(np.int64)
        self.seconds = np.frombuffer(buf, "<u4", n, seconds_at)
        # read in place, not copied: a x100 index's tables are tens of MB, and a query reads a few rows
        self.offsets = np.frombuffer(buf, f"<u{width}", n + 1, offsets_at)
        self.codes = np.frombuffer(buf, np.uint8, n, codes_at)
        self._data = np.frombuffer(buf, np.uint8, firsts_at)

    @property
    def keys(self) -> np.ndarray:
        """Every term's key (term_key), ascending."""
        return self.keys_of(0, len(self.firsts))

    def keys_of(self, a: int, b: int) -> np.ndarray:
        """The keys of the terms whose first character is firsts[a:b], ascending: lists
        starts[a] to starts[b] - 1."""
        firsts = np.repeat(self.firsts[a:b].astype(np.int64), np.diff(self.starts[a:b + 1]))
        return (firsts << 20) | self.seconds[self.starts[a]:self.starts[b]]

    def list_lengths(self, first: int, last: int) -> np.ndarray:
        """Postings of lists first..last-1, a bitmap counted as every document of the segment."""
        codes = self.codes[first:last].astype(np.int64)
        sizes = np.diff(self.offsets[first:last + 1].astype(np.int64))
        return np.where(codes == _BITMAP, self.doccount, sizes // np.maximum(codes, 1))

    def __len__(self) -> int:
        return len(self.seconds)

    def find(self, key: int) -> int:
        """The list number of `key`, or -1."""
        first, second = key >> 20, key & 0xFFFFF
        f = int(np.searchsorted(self.firsts, first))
        if f == len(self.firsts) or self.firsts[f] != first:
            return -1
        lo, hi = int(self.starts[f]), int(self.starts[f + 1])
        i = lo + int(np.searchsorted(self.seconds[lo:hi], second))
        return i if i < hi and self.seconds[i] == second else -1

    def ids(self, key: int) -> np.ndarray | None:
        """Ascending docnums (int64) of the documents holding the term `key`; None if none."""
        i = self.find(key)
        return None if i < 0 else self.list_ids(i)

    def mark(self, key: int, out: np.ndarray) -> None:
        """Set out[d] (a boolean array of this segment's documents) for each document d holding
        the term `key`. A bitmap list (a common bigram: 美国 in 250,000 documents at x100) is
        its own mask: no docnums are made of it."""
        i = self.find(key)
        if i < 0:
            return
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        if int(self.codes[i]) == _BITMAP:
            out |= np.unpackbits(self._data[start:end], bitorder="little", count=self.doccount).view(bool)
        else:
            out[self.list_ids(i)] = True

    def list_ids(self, i: int) -> np.ndarray:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        code = int(self.codes[i])
        if code == _BITMAP:
            bits = np.unpackbits(self._data[start:end], bitorder="little")[:self.doccount]
            return np.flatnonzero(bits)
        out = self._data[start:end].view(_WIDTHS[code]).astype(np.int64)
        return np.cumsum(out, out=out)

    def lists(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Lists first..last-1 decoded at once: (their docnums concatenated, each one's length)."""
        codes = self.codes[first:last].astype(np.int64)
        offsets = self.offsets[first:last + 1].astype(np.int64)
        starts = offsets[:-1]
        plain = codes != _BITMAP
        counts = np.where(plain, np.diff(offsets) // np.maximum(codes, 1), 0)
        values = _running_sums(_read_deltas(self._data, starts, codes, counts), counts)
        bitmaps = np.flatnonzero(~plain)
        if not len(bitmaps):
            return values, counts
        # splice the (few) bitmap lists in: shift every delta-coded list right by the bitmaps before it
        decoded = [self.list_ids(first + int(j)) for j in bitmaps]
        lens = counts.copy()
        lens[bitmaps] = [len(d) for d in decoded]
        new_starts = np.cumsum(lens) - lens
        out = np.empty(int(lens.sum()), np.int64)
        out[np.repeat(new_starts - (np.cumsum(counts) - counts), counts) + np.arange(len(values))] = values
        for j, d in zip(bitmaps.tolist(), decoded):
            out[new_starts[j]:new_starts[j] + len(d)] = d
        return out, lens

    def release(self) -> None:
        """Let the kernel drop the pages read so far from this process's resident set (they are
        the file's: read again when needed)."""
        try:
            self._map.madvise(mmap.MADV_DONTNEED)
        except (AttributeError, OSError, ValueError):
            pass

    def close(self) -> None:
        self.firsts = self.starts = self.seconds = self.offsets = self.codes = self._data = None
        self._buf.release()
        try:
            self._map.close()
        except BufferError:
            pass  # an array still points into the map; it is closed when that goes


def merge(sources: list[tuple[CharsReader, np.ndarray]], path: str | os.PathLike, doccount: int) -> None:
    """Write the character index of a merged segment.

    `sources`: each merged segment's reader with its docmap (old docnum -> new
    docnum, -1 for a deleted document), in the order their documents were
    renumbered, so that concatenating their remapped lists keeps every list
    ascending. Terms are merged a range of first characters at a time (at most
    MERGE_TERMS terms over all sources), and within it a chunk of keys at a time
    (about MERGE_CHUNK postings): memory stays bounded however many segments merge."""
    writer = CharsWriter(path, doccount)
    try:
        firsts = np.unique(np.concatenate([r.firsts for r, _ in sources])) if sources else np.empty(0, np.uint32)
        terms = np.zeros(len(firsts), np.int64)
        for reader, _ in sources:
            terms[np.searchsorted(firsts, reader.firsts)] += np.diff(reader.starts)
        for a, b in _cuts(terms, MERGE_TERMS):
            _merge_firsts(sources, writer, int(firsts[a]), int(firsts[b]) if b < len(firsts) else 1 << 40)
        writer.close()
    except BaseException:
        writer.abort()
        raise


def _merge_firsts(sources, writer: CharsWriter, lo: int, hi: int) -> None:
    """Merge the terms whose first character is in [lo, hi)."""
    spans = []  # (reader, docmap, its first list in the range, the range's keys)
    for reader, docmap in sources:
        a, b = np.searchsorted(reader.firsts, [lo, hi]).tolist()
        if a < b:
            spans.append((reader, docmap, int(reader.starts[a]), reader.keys_of(a, b)))
    if not spans:
        return
    keys = np.unique(np.concatenate([k for *_, k in spans]))
    postings = np.zeros(len(keys), np.int64)  # at most (deleted documents count)
    for reader, _, first, k in spans:
        postings[np.searchsorted(keys, k)] += reader.list_lengths(first, first + len(k))
        reader.release()
    for lo_key, hi_key in _cuts(postings, MERGE_CHUNK):
        chunk = keys[lo_key:hi_key]
        k_parts, id_parts = [], []
        for reader, docmap, first, k in spans:
            p, q = np.searchsorted(k, [chunk[0], chunk[-1] + 1]).tolist()
            if p == q:
                continue
            ids, lens = reader.lists(first + p, first + q)
            # the pages read are copied out: let them go at once, or every segment's stay mapped
            # until the chunk ends (x100: ~500 segments, 0.5 GB)
            reader.release()
            new = docmap[ids]
            keep = new >= 0
            k_parts.append(np.repeat(k[p:q], lens)[keep])
            id_parts.append(new[keep])
        if k_parts:
            k_all = np.concatenate(k_parts)
            ids = np.concatenate(id_parts)
            order = np.argsort(k_all, kind="stable")  # sources are in docnum order: stable keeps lists ascending
            k_all, ids = k_all[order], ids[order]
            uniq, lens = np.unique(k_all, return_counts=True)
            writer.add(uniq, ids, lens)


def _cuts(sizes: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive ranges [a, b) of `sizes` that sum to about `limit` each (at least one item)."""
    if not len(sizes):
        return []
    ends = np.searchsorted(np.cumsum(sizes), np.arange(limit, int(sizes.sum()) + limit, limit), side="right")
    bounds = np.unique(np.concatenate([[0], np.maximum(ends, 1), [len(sizes)]])).tolist()
    return list(zip(bounds[:-1], bounds[1:]))
