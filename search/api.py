"""The Python API: open an index, search it, read its articles and statistics."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time as dtime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from indexer import store
from indexer.errors import IndexUnusable, QuerySyntaxError
from indexer.schema import stored_published

from . import query as ql

SORTS = ("relevance", "date")


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
class Hits:
    """One page of results; `total` counts every match, not just this page."""

    total: int
    hits: list[Hit]
    query: str
    offset: int = 0

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]


@dataclass(frozen=True, slots=True)
class IndexStats:
    documents: int
    sources: dict[str, int]
    first_published: datetime | None
    last_published: datetime | None
    size_bytes: int
    last_update: datetime | None
    path: str

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("first_published", "last_published", "last_update"):
            d[k] = None if d[k] is None else d[k].isoformat()
        return d


@dataclass(frozen=True, slots=True)
class StoredArticle:
    url: str
    title: str
    published: datetime | None
    source: str
    path: str
    lead: str
    body: str

    def to_dict(self) -> dict:
        d = asdict(self)
        d["published"] = None if self.published is None else self.published.isoformat()
        return d


def parse_when(value: str | date | datetime | None, *, end: bool = False) -> datetime | None:
    """`YYYY-MM-DD` or ISO 8601, UTC unless an offset is given; a bare `until` day is inclusive."""
    if value is None or isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, dtime.max if end else dtime.min)
    else:
        text = value.strip()
        try:
            if len(text) == 10:
                dt = datetime.combine(date.fromisoformat(text), dtime.max if end else dtime.min)
            else:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise QuerySyntaxError(f"not a date: {value!r} (use YYYY-MM-DD or an ISO 8601 datetime)") from None
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


class Index:
    """A searchable index. Keeps one Whoosh searcher (one snapshot) until `refresh()` or `close()`."""

    def __init__(self, path: str | os.PathLike):
        from whoosh import index as whoosh_index

        from indexer.writer import check_meta

        self.path = Path(path)
        last_error: Exception | None = None
        # A rebuild may swap generations between reading CURRENT and opening it: look again.
        for _ in range(5):
            gen_dir = store.current_generation_dir(self.path)
            check_meta(gen_dir, self.path)
            try:
                self._ix = whoosh_index.open_dir(str(gen_dir))
                break
            except (OSError, whoosh_index.EmptyIndexError) as exc:
                last_error = exc
                time.sleep(0.05)
        else:
            raise IndexUnusable(f"cannot open the index at {self.path}: {last_error}")
        self.gen_dir = gen_dir
        self._open_searcher()

    def _open_searcher(self) -> None:
        from .ranking import weighting

        self._searcher = self._ix.searcher(weighting=weighting())

    def refresh(self) -> None:
        """See what indexers committed since this Index was opened."""
        self._searcher = self._searcher.refresh()

    def close(self) -> None:
        self._searcher.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        sources: Iterable[str] | None = None,
        sort: str = "relevance",
        fold: bool = True,
    ) -> Hits:
        """Ranked hits for `query` (see README, "Query language"); limit=0 means all.

        With `fold`, copies of one story saved under several URLs are one hit, the
        best-ranked copy, whose `duplicates` lists the other URLs; `total` counts hits.
        """
        from .results import run_search

        if sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        tree = ql.parse(query)
        return run_search(
            self._searcher, tree, query, limit=limit, offset=offset,
            since=parse_when(since), until=parse_when(until, end=True),
            sources=[s.lower() for s in sources] if sources else None, sort=sort, fold=fold,
        )

    def explain(self, query: str) -> str:
        """The parsed query and what each word run becomes, as `--explain` prints it."""
        from .ranking import prepare

        tree = ql.parse(query)
        leaves = prepare(tree)
        lines = [ql.to_string(tree)]
        for leaf in leaves.values():
            kind = "phrase" if leaf.literal_only else "words"
            lines.append(f"  {leaf.node.text!r}: literal {leaf.needle!r}, {kind} {leaf.words} in {'/'.join(leaf.fields)}")
        return "\n".join(lines)

    def get(self, url: str) -> StoredArticle | None:
        """The indexed article of `url` (any form that normalises to it), or None."""
        from indexer.reader import normalize_url

        doc = self._searcher.document(url=normalize_url(url)) or self._searcher.document(url=url)
        return None if doc is None else _stored_article(doc)

    def stats(self) -> IndexStats:
        from whoosh import query as wq

        s = self._searcher
        groups = s.search(wq.Every(), groupedby="source", limit=None).groups("source")
        sources: dict[str, int] = {}
        for docnums in groups.values():
            name = s.stored_fields(docnums[0])["source"]
            sources[name] = len(docnums)
        column = s.reader().column_reader("published")
        dates = [d for d in (column[n] for n in s.reader().all_doc_ids()) if d]
        size = sum(p.stat().st_size for p in self.gen_dir.iterdir() if p.is_file())
        toc = max((p.stat().st_mtime for p in self.gen_dir.glob("*.toc")), default=None)
        return IndexStats(
            documents=s.doc_count(),
            sources=dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            first_published=stored_published(min(dates)) if dates else None,
            last_published=stored_published(max(dates)) if dates else None,
            size_bytes=size,
            last_update=None if toc is None else datetime.fromtimestamp(toc, timezone.utc),
            path=str(self.path),
        )


def _stored_article(doc: dict) -> StoredArticle:
    return StoredArticle(
        url=doc["url"], title=doc.get("title", ""), published=stored_published(doc.get("published")),
        source=doc.get("source", ""), path=doc.get("path", ""), lead=doc.get("lead", ""), body=doc.get("body", ""),
    )


def open_index(path: str | os.PathLike | None = None) -> Index:
    """Open the index at `path` (default: $ZHSEARCH_INDEX, else ./index)."""
    return Index(path if path is not None else os.environ.get("ZHSEARCH_INDEX", "index"))
