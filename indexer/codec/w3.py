"""Whoosh 2.7.4's W3 posting lists, written and read as whole arrays.

Writing (the W3 codec's own layout, so Whoosh's readers read it unchanged):
each term's postings arrive as one array and are written whole --

- a list of at most INLINE_LIMIT postings goes into the term table itself (what
  Whoosh 2.7.4's `inlinelimit` means to do; its writer calls a method that does
  not exist);
- longer ones go to the postings file in blocks of BLOCK_SIZE, their numbers
  pickled as arrays (raw bytes in the pickle), uncompressed: the layout read
  fastest below.

Reading: a term's blocks become two numpy arrays (docnums, term frequencies)
without a Python object per posting; Whoosh's matchers cost a few Python calls
per posting. This leans on the codec's private layout, hence the exact Whoosh
pin; tests/test_segment.py and tests/test_ranking.py compare both directions
with Whoosh's own writer and matchers.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from itertools import chain
from operator import sub
from pickle import dumps

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.fields import TEXT
from whoosh.filedb.filetables import _lengths as _ROW_LENGTHS
from whoosh.reading import TermNotFound
from whoosh.system import pack_int, pack_long
from whoosh.util.numeric import byte_to_length

# Measured on the pool (lists of at most 1 / 4 / 16 postings inlined): build 13.6 / 12.7 / 12.0 s,
# index 109 / 107 / 113 MB, warm queries the same; 4 makes the smallest index.
INLINE_LIMIT = 4
# Blocks are read whole (search/postings.py), never skipped through: larger ones cost fewer
# Python steps per posting. Measured at x5 (22,150 articles; reading the longest list, 21,955
# postings / warm query p95 / index size / build): 128 postings zlib-compressed as Whoosh does
# 3.2 ms / 19.6 ms / 672 MB / 86 s; 1024 compressed 1.6 / 17.3 / 659 / 83; 1024 uncompressed
# 0.8 / 14.7 / 726 / 74. At x20 (process time, decoding one list written in blocks of 1,024 / 4,096
# / 16,384): 的 in the body, 87,880 postings, 2.13 / 1.11 / 0.94 ms; 特朗普, 15,700, 0.37 / 0.18 /
# 0.11 ms; the lists 3% / 1% / 4% smaller. Whoosh's reader reads blocks of any size.
BLOCK_SIZE = 16384
# A block's id deltas and weights are arrays, not tuples: pickle protocol 3+ stores an array as its
# raw bytes, which search/postings.py hands to numpy without making a Python object per posting
# (Whoosh's reader only iterates and indexes them, which arrays allow).
_BLOCK_PICKLE = 4
# Term table rows of inlined lists: Whoosh pickles them with protocol 2, where each 4-byte value
# costs ~40 bytes (bytes go through _codecs.encode); protocol 3 writes them as 9. Weights that
# are whole numbers are written as ints. Whoosh's reader unpickles any protocol.
_INLINE_PICKLE = 3
_TERMINFO = W3TermInfo._struct


def term_encoding(field) -> str:
    # Terms are kept as str; non-text fields' terms are any bytes, which latin-1 round-trips
    # (and both decodings keep the bytes' sort order).
    return "utf-8" if isinstance(field, TEXT) else "latin-1"


def field_terms(field, value) -> dict[str, int]:
    """term -> frequency of a value, analysed by Whoosh (the fields with no analysis of ours)."""
    enc = term_encoding(field)
    return {t.decode(enc): freq for t, freq, _, _ in field.index(value)}



# ---------------------------------------------------------------- writing

def length_bytes(pdr, fieldname: str, doccount: int) -> bytes:
    """Each document's length in the field as the column stores it (Whoosh's length byte)."""
    column = pdr._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return bytes(doccount)
    # read as one array: Whoosh's reader costs a Python call a document, which was 0.4 s of a
    # cold search at x10
    return _column_values(column, doccount).tobytes()


def table_items(table: dict[str, array], encoding: str):
    """A PostingsTable field's (term bytes, postings) in ascending order of the bytes."""
    # str order is the order of the encoded bytes, for UTF-8 as for latin-1
    return ((term.encode(encoding), table[term]) for term in sorted(table))


