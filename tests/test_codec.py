"""The on-disk format: what indexer/codec writes reads back equal (Whoosh's reader agrees: test_segment.py)."""

from __future__ import annotations

from array import array

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from indexer.codec import chars


def _table(rng, doccount: int, terms: int) -> dict[int, array]:
    table = {}
    for _ in range(terms):
        key = int(rng.integers(0x4E00, 0x9FFF)) << 20 | int(rng.choice([0, int(rng.integers(0x4E00, 0x9FFF))]))
        density = rng.choice([0.0005, 0.01, 0.3, 0.95])
        ids = np.flatnonzero(rng.random(doccount) < density)
        if len(ids):
            table[key] = array("I", ids.tolist())
    return table


def test_term_keys_round_trip():
    for term in ("的", "中国", "\U00020000", "𠀀中", "中\U0003FFFF"):
        assert chars.key_term(chars.term_key(term)) == term
    assert chars.term_key("中") < chars.term_key("中国") < chars.term_key("丰")


@pytest.mark.parametrize("doccount", [1, 7, 300, 70_000])
def test_written_lists_read_back_equal(tmp_path, doccount):
    rng = np.random.default_rng(doccount)
    table = _table(rng, doccount, 400)
    chars.write_table(tmp_path / "x.chars", table, doccount)
    reader = chars.CharsReader(tmp_path / "x.chars")
    assert len(reader) == len(table)
    assert reader.keys.tolist() == sorted(table)
    for key, ids in table.items():
        assert reader.ids(key).tolist() == ids.tolist()
        # marked into a mask that already holds other documents: those stay, these are added
        mask = np.zeros(doccount, dtype=bool)
        mask[::5] = True
        reader.mark(key, mask)
        assert np.flatnonzero(mask).tolist() == sorted(set(ids.tolist()) | set(range(0, doccount, 5)))
    assert reader.ids(1) is None
    mask = np.zeros(doccount, dtype=bool)
    reader.mark(1, mask)
    assert not mask.any()
    got, lens = reader.lists(0, len(reader))
    assert got.tolist() == [d for k in sorted(table) for d in table[k]]
    assert lens.tolist() == [len(table[k]) for k in sorted(table)]
    # a dense list becomes a bitmap, which a delta list of the same terms would exceed
    if doccount > 1000:
        assert (reader.codes == 0).any() and (reader.codes > 0).any()
    reader.close()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_merge_equals_the_union_renumbered(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("merge")
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sizes = data.draw(st.lists(st.integers(1, 600), min_size=1, max_size=4))
    sources, expected, base = [], {}, 0
    for n, size in enumerate(sizes):
        table = _table(rng, size, int(rng.integers(1, 60)))
        chars.write_table(tmp / f"{n}.chars", table, size)
        deleted = rng.random(size) < data.draw(st.sampled_from([0.0, 0.1, 0.9]))
        docmap = np.full(size, -1, np.int64)
        docmap[~deleted] = base + np.arange(int((~deleted).sum()))
        base += int((~deleted).sum())
        sources.append((chars.CharsReader(tmp / f"{n}.chars"), docmap))
        for key, ids in table.items():
            new = [int(docmap[d]) for d in ids if docmap[d] >= 0]
            if new:
                expected.setdefault(key, []).extend(new)
    old = chars.MERGE_CHUNK, chars.MERGE_TERMS
    chars.MERGE_CHUNK = data.draw(st.sampled_from([1, 50, 10**9]))  # several chunks, or one
    chars.MERGE_TERMS = data.draw(st.sampled_from([1, 30, 10**9]))  # ranges of first characters, or one
    try:
        chars.merge(sources, tmp / "m.chars", max(base, 1))
    finally:
        chars.MERGE_CHUNK, chars.MERGE_TERMS = old
    merged = chars.CharsReader(tmp / "m.chars")
    assert {k: merged.ids(k).tolist() for k in merged.keys.tolist()} == expected
    for reader, _ in sources:
        reader.close()
    merged.close()
