"""Counting matches by outlet and by period: timelines and facets.

Counts are taken over the same matches as search (results.match: the query
evaluated once, the same filters) and fold stories as search does: a story
saved under several URLs counts once, under the outlet and date of its earliest
matching copy (undated copies count as the latest). The per-document arrays
(outlet codes, days, the earliest-first rank) are computed once per searcher
snapshot, so a count is a few np.bincount calls over the matched docnums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from .results import snapshot_postings
from .values import Facets, Period

BY = ("day", "week", "month", "year")
AUTO = "auto"
MAX_ROWS = 40  # what `auto` keeps a chart under

_US_PER_DAY = 86_400_000_000
_EPOCH_DAY = date(1970, 1, 1).toordinal() - 1  # days from 0001-01-01 (a Monday) to 1970-01-01


@dataclass(frozen=True, slots=True)
class _Columns:
    """Per document (by docnum) of one snapshot: what counting needs."""

    outlet: np.ndarray  # index into `names`
    names: list[str]
    day: np.ndarray  # days since 0001-01-01 (Whoosh's epoch), -1 when undated
    month: np.ndarray  # months since 1970-01 (negative before), meaningless when undated
    rank: np.ndarray  # position in the order earliest first, undated last, then by docnum
    by_rank: np.ndarray  # the inverse: docnum at each position


def _columns(searcher, cache: dict) -> _Columns:
    found = cache.get("facets")
    if found is not None:
        return found
    postings = snapshot_postings(searcher, cache)
    reader = searcher.reader()
    size = postings.size
    names: list[str] = []
    outlet = np.full(size, -1, dtype=np.int64)
    for term in reader.field_terms("source"):
        ids = postings.get("source", term).ids
        live = ids[cache["live"][ids]]
        if len(live):
            outlet[live] = len(names)
            # the outlet as the article names it (RFI, not the lower-case term)
            names.append(searcher.stored_fields(int(live[0])).get("source", term))
    if (outlet[cache["live"]] < 0).any():  # an article without an outlet still counts
        outlet[outlet < 0] = len(names)
        names.append("")
    key = cache["date"]
    day = np.where(key >= 0, key // _US_PER_DAY, -1)
    month = _month_of(np.maximum(day, 0))
    by_rank = np.lexsort((np.arange(size), np.where(key >= 0, key, np.iinfo(np.int64).max)))
    rank = np.empty(size, dtype=np.int64)
    rank[by_rank] = np.arange(size)
    found = _Columns(outlet, names, day, month, rank, by_rank)
    cache["facets"] = found
    return found


def counted(cols: _Columns, story: np.ndarray, ids: np.ndarray, fold: bool) -> np.ndarray:
    """The docnums that count: with `fold`, the earliest matching copy of each story."""
    if not fold or len(ids) == 0:
        return ids
    n = len(cols.rank)
    key = story[ids] * n + cols.rank[ids]
    key.sort()
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] // n != key[:-1] // n
    return cols.by_rank[key[first] % n]


def _by_outlet(cols: _Columns, docs: np.ndarray) -> dict[str, int]:
    counts = np.bincount(cols.outlet[docs], minlength=len(cols.names))
    return _named(cols.names, counts)


def outlet_totals(searcher, cache: dict) -> tuple[dict[str, int], np.ndarray]:
    """The live documents per outlet, the largest first, and the live documents' dates (-1: none)."""
    cols = _columns(searcher, cache)
    live = np.flatnonzero(cache["live"])
    return _by_outlet(cols, live), cache["date"][live]


def _named(names: list[str], counts: np.ndarray) -> dict[str, int]:
    """Nonzero counts by name, the largest first (then by name)."""
    nonzero = np.flatnonzero(counts)
    return dict(sorted(((names[i], int(counts[i])) for i in nonzero), key=lambda kv: (-kv[1], kv[0])))


