"""Writing Whoosh segments from posting lists gathered in memory.

Whoosh's SegmentWriter puts every posting in a sorting pool as a 5-tuple, sorts
them all at the commit, and hands them one at a time to its postings writer,
which looks up the document's field length for each posting and pickles and
zlib-compresses a block for every term, however short. On the pool that was
three quarters of a build. Here each term's postings are an array that grows
document by document (documents arrive in docnum order: only the terms are
sorted), and at the flush each posting list is written whole in the W3 codec's
own format, so Whoosh's readers (and search/postings.py) read it unchanged:

- a list of at most INLINE_LIMIT postings goes into the term table itself (what
  Whoosh 2.7.4's `inlinelimit` means to do; its writer calls a method that does
  not exist), which most bigram terms are;
- longer ones go to the postings file in blocks of BLOCK_SIZE, uncompressed,
  their numbers pickled as arrays: the layout search/postings.py reads fastest.

Memory is bounded: past `limitmb` of postings the segment is written and a new
one started (a large corpus becomes several segments, as in Lucene). Only the
formats this index uses are supported (Existence, Frequency); positions and
term vectors are refused up front.
"""

from __future__ import annotations

import sys
from array import array
from collections import deque
from itertools import chain, filterfalse, repeat
from operator import methodcaller, sub
from pickle import dumps

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.fields import TEXT
from whoosh.formats import Existence, Frequency
from whoosh.filedb.filetables import _lengths as _ROW_LENGTHS
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.writing import SegmentWriter

# Measured on the pool (lists of at most 1 / 4 / 16 postings inlined): build 13.6 / 12.7 / 12.0 s,
# index 109 / 107 / 113 MB, warm queries the same; 4 makes the smallest index.
INLINE_LIMIT = 4
# Blocks are read whole (search/postings.py), never skipped through: larger ones cost fewer
# Python steps per posting. Measured at x5 (22,150 articles; reading the longest list, 21,955
# postings / warm query p95 / index size / build): 128 postings zlib-compressed as Whoosh does
# 3.2 ms / 19.6 ms / 672 MB / 86 s; 1024 compressed 1.6 / 17.3 / 659 / 83; 1024 uncompressed
# 0.8 / 14.7 / 726 / 74.
BLOCK_SIZE = 1024
# A block's id deltas and weights are arrays, not tuples: pickle protocol 3+ stores an array as its
# raw bytes, which search/postings.py hands to numpy without making a Python object per posting
# (Whoosh's reader only iterates and indexes them, which arrays allow).
_BLOCK_PICKLE = 4
_TERMINFO = W3TermInfo._struct
# Bytes per new term (key string, array, dict slot, allocator) and per posting slot, for the memory
# bound: calibrated on the pool (554,646 terms and 8 M slots grew a process by 215 MB).
_TERM_BYTES, _SLOT_BYTES = 320, 5


def term_encoding(field) -> str:
    # Terms are kept as str; non-text fields' terms are any bytes, which latin-1 round-trips
    # (and both decodings keep the bytes' sort order).
    return "utf-8" if isinstance(field, TEXT) else "latin-1"


def field_terms(field, value) -> dict[str, int]:
    """term -> frequency of a value, analysed by Whoosh (the fields with no analysis of ours)."""
    enc = term_encoding(field)
    return {t.decode(enc): freq for t, freq, _, _ in field.index(value)}


class PostingsTable:
    """fieldname -> term -> array of docnums (Existence) or of docnum, freq pairs (Frequency).

    Also Whoosh's pool protocol (`add`, `cleanup`): a merge feeds old segments' postings in here.
    """

    def __init__(self, schema):
        self.fields: dict[str, dict[str, array]] = {}
        self.paired: dict[str, bool] = {}
        self.encoding: dict[str, str] = {}
        for name, field in schema.items():
            if not field.indexed:
                continue
            if type(field.format) not in (Existence, Frequency) or field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: only Existence and Frequency postings are supported")
            self.fields[name] = {}
            self.paired[name] = type(field.format) is Frequency
            self.encoding[name] = term_encoding(field)
        self.size = 0

    def add_doc(self, fieldname: str, docnum: int, terms) -> int:
        """Add one document's terms (term -> frequency, or an iterable of terms); returns its length."""
        table = self.fields[fieldname]
        before = len(table)
        # One Python step per new term; the appends run in C (map), not one bytecode loop per posting.
        for term in filterfalse(table.__contains__, terms):
            table[term] = array("I")
        if self.paired[fieldname]:
            deque(map(array.extend, map(table.__getitem__, terms), zip(repeat(docnum), terms.values())), 0)
            length, slots = sum(terms.values()), 2 * len(terms)
        else:
            deque(map(methodcaller("append", docnum), map(table.__getitem__, terms)), 0)
            length = slots = len(terms)
        self.size += _TERM_BYTES * (len(table) - before) + _SLOT_BYTES * slots
        return length

    def add(self, item) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        term = tbytes.decode(self.encoding[fieldname])
        if self.paired[fieldname]:
            freq = int.from_bytes(vbytes[:4], "big") if vbytes else round(weight)
            self.add_doc(fieldname, docnum, {term: freq})
        else:
            self.add_doc(fieldname, docnum, (term,))

    def cleanup(self) -> None:
        self.fields = {name: {} for name in self.fields}
        self.size = 0


