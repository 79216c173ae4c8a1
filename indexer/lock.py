"""The writer lock of an index folder.

An OS lock (flock) rather than Whoosh's: it lives beside the swapped index
generations, so `--rebuild` can replace a generation while holding it, and the
kernel releases it when its holder dies, so a killed indexer leaves no stale lock.
The holder writes its pid and start time into the lock file, because a waiting
indexer should be able to say who it is waiting for.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

from .errors import IndexLocked, IndexUnusable

LOCK_NAME = "write.lock"


class WriteLock:
    def __init__(self, index_dir: Path):
        self.path = Path(index_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, wait: float = 5.0) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexUnusable(f"cannot create lock file {self.path}: {exc.strerror}") from exc
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise IndexLocked(
                        f"another indexer holds the lock on {self.path.parent}"
                        + (f" ({holder})" if holder else ""),
                        holder,
                    ) from None
                time.sleep(0.1)
        started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n".encode(), 0)
        except OSError:
            pass  # a full disk: the holder line is a courtesy, the lock itself holds
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "WriteLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
