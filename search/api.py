"""The Python API: open an index, search it, read its articles and statistics."""

from __future__ import annotations

import os
import pickle
import struct
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time as dtime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from indexer import store
from indexer.errors import IndexNotFound, IndexUnusable, QuerySyntaxError, ZhsearchError
from indexer.schema import key_to_datetime, published_keys, stored_published

from . import query as ql

if TYPE_CHECKING:
    from .variants import VariantGroups

SORTS = ("relevance", "date")

# What a truncated or overwritten index file raises from inside Whoosh.
_DAMAGE = (EOFError, zlib.error, struct.error, pickle.UnpicklingError)


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
        self.path = Path(path)
        self._open()

    def _open(self) -> None:
        from whoosh import index as whoosh_index

        from indexer import analysis, mapped_files
        from indexer.writer import check_meta

        mapped_files.install()
        last_error: Exception | None = None
        # A rebuild may swap generations between reading CURRENT and opening the
        # generation it named (which is then deleted): read CURRENT again.
        for attempt in range(6):
            try:
                gen_dir = store.current_generation_dir(self.path)
                userdict = check_meta(gen_dir, self.path)
                ix = whoosh_index.open_dir(str(gen_dir))
                searcher = ix.searcher()
                break
            except IndexNotFound:
                raise
            except (IndexUnusable, OSError, whoosh_index.EmptyIndexError, *_DAMAGE) as exc:
                last_error = exc
                time.sleep(0.05 * (attempt + 1))
        else:
            if isinstance(last_error, ZhsearchError):
                raise last_error
            raise IndexUnusable(f"the index at {self.path} is damaged ({last_error!r}); "
                                f"run `zhsearch index --rebuild`") from last_error
        # Queries must be cut with the dictionary that built the index (UserDictError if
        # this process already uses another: jieba's dictionary is process-global).
        analysis.use_userdict(userdict)
        self.gen_dir = gen_dir
        self._ix = ix
        self._searcher = searcher
        self._cache: dict = {}  # per snapshot: live documents, field lengths (results.py)
        self._variants: VariantGroups | None = None  # read on first use: `stats`, `show` need none

    @property
    def variants(self) -> VariantGroups:
        """The name-variant groups searches expand: zhsearch's table and the index's own."""
        from .variants import builtin, read_variants

        if self._variants is None:
            kept = self.path / store.VARIANTS
            own = read_variants(kept, allow_empty=True) if kept.exists() else None
            self._variants = builtin() if own is None else builtin().merged(own)
        return self._variants

    def refresh(self) -> None:
        """See what indexers committed since this Index was opened (a rebuild included)."""
        try:
            current = store.current_generation_dir(self.path)
        except ZhsearchError:
            current = self.gen_dir
        if current != self.gen_dir:
            self._searcher.close()
            self._open()
            return
        self._searcher = self._searcher.refresh()
        self._cache = {}
        self._variants = None  # `zhsearch index --variants` replaces them without a new snapshot

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
        variants: VariantGroups | str | os.PathLike | None = None,
        expand: bool = True,
    ) -> Hits:
        """Ranked hits for `query` (see README, "Query language"); limit=0 means all.

        With `fold`, copies of one story saved under several URLs are one hit, the
        best-ranked copy, whose `duplicates` lists the other URLs; `total` counts hits.
        Name variants (README, "Name variants") expand unless `expand` is False; `variants`
        (a VariantGroups or a file) adds groups to the index's for this search.
        """
        from .results import run_search

        if sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        if isinstance(sources, str):
            sources = [sources]  # one outlet, not its letters
        tree = ql.parse(query)
        groups = self._groups(variants, expand)
        since_dt, until_dt = parse_when(since), parse_when(until, end=True)
        try:
            return run_search(
                self._searcher, self._cache, tree, query, limit=limit, offset=offset,
                since=since_dt, until=until_dt,
                sources=[s.lower() for s in sources] if sources else None, sort=sort, fold=fold,
                variants=groups,
            )
        except (OSError, *_DAMAGE) as exc:
            raise IndexUnusable(f"cannot read the index at {self.path} ({exc!r}): it is damaged; "
                                f"run `zhsearch index --rebuild`") from exc

    def _groups(self, variants, expand: bool) -> VariantGroups | None:
        from .variants import as_groups

        if not expand:
            return None
        extra = as_groups(variants)
        return self.variants if extra is None else self.variants.merged(extra)

    def explain(self, query: str, *, variants: VariantGroups | str | os.PathLike | None = None,
                expand: bool = True) -> str:
        """The parsed query and what each word run becomes, as `--explain` prints it."""
        from .ranking import prepare

        tree = ql.parse(query)
        leaves = prepare(tree, self._groups(variants, expand))
        lines = [ql.to_string(tree)]
        for leaf in leaves.values():
            kind = "phrase" if leaf.literal_only else "words"
            lines.append(f"  {leaf.node.text!r}: literal {leaf.needle!r}, {kind} {leaf.words} in {'/'.join(leaf.fields)}")
            for e in leaf.expansions:
                others = ", ".join(o.needle for o in e.others)
                lines.append(f"    variant {e.typed.needle!r} expands to {others} (literally)")
        return "\n".join(lines)

    def get(self, url: str) -> StoredArticle | None:
        """The indexed article of `url` (any form that normalises to it), or None."""
        from indexer.reader import normalize_url

        try:
            url.encode("utf-8")
            canonical = normalize_url(url)
        except (UnicodeEncodeError, ValueError):
            return None  # undecodable bytes from the command line, or no URL at all
        doc = self._searcher.document(url=canonical) or self._searcher.document(url=url)
        return None if doc is None else _stored_article(doc)

    def stats(self) -> IndexStats:
        from whoosh import query as wq

        s = self._searcher
        groups = s.search(wq.Every(), groupedby="source", limit=None).groups("source")
        sources: dict[str, int] = {}
        for docnums in groups.values():
            name = s.stored_fields(docnums[0])["source"]
            sources[name] = len(docnums)
        keys = published_keys(s.reader())
        dates = [k for k in map(keys.__getitem__, s.reader().all_doc_ids()) if k >= 0]
        size = sum(p.stat().st_size for p in self.gen_dir.iterdir() if p.is_file())
        toc = max((p.stat().st_mtime for p in self.gen_dir.glob("*.toc")), default=None)
        return IndexStats(
            documents=s.doc_count(),
            sources=dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            first_published=key_to_datetime(min(dates)) if dates else None,
            last_published=key_to_datetime(max(dates)) if dates else None,
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
