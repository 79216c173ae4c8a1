"""`make bench-scale`: the pool and N-1 copies of it under new URLs, zhsearch beside FTS5+jieba.

Per scale, in one run: `--runs` builds of each (interleaved, which goes first alternating, so
that the load of this shared machine falls on both alike), medians reported with each run's
load; index sizes and their ratio; warm queries of both over the last builds; cold
`zhsearch search` and FTS5's cold query, and `zhsearch stats`, in fresh processes; a no-op
re-run; and, where `zhsearch index --help` lists `--compact`, the compaction of the built index
(its time, the index size after it, and warm queries on it). The copies repeat the pool's texts:
×100 bounds time and memory, not the size of the vocabulary.

The copies and indexes live in the bench's scratch folder and are deleted after each scale
(×100: 3.3 GB of copies; the bench's `Scratch` deletes them too when interrupted).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench import children
from bench.corpora import write_replicas
from bench.counts import count_queries, print_counts
from bench.similar import similar_speed
from bench.measure import load, log, summarize
from bench.queries import COLD_QUERY, Fts5Q, ZhsearchQ, close_all, cold_queries, warm_queries


def builds(corpora: list[Path], copies: list[Path], idx: Path, fts: Path | None, runs: int,
           label: str) -> tuple[list[dict], list[dict]]:
    """`runs` builds of zhsearch and of FTS5+jieba over the same files, interleaved.

    zhsearch indexes `corpora` (the pool and the folder of copies, as a user would name them);
    FTS5's builder gets `copies`, one folder per copy, and reads one at a time (see
    speed_child._Stream), since it holds a folder's records in memory. `fts` None: zhsearch alone."""
    zh_runs, fts_runs = [], []
    for run in range(runs):
        order = ("zhsearch", "fts5") if run % 2 == 0 else ("fts5", "zhsearch")
        if fts is None:
            order = ("zhsearch",)
        for kind in order:
            log(f"{label} [run {run + 1}/{runs}] {kind} build ...")
            if kind == "zhsearch":
                zh_runs.append(children.zhsearch_build(corpora, idx))
                r = zh_runs[-1]
            else:
                fts_runs.append(children.peer_build("fts5", fts, copies))
                r = fts_runs[-1]
            log(f"  {r['wall_s']:.1f} s, {r['tree_mb']:.0f} MB, {r['size_mb']:.0f} MB on disk, load {r['load']}")
    return zh_runs, fts_runs


def one_scale(n: int, files: list[Path], pool: Path, base: Path, work: Path, args) -> dict:
    started, load_before, when = time.monotonic(), load(), time.strftime("%Y-%m-%dT%H:%M:%S%z")
    label = f"x{n}"
    replicas, idx, fts = work / "replicas", work / f"index-x{n}", work / f"fts5-x{n}.sqlite"
    peer = args.fts5  # False: zhsearch alone (FTS5+jieba's x100 build alone takes ~2 hours here)
    log(f"{label}: writing {n - 1} copies ...")
    copies = write_replicas(files, pool, replicas, n - 1)
    corpora = [base] + ([replicas] if copies else [])
    try:
        zh_runs, fts_runs = builds(corpora, [base, *copies], idx, fts if peer else None, args.runs, label)
        b, f = summarize(zh_runs), summarize(fts_runs) if peer else None
        log(f"{label}: warm queries ({args.reps} rounds) ...")
        systems = {"zhsearch": ZhsearchQ(idx), **({"fts5": Fts5Q(fts)} if peer else {})}
        warm = warm_queries(systems, args.reps)
        close_all(systems)
        log(f"{label}: timelines and facets against search ...")
        counts = count_queries(idx, args.reps)
        log(f"{label}: similar and --any ...")
        similar = similar_speed(idx)
        log(f"{label}: cold search and stats ({args.cold_runs} runs each) ...")
        cold = cold_queries({"zhsearch": children.search_argv(idx, COLD_QUERY),
                             **({"fts5": children.peer_cold_argv("fts5", fts, COLD_QUERY)} if peer else {}),
                             "stats": children.stats_argv(idx)}, args.cold_runs)
        cold_load = load()
        log(f"{label}: no-op re-run ...")
        noop = children.zhsearch_index(corpora, idx)
        compact = compaction(corpora, idx, args.reps, label) if args.compact else None
    finally:
        shutil.rmtree(replicas, ignore_errors=True)
        shutil.rmtree(idx, ignore_errors=True)
        fts.unlink(missing_ok=True)
    zw, fw = warm["zhsearch"], warm.get("fts5")
    return {
        "files": len(files) * n, "documents": b["documents"], "build": b,
        "fts5": {"build": f, **_warm_figures(fw)} if peer else None,
        "cold_s": cold["zhsearch"], "fts5_cold_s": cold.get("fts5"), "stats_s": cold["stats"], "cold_load": cold_load,
        **_warm_figures(zw), "per_query_ms": zw["per_query_ms"], "warm_load": zw["load"], "errors": zw["errors"],
        "noop_s": noop["wall_s"], "compact": compact, "counts": counts, "similar": similar,
        "ratios": {"size_zhsearch/fts5": b["size_mb"] / f["size_mb"], "build_zhsearch/fts5": b["wall_s"] / f["wall_s"],
                   "query_p50_zhsearch/fts5": zw["p50_ms"] / fw["p50_ms"],
                   "query_p95_zhsearch/fts5": zw["p95_ms"] / fw["p95_ms"],
                   "cold_zhsearch/fts5": cold["zhsearch"] / cold["fts5"]} if peer else {},
        "build_runs": {"zhsearch": zh_runs, "fts5": fts_runs},
        "elapsed_s": time.monotonic() - started,
        "meta": {"started": when, "load_before": load_before, "load_after": load(),
                 "runs": args.runs, "reps": args.reps, "cold_runs": args.cold_runs},
    }


