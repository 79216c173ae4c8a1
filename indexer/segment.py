"""Writing new segments from posting lists gathered in memory.

Whoosh's SegmentWriter puts every posting in a sorting pool as a 5-tuple, sorts
them all at the commit, and hands them one at a time to its postings writer,
which looks up the document's field length for each posting and pickles and
zlib-compresses a block for every term, however short. On the pool that was
three quarters of a build. Here each term's postings are an array that grows
document by document (documents arrive in docnum order: only the terms are
sorted), and at the flush each posting list is written whole (codec/w3.py for
the Whoosh word fields, codec/chars.py for the character index beside the
segment).

Memory is bounded: past `limitmb` of postings the segment is written and a new
one started (a large corpus becomes several segments, as in Lucene; merge.py
merges them at the commit). Only the formats this index uses are supported
(Existence, Frequency); positions and term vectors are refused up front.
"""

from __future__ import annotations

from array import array
from collections import deque
from itertools import filterfalse, repeat
from operator import methodcaller

from whoosh.formats import Existence, Frequency
from whoosh.system import pack_ushort
from whoosh.writing import SegmentWriter

from .codec import chars
from .codec.w3 import field_terms, length_bytes, table_items, term_encoding, write_field

# Bytes per new term (key, array, dict slot, allocator) and per posting slot, for the memory
# bound: calibrated on the pool (554,646 terms and 8 M slots grew a process by 215 MB).
_TERM_BYTES, _SLOT_BYTES = 320, 5
CHARS = "chars"  # the `_terms` entry of the character index's keys (schema.to_document)


class PostingsTable:
    """fieldname -> term -> array of docnums (Existence) or of docnum, freq pairs (Frequency).

    Also Whoosh's pool protocol (`add`, `cleanup`): a merge feeds old segments' postings in here.
    """

    def __init__(self, schema):
        self.fields: dict[str, dict] = {CHARS: {}}  # CHARS: int key -> array of docnums (codec/chars.py)
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
        self.paired[CHARS] = False
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
        keys = given.pop(CHARS, None)
        if keys:
            self.pool.add_doc(CHARS, self.docnum, keys)
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
        pool = self.pool
        fields = {name: table_items(table, pool.encoding[name]) for name, table in pool.fields.items()
                  if table and name != CHARS}
        write_postings(self.schema, self.fieldwriter, self.per_document_reader(), fields, self.docnum)

    def _finalize_segment(self):
        keys = self.pool.fields[CHARS]
        segment = super()._finalize_segment()  # also empties the pool
        # after the compound file is assembled, or it would swallow this one
        chars.write_table(chars.segment_path(self.storage.folder, segment), keys, self.docnum)
        return segment

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

    def commit(self, compact: bool = False, progress=None) -> None:
        """Publish the new segments, after merging segments as merge.py's policy says
        (`compact`: all into one). `progress(done, total)` is told of the merges' documents."""
        from .merge import merge_segments

        self._check_state()
        segments = merge_segments(self, [s for s in self.segments if s.doc_count()], self._written(),
                                  compact, progress)
        self._commit_toc(segments)
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




def write_postings(schema, fieldwriter, pdr, fields: dict, doccount: int) -> None:
    """Write the word fields' posting lists of a new segment and close its field writer.

    `fields`: fieldname -> (term bytes, array) in term order (codec/w3.write_field);
    `pdr` reads the segment's per-document data (field lengths) and is closed here."""
    fw = fieldwriter
    try:
        for name in sorted(fields):
            field = schema[name]
            fieldid = fw._fieldmap.setdefault(name, len(fw._fieldmap))
            lengths = length_bytes(pdr, name, doccount) if field.scorable else None
            write_field(fw._postfile, fw._tindex, pack_ushort(fieldid), fields[name],
                        type(field.format) is Frequency, field.format.field_boost, lengths)
    finally:
        pdr.close()
    fw.close()