class BulkWriter(SegmentWriter):
    """Whoosh's SegmentWriter with PostingsTable for its pool; see the module docstring.

    add_document() takes analysed fields as `_terms` (fieldname -> term counts,
    or a set of terms for a presence-only field; see schema.to_document), with or
    without their values; other indexed fields are analysed by Whoosh as usual.
    """

    def __init__(self, ix, limitmb: int = 256, **kwargs):
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = PostingsTable(self.schema)
        self.memory_limit = limitmb * 2**20  # bytes of postings before a segment is written
        self._flushed: list = []

    def add_document(self, **fields) -> None:
        self._check_state()
        given = fields.pop("_terms", None) or {}
        names = sorted({n for n in fields if not n.startswith("_")} | given.keys())
        self._check_fields(self.schema, names)
        pdw, docnum, pool = self.perdocwriter, self.docnum, self.pool
        pdw.start_doc(docnum)
        for name in names:
            value = fields.get(name)
            terms = given.get(name)
            if value is None and terms is None:
                continue
            field = self.schema[name]
            length = 0
            if field.indexed:
                length = pool.add_doc(name, docnum, field_terms(field, value) if terms is None else terms)
                if not field.scorable:
                    length = 0
            pdw.add_field(name, field, value if field.stored else None, length)
            if field.column_type and value is not None:
                pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        pdw.finish_doc()
        self._added = True
        self.docnum += 1
        if pool.size > self.memory_limit:
            self._next_segment()

    def _next_segment(self) -> None:
        self._flushed.append(self._finalize_segment())
        self.newsegment = self.codec.new_segment(self.storage, self.indexname)
        self.perdocwriter = self.codec.per_document_writer(self.storage, self.newsegment)
        self.fieldwriter = self.codec.field_writer(self.storage, self.newsegment)
        self.pool = PostingsTable(self.schema)
        self.docnum = self.docbase
        self._added = False

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader()
        try:
            fw = self.fieldwriter
            for name in sorted(self.pool.fields):
                table = self.pool.fields[name]
                if not table:
                    continue
                field = self.schema[name]
                fieldid = fw._fieldmap.setdefault(name, len(fw._fieldmap))
                lengths = _length_bytes(pdr, name, self.docnum) if field.scorable else None
                write_field(fw._postfile, fw._tindex, pack_ushort(fieldid), table, self.pool.paired[name],
                            self.pool.encoding[name], field.format.field_boost, lengths)
        finally:
            pdr.close()
        fw.close()

    def sibling(self) -> BulkWriter:
        """A writer of other new segments of the same index, for another process (parallel.py).

        It takes no lock (this writer holds it) and never commits: its finish_segments()
        go to this writer's add_segments().
        """
        other = BulkWriter(_IndexView(self), limitmb=1, _lk=False, codec=self.codec)
        other.memory_limit = self.memory_limit
        return other

    def finish_segments(self) -> list:
        """Write the segment being built; every segment this writer wrote (not yet in any TOC)."""
        self._check_state()
        self.is_closed = True
        return self._written()

    def _written(self) -> list:
        """The segments written so far, with the one being built (if it has documents)."""
        if self._added:
            return self._flushed + [self._finalize_segment()]
        self._close_segment()
        return self._flushed

    def add_segments(self, segments: list) -> None:
        """Segments written by a sibling, to be published by this writer's commit."""
        self._flushed.extend(segments)

    def commit(self, mergetype=None, optimize=None, merge=None) -> None:
        self._check_state()
        # the merge policy may add old segments' documents to the one being built
        segments = self._merge_segments(mergetype, optimize, merge)
        self._commit_toc(segments + self._written())
        self._finish()


class _IndexView:
    """What SegmentWriter reads from an index, taken from a writer (its schema and segments)."""

    def __init__(self, writer: SegmentWriter):
        self.storage, self.indexname = writer.storage, writer.indexname
        self._writer = writer

    def _read_toc(self):
        from whoosh.index import TOC

        w = self._writer
        return TOC(w.schema, w.segments, w.generation - 1)


def _length_bytes(pdr, fieldname: str, doccount: int) -> bytes:
    """Each document's length in the field as the column stores it (Whoosh's length byte)."""
    column = pdr._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return bytes(doccount)
    return bytes(column[d] for d in range(doccount))


