"""Merging segments: a tiered policy, and a merge that copies arrays, not postings one by one.

Every indexing run writes its new documents as new segments (segment.py). Left
alone, segments pile up: each has its own term table of the whole vocabulary
(index size) and costs every query a term lookup per word and field (speed).
Whoosh's own merge re-adds every posting of the merged segments through the
writer's pool, one Python call each: a daily update that happened to merge took
61 s, longer than building the pool afresh.

The policy is tiered, as Lucene's TieredMergePolicy and tantivy's: segments are
grouped into tiers by live size (up to FLOOR documents, then each tier FACTOR
times larger), and a tier that holds FACTOR segments is merged into one. A
document is rewritten about log_FACTOR(n / FLOOR) times in its life and no run
pays for the whole index; a segment that has lost DELETED_SHARE of its documents
is rewritten to reclaim them. `zhsearch index --compact` merges all.

Before the policy, the segments one run wrote are merged into one: a large
import writes a segment per memory bound (4,470 articles: 8), whose term tables
each hold most of the vocabulary. A merge's cost is mostly per term and segment
(a few Python steps each), so merging them all at once, once, costs a fraction
of writing them (README, "Performance"), where a cascade of tiers would rewrite
every document of a large import several times.

A merge (`_merge`) copies the stored fields and columns document by document
(Whoosh's per-document writer) and the posting lists as whole arrays: each
term's lists from every merged segment are read (codec/w3), renumbered without
the deleted documents and written once; the character indexes are merged by
codec/chars.merge. Nothing is published until the writer's commit writes its
table of contents: a merge that fails or is killed leaves files that no TOC
names, which the next commit deletes.
"""

from __future__ import annotations

import heapq
import math
from array import array
from itertools import groupby
from operator import itemgetter

import numpy as np
from whoosh.formats import Frequency
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from .codec import chars
from .codec.w3 import field_rows, live_field_length, raw_row, row_postings, set_field_lengths

FLOOR = 2_000  # live documents: segments below this are one tier
FACTOR = 8  # segments of a tier that are merged into one
DELETED_SHARE = 0.3  # a segment with this share of deleted documents is rewritten


def tier(live: int) -> int:
    return 0 if live <= FLOOR else 1 + int(math.log(live / FLOOR, FACTOR))


def plan(sizes: list[tuple[int, int]], compact: bool = False) -> list[list[int]]:
    """Which segments to merge: groups of indexes into `sizes`, each (live, total) documents.

    Merging repeats until no tier holds FACTOR segments, so a merge's output may be merged
    again in the same plan (its group then names the earlier group's output by the index
    len(sizes) + k of the k-th group)."""
    live = [lv for lv, _ in sizes]
    if compact:
        return [list(range(len(sizes)))] if len(sizes) > 1 or (sizes and sizes[0][0] < sizes[0][1]) else []
    groups: list[list[int]] = []
    alive = set(range(len(sizes)))
    # segments that lost much of their documents go with the next merge of their tier, or alone
    stale = {i for i, (lv, total) in enumerate(sizes) if total and lv < total * (1 - DELETED_SHARE)}
    while True:
        tiers: dict[int, list[int]] = {}
        for i in sorted(alive, key=lambda i: (live[i], i)):
            tiers.setdefault(tier(live[i]), []).append(i)
        full = [t for t, members in tiers.items() if len(members) >= FACTOR]
        if not full:
            break
        members = tiers[min(full)][:FACTOR]  # the smallest of the lowest full tier first
        groups.append(members)
        alive -= set(members)
        stale -= set(members)
        alive.add(len(live))
        live.append(sum(live[i] for i in members))
    groups.extend([i] for i in sorted(stale))
    return groups


def merge_segments(writer, old: list, new: list, compact: bool = False, progress=None) -> list:
    """The segment list after this run's merges: `new` (the run's segments) into one, then the
    policy's over all (each merge written as a new segment)."""
    segments = old + new
    sizes = [(s.doc_count(), s.doc_count_all()) for s in segments]
    groups = plan(sizes, compact) if compact or len(new) < 2 else \
        _after(plan(sizes[:len(old)] + [(sum(lv for lv, _ in sizes[len(old):]),) * 2]), len(old), len(new))
    pool = list(segments)
    live = [s.doc_count() for s in segments]
    for group in groups:
        live.append(sum(live[i] for i in group))
    total, done = sum(live[len(segments):]), 0
    for group in groups:
        pool.append(_merge(writer, [pool[i] for i in group]))
        done += pool[-1].doc_count_all()
        if progress is not None:
            progress(done, total)
    gone = {i for g in groups for i in g}
    return [s for i, s in enumerate(pool) if i not in gone and s.doc_count_all()]


def _after(groups: list[list[int]], first: int, count: int) -> list[list[int]]:
    """`groups`, planned with the `count` segments from `first` on counted as one (index
    `first`), as a plan over all of them whose first group merges those `count`."""
    def full(i: int) -> int:  # outputs of a plan land at len(segments) + k
        return i if i < first else first + count if i == first else i + count

    return [list(range(first, first + count))] + [[full(i) for i in g] for g in groups]