@dataclass(frozen=True, slots=True)
class RawRow:
    """A term's row copied as it is from a segment whose documents keep their numbers (a merge's
    first segment without deletions): its term info, and for a list in blocks the bytes of its
    postings extent, which only move."""

    info: bytes
    extent: bytes | None = None


def raw_row(segreader, info: bytes) -> RawRow:
    """A field_rows row as a RawRow."""
    if info[0]:  # inlined: the term info holds everything
        return RawRow(info)
    offset, length = struct.unpack_from("!qi", info, _TERMINFO.size)
    return RawRow(info[:_TERMINFO.size], segreader._terms._postfile.get(offset, length))


def write_field(postfile, tindex, prefix: bytes, items, paired: bool, boost: float, lengths: bytes | None) -> None:
    """Write every posting list of one field, postings file blocks and term table rows.

    `items`: (term bytes, array) in ascending order of the bytes; an array holds docnums
    (`paired` False) or docnum, frequency pairs; or a RawRow to copy."""
    rows = []
    for tbytes, a in items:
        if isinstance(a, RawRow):
            if a.extent is None:
                info = a.info
            else:
                start = postfile.tell()
                postfile.write(a.extent)
                info = a.info + pack_long(start) + pack_int(len(a.extent))
        elif len(a) > (2 * INLINE_LIMIT if paired else INLINE_LIMIT):
            info = _blocks(postfile, a, paired, boost, lengths)
        elif paired:
            info = _inlined_pairs(a, boost, lengths)
        else:
            df = len(a)
            minlb, maxlb = _length_range(a, lengths)
            info = _TERMINFO.pack(1, df * boost, df, minlb, maxlb, boost, a[0], a[-1]) + \
                dumps((tuple(a), (_number(boost),) * df, ()), _INLINE_PICKLE)
        rows.append((prefix + tbytes, info))
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
    weights = tuple(freqs) if boost == 1.0 else tuple(f * boost for f in freqs)
    minlb, maxlb = _length_range(ids, lengths)
    values = tuple(f.to_bytes(4, "big") for f in freqs)
    return _TERMINFO.pack(1, sum(weights), len(ids), minlb, maxlb, max(weights), ids[0], ids[-1]) + \
        dumps((tuple(ids), weights, values), _INLINE_PICKLE)


def _number(boost: float) -> int | float:
    return int(boost) if boost.is_integer() else boost


def _blocks(postfile, a: array, paired: bool, boost: float, lengths: bytes | None) -> bytes:
    """Write one term's postings to the postings file; returns its W3TermInfo bytes."""
    if paired:
        ids, freqs = a[0::2], a[1::2]
        # frequencies as the narrowest integer array: Whoosh's reader only indexes weights
        weights = _narrowest(freqs) if boost == 1.0 else array("f", (f * boost for f in freqs))
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
        deltas = _narrowest(array("I", map(sub, bids, chain((0,), bids))))
        if paired:
            bw = weights[i:j]
            bmaxw, bminw = max(bw), min(bw)
            # the codec's shorthands: None when all are 1.0, one float when all are equal
            mini = None if bminw == bmaxw == 1 else float(bmaxw) if bminw == bmaxw else bw
            values = _big_endian(freqs[i:j])
        else:
            bmaxw, mini, values = boost, (None if boost == 1.0 else boost), None
        data = dumps((deltas, mini, values), _BLOCK_PICKLE)
        blens = lens[i:j]
        info = dumps((len(bids), bids[-1], float(bmaxw), 0, min(blens), max(blens)), 2)  # 0: not compressed
        size = len(info) + len(data)
        postfile.write_int(-size if j >= df else size)
        postfile.write(info)
        postfile.write(data)
    return _TERMINFO.pack(0, total, df, min(lens), max(lens), maxw, ids[0], ids[-1]) + \
        pack_long(start) + pack_int(postfile.tell() - start)


