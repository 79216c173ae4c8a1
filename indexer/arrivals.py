"""When each article arrived and last changed, and which run changed the index last.

Each document carries two Whoosh columns, `added` and `changed`: the stamps (epoch
microseconds, UTC) of the run that first indexed its URL and of the run that last wrote
a new version of it. The index's meta (zhsearch.json) keeps `changes`, a record of the
last runs that changed the index, each under the Whoosh generation its commit made.
A record is written before its commit, as the state file is, so that a searcher's
snapshot (generation N) finds the record of the run that made N, whichever commit landed
last; a failed commit's record is replaced by the next run's, which makes N again.
`--new` is the documents whose `changed` is the stamp of that record.

A rebuild reads both columns from the live generation and keeps them for every URL
whose indexed file has the same content (digest) as before; a rebuild that added,
changed and removed nothing keeps the previous record, so `--new` means what it meant.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone

from .store import FileState

COLUMNS = ("added", "changed")
KEEP = 8  # records kept: a searcher on a snapshot this many commits old finds none


@dataclass(frozen=True, slots=True)
class Change:
    """One run that changed the index: articles added, changed (a new version) and removed."""

    generation: int  # the Whoosh generation its commit made
    stamp: int  # epoch microseconds; the `changed` column of what it wrote
    added: int
    changed: int
    removed: int

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.stamp / 1e6, timezone.utc)

    @classmethod
    def from_meta(cls, row: dict) -> "Change":
        return cls(**{k: int(row[k]) for k in ("generation", "stamp", "added", "changed", "removed")})


def now() -> int:
    return time.time_ns() // 1000


def tracks(meta: dict) -> bool:
    """Whether the index records arrivals (built by a release that does)."""
    return isinstance(meta.get("changes"), list)


def last_change(meta: dict, generation: int | None) -> Change | None:
    """The record of the run that made `generation` (None: the newest record)."""
    found = None
    for row in meta.get("changes") or []:
        change = Change.from_meta(row)
        if (generation is None or change.generation <= generation) and (
                found is None or change.generation > found.generation):
            found = change
    return found


def with_change(meta: dict, change: Change) -> dict:
    """`meta` recording `change`, in place of any record of its generation or a later one."""
    rows = [r for r in meta.get("changes") or [] if int(r["generation"]) < change.generation]
    return {**meta, "changes": (rows + [asdict(change)])[-KEEP:]}


def read_documents(searcher, urls=None) -> dict[str, tuple[int, int]]:
    """URL -> (added, changed) of the live documents (of `urls` only, if given)."""
    reader = searcher.reader()
    if not all(name in reader.schema for name in COLUMNS) or urls == [] or not reader.doc_count_all():
        return {}  # (an empty index's reader has no columns at all)
    added, changed = (reader.column_reader(name) for name in COLUMNS)
    if urls is None:
        url = reader.column_reader("url")
        return {url[d]: (added[d], changed[d]) for d in reader.all_doc_ids()}
    out = {}
    for u in urls:
        d = searcher.document_number(url=u)
        if d is not None:
            out[u] = (added[d], changed[d])
    return out


@dataclass(frozen=True, slots=True)
class Previous:
    """What the live index held before a rebuild."""

    values: dict[str, tuple[int, int]]  # URL -> (added, changed)
    digests: dict[str, str]  # URL -> the content digest of the file indexed for it
    last: Change | None


def read_live(index_dir, winner: Callable[[tuple[str, FileState]], object]) -> Previous | None:
    """The live generation's arrivals, for a rebuild to keep; None if there is none to read.

    `winner`: the key that chooses, among the files of one URL, the one indexed."""
    from whoosh import index as whoosh_index

    from . import store

    try:
        gen_dir = store.current_generation_dir(index_dir)
        meta = store.read_meta(gen_dir)
        if not tracks(meta):  # built before arrivals were recorded: nothing to keep
            return None
        ix = whoosh_index.open_dir(str(gen_dir))
        with ix.searcher() as searcher:
            values = read_documents(searcher)
        files = store.load_state(gen_dir, ix.latest_generation())
    except Exception:  # noqa: BLE001 -- a rebuild is how a damaged index is repaired: keep nothing
        return None
    best: dict[str, tuple[str, FileState]] = {}
    for item in files.items():
        url = item[1].url
        if url and (url not in best or winner(item) > winner(best[url])):
            best[url] = item
    return Previous(values, {url: st.digest for url, (_, st) in best.items()}, last_change(meta, None))


class Run:
    """The stamps this run gives the documents it writes, and what it counts as added or changed.

    `previous`: the documents' values before the run; `digests` (a rebuild) the content
    digests they were indexed from, so that a document written again unchanged keeps its
    values. Without `digests` every document written over an old one counts as changed."""

    def __init__(self, previous: dict[str, tuple[int, int]], digests: dict[str, str] | None = None,
                 stamp: int | None = None):
        self.stamp = now() if stamp is None else stamp
        self.previous = previous
        self.digests = digests
        # An added URL gets (stamp, stamp) and is only counted: a large import adds every URL, and
        # an entry each in these dicts was ~100 bytes a file, 46 MB of the indexer at x100.
        self.values: dict[str, tuple[int, int]] = {}  # URL -> values, for all but the added
        self.kind: dict[str, str] = {}  # URL -> "changed", "same" or "removed"; not the added
        self.added = 0

    def plan(self, to_write: list[tuple[str, str | None, bool]], state: dict[str, FileState]) -> None:
        """Decide the values of writer._Plan.documents_to_write()'s documents."""
        for url, rel, _ in to_write:
            if rel is None:
                self.kind[url] = "removed"
                continue
            old = self.previous.get(url)
            if old is None:
                self.added += 1
            elif self.digests is not None and self.digests.get(url) == state[rel].digest:
                self.kind[url], self.values[url] = "same", old
            else:
                self.kind[url], self.values[url] = "changed", (old[0], self.stamp)
        if self.digests is not None:  # a rebuild writes every document: the others are gone
            for url in self.previous.keys() - self.kind.keys():
                self.kind[url] = "removed"
        # Only planning reads them: a rebuild's are an entry for every URL of the index
        self.previous = self.digests = None

    def columns(self, url: str) -> dict[str, int]:
        """The column values of the document of `url` (parallel.add_articles' `columns`)."""
        added, changed = self.values.get(url, (self.stamp, self.stamp))
        return {"added": added, "changed": changed}

    def change(self, generation: int, not_written: set[str], carried: Change | None = None) -> Change:
        """The record of this run; `not_written`: URLs whose file could not be written after all.

        `carried`: the previous record, kept when this run (a rebuild) changed no article."""
        counts = {"added": self.added, "changed": 0, "removed": 0}
        for url, kind in self.kind.items():
            if kind in counts and url not in not_written:
                counts[kind] += 1
        # a URL that could not be written was planned: without a kind, it was an added one
        counts["added"] -= sum(1 for url in not_written if url not in self.kind)
        if carried is not None and not any(counts.values()):
            return replace(carried, generation=generation)
        return Change(generation=generation, stamp=self.stamp, **counts)


def start_run(ix, previous: Previous | None, fresh: bool, to_write: list[tuple[str, str | None, bool]],
              state: dict[str, FileState]) -> Run | None:
    """The Run of an indexing run that writes `to_write` into `ix` (None: the index predates arrivals).

    `previous`: for a rebuild, what read_live() found."""
    if not all(name in ix.schema for name in COLUMNS):
        return None
    if fresh:
        run = Run({}) if previous is None else Run(previous.values, previous.digests)
    else:
        with ix.searcher() as searcher:
            run = Run(read_documents(searcher, [url for url, _, indexed in to_write if indexed]))
    run.plan(to_write, state)
    return run


__all__ = ["COLUMNS", "Change", "Previous", "Run", "last_change", "read_documents", "read_live", "start_run", "tracks",
           "with_change"]
