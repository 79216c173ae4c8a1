"""How the benchmarks measure: child processes (wall time, peak memory, load), medians, sizes.

Every build and every cold query is a child process, so that its peak memory can be read and
no run inherits another's warm caches or heap. The machine is shared: each child run records
the 1-minute load average before and after it, so a figure can be read beside the load it was
measured under.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load() -> float:
    """The machine's 1-minute load average, rounded as it is reported."""
    return round(os.getloadavg()[0], 2)


def _tree_memory_mb(root: int) -> float:
    """Proportional set size (PSS) of a process and all its descendants, summed.

    zhsearch forks a second indexing process that shares pages with the first: RSS would
    count them twice, PSS splits them between the two."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total_kb, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total_kb += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
        except OSError:
            pass
    return total_kb / 1024


def child_env() -> dict:
    """The environment of the processes a bench starts: what an installed zhsearch has.

    PYTHONDONTWRITEBYTECODE, set on the machine this was developed on, is removed: with it,
    every cold search compiled zhsearch's modules again (~0.06-0.1 s), which an installed
    zhsearch (pip writes the .pyc files) or any second run of an editable one does not do."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_child(argv: list, stdout=None) -> dict:
    """Run one process to its end: wall seconds, peak memory (MB), load, exit code, output.

    rss_mb: os.wait4's peak RSS of that child (the largest of it and the children it waited
    for; getrusage(RUSAGE_CHILDREN) would give the largest peak of every child so far).
    tree_mb: the peak of the summed PSS of the child and its descendants, sampled every
    0.1 s (Linux /proc; 0 where it is missing): what a forked second process adds.
    load: the 1-minute load average before and after the run.
    If this process is interrupted meanwhile (Ctrl-C, SIGTERM turned into an exception), the
    child is killed and reaped before the exception goes on, so that nothing keeps writing
    into a folder the caller is about to delete.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        load_before = load()
        started = time.monotonic()
        proc = subprocess.Popen([str(a) for a in argv], stdout=stdout or out, stderr=err, cwd=ROOT, env=child_env())
        peak = [0.0]
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                try:
                    peak[0] = max(peak[0], _tree_memory_mb(proc.pid))
                except OSError:
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        if os.path.isdir("/proc"):
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            done.set()
            _kill_tree(proc)
            raise
        done.set()
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait
        out.seek(0)
        err.seek(0)
        return {"wall_s": wall, "rss_mb": usage.ru_maxrss / 1024, "tree_mb": peak[0], "code": proc.returncode,
                "load": [load_before, load()],
                "stdout": out.read().decode(errors="replace"), "stderr": err.read().decode(errors="replace")}


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill a child and the processes it forked (zhsearch's second indexer), then reap it."""
    kids = [int(p) for p in _children_of(proc.pid)]
    for pid in [proc.pid, *kids]:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    try:
        os.waitpid(proc.pid, 0)
    except ChildProcessError:
        pass


def _children_of(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


def child_json(argv: list) -> dict:
    """A child that prints one JSON line of its own timings: those, with the run's measures."""
    r = run_child(argv)
    if r["code"] != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed ({r['code']}):\n{r['stderr'][-2000:]}")
    return {**json.loads(r["stdout"].strip().splitlines()[-1]), "wall_s": r["wall_s"], "rss_mb": r["rss_mb"],
            "tree_mb": r["tree_mb"], "load": r["load"]}


def median(xs):
    return statistics.median(xs) if xs else None


def percentile(xs: list[float], p: float) -> float:
    """Nearest rank: a value that was actually measured."""
    s = sorted(xs)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def du_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def summarize(runs: list[dict]) -> dict:
    """The median of every number over the runs, each run's wall time and the load it ran under."""
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return ({k: median([r[k] for r in runs]) for k in keys}
            | {"runs_wall_s": [round(r["wall_s"], 2) for r in runs], "runs_load": [r.get("load") for r in runs]})