def _narrowest(values: array) -> array:
    top = max(values)
    return array("B" if top < 256 else "H" if top < 65536 else "I", values)


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


# ---------------------------------------------------------------- reading

_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_BLOCK_SIZE = struct.Struct("!i")
ROWS_READ = 1 << 16  # bytes of term table rows read at a time by field_rows
_MAGIC = 4  # the W3 header magic before a term's first block


@dataclass(frozen=True, slots=True)
class Plist:
    """One term's postings: ascending docnums (int64) and their term frequencies (float64)."""

    ids: np.ndarray
    tf: np.ndarray


EMPTY = Plist(np.empty(0, np.int64), np.empty(0, np.float64))


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


def _info_postings(terms, info, base: int) -> Plist:
    if info.is_inlined():  # short lists live in the term table (see write_field)
        ids, weights, _ = info.inlined_postings()
        return Plist(np.add(ids, base, dtype=np.int64), np.asarray(weights, dtype=np.float64))
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh 2.7.4's from_bytes() leaves it a 1-tuple
        length = length[0]
    return _read_blocks(terms._postfile.get(offset + _MAGIC, length - _MAGIC), base)


def leaf_postings(segreader, fieldname: str, term: str, base: int) -> Plist | None:
    """One segment's postings of `term` in `fieldname`, docnums offset by `base`; None if absent."""
    terms = segreader._terms
    try:
        info = terms.term_info(fieldname, segreader._text_to_bytes(fieldname, term))
    except TermNotFound:
        return None
    return _info_postings(terms, info, base)


def field_rows(segreader, fieldname: str, tag):
    """(term bytes, tag, raw term info) of every term of one segment's field, in term order.

    For merges, which pass the rows to `row_postings`: raw rows skip Whoosh's TermInfo objects,
    whose making was most of a merge's time per term."""
    terms = segreader._terms
    if fieldname not in terms._fieldmap:
        return
    # The field's rows lie side by side in the term table: read them in pieces of ROWS_READ bytes
    # and split them here. Whoosh's items_from makes three small reads a row (a merge's largest
    # cost after the postings themselves); pieces, not the whole field, because a large import's
    # merge reads a hundred segments' tables at once.
    table = terms._tindex
    fnum = terms._fieldmap[fieldname]
    start = table.closest_key_pos(struct.pack("!H", fnum))
    if start is None:
        return
    end = table.closest_key_pos(struct.pack("!H", fnum + 1)) if fnum < 0xFFFF else None
    end = table.endofdata if end is None else end
    unpack, head = _ROW_LENGTHS.unpack_from, _ROW_LENGTHS.size
    while start < end:
        data = table.dbfile.get(start, min(max(ROWS_READ, head), end - start))
        pos = 0
        while pos + head <= len(data):
            keylen, infolen = unpack(data, pos)
            key = pos + head + 2  # past the field number
            info = key - 2 + keylen
            if info + infolen > len(data):
                if pos == 0:  # one row longer than a piece
                    data = table.dbfile.get(start, head + keylen + infolen)
                    continue
                break
            pos = info + infolen
            yield data[key:info], tag, data[info:pos]
        if pos == 0:
            raise ValueError(f"a damaged term table: a row at {start} runs past {end}")
        start += pos


def row_postings(segreader, info: bytes):
    """A field_rows row's postings: (ids, weights) as tuples for a list inlined in the term
    table (most lists: a few postings, where numpy's calls cost more than they save), as arrays
    for a list in blocks."""
    if info[0]:  # the inlined flag: the postings are pickled after the struct
        ids, weights, _ = pickle.loads(info[_TERMINFO.size:])
        return ids, weights
    offset, length = struct.unpack_from("!qi", info, _TERMINFO.size)
    p = _read_blocks(segreader._terms._postfile.get(offset + _MAGIC, length - _MAGIC), 0)
    return p.ids, p.tf


