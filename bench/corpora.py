"""The benchmarks' corpora and indexes: private copies of the pool, replicas under new URLs,
and the scratch folder that holds them all and is deleted when the bench ends.

Nothing is ever written under the pool. A replicated ×100 corpus is 3.3 GB and its indexes
several times that, so a bench must not leave them behind: `Scratch` deletes its folder on
the way out of a `with` block, whether the bench finished, failed, or was interrupted by
Ctrl-C or SIGTERM (turned into an exception so that the `finally` runs). Only a kill -9 can
leave a `run-*` folder in bench/work/ behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

from bench.measure import log

_URL_HOST = re.compile(rb"\]\(\s*https?://[^/\s)?#]+", re.I)


def with_new_url(data: bytes, tag: str) -> bytes:
    """The same article under a distinct URL: a first path segment after the host (the indexer
    drops fragments, and the host names the outlet)."""
    return _URL_HOST.sub(lambda m: m.group(0) + b"/" + tag.encode(), data, count=1)


def copy_corpus(files: list[Path], pool: Path, dest: Path) -> None:
    """A private copy: the incremental steps touch and edit files, which the pool must never see."""
    shutil.rmtree(dest, ignore_errors=True)
    add_files(files, pool, dest)


def add_files(files: list[Path], pool: Path, dest: Path) -> None:
    """Pool files into a corpus folder, at their paths below the pool."""
    for p in files:
        target = dest / p.relative_to(pool)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)


def replica_dir(dest: Path, k: int) -> Path:
    return dest / f"r{k:02d}"


def write_replicas(files: list[Path], pool: Path, dest: Path, copies: int) -> list[Path]:
    """Copies 1..copies of every file, each under dest/rNN/ with its own URL (copy 0 is the pool
    itself); returns the copies' folders. Each copy's folder is a corpus of its own, so a peer
    can read one copy at a time."""
    shutil.rmtree(dest, ignore_errors=True)
    for k in range(1, copies + 1):
        for p in files:
            target = replica_dir(dest, k) / p.relative_to(pool)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(with_new_url(p.read_bytes(), f"bench-r{k:02d}"))
    return [replica_dir(dest, k) for k in range(1, copies + 1)]


class Interrupted(BaseException):
    """SIGTERM or SIGHUP while a bench runs: unwinds like Ctrl-C's KeyboardInterrupt."""


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


class Scratch:
    """A fresh folder for one bench run's corpora and indexes, deleted on exit.

    Per run (not one fixed folder) so that a scale run in the background and a main run in the
    foreground do not delete each other's indexes.

    The run's user cache (indexer/user_cache.py) is inside the folder, unless ZHSEARCH_CACHE
    names one: its files are made by the first index run, as on a user's machine."""

    def __init__(self, parent: Path):
        self.parent = parent
        self.path: Path | None = None
        self._previous: dict = {}

    def __enter__(self) -> Path:
        self.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="run-", dir=self.parent))
        self._cache_env = os.environ.get("ZHSEARCH_CACHE")
        os.environ.setdefault("ZHSEARCH_CACHE", str(self.path / "cache"))
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # under nohup a closed terminal must not end a ×100 run hours in
            self._previous[sig] = signal.signal(sig, _raise_interrupted)
        return self.path

    def __exit__(self, exc_type, exc, tb) -> None:
        # A second signal (or Ctrl-C) during the deletion must not leave half of it behind.
        self._previous[signal.SIGINT] = signal.getsignal(signal.SIGINT)
        for sig in self._previous:
            signal.signal(sig, signal.SIG_IGN)
        try:
            if exc_type is not None and issubclass(exc_type, (KeyboardInterrupt, Interrupted)):
                log(f"interrupted: deleting {self.path} ...")
            shutil.rmtree(self.path, ignore_errors=True)
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
            if self._cache_env is None:
                os.environ.pop("ZHSEARCH_CACHE", None)
            else:
                os.environ["ZHSEARCH_CACHE"] = self._cache_env
