"""Files derived from the installed software alone, kept between runs to save start-up time.

Like jieba's own /tmp/jieba.cache: nothing here is the user's data, any file may be deleted
at any time, and a file that is missing, unreadable or not writable is made again or done
without. The folder is `ZHSEARCH_CACHE` (`off` for none), else $XDG_CACHE_HOME/zhsearch or
~/.cache/zhsearch. A file's name says what it was made from, so a change of what it was
made from (an upgrade) names a new file; `save` removes the older ones of its kind.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    where = os.environ.get("ZHSEARCH_CACHE")
    if where:
        return None if where.lower() in ("off", "0", "no") else Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "zhsearch"


def load(name: str) -> bytes | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None


def save(name: str, data: bytes, kind: str) -> None:
    """Write `name` whole or not at all; drop other files whose names start with `kind`."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
        for old in folder.glob(f"{kind}*"):
            if old.name != name:
                old.unlink(missing_ok=True)
    except OSError:
        pass
