"""Indexing on two cores: half of the files go to a forked child, in both passes of a run.

A build is analysis (normalising, jieba, bigrams: schema.to_document), adding
postings and writing the segment, all pure Python, so one process uses one
core. A large batch is split in two: a forked child analyses, adds and writes
the second half as segments of its own while this process does the first half;
the child hands back its segments (a few fields of metadata each) and the files
it could not read, and the parent's commit publishes all the segments. Forking
shares what is already loaded (the articles, jieba's and OpenCC's state, a user
dictionary, the writer's view of the index). Measured on the pool against an
analysis-only worker feeding one writer: README, "Performance".

The reading pass before it (read, digest and parse every new or changed file:
writer._examine) is split the same way (examine_all): the child sends back
what it found in parts, and the parent takes them in the files' order, so its
record of the run is the one a single process makes. The halves are of equal
cost, not count (worklist.halfway).

The child never touches the index's table of contents: if anything fails, or
the parent dies or is interrupted, its files are unreferenced and the next
commit (or _abandon) deletes them. Small batches, single-core machines and
platforms without fork stay in one process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import Any

from .reader import Article
from .schema import to_document
from .worklist import WorkList, halfway

# A file is what the caller's `files` hold (the writer: worklist.FileToWrite, whose packing keeps
# the pages the two processes share from being copied)
Load = Callable[[Any], "tuple[Article | None, str | None]"]  # file -> (article, or None and why)
Problems = list[tuple[Any, str]]  # (file, why it was not written)
Columns = Callable[[str], dict]  # URL -> column values to add to its document (arrivals.Run.columns)

PARALLEL_FROM = 400  # articles; below this, forking costs more than it saves
_TICK = 64  # progress is reported every _TICK articles
_PART = 2_048  # files: the reading child sends its findings in parts of this many


def can_fork() -> bool:
    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


def add_articles(writer, files: Sequence[str], load: Load, advance: Callable[[int], None],
                 columns: Columns | None = None) -> Problems:
    """Add the article of every file (`load(file)`) to `writer`, a segment.BulkWriter, with
    `columns(url)` added to each document when given.

    `advance(n)` is called as they are added. Returns the files that `load` could not give,
    with the reason, from both processes: the caller reports them (the child cannot)."""
    if len(files) < PARALLEL_FROM or not can_fork():
        return _add(writer, files, load, advance, columns)
    # halves of equal cost (worklist.halfway) where the list knows its files' sizes
    half = files.halfway() if isinstance(files, WorkList) else len(files) // 2

    def theirs(tick: Callable[[int], None], part: Callable[[Any], None]):
        sibling = writer.sibling()
        problems = _add(sibling, files[half:], load, tick, columns)
        return sibling.finish_segments(), problems

    limit = writer.memory_limit
    writer.memory_limit //= 2  # the child's writer gets the same: the bound is for both
    try:
        problems, (segments, their_problems) = _in_two(
            lambda tick: _add(writer, files[:half], load, tick, columns), theirs, advance)
    finally:
        writer.memory_limit = limit
    writer.add_segments(segments)
    return problems + their_problems


def examine_all(files: Sequence, examine: Callable[[Any], Any], advance: Callable[[int], None],
                size: Callable[[Any], int] = lambda file: 1) -> list:
    """`examine(file)` of every file, in order: the reading pass's work on a file (read, digest,
    parse), which needs nothing of the other files.

    With many files, the second half (worklist.halfway of their `size`s) is examined in a forked
    child: what examine returns must pickle (it is sent in parts as the child goes, not held to
    the end)."""
    if len(files) < PARALLEL_FROM or not can_fork():
        return [_ticking(examine(file), i, len(files), advance) for i, file in enumerate(files, 1)]
    half = halfway([size(file) for file in files])

    def mine(tick: Callable[[int], None]) -> list:
        return [_ticking(examine(file), i, half, tick) for i, file in enumerate(files[:half], 1)]

    def theirs(tick: Callable[[int], None], part: Callable[[Any], None]) -> None:
        rest = files[half:]
        out = []
        for i, file in enumerate(rest, 1):
            out.append(_ticking(examine(file), i, len(rest), tick))
            if len(out) == _PART:
                part(out)
                out = []
        part(out)

    parts: list = []
    first, _ = _in_two(mine, theirs, advance, parts.extend)
    return first + parts


def _ticking(value, i: int, n: int, advance: Callable[[int], None]):
    if i % _TICK == 0 or i == n:
        advance(_TICK if i % _TICK == 0 else i % _TICK)
    return value


def _in_two(here: Callable[[Callable[[int], None]], Any],
            there: Callable[[Callable[[int], None], Callable[[Any], None]], Any],
            advance: Callable[[int], None], part: Callable[[Any], None] | None = None) -> tuple[Any, Any]:
    """here(tick) in this process while a forked child runs there(tick, part); both results.

    Both ticks go to `advance`; what the child hands to part() reaches `part` here, as the
    parent goes. A child that fails, or dies, fails this call; an interrupted or failing
    parent kills the child."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(there, send, os.getpid()), daemon=True)
    # Either process's garbage collector would write to every object it inherits, copying each
    # page the two processes share: frozen objects are left alone, in the parent too until the
    # child is done (a x100 import's parent holds ~450 MB of them)
    gc.freeze()
    try:
        try:
            child.start()
        finally:
            send.close()
        channel = _Channel(receive, advance, part)
        mine = here(channel.advance)
        return mine, channel.result()
    finally:
        gc.unfreeze()
        if child.is_alive():
            child.kill()
        if child.pid is not None:
            child.join()
        receive.close()