def _merge(writer, segments: list):
    """Write the live documents of `segments` (the largest segment's first) as one new segment; return it."""
    from .segment import write_postings

    storage, schema, codec = writer.storage, writer.schema, writer.codec
    # the largest first: its documents keep their numbers, so its own terms' rows are copied as
    # they are (see _merged_items)
    segments = sorted(segments, key=lambda s: -s.doc_count_all())
    _allow_open_files(len(segments) + 64)
    newseg = codec.new_segment(storage, writer.indexname)
    # Read the merged segments with plain reads, not memory maps: a x20 import merges ~110
    # segments (~2 GB), and every mapped page read stays in the process's resident set (peak
    # 1.6 GB, of which a few hundred MB of memory proper).
    source = FileStorage(storage.folder, supports_mmap=False)
    readers = [SegmentReader(source, schema, s) for s in segments]
    try:
        pdw = codec.per_document_writer(storage, newseg)
        docmaps, count = [], 0
        for r in readers:
            docmap = _copy_documents(pdw, schema, r, count)
            count += int((docmap >= 0).sum())
            docmaps.append(docmap)
        # the true totals, not the sum of the lengths' one-byte estimates: scores stay the same
        set_field_lengths(pdw, {name: sum(live_field_length(r, name) for r in readers)
                                for name in schema.names() if schema[name].scorable})
        pdw.close()
        newseg.set_doc_count(count)
        fields = {name: _merged_items(readers, docmaps, name, schema[name].format)
                  for name in schema.names() if schema[name].indexed}
        write_postings(schema, codec.field_writer(storage, newseg),
                       codec.per_document_reader(storage, newseg), fields, count)
        newseg.create_compound_file(storage)
    finally:
        for r in readers:
            r.close()
    # the Whoosh readers are gone before the character indexes are read: the two peaks do not add up
    del readers, fields
    sources = [(chars.CharsReader(chars.segment_path(storage.folder, s)), m) for s, m in zip(segments, docmaps)]
    try:
        chars.merge(sources, chars.segment_path(storage.folder, newseg), count)
    finally:
        for reader, _ in sources:
            reader.close()
    return newseg


def _allow_open_files(count: int) -> None:
    """Raise the soft limit on open files to `count` where it is lower (a x100 import merges
    ~500 segments at once, each an open file; the usual soft limit is 1,024)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < count:
            resource.setrlimit(resource.RLIMIT_NOFILE, (count if hard == resource.RLIM_INFINITY else min(count, hard), hard))
    except (ImportError, ValueError, OSError):
        pass  # then a merge of very many segments may fail, as any write can: the index stays as it was


def _copy_documents(pdw, schema, reader, base: int) -> np.ndarray:
    """Copy the live documents' stored fields, lengths and columns; the docmap (old -> new, -1: deleted)."""
    from whoosh import columns

    names = schema.names()
    cols = {}
    for name in names:
        coltype = schema[name].column_type
        if coltype and reader.has_column(name):
            creader = reader.column_reader(name, coltype)
            if isinstance(creader, columns.TranslatingColumnReader):
                creader = creader.raw_column()
            cols[name] = (coltype, creader)
    scored = [n for n in names if schema[n].scorable]
    docmap = np.full(reader.doc_count_all(), -1, np.int64)
    docnum = base
    for old, stored in reader.iter_docs():
        docmap[old] = docnum
        pdw.start_doc(docnum)
        for name in names:
            length = reader.doc_field_length(old, name) if name in scored else 0
            pdw.add_field(name, schema[name], stored.get(name), length)
            if name in cols:
                coltype, creader = cols[name]
                pdw.add_column_value(name, coltype, creader[old])
        pdw.finish_doc()
        docnum += 1
    return docmap


def _merged_items(readers, docmaps, fieldname: str, fmt):
    """(term bytes, array) of a field over the merged segments, renumbered, in term order.

    Per term and segment this is a few Python steps, per posting a list operation: inlined
    lists (most of them) never touch numpy."""
    paired = isinstance(fmt, Frequency)
    maps = [m.tolist() for m in docmaps]
    # the first segment's documents keep their numbers when it has no deletions: a term only it
    # holds is copied as it is (a daily merge: the large segment's rows, most of the work)
    keeps = len(docmaps) > 0 and bool((docmaps[0] == np.arange(len(docmaps[0]))).all())
    rows = heapq.merge(*(field_rows(r, fieldname, n) for n, r in enumerate(readers)))
    for tbytes, group in groupby(rows, key=itemgetter(0)):
        parts = list(group)
        if keeps and len(parts) == 1 and parts[0][1] == 0:
            yield tbytes, raw_row(readers[0], parts[0][2])
            continue
        ids: list[int] = []
        tfs: list = []
        for _, n, info in parts:
            old, weights = row_postings(readers[n], info)
            if n == 0 and keeps:  # numbers kept: no renumbering, no deletions
                ids += old if isinstance(old, tuple) else old.tolist()
                tfs += weights if isinstance(weights, tuple) else weights.tolist()
            elif isinstance(old, tuple):
                m = maps[n]
                for d, w in zip(old, weights):
                    if (new := m[d]) >= 0:
                        ids.append(new)
                        tfs.append(w)
            else:
                new = docmaps[n][old]
                keep = new >= 0
                ids += new[keep].tolist()
                tfs += weights[keep].tolist()
        if not ids:
            continue
        if paired:  # weights are frequencies times the field's boost
            freqs = tfs if fmt.field_boost == 1.0 else [w / fmt.field_boost for w in tfs]
            out = array("I", bytes(8 * len(ids)))
            out[0::2] = array("I", ids)
            out[1::2] = array("I", map(round, freqs))
        else:
            out = array("I", ids)
        yield tbytes, out
