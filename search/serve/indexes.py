"""The server's Indexes: one per worker thread, lent to one request at a time.

An `Index` keeps one Whoosh searcher, whose readers seek and read shared file objects and
fill per-snapshot caches as they go: it is not safe to share between threads. So there are
as many Indexes as the server has worker threads, each lent to one request at a time (no two
queries ever share one), and one is refreshed only while a request holds it, at most every
REFRESH_SECONDS: after `zhsearch index` commits, the next requests see the new generation;
during a `--rebuild` they go on answering from the old one until the new one is complete.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from indexer import store
from indexer.errors import IndexUnusable, ZhsearchError

if TYPE_CHECKING:
    from search.api import Index

T = TypeVar("T")

REFRESH_SECONDS = 2.0
WARM_QUERY = "中国"  # fills a snapshot's arrays and loads the analyser's dictionaries before a person waits


class _Slot:
    __slots__ = ("ix", "checked")

    def __init__(self):
        self.ix = None
        self.checked = 0.0


class Indexes:
    def __init__(self, path: str | Path, workers: int, *, refresh_seconds: float = REFRESH_SECONDS, log=None):
        self.path = Path(path)
        self.refresh_seconds = refresh_seconds
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._slots = [_Slot() for _ in range(workers)]
        # last in, first out: a quiet server keeps using the Index whose pages are warm
        self._free: queue.LifoQueue[_Slot] = queue.LifoQueue()
        for slot in self._slots:
            self._free.put(slot)

    def call(self, answer: Callable[[Index], T]) -> T:
        """`answer(ix)` with an Index for this request alone; once more, after a refresh, when it
        failed because a --rebuild swapped the generation away meanwhile and deleted its files
        (what an Index reads from its folder rather than its open files: stats, its meta)."""
        slot = self._free.get()
        try:
            ix = self._ready(slot)
            try:
                return answer(ix)
            except (IndexUnusable, FileNotFoundError):
                if not self._moved(ix):
                    raise
                slot.checked = 0.0
                return answer(self._ready(slot))
        finally:
            self._free.put(slot)

    def _moved(self, ix: Index) -> bool:
        try:
            return store.current_generation_dir(self.path) != ix.gen_dir
        except ZhsearchError:
            return False

    def _ready(self, slot: _Slot):
        from search.api import Index

        now = time.monotonic()
        if slot.ix is None:
            slot.ix = Index(self.path)  # IndexNotFound, IndexUnusable, ...: the request answers 503
            slot.checked = now
        elif now - slot.checked >= self.refresh_seconds or not slot.ix.gen_dir.is_dir():
            # (a generation a --rebuild replaced and deleted is refreshed at once: its open files
            # still answer searches, but not what reads its folder)
            slot.checked = now
            try:
                slot.ix.refresh()
            except (ZhsearchError, OSError) as exc:
                # Index.refresh opens a new generation before it lets go of the old one, so
                # this Index still answers from its snapshot; a new one may open where it failed
                self._log(f"zhsearch: warning: cannot refresh the index ({exc}); answering from its last snapshot")
                try:
                    fresh = Index(self.path)
                except (ZhsearchError, OSError):
                    pass
                else:
                    slot.ix.close()
                    slot.ix = fresh
        return slot.ix

    def warm_up(self) -> None:
        """Open every worker's Index and run a query on each, so that no person waits for that."""
        from indexer import analysis

        held = []
        try:
            analysis.load_dictionary()  # a cold search does without it; a server should not
            for _ in self._slots:
                slot = self._free.get()
                held.append(slot)
                try:
                    ix = self._ready(slot)
                    ix.search(WARM_QUERY, facets=True).hits
                    ix.timeline(WARM_QUERY, by="auto")
                except (ZhsearchError, OSError) as exc:
                    self._log(f"zhsearch: warning: {exc}; requests answer 503 until the index can be opened")
                    return
        finally:
            for slot in held:
                self._free.put(slot)

    def start_warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self.warm_up, name="zhsearch-warm-up", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        for slot in self._slots:
            if slot.ix is not None:
                slot.ix.close()
                slot.ix = None
