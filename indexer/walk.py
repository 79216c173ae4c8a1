"""Finding the article files of the corpus folders, cheaply: one stat each, no reads."""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import CorpusNotFound

DEFAULT_PATTERNS = ("*.md", "*.txt")
# A folder's README describes the folder (corpus/README.md says where the demo articles come
# from); it is never an article, and reading it as one gave a warning on every run.
README_NAMES = frozenset({"readme.md", "readme.txt"})

Warn = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class CorpusFile:
    rel: str  # path relative to its corpus folder: the file's identity, so a moved corpus is not re-indexed
    root: str  # the corpus folder as given (one object for all its files: x100 holds 447,000 of these)
    size: int
    mtime_ns: int

    @property
    def abspath(self) -> str:
        return os.path.join(self.root, self.rel)


def walk_corpus(dirs: Iterable[Path], patterns: Iterable[str], warn: Warn) -> dict[str, CorpusFile]:
    """Every article file below `dirs`, by relative path.

    Hidden files and folders (editor swap and lock files, .git) and README.md / README.txt
    are passed over, and so are names that match none of `patterns`. Directory symlinks are not
    followed, so a symlink loop cannot trap the walk.
    """
    patterns = tuple(patterns)
    found: dict[str, CorpusFile] = {}
    for root in dirs:
        root = Path(root)
        if not root.is_dir():
            raise CorpusNotFound(f"corpus folder {root} does not exist or is not a folder")
        root_text = os.fspath(root)  # os.walk's dirpaths begin with it
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: warn(e.filename or str(root), _why(e))):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            # the relative path in / form, made per folder: a Path per file interned every name
            # (tens of MB at x100)
            folder = Path(os.path.relpath(dirpath, root)).as_posix()
            prefix = "" if folder == "." else folder + "/"
            for name in sorted(filenames):
                if (name.startswith(".") or name.lower() in README_NAMES
                        or not any(fnmatch.fnmatchcase(name, p) for p in patterns)):
                    continue
                abspath = os.path.join(dirpath, name)
                rel = prefix + name
                if not _utf8(rel):
                    # The index records paths as UTF-8 text; such a name cannot be one.
                    warn(os.fsencode(abspath).decode("utf-8", "backslashreplace"), "file name is not valid UTF-8; rename the file")
                    continue
                try:
                    st = os.stat(abspath)
                except OSError as exc:
                    warn(abspath, _why(exc))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    warn(abspath, "not a regular file")
                    continue
                if rel in found:
                    warn(abspath, f"same relative path as {found[rel].abspath}; only the first is indexed")
                    continue
                found[rel] = CorpusFile(rel, root_text, st.st_size, st.st_mtime_ns)
    return found


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
