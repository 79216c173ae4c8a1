"""The files an indexing run writes, packed into one bytes object.

A large import forks a second process (parallel.py) that writes half of the files.
Forked pages stay shared until either process writes to them, and CPython writes to
every object it touches (its reference count). Looked up in the reading pass's dicts,
each file's path and digest objects would be touched by one process or the other, so
every page holding them would be copied: at x100 (447,000 files) most of a gigabyte
held twice. Packed here, a process touches only the objects it makes from the bytes,
and the bytes stay shared.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import NamedTuple, overload

_SEP = "\0"  # no path or hex digest holds it


class FileToWrite(NamedTuple):
    rel: str  # the file's path below its corpus folder: its identity in the index's state
    abspath: str
    digest: str  # what the reading pass recorded of its content (writer._digest)


class WorkList(Sequence):
    """A sequence of FileToWrite; a slice shares the bytes."""

    def __init__(self, items: Iterable[FileToWrite] = ()):
        blob = bytearray()
        ends = array("q", [0])
        for item in items:
            blob += _SEP.join(item).encode("utf-8", "surrogatepass")
            ends.append(len(blob))
        self._blob, self._ends = bytes(blob), ends

    def __len__(self) -> int:
        return len(self._ends) - 1

    @overload
    def __getitem__(self, i: int) -> FileToWrite: ...

    @overload
    def __getitem__(self, i: slice) -> WorkList: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                raise ValueError("a WorkList slice takes every item")
            out = WorkList.__new__(WorkList)
            out._blob, out._ends = self._blob, self._ends[start:max(start, stop) + 1]
            return out
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        text = self._blob[self._ends[i]:self._ends[i + 1]].decode("utf-8", "surrogatepass")
        return FileToWrite(*text.split(_SEP))
