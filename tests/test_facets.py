"""Counting matches by period and outlet (issue 13): `Index.timeline` and `search(facets=True)`.

The small index checks the rules on articles made for them (folding under the earliest copy,
Monday weeks, empty periods, undated articles); the pool checks that the counts are exactly
search's matches, against an independent count from search's own hits.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from .test_search import build

BODY = "卡塔尔斡旋哈马斯释放人质，外交部发言人表示欢迎。"


def _at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=timezone.utc)


@pytest.fixture
def small_ix(tmp_path):
    ix = build(tmp_path, {
        # one story under three URLs: the earliest copy (DW, 2020-07-01) is where it counts
        "a.md": dict(title="卡塔尔人质 一", url="https://www.rfi.fr/cn/a", body=BODY, published=_at("2020-07-03")),
        "b.md": dict(title="卡塔尔人质 二", url="https://www.dw.com/zh/b", body=BODY, published=_at("2020-07-01")),
        "c.md": dict(title="卡塔尔人质 三", url="https://www.voachinese.com/c", body=BODY, published=None),
        "d.md": dict(title="卡塔尔的另一篇", url="https://www.rfi.fr/cn/d", body="卡塔尔足球。",
                     published=_at("2020-07-14")),
        "e.md": dict(title="卡塔尔无日期", url="https://www.bbc.com/zhongwen/e", body="卡塔尔天气。", published=None),
        "f.md": dict(title="无关", url="https://www.bbc.com/zhongwen/f", body="香港。", published=_at("2020-06-01")),
    })
    yield ix
    ix.close()


def test_folded_story_counts_once_under_its_earliest_copy(small_ix):
    periods = small_ix.timeline("卡塔尔", by="day")
    dated = {p.start: p for p in periods if p.start is not None}
    assert min(dated) == date(2020, 7, 1) and max(dated) == date(2020, 7, 14)
    assert len(dated) == 14  # every day of the range, empty ones included
    assert dated[date(2020, 7, 1)].sources == {"DW": 1} and dated[date(2020, 7, 3)].count == 0
    assert dated[date(2020, 7, 14)].sources == {"RFI": 1}
    assert periods[-1].start is None and periods[-1].sources == {"BBC": 1}  # undated apart, and last
    assert sum(p.count for p in periods) == small_ix.search("卡塔尔").total == 3


def test_no_fold_counts_every_copy(small_ix):
    periods = small_ix.timeline("卡塔尔", by="day", fold=False)
    dated = {p.start: p for p in periods if p.start is not None}
    assert dated[date(2020, 7, 1)].sources == {"DW": 1} and dated[date(2020, 7, 3)].sources == {"RFI": 1}
    assert periods[-1].start is None and periods[-1].sources == {"BBC": 1, "VOA": 1}
    assert sum(p.count for p in periods) == small_ix.search("卡塔尔", fold=False).total == 5


def test_weeks_start_on_monday_and_months_on_the_first(small_ix):
    weeks = small_ix.timeline("卡塔尔", by="week")
    assert [(p.start, p.count) for p in weeks] == [
        (date(2020, 6, 29), 1), (date(2020, 7, 6), 0), (date(2020, 7, 13), 1), (None, 1)]
    assert all(p.start.weekday() == 0 for p in weeks if p.start)
    assert [(p.label, p.count) for p in small_ix.timeline("卡塔尔", by="month")] == [("2020-07", 2), ("undated", 1)]
    assert [(p.label, p.count) for p in small_ix.timeline("卡塔尔", by="year")] == [("2020", 2), ("undated", 1)]


def test_since_and_until_set_the_range_and_leave_out_the_undated(small_ix):
    periods = small_ix.timeline("卡塔尔", by="month", since="2020-05-15", until="2020-08-01")
    assert [(p.label, p.count) for p in periods] == [("2020-05", 0), ("2020-06", 0), ("2020-07", 2), ("2020-08", 0)]
    empty = small_ix.timeline("香港 卡塔尔", by="day", since="2020-07-01", until="2020-07-02")
    assert [(p.start, p.count) for p in empty] == [(date(2020, 7, 1), 0), (date(2020, 7, 2), 0)]
    assert small_ix.timeline("香港 卡塔尔") == []
    assert small_ix.timeline("卡塔尔", sources=["rfi"], by="year")[0].sources == {"RFI": 2}


def test_bad_period_and_backward_range(small_ix):
    from search import QuerySyntaxError

    with pytest.raises(ValueError):
        small_ix.timeline("卡塔尔", by="hour")
    with pytest.raises(QuerySyntaxError):
        small_ix.timeline("卡塔尔", since="2020-08-01", until="2020-07-01")


def test_auto_keeps_under_forty_rows(small_ix):
    assert [p.by for p in small_ix.timeline("卡塔尔", by="auto")][:1] == ["day"]  # 14 days
    assert small_ix.timeline("卡塔尔", by="auto", since="2020-01-01")[0].by == "week"  # 28 weeks
    assert small_ix.timeline("卡塔尔", by="auto", since="2018-01-01")[0].by == "month"
    assert small_ix.timeline("卡塔尔", by="auto", since="2000-01-01")[0].by == "year"
    for since in ("2020-06-10", "2020-01-01", "2018-01-01", "2000-01-01"):
        assert len(small_ix.timeline("卡塔尔", by="auto", since=since)) <= 41  # 40 and the undated row


def test_facets_of_the_whole_result(small_ix):
    hits = small_ix.search("卡塔尔", limit=1, facets=True)
    assert len(hits) == 1 and hits.facets.total == hits.total == 3
    assert hits.facets.sources == {"BBC": 1, "DW": 1, "RFI": 1}
    assert hits.facets.months == {"2020-07": 2} and hits.facets.undated == 1
    assert hits.facets.to_dict() == {"total": 3, "sources": {"BBC": 1, "DW": 1, "RFI": 1},
                                     "months": {"2020-07": 2}, "undated": 1}
    assert small_ix.search("卡塔尔").facets is None
    assert small_ix.facets("卡塔尔") == hits.facets  # the same counts without ranking the hits
    assert small_ix.facets("卡塔尔", fold=False).total == 5


def _expected_by_day(ix, query: str, fold: bool) -> Counter:
    """(day or None, outlet) -> count, from search's own hits: the earliest copy of each story."""
    every = {h.url: h for h in ix.search(query, limit=0, fold=False)}
    counts: Counter = Counter()
    if not fold:
        groups = [[h] for h in every.values()]
    else:
        groups = [[every[u] for u in [h.url, *h.duplicates]] for h in ix.search(query, limit=0)]
    for group in groups:
        first = min(group, key=lambda h: (h.published is None, h.published or datetime.min.replace(tzinfo=timezone.utc)))
        counts[(None if first.published is None else first.published.date(), first.source)] += 1
    return counts


