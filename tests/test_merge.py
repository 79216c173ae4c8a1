"""indexer/merge.py's tiered policy, as a pure function of segment sizes; merges themselves are
checked against fresh builds in test_segment.py and under faults in test_faults.py."""

from __future__ import annotations

import math

from hypothesis import given, strategies as st

from indexer import merge
from indexer.merge import FACTOR, FLOOR, plan, tier


def _apply(sizes: list[tuple[int, int]], groups: list[list[int]]) -> list[int]:
    """The live sizes after the plan's merges (an output may be merged again)."""
    live = [lv for lv, _ in sizes]
    gone: set[int] = set()
    for g in groups:
        assert not gone & set(g), "a segment is merged twice"
        gone |= set(g)
        live.append(sum(live[i] for i in g))
    return [lv for i, lv in enumerate(live) if i not in gone]


def test_nothing_to_merge_below_a_full_tier():
    assert plan([(100, 100)] * (FACTOR - 1)) == []
    assert plan([(FLOOR * FACTOR * 2, FLOOR * FACTOR * 2), (10, 10)]) == []


def test_a_full_tier_is_merged_smallest_first():
    sizes = [(50 + i, 50 + i) for i in range(FACTOR + 2)]
    groups = plan(sizes)
    assert groups[0] == list(range(FACTOR))  # the FACTOR smallest
    assert all(tier(lv) == 0 for lv, _ in sizes)


def test_daily_additions_stay_few_segments_and_each_run_merges_little():
    """60 runs of 50 documents on a segment of 1,470: the segment count stays logarithmic and
    a run rewrites at most what FACTOR runs added, plus its tier's earlier merges."""
    segments = [(1470, 1470)]
    rewritten = []
    for _ in range(60):
        segments.append((50, 50))
        groups = plan(segments)
        rewritten.append(sum(_apply(segments, [g])[-1] for g in groups) if groups else 0)
        segments = [(lv, lv) for lv in _apply(segments, groups)]
        assert len(segments) <= 2 * FACTOR
    assert max(rewritten) <= sum(lv for lv, _ in segments)
    assert sorted(rewritten)[len(rewritten) // 2] == 0  # most runs merge nothing


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=300))
def test_after_a_plan_no_tier_is_full(lives):
    sizes = [(lv, lv) for lv in lives]
    after = _apply(sizes, plan(sizes))
    assert sum(after) == sum(lives)
    tiers = [tier(lv) for lv in after]
    assert all(tiers.count(t) < FACTOR for t in set(tiers))
    # logarithmic: at most FACTOR - 1 segments per tier
    assert len(after) <= (FACTOR - 1) * (tier(sum(lives)) + 1)


def test_segments_that_lost_many_documents_are_rewritten():
    groups = plan([(10_000, 10_000), (500, 1_000), (900, 1_000)])
    assert [1] in groups and not any(0 in g or 2 in g for g in groups)


def test_compact_merges_everything_into_one():
    assert plan([(10, 10), (10**6, 10**6), (5, 9)], compact=True) == [[0, 1, 2]]
    assert plan([(10, 10)], compact=True) == []
    assert plan([(10, 12)], compact=True) == [[0]]  # one segment with deletions is rewritten
    assert plan([], compact=True) == []


def test_tiers_grow_by_factor():
    assert tier(1) == tier(FLOOR) == 0
    assert tier(FLOOR + 1) == tier(FLOOR * FACTOR - 1) == 1
    assert tier(FLOOR * FACTOR ** 3 + 1) == 4
    assert merge.tier(int(FLOOR * math.pow(FACTOR, 2.5))) == 3


def test_a_runs_own_segments_are_merged_first_as_one():
    """After a large import (here 3 old segments, 9 new), the new ones are merged into one before
    the policy looks at the tiers: they are rewritten once, not once per tier."""
    import types

    old = [(30_000, 30_000), (100, 100), (90, 100)]
    new = [(500, 500)] * 9
    segs = [types.SimpleNamespace(doc_count=lambda lv=lv: lv, doc_count_all=lambda t=t: t) for lv, t in old + new]
    merged = []

    def fake_merge(writer, group):
        merged.append([segs.index(s) if s in segs else s.n for s in group])
        out = types.SimpleNamespace(doc_count=lambda: sum(s.doc_count() for s in group),
                                    doc_count_all=lambda: sum(s.doc_count() for s in group), n=-len(merged))
        return out

    real = merge._merge
    merge._merge = fake_merge
    try:
        result = merge.merge_segments(None, segs[:3], segs[3:])
    finally:
        merge._merge = real
    assert merged[0] == list(range(3, 12))
    assert sum(s.doc_count() for s in result) == sum(lv for lv, _ in old + new)
    assert len(result) == 4  # nothing else is full; no segment lost 30%
    assert merge.merge_segments(None, segs[:3], segs[3:4]) == segs[:4]  # one new segment: no merge