def _warm_figures(w: dict) -> dict:
    return {k: w[k] for k in ("p50_ms", "p95_ms", "max_ms")}


def compaction(corpora: list[Path], idx: Path, reps: int, label: str) -> dict:
    log(f"{label}: zhsearch index --compact ...")
    c = children.zhsearch_compact(corpora, idx)
    if "error" in c:
        log(f"  failed: {c['error']}")
        return c
    log(f"  {c['wall_s']:.1f} s, {c['size_mb']:.0f} MB after; warm queries on the compacted index ...")
    systems = {"zhsearch": ZhsearchQ(idx)}
    warm = warm_queries(systems, reps)["zhsearch"]
    close_all(systems)
    return {**c, **_warm_figures(warm), "warm_load": warm["load"]}


def print_scale(res: dict) -> None:
    head = (f"{'scale':<7}{'files':>8}{'build s':>9}{'fts5 s':>8}{'ratio':>7}{'s/1k':>6}{'mem MB':>8}"
            f"{'size MB':>9}{'fts5 MB':>9}{'ratio':>7}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'fts5 p95':>9}"
            f"{'cold s':>8}{'stats s':>8}{'took s':>8}")
    print("\n" + head + "\n" + "-" * len(head))
    def num(v, fmt: str, width: int) -> str:
        return f"{'—' if v is None else format(v, fmt):>{width}}"

    for name, s in res.items():
        b, f, r = s["build"], s["fts5"] or {"build": {}}, s["ratios"]
        print(f"{name:<7}{s['files']:>8}{b['wall_s']:>9.1f}{num(f['build'].get('wall_s'), '.1f', 8)}"
              f"{num(r.get('build_zhsearch/fts5'), '.2f', 7)}"
              f"{b['wall_s'] / s['files'] * 1000:>6.2f}{b['tree_mb']:>8.0f}{b['size_mb']:>9.1f}"
              f"{num(f['build'].get('size_mb'), '.1f', 9)}{num(r.get('size_zhsearch/fts5'), '.2f', 7)}"
              f"{s['p50_ms']:>8.1f}{s['p95_ms']:>8.1f}{s['max_ms']:>8.1f}{num(f.get('p95_ms'), '.1f', 9)}"
              f"{s['cold_s']:>8.2f}{s['stats_s']:>8.2f}{s['elapsed_s']:>8.0f}")
    for name, s in res.items():
        b = s["build"]
        peer = (f"fts5 {s['fts5']['build']['runs_wall_s']} s" if s["fts5"] else "fts5 not built (--no-fts5)")
        print(f"{name}: build runs zhsearch {b['runs_wall_s']} s, {peer}; loads {b['runs_load']}; "
              f"no-op re-run {s['noop_s']:.2f} s" + (f"; fts5 cold {s['fts5_cold_s']:.2f} s" if s["fts5"] else ""))
        c = s["compact"]
        if c and "error" in c:
            print(f"{name}: index --compact failed after {c['wall_s']:.1f} s: {c['error']}")
        elif c:
            print(f"{name}: index --compact {c['wall_s']:.1f} s (peak {c['tree_mb']:.0f} MB): {b['size_mb']:.0f} -> "
                  f"{c['size_mb']:.0f} MB; warm p50/p95 after it {c['p50_ms']:.1f}/{c['p95_ms']:.1f} ms")
        else:
            print(f"{name}: index --compact not measured (--no-compact, or this zhsearch has none)")
        if s.get("counts"):
            print_counts(s["counts"], f" {name}")
        if s.get("similar"):
            print(f"{name}: similar {s['similar']['similar_ms']} ms, --any of 300 characters "
                  f"{s['similar']['any_300_chars_ms']} ms (warm medians; goals x1 50 / 100 ms, x20 similar 200 ms)")