def numbers(segreader, fieldname: str) -> np.ndarray:
    """A numeric column's value for every document of one segment, by segment docnum, read as
    one array: Whoosh's column reader costs a Python call a document (seconds at x100)."""
    count = segreader.doc_count_all()
    column = segreader.schema[fieldname].column_type
    if not segreader._perdoc.has_column(fieldname):
        return np.full(count, column._default, dtype=np.dtype(column._typecode))
    return _column_values(segreader._perdoc.column_reader(fieldname, column), count)


def _column_values(creader, count: int) -> np.ndarray:
    """The values of a NumericColumn.Reader for documents 0..count-1, read as one array."""
    stored = np.dtype(">" + creader._typecode)
    have = min(creader._count, count)  # values past the last one written are the default
    out = np.full(count, creader._default, dtype=stored.newbyteorder("="))
    out[:have] = np.frombuffer(creader._dbfile.get(creader._basepos, have * stored.itemsize), stored)
    return out


def live_field_length(segreader, fieldname: str) -> int:
    """The field's total length over the segment's live documents: exact where nothing is
    deleted (a deleted document's own length is known only as Whoosh's one-byte estimate)."""
    total = segreader.field_length(fieldname)
    if segreader.has_deletions():
        total -= sum(segreader.doc_field_length(d, fieldname, 0) or 0 for d in segreader._segment.deleted_docs())
    return max(int(total), 0)


def set_field_lengths(pdw, totals: dict[str, int]) -> None:
    """Give a per-document writer the fields' total lengths (BM25's average length), where the
    sum of its documents' one-byte estimates would drift from the truth (a merge)."""
    pdw._fieldlengths.update(totals)


def live(segreader) -> np.ndarray:
    """Boolean by segment docnum: the documents not deleted."""
    out = np.ones(segreader.doc_count_all(), dtype=bool)
    if segreader.has_deletions():
        out[list(segreader._segment.deleted_docs())] = False
    return out


def length_codes(segreader, fieldname: str) -> np.ndarray:
    """Every document's length byte in the field (Whoosh's quantised length), by segment docnum."""
    return np.frombuffer(length_bytes(segreader._perdoc, fieldname, segreader.doc_count_all()), dtype=np.uint8)


def lengths(segreader, fieldname: str) -> np.ndarray:
    """Every document's length in tokens of the field (as Whoosh decodes the byte), by segment docnum."""
    return _LENGTH_OF_BYTE[length_codes(segreader, fieldname)]


def bytes_column(segreader, fieldname: str):
    """Where a VarBytes column's values of one segment lie in the segment's memory map:
    (the map, each document's start in it, its length; int64 by segment docnum), or None
    where the segment is not a mapped compound file (then read through Whoosh's column reader).

    Whoosh's reader costs ~10 µs a value (a MultiReader's segment lookup, arrays, a slice
    copied); a phrase's literal check reads tens of thousands at x100."""
    from whoosh.codec.whoosh3 import W3Codec

    perdoc = segreader._perdoc
    if not perdoc.has_column(fieldname):
        return None
    name = W3Codec.column_filename(perdoc._segment, fieldname)
    storage = getattr(perdoc, "_storage", None)
    # a compound segment's files are read through an OverlayStorage whose `a` is the compound file
    compound = next((s for s in (storage, getattr(storage, "a", None))
                     if getattr(s, "_source", None) is not None and s.file_exists(name)), None)
    if compound is None:
        return None
    source = compound._source
    base, _ = compound.range(name)
    creader = perdoc.column_reader(fieldname, segreader.schema[fieldname].column_type)
    count = segreader.doc_count_all()
    lengths = np.zeros(count, np.int64)
    offsets = np.zeros(count, np.int64)
    have = min(count, len(creader._lengths))  # documents past the last value have none
    lengths[:have] = np.asarray(creader._lengths[:have], np.int64)
    offsets[:have] = np.asarray(creader._offsets[:have], np.int64)
    return source, base + creader._basepos + offsets, lengths
