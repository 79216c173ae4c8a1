"""The systems as child processes: zhsearch the way a user runs it (`zhsearch index`, `search`,
`stats`), and the peers through bench/speed_child.py.

The indexer's summary line gives update_index's own seconds beside the process's wall time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.measure import ROOT, child_json, du_mb, run_child

BIN = Path(sys.executable).parent  # the venv's bin: `zhsearch` sits beside this python
ZHSEARCH = BIN / "zhsearch"
CHILD = [sys.executable, str(ROOT / "bench" / "speed_child.py")]

_SUMMARY = re.compile(r"(\d+) documents in the index \(([\d.]+) s\)")


def zhsearch_index(corpora: list[Path], index: Path, *options: str) -> dict:
    r = run_child([ZHSEARCH, "index", *corpora, "--index", index, *options])
    m = _SUMMARY.search(r["stderr"])
    if r["code"] != 0 or not m:
        sys.exit(f"zhsearch index {' '.join(options)} failed ({r['code']}):\n{r['stderr'][-2000:]}")
    return {"wall_s": r["wall_s"], "inproc_s": float(m.group(2)), "rss_mb": r["rss_mb"], "tree_mb": r["tree_mb"],
            "documents": int(m.group(1)), "summary": r["stderr"].strip().splitlines()[-1], "load": r["load"]}


def zhsearch_build(corpora: list[Path], index: Path) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    return {**zhsearch_index(corpora, index), "size_mb": du_mb(index)}


def has_compact() -> bool:
    """Whether this zhsearch offers `index --compact` (issue 12; the bench measures it where it does)."""
    out = subprocess.run([ZHSEARCH, "index", "--help"], capture_output=True, text=True).stdout
    return "--compact" in out


def zhsearch_compact(corpora: list[Path], index: Path) -> dict:
    """`zhsearch index CORPORA --index DIR --compact` on a built index: its wall time, memory, and
    the index size after it. The corpora are named so that the run is a no-op update plus the
    compaction, never an update against the default corpus/ (which would delete every document).
    A failure is returned (`error`), not fatal: it comes last in a scale that took hours."""
    r = run_child([ZHSEARCH, "index", *corpora, "--index", index, "--compact"])
    last = (r["stderr"].strip().splitlines() or [""])[-1]
    if r["code"] != 0:
        return {"error": f"exit {r['code']}: {last}", "wall_s": r["wall_s"], "load": r["load"]}
    return {"wall_s": r["wall_s"], "tree_mb": r["tree_mb"], "size_mb": du_mb(index), "load": r["load"],
            "summary": last}


def search_argv(index: Path, query: str) -> list:
    return [ZHSEARCH, "search", "--index", index, query]


def stats_argv(index: Path) -> list:
    return [ZHSEARCH, "stats", "--index", index]


def peer_build(kind: str, out: Path, corpora: list[Path]) -> dict:
    """A peer's index of the corpora (whoosh: a folder; fts5: one SQLite file), built afresh."""
    if out.is_dir():
        shutil.rmtree(out)
    else:
        out.unlink(missing_ok=True)
    return {**child_json([*CHILD, "build", kind, out, *corpora]), "size_mb": du_mb(out)}


def peer_cold_argv(kind: str, index: Path, query: str) -> list:
    return [*CHILD, "cold", kind, index, query]