def month_start(month: int) -> date:
    return date(1970 + month // 12, month % 12 + 1, 1)


def count_facets(searcher, cache: dict, ids: np.ndarray, fold: bool) -> Facets:
    """Counts by outlet and by month of every match (`ids`, as results.match finds them)."""
    cols = _columns(searcher, cache)
    docs = counted(cols, cache["story"], ids, fold)
    dated = docs[cols.day[docs] >= 0]
    months: dict[str, int] = {}
    if len(dated):
        m = cols.month[dated]
        low = int(m.min())
        counts = np.bincount(m - low)
        months = {month_start(low + int(i)).strftime("%Y-%m"): int(counts[i]) for i in np.flatnonzero(counts)}
    return Facets(total=len(docs), sources=_by_outlet(cols, docs), months=months, undated=len(docs) - len(dated))


def period_of(by: str, day: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Each day's period number (consecutive periods have consecutive numbers)."""
    if by == "day":
        return day
    if by == "week":
        return day // 7  # day 0 is a Monday: weeks start on Monday (ISO 8601)
    if by == "month":
        return month
    return month // 12


def period_start(by: str, number: int) -> date:
    if by == "day":
        return date.fromordinal(number + 1)
    if by == "week":
        return date.fromordinal(number * 7 + 1)
    if by == "month":
        return month_start(number)
    return date(1970 + number, 1, 1)


def period_end(by: str, start: date) -> date:
    """The last day of the period of `by` that starts on `start`: the day before the next starts."""
    day = np.array([start.toordinal() - 1])
    return period_start(by, int(period_of(by, day, _month_of(day))[0]) + 1) - timedelta(days=1)


def _day_of(when: datetime) -> int:
    """The day number (as in _Columns.day) of a UTC datetime."""
    return when.date().toordinal() - 1


def _month_of(day: np.ndarray) -> np.ndarray:
    return (day - _EPOCH_DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def choose_by(first_day: int, last_day: int) -> str:
    """The finest period that keeps a chart of days first_day..last_day within MAX_ROWS rows."""
    ends = np.array([first_day, last_day], dtype=np.int64)
    month = _month_of(ends)
    for by in BY[:-1]:
        p = period_of(by, ends, month)
        if p[1] - p[0] < MAX_ROWS:
            return by
    return "year"


def timeline(searcher, cache: dict, ids: np.ndarray, fold: bool, by: str,
             since: datetime | None, until: datetime | None) -> list[Period]:
    """Every period from the first match (or `since`) to the last (or `until`), empty ones
    included, then one for the undated matches if there are any; `by` may be "auto"."""
    cols = _columns(searcher, cache)
    docs = counted(cols, cache["story"], ids, fold)
    dated = docs[cols.day[docs] >= 0]
    days = cols.day[dated]
    first = _day_of(since) if since is not None else int(days.min()) if len(days) else None
    last = _day_of(until) if until is not None else int(days.max()) if len(days) else first
    first = last if first is None else first
    periods: list[Period] = []
    if first is not None:
        if by == AUTO:
            by = choose_by(first, last)
        ends = np.array([first, last], dtype=np.int64)
        low, high = (int(p) for p in period_of(by, ends, _month_of(ends)))
        nsrc = len(cols.names)
        where = period_of(by, days, cols.month[dated]) - low
        counts = np.bincount(where * nsrc + cols.outlet[dated], minlength=(high - low + 1) * nsrc)
        counts = counts.reshape(high - low + 1, nsrc)
        totals = counts.sum(axis=1)
        periods = [Period(period_start(by, low + i), int(totals[i]), _named(cols.names, counts[i]), by)
                   for i in range(high - low + 1)]
    undated = docs[cols.day[docs] < 0]
    if len(undated):
        periods.append(Period(None, len(undated), _by_outlet(cols, undated), by))
    return periods


__all__ = ["BY", "AUTO", "MAX_ROWS", "count_facets", "timeline", "choose_by", "counted"]