def write_field(postfile, tindex, prefix: bytes, table: dict, paired: bool, encoding: str, boost: float,
                lengths: bytes | None) -> None:
    """Write every posting list of one field: postings file blocks and term table rows, in term order."""
    rows = []
    # str order is the order of the encoded bytes, for UTF-8 as for latin-1
    for term in sorted(table):
        a = table[term]
        if len(a) > (2 * INLINE_LIMIT if paired else INLINE_LIMIT):
            info = _blocks(postfile, a, paired, boost, lengths)
        elif paired:
            info = _inlined_pairs(a, boost, lengths)
        else:
            df = len(a)
            minlb, maxlb = _length_range(a, lengths)
            info = _TERMINFO.pack(1, df * boost, df, minlb, maxlb, boost, a[0], a[-1]) + \
                dumps((tuple(a), (boost,) * df, ()), 2)
        rows.append((prefix + term.encode(encoding), info))
        if len(rows) == 4096:
            _add_rows(tindex, rows)
            rows = []
    _add_rows(tindex, rows)


def _length_range(ids, lengths: bytes | None) -> tuple[int, int]:
    if lengths is None:
        return 0, 0
    lens = bytes(map(lengths.__getitem__, ids))
    return min(lens), max(lens)


def _inlined_pairs(a: array, boost: float, lengths: bytes | None) -> bytes:
    ids, freqs = a[0::2], a[1::2]
    weights = tuple(f * boost for f in freqs)
    minlb, maxlb = _length_range(ids, lengths)
    values = tuple(f.to_bytes(4, "big") for f in freqs)
    return _TERMINFO.pack(1, sum(weights), len(ids), minlb, maxlb, max(weights), ids[0], ids[-1]) + \
        dumps((tuple(ids), weights, values), 2)


def _blocks(postfile, a: array, paired: bool, boost: float, lengths: bytes | None) -> bytes:
    """Write one term's postings to the postings file; returns its W3TermInfo bytes."""
    if paired:
        ids, freqs = a[0::2], a[1::2]
        weights = array("f", freqs) if boost == 1.0 else array("f", (f * boost for f in freqs))
        total, maxw = sum(weights), max(weights)
    else:
        ids, freqs, weights = a, None, None
        total, maxw = len(ids) * boost, boost
    df = len(ids)
    lens = bytes(map(lengths.__getitem__, ids)) if lengths is not None else bytes(df)
    start = postfile.tell()
    postfile.write(WHOOSH3_HEADER_MAGIC)
    for i in range(0, df, BLOCK_SIZE):
        j = i + BLOCK_SIZE
        bids = ids[i:j]
        deltas = array("I", map(sub, bids, chain((0,), bids)))
        if (top := max(deltas)) < 65536:
            deltas = array("B" if top < 256 else "H", deltas)
        if paired:
            bw = weights[i:j]
            bmaxw, bminw = max(bw), min(bw)
            mini = None if bminw == bmaxw == 1.0 else bmaxw if bminw == bmaxw else bw
            values = _big_endian(freqs[i:j])
        else:
            bmaxw, mini, values = boost, (None if boost == 1.0 else boost), None
        data = dumps((deltas, mini, values), _BLOCK_PICKLE)
        blens = lens[i:j]
        info = dumps((len(bids), bids[-1], bmaxw, 0, min(blens), max(blens)), 2)  # 0: not compressed
        size = len(info) + len(data)
        postfile.write_int(-size if j >= df else size)
        postfile.write(info)
        postfile.write(data)
    return _TERMINFO.pack(0, total, df, min(lens), max(lens), maxw, ids[0], ids[-1]) + \
        pack_long(start) + pack_int(postfile.tell() - start)


def _add_rows(tindex, rows: list[tuple[bytes, bytes]]) -> None:
    """OrderedHashWriter.add() for many rows at once: one write instead of three per row."""
    if not rows:
        return
    if rows[0][0] <= tindex.lastkey:
        raise ValueError(f"term table keys must increase: {tindex.lastkey!r}..{rows[0][0]!r}")
    dbfile = tindex.dbfile
    pos = dbfile.tell()
    buf = bytearray()
    positions = tindex.index.append
    buckets = tindex.buckets
    hashfn = tindex.hashfn
    pack = _ROW_LENGTHS.pack
    for key, value in rows:
        here = pos + len(buf)
        positions(here)
        buf += pack(len(key), len(value))
        buf += key
        buf += value
        h = hashfn(key)
        buckets[h & 255].append((h, here))
    dbfile.write(buf)
    tindex.lastkey = rows[-1][0]


def _big_endian(freqs: array) -> bytes:
    """The Frequency format's values of a block: each frequency as a big-endian uint32."""
    out = array("I", freqs)
    if sys.byteorder == "little":
        out.byteswap()
    return out.tobytes()
