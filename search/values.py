"""The values a search returns: hits, and counts by outlet and period.

Kept apart from the API (search/api.py) and from the stages that build them
(results.py, facets.py), so that none of those imports the API for its types.

`Hit` and `Hits` are lazy, so that `-n 0` streams: `Hits` holds a page of document numbers
and makes each `Hit` as it is iterated or indexed, and a `Hit` makes its snippet
(the costly part: finding and choosing sentences in the body) on first access
of `snippet`, `highlights` or `title_highlights`. A `Hit` keeps the stored
fields it was made from, so its snippet can be made later, even after the
`Index` is closed; making the `Hit`s of a `Hits` needs the `Index` open (and
not refreshed since).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Iterator, NamedTuple

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



Spans = list[tuple[int, int]]


class Marks(NamedTuple):
    """What a hit shows of its text: the snippet, its highlights, the title's highlights."""

    snippet: str
    highlights: Spans
    title_highlights: Spans


class Hit:
    """One ranked article. `snippet`, `highlights` and `title_highlights` are made on first use
    (by `marks`), or given ready-made as the three keyword arguments."""

    __slots__ = ("rank", "url", "title", "published", "source", "path", "score", "duplicates", "_marks", "_make")

    def __init__(self, rank: int, url: str, title: str, published: datetime | None, source: str, path: str,
                 score: float, snippet: str = "", highlights: Spans | None = None,
                 title_highlights: Spans | None = None, duplicates: list[str] | None = None, *,
                 marks: Callable[[], Marks] | None = None):
        self.rank, self.url, self.title, self.published = rank, url, title, published
        self.source, self.path, self.score = source, path, score
        self.duplicates = list(duplicates or [])  # URLs of the same story's other copies
        self._make = marks
        self._marks = None if marks else Marks(snippet, list(highlights or []), list(title_highlights or []))

    def _get(self) -> Marks:
        if self._marks is None:
            self._marks = self._make()
            self._make = None
        return self._marks

    @property
    def snippet(self) -> str:
        return self._get().snippet

    @property
    def highlights(self) -> Spans:
        return self._get().highlights

    @property
    def title_highlights(self) -> Spans:
        return self._get().title_highlights

    def to_dict(self) -> dict:
        marks = self._get()
        return {
            "rank": self.rank, "url": self.url, "title": self.title,
            "published": None if self.published is None else self.published.isoformat(),
            "source": self.source, "path": self.path, "score": self.score,
            "snippet": marks.snippet,
            "highlights": [list(s) for s in marks.highlights],
            "title_highlights": [list(s) for s in marks.title_highlights],
            "duplicates": list(self.duplicates),
        }

    def __eq__(self, other) -> bool:
        return isinstance(other, Hit) and self.to_dict() == other.to_dict()

    __hash__ = None  # mutable cache inside; equal by value

    def __repr__(self) -> str:
        return f"Hit(rank={self.rank}, url={self.url!r}, title={self.title!r}, score={self.score})"


class Hits:
    """One page of results; `total` counts every match, not just this page.

    The page's `Hit`s are made in rank order as they are first iterated or indexed, and kept."""

    __slots__ = ("total", "query", "offset", "facets", "_page", "_make", "_made")

    def __init__(self, total: int, hits: Sequence[Hit] = (), query: str = "", offset: int = 0, *,
                 page: Sequence[int] | None = None, make: Callable[[int, int], Hit] | None = None,
                 facets: Facets | None = None):
        """Either the `hits`, or a `page` of document numbers and `make(i, docnum)` for the i-th.
        `facets`: with search(..., facets=True), the counts of the whole result."""
        self.total, self.query, self.offset, self.facets = total, query, offset, facets
        self._made: list[Hit] = list(hits)
        self._page = list(page) if page is not None else None
        self._make = make

    def __len__(self) -> int:
        return len(self._made) if self._page is None else len(self._page)

    def _upto(self, n: int) -> None:
        while len(self._made) < n:
            i = len(self._made)
            self._made.append(self._make(i, self._page[i]))

    def __iter__(self) -> Iterator[Hit]:
        for i in range(len(self)):
            self._upto(i + 1)
            yield self._made[i]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("hit index out of range")
        self._upto(i + 1)
        return self._made[i]

    @property
    def hits(self) -> list[Hit]:
        """Every hit of the page (all made now)."""
        self._upto(len(self))
        return list(self._made)

    def __repr__(self) -> str:
        return f"Hits(total={self.total}, page={len(self)}, query={self.query!r}, offset={self.offset})"
