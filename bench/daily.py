"""Steady daily updates (issue 12): an archive that grows by a day's articles at a time.

A corpus folder starts with the pool's 1,470 oldest articles (by publication date, as an
archiver writes them; files without a date last), indexed once. Then 60 times: the next 50
pool files are added and `zhsearch index` runs (the CLI, as a user runs it), so that at the end
the folder is the whole pool. Every run's time is kept: a run that merges segments shows as
the slowest, and the goal is that none takes longer than max(10 s, 3× the median run).
After the 60 runs, the same files are built afresh into a second index, and the warm bench
queries run on both, interleaved, in one process: the updated index's p50/p95 and size beside
the fresh build's (goals: p95 and size within 1.2×).
"""

from __future__ import annotations

import time
from pathlib import Path

from bench import children
from bench.corpora import add_files
from bench.measure import du_mb, load, log, median
from bench.queries import ZhsearchQ, close_all, warm_queries

DEFAULT = (1470, 60, 50)  # start, runs, files per run: 1,470 + 60 x 50 = the pool's 4,470
QUICK = (100, 4, 25)


def by_date(files: list[Path], pool: Path) -> list[Path]:
    """The files in the order of their articles' publication dates (then path); undated ones and
    unreadable ones last."""
    from indexer.errors import ArticleParseError
    from indexer.reader import parse_article

    def key(p: Path):
        try:
            a = parse_article(p.read_bytes(), p.relative_to(pool).as_posix())
        except (OSError, ArticleParseError):
            return (2, 0.0, str(p))
        return (0, a.published.timestamp(), str(p)) if a.published else (1, 0.0, str(p))

    return sorted(files, key=key)


def verdict(times: list[float]) -> dict:
    """The figures of the update runs: median, slowest, and the limit no run may exceed."""
    med = median(times)
    limit = max(10.0, 3 * med)
    slowest = max(range(len(times)), key=times.__getitem__)
    return {"runs_s": [round(t, 3) for t in times], "median_s": med, "max_s": times[slowest],
            "slowest_run": slowest + 1, "limit_s": limit, "no_run_over_limit": times[slowest] <= limit}


def daily_bench(files: list[Path], pool: Path, work: Path, start: int, steps: int, add: int, reps: int) -> dict:
    need = start + steps * add
    if need > len(files):
        raise SystemExit(f"daily: {start} + {steps} x {add} files is more than the {len(files)} at hand")
    started, load_before, when = time.monotonic(), load(), time.strftime("%Y-%m-%dT%H:%M:%S%z")
    ordered = by_date(files, pool)[:need]
    corpus, idx, fresh = work / "daily-corpus", work / "daily-index", work / "daily-fresh"
    add_files(ordered[:start], pool, corpus)
    log(f"daily: first {start} files ...")
    first = children.zhsearch_build([corpus], idx)
    runs = []
    for k in range(steps):
        add_files(ordered[start + k * add:start + (k + 1) * add], pool, corpus)
        runs.append(children.zhsearch_index([corpus], idx))
        log(f"daily: run {k + 1}/{steps} (+{add} files): {runs[-1]['wall_s']:.2f} s, load {runs[-1]['load'][1]}")
    log("daily: a fresh build of the same files ...")
    built = children.zhsearch_build([corpus], fresh)
    size_daily = du_mb(idx)
    log(f"daily: warm queries on both ({reps} rounds) ...")
    systems = {"daily": ZhsearchQ(idx), "fresh": ZhsearchQ(fresh)}
    warm = warm_queries(systems, reps)
    close_all(systems)
    times = [r["wall_s"] for r in runs]
    d, f = warm["daily"], warm["fresh"]
    return {
        "start_files": start, "runs": steps, "files_per_run": add, "files": need,
        "first_build_s": first["wall_s"], **verdict(times),
        "runs_inproc_s": [round(r["inproc_s"], 3) for r in runs], "runs_load": [r["load"] for r in runs],
        "runs_peak_mb": max(r["tree_mb"] for r in runs), "documents": runs[-1]["documents"],
        "daily": {"p50_ms": d["p50_ms"], "p95_ms": d["p95_ms"], "max_ms": d["max_ms"], "size_mb": size_daily},
        "fresh": {"p50_ms": f["p50_ms"], "p95_ms": f["p95_ms"], "max_ms": f["max_ms"], "size_mb": built["size_mb"],
                  "build_s": built["wall_s"], "build_load": built["load"]},
        "ratios": {"p50_daily/fresh": d["p50_ms"] / f["p50_ms"], "p95_daily/fresh": d["p95_ms"] / f["p95_ms"],
                   "size_daily/fresh": size_daily / built["size_mb"]},
        "warm_load": d["load"], "elapsed_s": time.monotonic() - started,
        "meta": {"started": when, "load_before": load_before, "load_after": load(),
                 "reps": reps},
    }


def print_daily(d: dict) -> None:
    print(f"\nsteady daily updates: {d['start_files']} files, then {d['runs']} runs of `zhsearch index` "
          f"after +{d['files_per_run']} files each ({d['files']} files, {d['documents']} documents at the end); "
          f"load {d['meta']['load_before']} -> {d['meta']['load_after']}, {d['elapsed_s'] / 60:.1f} min")
    print(f"  first build {d['first_build_s']:.1f} s; runs (s): {' '.join(f'{t:.2f}' for t in d['runs_s'])}")
    print(f"  median {d['median_s']:.2f} s, slowest {d['max_s']:.2f} s (run {d['slowest_run']}), "
          f"limit max(10 s, 3x median) = {d['limit_s']:.1f} s: {'met' if d['no_run_over_limit'] else 'NOT met'}; "
          f"peak memory of a run {d['runs_peak_mb']:.0f} MB")
    u, f, r = d["daily"], d["fresh"], d["ratios"]
    print(f"  {'':<24}{'updated':>10}{'fresh':>10}{'ratio':>8}")
    print(f"  {'warm p50 (ms)':<24}{u['p50_ms']:>10.1f}{f['p50_ms']:>10.1f}{r['p50_daily/fresh']:>8.2f}")
    print(f"  {'warm p95 (ms)':<24}{u['p95_ms']:>10.1f}{f['p95_ms']:>10.1f}{r['p95_daily/fresh']:>8.2f}")
    print(f"  {'index size (MB)':<24}{u['size_mb']:>10.1f}{f['size_mb']:>10.1f}{r['size_daily/fresh']:>8.2f}")
    print(f"  (fresh build of the same files: {f['build_s']:.1f} s)")
