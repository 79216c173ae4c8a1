"""The values a search returns: hits, and counts by outlet and period.

They sit beneath the API and the stages that build them (results.py, facets.py),
so that none of those needs to import the API.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Iterator


@dataclass(frozen=True, slots=True)
class Hit:
    rank: int
    url: str
    title: str
    published: datetime | None
    source: str
    path: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]]
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # URLs of the same story's other copies

    def to_dict(self) -> dict:
        d = asdict(self)
        d["published"] = None if self.published is None else self.published.isoformat()
        d["highlights"] = [list(s) for s in self.highlights]
        d["title_highlights"] = [list(s) for s in self.title_highlights]
        return d


@dataclass(frozen=True, slots=True)
class Facets:
    """Counts over a whole result (every match, not one page), as `timeline` counts:
    a folded story once, under the outlet and month of its earliest copy."""

    total: int
    sources: dict[str, int]  # outlet -> count, the largest first
    months: dict[str, int]  # "YYYY-MM" -> count, in date order; months without matches left out
    undated: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Period:
    """One row of a timeline: the period's first day (None: the undated articles), the count
    of matching articles and its split by outlet (the largest first; outlets without one left out)."""

    start: date | None
    count: int
    sources: dict[str, int]
    by: str = "day"  # the period's length: day, week, month or year

    @property
    def label(self) -> str:
        """The period as people write it: 2020-06-30, 2020-06-29 (a week's Monday), 2020-06, 2020."""
        if self.start is None:
            return "undated"
        return self.start.strftime({"month": "%Y-%m", "year": "%Y"}.get(self.by, "%Y-%m-%d"))

    def to_dict(self) -> dict:
        return {"start": None if self.start is None else self.start.isoformat(), "count": self.count,
                "sources": dict(self.sources)}


@dataclass(frozen=True, slots=True)
class Hits:
    """One page of results; `total` counts every match, not just this page."""

    total: int
    hits: list[Hit]
    query: str
    offset: int = 0
    facets: Facets | None = None  # with search(..., facets=True)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]
