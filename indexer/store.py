"""The layout of an index folder on disk.

    INDEX/CURRENT          name of the live generation folder (replaced atomically)
    INDEX/write.lock       the writer lock (see lock.py)
    INDEX/variants.txt     the index's own name variants (`zhsearch index --variants`), read
                           by searches; beside the generations, so a rebuild keeps it and
                           replacing it needs none
    INDEX/gen-*/           a Whoosh index, plus:
        zhsearch.json      what built it: schema and analysis versions, user dictionary
        state-N.json       every corpus file's state as of Whoosh generation N

A directory cannot be renamed atomically over a non-empty one, so `--rebuild`
builds a new gen-* folder and then swaps the one-line CURRENT file. The file
state for generation N+1 is written *before* the Whoosh commit that creates N+1:
whichever commit is the last to land, its state file is there beside it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from .errors import IndexNotFound, IndexUnusable

CURRENT = "CURRENT"
META = "zhsearch.json"
VARIANTS = "variants.txt"
FORMAT = "zhsearch-index"


@dataclass(slots=True)
class FileState:
    """What the indexer knows of one corpus file without reading it again."""

    size: int
    mtime_ns: int
    digest: str
    url: str | None = None  # None: the file was skipped; `error` says why
    published: float | None = None  # epoch seconds, for choosing among duplicates
    error: str | None = None

    def to_list(self) -> list:
        return [self.size, self.mtime_ns, self.digest, self.url, self.published, self.error]

    @classmethod
    def from_list(cls, row: list) -> "FileState":
        return cls(*row)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def current_generation_dir(index_dir: Path) -> Path:
    """The live generation folder; IndexNotFound/IndexUnusable say why there is none."""
    index_dir = Path(index_dir)
    if not index_dir.exists():
        raise IndexNotFound(f"no index at {index_dir} (run `zhsearch index` first)")
    if not index_dir.is_dir():
        raise IndexUnusable(f"{index_dir} is not a folder")
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if is_index_or_empty(index_dir):
            raise IndexNotFound(f"no index at {index_dir} yet (run `zhsearch index` first)") from None
        raise IndexNotFound(f"{index_dir} is not a zhsearch index (no {CURRENT} file)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexUnusable(f"cannot read {pointer}: {exc}") from exc
    gen_dir = index_dir / name
    if not name.startswith("gen-") or "/" in name or not gen_dir.is_dir():
        raise IndexUnusable(f"{pointer} names no generation folder ({name!r}): the index is damaged; rebuild it")
    return gen_dir


def is_index_or_empty(index_dir: Path) -> bool:
    """True if writing an index here cannot clobber a user's unrelated files."""
    if not index_dir.exists():
        return True
    if not index_dir.is_dir():
        return False
    names = {p.name for p in index_dir.iterdir()}
    return CURRENT in names or all(n == "write.lock" or n.startswith("gen-") or _is_our_temp(n) for n in names)


def _is_our_temp(name: str) -> bool:
    """A temporary file _atomic_write left behind when it was killed."""
    return name.startswith(f".{CURRENT}.") and name.endswith(".tmp")


def remove_temp_files(index_dir: Path) -> None:
    for path in Path(index_dir).iterdir():
        if _is_our_temp(path.name):
            path.unlink(missing_ok=True)


def new_generation_dir(index_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return Path(tempfile.mkdtemp(prefix=f"gen-{stamp}-", dir=index_dir))


def publish(index_dir: Path, gen_dir: Path) -> None:
    """Make gen_dir the live generation, atomically for every reader."""
    _atomic_write(Path(index_dir) / CURRENT, (gen_dir.name + "\n").encode())


def remove_other_generations(index_dir: Path, keep: Path) -> None:
    """Drop generation folders other than `keep` (older builds, interrupted rebuilds).

    Only the lock holder calls this. A searcher that still has an old
    generation open keeps reading its already-open files (POSIX semantics).
    """
    for path in Path(index_dir).glob("gen-*"):
        if path.is_dir() and path != keep:
            shutil.rmtree(path, ignore_errors=True)
    remove_temp_files(index_dir)


def write_variants(index_dir: Path, text: str | None) -> None:
    """Keep `text` (a variants file) with the index; None removes the index's variants."""
    path = Path(index_dir) / VARIANTS
    if text is None:
        path.unlink(missing_ok=True)
    else:
        _atomic_write(path, text.encode("utf-8"))


def read_meta(gen_dir: Path) -> dict:
    try:
        meta = orjson.loads((gen_dir / META).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise IndexUnusable(f"{gen_dir} has no readable {META}: the index is damaged; rebuild it") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise IndexUnusable(f"{gen_dir / META} is not a zhsearch index description")
    return meta


def write_meta(gen_dir: Path, meta: dict) -> None:
    _atomic_write(gen_dir / META, orjson.dumps({"format": FORMAT, **meta}, option=orjson.OPT_INDENT_2))


def _state_path(gen_dir: Path, generation: int) -> Path:
    return gen_dir / f"state-{generation}.json"


def load_state(gen_dir: Path, generation: int) -> dict[str, FileState]:
    path = _state_path(gen_dir, generation)
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        if generation == 0:
            return {}
        raise IndexUnusable(f"{path.name} is missing from {gen_dir}: the index is damaged; rebuild it") from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise IndexUnusable(f"cannot read {path}: {exc}") from exc
    return {name: FileState.from_list(row) for name, row in raw["files"].items()}


def save_state(gen_dir: Path, generation: int, files: dict[str, FileState]) -> None:
    payload = {"generation": generation, "files": {k: v.to_list() for k, v in files.items()}}
    _atomic_write(_state_path(gen_dir, generation), orjson.dumps(payload))


def drop_old_states(gen_dir: Path, generation: int) -> None:
    for path in gen_dir.glob("state-*.json"):
        try:
            if int(path.stem.split("-", 1)[1]) != generation:
                path.unlink()
        except (ValueError, OSError):
            pass