@pytest.mark.parametrize("query", ["国安法", "香港 -美国", "疫苗 OR 口罩", "特朗普"])
def test_pool_timeline_is_search_counted_by_day(pool_ix, query):
    for fold in (True, False):
        got = Counter()
        for p in pool_ix.timeline(query, by="day", fold=fold):
            for outlet, n in p.sources.items():
                got[(p.start, outlet)] += n
        assert got == _expected_by_day(pool_ix, query, fold)
        total = pool_ix.search(query, fold=fold).total
        for by in ("week", "month", "year"):
            assert sum(p.count for p in pool_ix.timeline(query, by=by, fold=fold)) == total


def test_pool_facets_agree_with_timeline_and_filters(pool_ix):
    kw = dict(since="2020-07-01", until="2020-07-10", sources=["RFI", "dw"])
    hits = pool_ix.search("香港", facets=True, **kw)
    months = pool_ix.timeline("香港", by="month", **kw)
    assert hits.facets.total == hits.total == sum(p.count for p in months) > 0
    assert hits.facets.months == {p.label: p.count for p in months if p.count}
    assert pool_ix.facets("香港", **kw) == hits.facets
    assert set(hits.facets.sources) == {"RFI", "DW"}
    days = pool_ix.timeline("香港", by="day", **kw)
    assert days[0].start == date(2020, 7, 1) and days[-1].start == date(2020, 7, 10)
    assert [p.start for p in days] == [date(2020, 7, 1) + timedelta(n) for n in range(10)]


def test_pool_facets_of_every_article(pool_ix):
    hits = pool_ix.search("的", limit=1, facets=True)
    assert sum(hits.facets.sources.values()) == hits.facets.total == hits.total
    assert sum(hits.facets.months.values()) + hits.facets.undated == hits.total
    unfolded = pool_ix.search("的", limit=1, facets=True, fold=False).facets
    assert unfolded.total == pool_ix.search("的", fold=False).total > hits.total


def test_a_segment_of_undated_articles_keeps_every_date_in_place(small_ix, tmp_path):
    """Whoosh's MultiReader leaves out a segment without a `published` column (schema.column_values)."""
    from indexer import update_index

    from .test_search import write_article

    write_article(tmp_path / "corpus", "g.md", title="卡塔尔 又一篇无日期", url="https://www.dw.com/zh/g",
                  body="卡塔尔沙漠。", published=None)
    write_article(tmp_path / "corpus", "h.md", title="卡塔尔 再一篇无日期", url="https://www.dw.com/zh/h",
                  body="卡塔尔石油。", published=None)
    update_index([tmp_path / "corpus"], tmp_path / "index")  # a segment of its own, no `published` in it
    small_ix.refresh()
    periods = small_ix.timeline("卡塔尔", by="month")
    assert [(p.label, p.count) for p in periods] == [("2020-07", 2), ("undated", 3)]
    assert small_ix.search("卡塔尔", since="2020-07-10").total == 1
