"""The Python API: open an index, search it, read its articles and statistics."""

from __future__ import annotations

import os
import pickle
import struct
import time
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from indexer import store
from indexer.errors import (ArticleNotFound, IndexNotFound, IndexUnusable, IndexVersionMismatch, QuerySyntaxError,
                            ZhsearchError)
from indexer.schema import document_texts, key_to_datetime, stored_published

from . import query as ql
from .values import Facets, Hit, Hits, Period  # re-exported: search.api.Hit is part of the API

__all__ = ["Index", "IndexStats", "StoredArticle", "open_index", "parse_when", "Hit", "Hits", "Facets", "Period"]

if TYPE_CHECKING:
    from .variants import VariantGroups

SORTS = ("relevance", "date")
MATCHES = ("all", "any")

# What a truncated or overwritten index file raises from inside Whoosh.
_DAMAGE = (EOFError, zlib.error, struct.error, pickle.UnpicklingError)


@dataclass(frozen=True, slots=True)
class IndexStats:
    documents: int
    sources: dict[str, int]
    first_published: datetime | None
    last_published: datetime | None
    size_bytes: int
    last_update: datetime | None
    path: str
    # The last indexing run that changed the index (what `new` selects); None: the index
    # was built before zhsearch recorded it.
    last_change: datetime | None = None
    last_added: int | None = None
    last_changed: int | None = None
    last_removed: int | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("first_published", "last_published", "last_update", "last_change"):
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

        from indexer import analysis
        from indexer.codec import mapped
        from indexer.meta import check_meta

        mapped.install()
        last_error: Exception | None = None
        # A rebuild may swap generations between reading CURRENT and opening the
        # generation it named (which is then deleted): read CURRENT again.
        for attempt in range(6):
            try:
                gen_dir = store.current_generation_dir(self.path)
                userdict = check_meta(gen_dir, self.path)
                ix = whoosh_index.open_dir(str(gen_dir))
                searcher = ix.searcher()
                cache = _snapshot_cache(searcher, gen_dir)
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
        self._cache: dict = cache
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
            # the new generation is opened before the old one is closed: if opening fails, this
            # Index keeps answering from the snapshot it had (a server goes on serving it)
            old = self._searcher
            self._open()
            old.close()
            return
        for attempt in range(6):
            # a commit that lands between the refresh and the character indexes' opening may
            # have merged those segments away: take the snapshot after it instead
            searcher = self._searcher.refresh()
            if attempt == 0 and searcher is self._searcher:
                break  # nothing committed: the snapshot and its arrays stay (a server refreshes every 2 s)
            try:
                self._cache = _snapshot_cache(searcher, self.gen_dir)
                break
            except IndexUnusable:
                if attempt == 5:
                    raise
                time.sleep(0.05 * (attempt + 1))
            finally:
                self._searcher = searcher
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
        facets: bool = False,
        new: bool = False,
        match: str = "all",
        min_match: float | None = None,
        variants: VariantGroups | str | os.PathLike | None = None,
        expand: bool = True,
    ) -> Hits:
        """Ranked hits for `query` (see README, "Query language"); limit=0 means all.

        With `fold`, copies of one story saved under several URLs are one hit, the
        best-ranked copy, whose `duplicates` lists the other URLs; `total` counts hits.
        `facets`: also count every match by outlet and month (`Hits.facets`).
        `new`: only the articles the last indexing run that changed the index added or changed.
        With match="any", a hit needs only `min_match` (default anymatch.DEFAULT_MIN_MATCH, 0.3)
        of the query's top-level parts (search/anymatch.py), and the query may be up to
        MAX_ANY_QUERY_CHARS long.
        Hits (and their snippets) are made as they are iterated, while this Index is open.
        Name variants (README, "Name variants") expand unless `expand` is False; `variants`
        (a VariantGroups or a file) adds groups to the index's for this search.
        """
        from .anymatch import DEFAULT_MIN_MATCH, MAX_ANY_QUERY_CHARS, needed, relax
        from .results import run_search

        if sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
        if match not in MATCHES:
            raise ValueError(f"match must be one of {MATCHES}, not {match!r}")
        _check_page(limit, offset)
        if min_match is None:
            min_match = DEFAULT_MIN_MATCH
        if match == "any":
            needed(min_match, 1)  # ValueError when out of range
            tree = relax(ql.parse(query, MAX_ANY_QUERY_CHARS))
        else:
            tree = ql.parse(query)
        filters = self._filters(since, until, sources, new)
        groups = self._groups(variants, expand)
        with self._reading():
            return run_search(self._searcher, self._cache, tree, query, limit=limit, offset=offset,
                              filters=filters, sort=sort, fold=fold, facets=facets,
                              min_match=min_match if match == "any" else None, variants=groups)

    def similar(
        self,
        url_or_text: str,
        *,
        limit: int = 10,
        offset: int = 0,
        days: float | None = None,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        sources: Iterable[str] | None = None,
        fold: bool = True,
        min_match: float | None = None,
        new: bool = False,
    ) -> Hits:
        """Articles about the same story as the indexed article at a URL (any form that
        normalises to it; ArticleNotFound if none), or as a pasted text (anything that is not
        one http(s) URL; its first MAX_TEXT_CHARS characters). Never the article itself nor
        its copies; `days`: published within that many days of the article. Ranked as
        search(match="any") over the source's distinctive words (search/similar.py), which
        `Hits.query` holds; a hit needs `min_match` of them (default similar.SIMILAR_MIN_MATCH).
        QuerySyntaxError for an empty text or one without searchable words.
        """
        from .anymatch import needed
        from .similar import SIMILAR_MIN_MATCH, is_url, run_similar, text_source

        _check_page(limit, offset)
        if min_match is None:
            min_match = SIMILAR_MIN_MATCH
        needed(min_match, 1)  # ValueError when out of range
        if is_url(url_or_text):
            source = self._article_source(url_or_text.strip())
        else:
            source = text_source(url_or_text)
        filters = self._filters(since, until, sources, new)
        if days is not None:
            if days < 0:
                raise ValueError("days must not be negative")
            if source.published is None:
                raise QuerySyntaxError("a window of days needs a dated article (a URL), not a text or an undated one")
            window = timedelta(days=days)
            filters = replace(filters, since=max(filter(None, (filters.since, source.published - window))),
                              until=min(filter(None, (filters.until, source.published + window))))
        with self._reading():
            return run_similar(self._searcher, self._cache, source, limit=limit, offset=offset, filters=filters,
                               fold=fold, min_match=min_match, variants=self._groups(None, True))

    def _article_source(self, url: str):
        from .similar import Source

        docnum = self._docnum(url)
        if docnum is None:
            raise ArticleNotFound(url)
        s = self._searcher
        doc, own = s.stored_fields(docnum), document_texts(s.reader(), docnum)
        return Source(tuple((f, own[f]) for f in ("title", "lead", "body")), docnum,
                      stored_published(doc.get("published")))

    def _docnum(self, url: str) -> int | None:
        """The live document of `url` (any form that normalises to it), or None."""
        from indexer.reader import normalize_url

        try:
            url.encode("utf-8")
            canonical = normalize_url(url)
        except (UnicodeEncodeError, ValueError):
            return None  # undecodable bytes from the command line, or no URL at all
        found = self._searcher.document_number(url=canonical)
        return self._searcher.document_number(url=url) if found is None else found

    def timeline(
        self,
        query: str,
        *,
        by: str = "day",
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        sources: Iterable[str] | None = None,
        new: bool = False,
        fold: bool = True,
        variants: VariantGroups | str | os.PathLike | None = None,
        expand: bool = True,
    ) -> list[Period]:
        """The matches of `query` counted by period and outlet, as `search` matches and folds them.

        One Period for every day, week (from Monday), month or year (`by`; "auto": the finest
        that keeps under 40 periods) from the first match, or `since`, to the last, or `until`,
        empty ones included; then one with `start` None for the undated matches, if any.
        """
        from .facets import AUTO, BY, timeline

        if by not in BY + (AUTO,):
            raise ValueError(f"by must be one of {BY + (AUTO,)}, not {by!r}")
        filters = self._filters(since, until, sources, new)
        if filters.since is not None and filters.until is not None and filters.since > filters.until:
            # search finds nothing in such a range; a timeline would have to run backwards
            raise QuerySyntaxError(f"--since {filters.since.date()} is after --until {filters.until.date()}")
        with self._reading():
            found = self._match(query, filters, self._groups(variants, expand))
            return timeline(self._searcher, self._cache, found.ids, fold, by, filters.since, filters.until)

    def facets(
        self,
        query: str,
        *,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        sources: Iterable[str] | None = None,
        new: bool = False,
        fold: bool = True,
        variants: VariantGroups | str | os.PathLike | None = None,
        expand: bool = True,
    ) -> Facets:
        """What search(..., facets=True) puts in `Hits.facets`, without ranking the hits."""
        from .facets import count_facets

        with self._reading():
            found = self._match(query, self._filters(since, until, sources, new), self._groups(variants, expand))
            return count_facets(self._searcher, self._cache, found.ids, fold)

    def _match(self, query: str, filters, variants):
        """What search matches, for counting."""
        from .results import match

        return match(self._searcher, self._cache, ql.parse(query), filters, variants=variants)

    def _filters(self, since, until, sources, new: bool):
        from .results import Filters

        if isinstance(sources, str):
            sources = [sources]  # one outlet, not its letters
        since_dt, until_dt = parse_when(since), parse_when(until, end=True)
        with self._reading():
            new_docs = self._new_documents() if new else None
        return Filters(since_dt, until_dt, [s.lower() for s in sources] if sources else None, new_docs)

    def _new_documents(self):
        """Boolean by docnum: what the indexing run that made this snapshot added or changed."""
        import numpy as np

        from indexer import arrivals
        from indexer.schema import column_values

        meta = store.read_meta(self.gen_dir)
        if not arrivals.tracks(meta):
            raise IndexVersionMismatch(f"the index at {self.path} was built before zhsearch recorded when "
                                       f"articles arrive; `new` needs `zhsearch index --rebuild`")
        reader = self._searcher.reader()
        change = arrivals.last_change(meta, reader.generation())
        if "changed" not in self._cache:
            self._cache["changed"] = np.array(column_values(reader, "changed"), dtype=np.int64)
        changed = self._cache["changed"]
        return changed == change.stamp if change is not None else np.zeros(len(changed), dtype=bool)

    @contextmanager
    def _reading(self):
        """Whoosh's errors from a damaged file, as IndexUnusable."""
        try:
            yield
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

    def highlight_words(self, query: str, *, variants: VariantGroups | str | os.PathLike | None = None,
                        expand: bool = True) -> list[str]:
        """What the hits of `query` highlight, for marking a whole article with
        `snippets.find_spans(text, words)` as snippets are marked (QuerySyntaxError for a bad query)."""
        from .ranking import prepare
        from .results import highlight_words

        tree = ql.parse(query)
        return highlight_words(tree, prepare(tree, self._groups(variants, expand)))

    def get(self, url: str) -> StoredArticle | None:
        """The indexed article of `url` (any form that normalises to it), or None."""
        docnum = self._docnum(url)
        s = self._searcher
        return None if docnum is None else _stored_article(s.stored_fields(docnum), document_texts(s.reader(), docnum))

    def stats(self) -> IndexStats:
        from indexer import arrivals

        from .facets import outlet_totals

        s = self._searcher
        sources, dates = outlet_totals(s, self._cache)
        dates = dates[dates >= 0]
        size = sum(p.stat().st_size for p in self.gen_dir.iterdir() if p.is_file())
        toc = max((p.stat().st_mtime for p in self.gen_dir.glob("*.toc")), default=None)
        change = arrivals.last_change(store.read_meta(self.gen_dir), s.reader().generation())
        return IndexStats(
            documents=s.doc_count(),
            sources=sources,
            first_published=key_to_datetime(int(dates.min())) if len(dates) else None,
            last_published=key_to_datetime(int(dates.max())) if len(dates) else None,
            size_bytes=size,
            last_update=None if toc is None else datetime.fromtimestamp(toc, timezone.utc),
            path=str(self.path),
            last_change=None if change is None else change.at,
            last_added=None if change is None else change.added,
            last_changed=None if change is None else change.changed,
            last_removed=None if change is None else change.removed,
        )


def _snapshot_cache(searcher, gen_dir: Path) -> dict:
    """What results.py keeps per searcher snapshot (live documents, field lengths, ...), begun
    with the segments' character indexes, opened with the snapshot: a commit's merges delete
    the files of the segments they merge, and an open file outlives its deletion, a later
    opening does not (IndexUnusable then: the caller takes a newer snapshot)."""
    from .results import open_chars

    return {"folder": str(gen_dir), "chars": open_chars(searcher.reader(), str(gen_dir))}


def _check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")


def _stored_article(doc: dict, own: dict[str, str]) -> StoredArticle:
    return StoredArticle(
        url=doc["url"], title=own["title"], published=stored_published(doc.get("published")),
        source=doc.get("source", ""), path=doc.get("path", ""), lead=own["lead"], body=own["body"],
    )


def open_index(path: str | os.PathLike | None = None) -> Index:
    """Open the index at `path` (default: $ZHSEARCH_INDEX, else ./index)."""
    return Index(path if path is not None else os.environ.get("ZHSEARCH_INDEX", "index"))
