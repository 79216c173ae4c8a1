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
from collections.abc import Iterable, Sequence
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

    def __init__(self, items: Iterable[FileToWrite] = ()):
        blob = bytearray()
        ends = array("q", [0])
        roots: dict[str, int] = {}
        where = array("H")
        for rel, root, digest in items:
            blob += f"{rel}{_SEP}{digest}".encode("utf-8", "surrogatepass")
            ends.append(len(blob))
            where.append(roots.setdefault(root, len(roots)))
        self._blob, self._ends, self._where, self._roots = bytes(blob), ends, where, list(roots)

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
            return out
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        rel, digest = self._blob[self._ends[i]:self._ends[i + 1]].decode("utf-8", "surrogatepass").split(_SEP)
        return FileToWrite(rel, self._roots[self._where[i]], digest)