def _add(writer, files: Sequence[str], load: Load, advance: Callable[[int], None],
         columns: Columns | None = None) -> Problems:
    problems: Problems = []
    for i, file in enumerate(files, 1):
        article, problem = load(file)
        if article is not None:
            doc = to_document(article)
            if columns is not None:
                doc.update(columns(article.url))
            writer.add_document(**doc)
        else:
            problems.append((file, problem or "not read"))
        _ticking(None, i, len(files), advance)
    return problems


class _Channel:
    """The child's messages: progress ticks and parts, then its result or its error.

    Ticks and parts are passed on as the parent goes (the progress bar shows both halves),
    the outcome is kept until the parent asks for it."""

    def __init__(self, receive, advance: Callable[[int], None], part: Callable[[Any], None] | None):
        self._receive, self._advance, self._part = receive, advance, part
        self._outcome: tuple | None = None

    def advance(self, n: int) -> None:
        self._advance(n)
        while self._outcome is None and self._receive.poll():
            self._take()

    def result(self) -> Any:
        while self._outcome is None:
            self._take()
        kind, value = self._outcome
        if kind == "error":
            raise value
        return value

    def _take(self) -> None:
        try:
            kind, value = self._receive.recv()
        except EOFError:
            raise OSError("the second indexing process died before it finished") from None
        except Exception as exc:  # a message that does not unpickle
            raise OSError(f"the second indexing process sent an unreadable message ({exc!r})") from None
        if kind == "tick":
            self._advance(value)
        elif kind == "part" and self._part is not None:
            self._part(value)
        else:
            self._outcome = (kind, value)


def _child(there, send, parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and kills this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def sender(kind: str) -> Callable[[Any], None]:
        def send_one(value) -> None:
            if os.getppid() != parent:  # orphaned (the parent was killed): stop working
                os._exit(1)
            send.send((kind, value))
        return send_one

    try:
        send.send(("done", there(sender("tick"), sender("part"))))
    except BaseException as exc:  # noqa: BLE001 -- handed to the parent, which raises it
        send.send(("error", _portable(exc)))


def _portable(exc: BaseException) -> BaseException:
    """The exception as the parent can unpickle it: an OSError keeps its errno (a full disk is
    told as such), anything else becomes text."""
    if isinstance(exc, OSError):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:
            return OSError(exc.errno, exc.strerror or str(exc), exc.filename)
    return RuntimeError(f"indexing process: {exc!r}")
