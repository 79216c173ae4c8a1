"""The files an indexing run writes, packed into one bytes object.

A large import forks a second process (parallel.py) that writes half of the files.
Forked pages stay shared until either process writes to them, and CPython writes to
every object it touches (its reference count). Looked up in the reading pass's dicts,
each file's path and digest objects would be touched by one process or the other, and
every page holding them copied. Packed here, a process touches only the objects it
makes from the bytes, and the bytes stay shared; a file's folder is kept as an index
into the few corpus folders, not as a path of its own.
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import NamedTuple, overload

_SEP = "\0"  # no path or hex digest holds it


class FileToWrite(NamedTuple):
    rel: str  # the file's path below its corpus folder: its identity in the index's state
    root: str  # the corpus folder
    digest: str  # what the reading pass recorded of its content (writer._digest); "" unknown

    @property
    def abspath(self) -> str:
        return os.path.join(self.root, self.rel)


class WorkList(Sequence):
    """A sequence of FileToWrite; a slice shares the bytes."""

    def __init__(self, items: Iterable[FileToWrite] = (), size: Callable[[FileToWrite], int] | None = None):
        """`size(item)`: the file's size, for halfway() (unknown: all alike)."""
        blob = bytearray()
        ends = array("q", [0])
        upto = array("q", [0])  # running sum of the sizes
        roots: dict[str, int] = {}
        where = array("H")
        for item in items:
            rel, root, digest = item
            blob += f"{rel}{_SEP}{digest}".encode("utf-8", "surrogatepass")
            ends.append(len(blob))
            where.append(roots.setdefault(root, len(roots)))
            upto.append(upto[-1] + (size(item) if size is not None else 1))
        self._blob, self._ends, self._where, self._roots = bytes(blob), ends, where, list(roots)
        self._upto = upto

    def halfway(self) -> int:
        """Where to cut the list into two runs of (nearly) equal cost (see halfway())."""
        return _cut(self._upto)

    def __len__(self) -> int:
        return len(self._where)

    @overload
    def __getitem__(self, i: int) -> FileToWrite: ...

    @overload
    def __getitem__(self, i: slice) -> WorkList: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                raise ValueError("a WorkList slice takes every item")
            stop = max(start, stop)
            out = WorkList.__new__(WorkList)
            out._blob, out._roots = self._blob, self._roots
            out._ends, out._where = self._ends[start:stop + 1], self._where[start:stop]
            out._upto = self._upto[start:stop + 1]
            return out
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        rel, digest = self._blob[self._ends[i]:self._ends[i + 1]].decode("utf-8", "surrogatepass").split(_SEP)
        return FileToWrite(rel, self._roots[self._where[i]], digest)


def halfway(sizes: Sequence[int]) -> int:
    """Where to cut files of these sizes into two runs of (nearly) equal cost, each of at least
    one file (of two or more).

    The two indexing processes take a run each (parallel.py). A file costs a part of its own
    (a document's fields, its lookups) and a part in proportion to its size (the text to
    analyse), measured about equal on average (~3.5 ms each a file on a x10 build), so a file
    weighs its size plus the mean size. The halves of a x10 build's adding took 174-187 s and
    119-123 s cut at half the count, 136 and 176 s at half the bytes, 143-163 and 129-151 s so:
    the list is in URL order, which groups the outlets, whose articles differ in length."""
    return _cut(list(accumulate(sizes, initial=0)))


def _cut(upto: Sequence[int]) -> int:
    # upto: the running sum of the sizes, from where the run starts
    n = len(upto) - 1
    if n < 2:
        return n
    base, total = upto[0], upto[-1] - upto[0]
    mean = total / n

    def weight(k: int) -> float:  # of the first k files
        return upto[k] - base + k * mean

    k = bisect_left(range(n + 1), total, key=weight)  # the first k whose weight reaches half of 2 * total
    if k > 0 and total - weight(k - 1) <= weight(k) - total:
        k -= 1
    return min(max(k, 1), n - 1)
