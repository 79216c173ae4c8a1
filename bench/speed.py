"""Speed benchmark: zhsearch beside its peers on the shared article pool (issues 5 and 12).

    python bench/speed.py                  # `make bench`: builds, re-runs, queries, then the daily-updates case
    python bench/speed.py --daily          # the steady-daily-updates case alone
    python bench/speed.py --quick          # the same on 500 pool files (daily: 100 + 4 x 25): a smoke run
    python bench/speed.py --runs 3         # median of 3 runs of every build (default 5; scale runs 3)
    python bench/speed.py --scale --scales "1 20 100"   # `make bench-scale SCALES="1 20 100"`
    python bench/speed.py --quick --scale  # the scale path on 500 files x1 and x2: a smoke run
    python bench/speed.py --quick --profile  # cProfile of a zhsearch build and of warm queries, top 10

Every run ends with a table of the goals of issues 5 and 12, read from the whole results file
(bench/results.json; a --quick run writes bench/work/results-quick.json instead, so a smoke run
never overwrites real figures). Scales merge into it scale by scale, each with the date and load
of its own run, so a ×100 run in the background adds to a ×1/×20 run made earlier.

What runs where. Every build is a child process (its wall time and its own peak RSS, from
os.wait4), one after the other, interleaved run by run, so that the load other users put on
this shared machine falls on all systems alike; the ratios are the point, not the seconds.
Each child run records the 1-minute load average before and after it.

* zhsearch: `zhsearch index CORPUS --index DIR` (the CLI, as a user runs it) into a fresh
  folder; its summary line also gives update_index's own seconds. Re-runs (no-op, +50 new
  files, 50 touched, 50 edited) are the same command on the same index.
* whoosh (the textbook recipe) and fts5 (SQLite FTS5 over jieba's cut_for_search):
  bench/peers.py's builders, in bench/speed_child.py, which first parses the same corpus with
  zhsearch's reader (timed apart: parse_s) so that both sides go from files to an index.
* jieba / rjieba segmentation alone over every record (title, lead, body): the floor of any
  build that segments with them.

The corpora (a copy of the pool: the incremental steps touch and edit files; nothing is written
under the pool), the replicas and every index live in a scratch folder bench/work/run-*, deleted
when the bench ends, fails or is interrupted (bench/corpora.py's Scratch). Warm and cold
queries: bench/queries.py; the scale run: bench/scale.py; daily updates: bench/daily.py; the
goals: bench/goals.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", category=SyntaxWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

from bench import children, daily, goals, scale, scale_runs  # noqa: E402
from bench import pool as bpool  # noqa: E402
from bench.corpora import Interrupted, Scratch, copy_corpus, with_new_url  # noqa: E402
from bench.counts import count_queries, print_counts  # noqa: E402
from bench.measure import child_json, load, log, median, summarize  # noqa: E402
from bench.queries import COLD_QUERY, QUERIES, Fts5Q, WhooshQ, ZhsearchQ, close_all, cold_queries, \
    warm_queries  # noqa: E402

WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results.json"
QUICK_RESULTS = WORK / "results-quick.json"
LEDGER = ROOT / "bench" / "scale-runs.json"  # kept in git (bench/scale_runs.py)
PEERS = ("whoosh", "fts5")
QUICK_FILES = 500
QUICK_SCALES = "1 2"
GOALS = goals.ISSUE5  # the limits print_main shows beside its rows
# What each scale's section keeps of the run's meta; scale_runs.entry reads the codes from it.
SCALE_META = ("git_head", "build_code", "query_code", "quick", "cpus", "python", "cold_query")


# ---------------------------------------------------------------- the main benchmark


def main_bench(args, pool: Path, files: list[Path], work: Path) -> dict:
    corpus, idx = work / "corpus", work / "index"
    log(f"copying {len(files)} pool files to {corpus} ...")
    copy_corpus(files, pool, corpus)
    slow_runs = min(args.runs, 3)  # the textbook recipe takes ~50 s a build
    builds: dict[str, list[dict]] = {"zhsearch": [], "whoosh": [], "fts5": [], "jieba": [], "rjieba": []}
    for run in range(args.runs):
        log(f"[run {run + 1}] zhsearch build ...")
        builds["zhsearch"].append(children.zhsearch_build([corpus], idx / "zhsearch"))
        log(f"  {builds['zhsearch'][-1]['wall_s']:.1f} s, {builds['zhsearch'][-1]['tree_mb']:.0f} MB")
        for kind in PEERS:
            if kind == "fts5" or run < slow_runs:
                out = idx / ("fts5.sqlite" if kind == "fts5" else kind)
                log(f"[run {run + 1}] {kind} build ...")
                builds[kind].append(children.peer_build(kind, out, [corpus]))
                log(f"  {builds[kind][-1]['wall_s']:.1f} s, {builds[kind][-1]['tree_mb']:.0f} MB")
        for kind in ("jieba", "rjieba"):
            log(f"[run {run + 1}] {kind} segmentation ...")
            builds[kind].append(child_json([*children.CHILD, "segment", kind, corpus]))
            log(f"  {builds[kind][-1]['segment_s']:.1f} s")

    build = {kind: summarize(runs) for kind, runs in builds.items()}

    log(f"warm queries: {len(QUERIES)} queries x {args.reps} rounds x 3 systems ...")
    records = bpool.load_records(corpus, bpool.pool_files(corpus))
    systems = {"zhsearch": ZhsearchQ(idx / "zhsearch"), "whoosh": WhooshQ(idx / "whoosh", records),
               "fts5": Fts5Q(idx / "fts5.sqlite")}
    warm = warm_queries(systems, args.reps)
    close_all(systems)
    log(f"cold queries ({COLD_QUERY}), {args.cold_runs} runs each ...")
    cold = cold_queries({"zhsearch": children.search_argv(idx / "zhsearch", COLD_QUERY),
                         "whoosh": children.peer_cold_argv("whoosh", idx / "whoosh", COLD_QUERY),
                         "fts5": children.peer_cold_argv("fts5", idx / "fts5.sqlite", COLD_QUERY)}, args.cold_runs)

    log("timelines and facets against search ...")
    counts = count_queries(idx / "zhsearch", args.reps)

    log(f"incremental re-runs ({args.inc_runs} each) ...")
    inc = incremental(corpus, idx / "zhsearch", files, args.inc_runs)

    ratios = {
        "build_zhsearch/fts5": build["zhsearch"]["wall_s"] / build["fts5"]["wall_s"],
        "build_zhsearch/whoosh": build["zhsearch"]["wall_s"] / build["whoosh"]["wall_s"],
        "build_zhsearch/jieba_segmentation_alone": build["zhsearch"]["wall_s"] / build["jieba"]["segment_s"],
        "query_p50_zhsearch/fts5": warm["zhsearch"]["p50_ms"] / warm["fts5"]["p50_ms"],
        "query_p50_zhsearch/whoosh": warm["zhsearch"]["p50_ms"] / warm["whoosh"]["p50_ms"],
        "query_p95_zhsearch/fts5": warm["zhsearch"]["p95_ms"] / warm["fts5"]["p95_ms"],
        "query_p95_zhsearch/whoosh": warm["zhsearch"]["p95_ms"] / warm["whoosh"]["p95_ms"],
        "cold_zhsearch/fts5": cold["zhsearch"] / cold["fts5"],
        "cold_zhsearch/whoosh": cold["zhsearch"] / cold["whoosh"],
    }
    return {"build": build, "incremental": inc, "warm": warm, "cold_s": cold, "ratios": ratios,
            "counts": counts, "build_runs": builds}


def incremental(corpus: Path, index: Path, files: list[Path], reps: int) -> dict:
    """No-op re-runs, then per round: +50 new files, 50 touched (same content), 50 edited."""
    rng = random.Random(5)
    existing = sorted(p for p in corpus.rglob("*") if p.is_file())
    touched = rng.sample(existing, 50)
    edited = rng.sample(sorted(set(existing) - set(touched)), 50)
    steps: dict[str, list[dict]] = {"noop": [], "add50": [], "touch50": [], "change50": []}
    for _ in range(reps):
        steps["noop"].append(children.zhsearch_index([corpus], index))
    for k in range(reps):
        new_dir = corpus / "bench-new" / f"round{k}"
        new_dir.mkdir(parents=True)
        for i, p in enumerate(rng.sample(files, 50)):
            (new_dir / f"{i:02d}-{p.name}").write_bytes(with_new_url(p.read_bytes(), f"bench-new{k}-{i}"))
        steps["add50"].append(children.zhsearch_index([corpus], index))
        stamp = time.time_ns() + k * 10**9  # a new mtime each round; the content stays
        for p in touched:
            os.utime(p, ns=(stamp, stamp))
        steps["touch50"].append(children.zhsearch_index([corpus], index))
        for p in edited:
            with p.open("ab") as f:
                f.write(f"\n<p>基准测试第{k}次修改了这篇文章。</p>\n".encode())
        steps["change50"].append(children.zhsearch_index([corpus], index))
    return {name: {"wall_s": median([r["wall_s"] for r in rs]), "inproc_s": median([r["inproc_s"] for r in rs]),
                   "runs": [round(r["wall_s"], 3) for r in rs], "summary": rs[-1]["summary"]}
            for name, rs in steps.items()}


def goal(value, key) -> str:
    if value is None or key not in GOALS:
        return f"{'':>9}{'':>5}"
    return f"{'<= ' + format(GOALS[key], 'g'):>9}{'yes' if value <= GOALS[key] else 'NO':>5}"


def print_main(res: dict, meta: dict) -> None:
    b, w, c, inc, r = res["build"], res["warm"], res["cold_s"], res["incremental"], res["ratios"]
    cols = ("zhsearch", "whoosh", "fts5")
    print(f"\nspeed on {meta['files']} files / {meta['articles']} articles, {meta['chars'] / 1e6:.1f} M chars; "
          f"load average {meta['load_before']} -> {meta['load_after']}; {meta['elapsed_s'] / 60:.1f} min")
    head = f"{'':<34}{'zhsearch':>10}{'whoosh':>10}{'fts5':>10}{'goal':>9}{'met':>5}"
    print(head + "\n" + "-" * len(head))

    def row(label, values, fmt, key=None):  # a goal is zhsearch's (the first column)
        cells = "".join(f"{'—' if v is None else format(v, fmt):>10}" for v in values)
        print(f"{label:<34}{cells}{goal(values[0], key)}")

    row("full build, process wall (s)", [b[k]["wall_s"] for k in cols], ".1f")
    row("  of which: update_index / build", [b["zhsearch"]["inproc_s"], b["whoosh"]["build_s"], b["fts5"]["build_s"]], ".1f")
    row("  of which: parse the files", [None, b["whoosh"]["parse_s"], b["fts5"]["parse_s"]], ".1f")
    row("no-op re-run (s)", [inc["noop"]["wall_s"], None, None], ".2f", "noop_s")
    row("  update_index alone (s)", [inc["noop"]["inproc_s"], None, None], ".1f")
    row("+50 new files (s)", [inc["add50"]["wall_s"], None, None], ".2f", "add50_s")
    row("  update_index alone (s)", [inc["add50"]["inproc_s"], None, None], ".1f")
    row("50 touched (s)", [inc["touch50"]["wall_s"], None, None], ".2f")
    row("50 edited (s)", [inc["change50"]["wall_s"], None, None], ".2f")
    row("warm query p50 (ms)", [w[k]["p50_ms"] for k in cols], ".1f", "query_p50_ms")
    row("warm query p95 (ms)", [w[k]["p95_ms"] for k in cols], ".1f", "query_p95_ms")
    row("warm query max (ms)", [w[k]["max_ms"] for k in cols], ".1f")
    row(f"cold search {COLD_QUERY} (s)", [c[k] for k in cols], ".2f", "cold_s")
    row("index size (MB)", [b[k]["size_mb"] for k in cols], ".1f")
    row("indexer peak memory, PSS (MB)", [b[k]["tree_mb"] for k in cols], ".0f", "peak_rss_mb")
    row("  largest process, RSS (MB)", [b[k]["rss_mb"] for k in cols], ".0f")
    print(f"segmentation alone (cut_for_search, title+lead+body): jieba {b['jieba']['segment_s']:.1f} s "
          f"(+ {b['jieba']['load_s']:.1f} s dictionary load), rjieba {b['rjieba']['segment_s']:.1f} s "
          f"(+ {b['rjieba']['load_s']:.2f} s); parsing the files {b['jieba']['parse_s']:.1f} s")
    print("ratios (zhsearch / peer, measured in this run):")
    for key, v in r.items():
        print(f"  {key:<40}{v:>8.2f}{goal(v, 'build_ratio_fts5') if key == 'build_zhsearch/fts5' else ''}")
    print_counts(res["counts"])
    slow = sorted(w["zhsearch"]["per_query_ms"].items(), key=lambda kv: -kv[1])[:5]
    print("zhsearch's slowest queries (ms): " + ", ".join(f"{q} {v:.0f}" for q, v in slow))
    for name in cols:
        if w[name]["errors"]:
            print(f"{name} query errors: {w[name]['errors']}")


# ---------------------------------------------------------------- profile


def profile(files: list[Path], pool: Path, work: Path) -> None:
    """cProfile, in this process, of an update_index build and of three rounds of the warm queries."""
    import cProfile
    import pstats

    corpus, idx = work / "profile-corpus", work / "profile-index"
    copy_corpus(files, pool, corpus)
    shutil.rmtree(idx, ignore_errors=True)
    from indexer import update_index

    prof = cProfile.Profile()
    prof.runcall(update_index, [corpus], idx)
    profiles = [("build", prof)]
    zh = ZhsearchQ(idx)
    for _, q in QUERIES:  # untimed round: the profile is of warm queries
        zh(q)
    prof = cProfile.Profile()
    prof.runcall(lambda: [zh(q) for _ in range(3) for _, q in QUERIES])
    profiles.append(("warm queries (3 rounds)", prof))
    for label, prof in profiles:
        path = WORK / f"{label.split()[0]}.prof"
        prof.dump_stats(path)
        for order in ("cumulative", "tottime"):
            print(f"\n--- {label}: top 10 by {order} time (full profile: {path.relative_to(ROOT)})")
            pstats.Stats(prof).sort_stats(order).print_stats(10)



# ---------------------------------------------------------------- results


def ledger_for(results: Path) -> Path:
    """Where the scale runs saved with `results` are kept: bench/scale-runs.json for the real
    results file, a file beside any other (--quick runs, tests)."""
    return LEDGER if results == RESULTS else results.with_name(results.stem + "-scale-runs.json")


def save_results(path: Path, key: str, value: dict) -> dict:
    """Adds one section to the results file and returns the whole file: `main` and `daily` are
    replaced, `scale` merges scale by scale (a later ×100 run keeps the ×1 and ×20 of an earlier one)
    and appends each scale's builds to the ledger of scale runs (bench/scale_runs.py), which the
    file's `scale_runs` repeats for the goals."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    ledger_path = ledger_for(path)
    # a results file of the older layout kept the ledger in itself
    ledger = scale_runs.read(ledger_path) or data.get("scale_runs", {})
    if key == "scale":
        data.setdefault("scale", {}).pop("meta", None)  # the file's older layout: one meta for all scales
        data["scale"].update(value)
        for name, res in value.items():
            ledger = scale_runs.add(ledger, name, scale_runs.entry(res))
        scale_runs.write(ledger_path, ledger)
    else:
        data[key] = value
    if ledger:
        data["scale_runs"] = ledger
    data["goals"] = goals.as_json(goals.check(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
    return data


def _git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def parse_scales(text: str) -> list[int]:
    """"1 20 100" (as make passes SCALES) or "1,20,100"."""
    scales = [int(s) for s in re.split(r"[,\s]+", text.strip()) if s]
    if not scales or min(scales) < 1:
        raise argparse.ArgumentTypeError(f"scales are whole numbers >= 1, not {text!r}")
    return scales


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_FILES} pool files only: a smoke run of every path (results in {QUICK_RESULTS.relative_to(ROOT)})")
    ap.add_argument("--runs", type=int, help="runs of each build, median reported (default 5, the textbook Whoosh "
                                             "recipe at most 3; scale runs 3; --quick 2)")
    ap.add_argument("--reps", type=int, help="timed rounds of the warm query set (default 5; --quick 2)")
    ap.add_argument("--cold-runs", type=int, help="fresh-process queries per system (default 5; --quick 2)")
    ap.add_argument("--inc-runs", type=int, help="rounds of each incremental re-run (default 3; --quick 1)")
    ap.add_argument("--daily", action="store_true", help="only the steady-daily-updates case (make bench runs it "
                                                         "after the main run)")
    ap.add_argument("--no-daily", action="store_true", help="the main run without the daily-updates case")
    ap.add_argument("--daily-steps", type=int, help="daily case: update runs (default 60; --quick 4)")
    ap.add_argument("--scale", action="store_true", help="the scale run instead (make bench-scale)")
    ap.add_argument("--scales", type=parse_scales, help='with --scale: replication factors, "1 20 100" or 1,20,100 '
                                                        f'(default "1 20"; --quick "{QUICK_SCALES}")')
    ap.add_argument("--no-fts5", dest="fts5", action="store_false",
                    help="with --scale: zhsearch alone, no FTS5+jieba build beside it (at x100 that build alone takes "
                         "about two hours here); the ratios are then left out")
    ap.add_argument("--no-compact", dest="compact", action="store_false",
                    help="with --scale: skip `zhsearch index --compact` even where zhsearch has it")
    ap.add_argument("--work", type=Path, default=WORK, help="where the scratch folder goes (default bench/work; "
                                                            "×100 needs ~25 GB free)")
    ap.add_argument("--profile", action="store_true", help="cProfile a zhsearch build and warm queries")
    args = ap.parse_args(argv)
    # A smoke run goes down every path once or twice; the defaults are for figures.
    defaults = {"runs": 2 if args.quick else 3 if args.scale else 5, "reps": 2 if args.quick else 5,
                "cold_runs": 2 if args.quick else 5, "inc_runs": 1 if args.quick else 3}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.scales is None:
        args.scales = parse_scales(QUICK_SCALES if args.quick else "1 20")
    start, steps, add = daily.QUICK if args.quick else daily.DEFAULT
    steps = args.daily_steps or steps

    pool = bpool.pool_or_why()
    if pool is None:
        return 0
    files = bpool.pool_files(pool)
    if args.quick:  # every n-th file: all outlets, not the first folder's
        files = files[:: max(1, len(files) // QUICK_FILES)][:QUICK_FILES]
    results = QUICK_RESULTS if args.quick else RESULTS
    try:
        with Scratch(args.work) as work:
            log(f"scratch folder {work} (deleted at the end)")
            return run(args, pool, files, work, results, (start, steps, add))
    except (KeyboardInterrupt, Interrupted):
        print("interrupted; scratch folder deleted", file=sys.stderr)
        return 130


def run(args, pool: Path, files: list[Path], work: Path, results: Path, daily_plan: tuple[int, int, int]) -> int:
    if args.profile:
        profile(files, pool, work)
        return 0
    started = time.monotonic()
    load_before = load()
    records = bpool.load_records(pool, files)
    head = _git_head()
    meta = {"pool": str(pool), "files": len(files), "articles": len(records),
            "chars": sum(len(r.title) + len(r.lead) + len(r.body) for r in records),
            "quick": args.quick, "runs": args.runs, "reps": args.reps, "cold_runs": args.cold_runs,
            "queries": [q for _, q in QUERIES], "cold_query": COLD_QUERY, "goals": GOALS,
            "git_head": head, "build_code": scale_runs.build_code(ROOT, head),
            "query_code": scale_runs.build_code(ROOT, head, scale_runs.QUERY_CODE_PATHS),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "zhsearch_build": "CLI `zhsearch index` in a child process (wall); update_index's own time from its summary line",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_before": load_before}
    del records
    data: dict = {}
    if args.scale:
        base = pool
        if args.quick:
            base = work / "scale-corpus"
            copy_corpus(files, pool, base)
        args.compact = args.compact and children.has_compact()
        res = {}
        for n in args.scales:
            res[f"x{n}"] = scale.one_scale(n, files, pool, base, work, args)
            res[f"x{n}"]["meta"] |= {k: meta[k] for k in SCALE_META}
            data = save_results(results, "scale", {f"x{n}": res[f"x{n}"]})  # each scale saved as soon as it is done
            log(f"x{n}: done in {res[f'x{n}']['elapsed_s']:.0f} s")
        scale.print_scale(res)
        for name in res:
            print(scale_runs.describe(name, data.get("scale_runs", {}).get(name, {})))
        print(f"scale run took {(time.monotonic() - started) / 60:.1f} min; "
              f"load average {load_before} -> {load()}")
    else:
        if not args.daily:
            res = main_bench(args, pool, files, work)
            meta.update(elapsed_s=time.monotonic() - started, load_after=load())
            print_main(res, meta)
            data = save_results(results, "main", {"meta": meta, **res})
        if args.daily or not args.no_daily:
            d = daily.daily_bench(files, pool, work, *daily_plan, reps=args.reps)
            d["meta"] |= {k: meta[k] for k in ("git_head", "quick", "cpus", "python")}
            daily.print_daily(d)
            data = save_results(results, "daily", d)
    goals.print_goals(goals.check(data), quick=args.quick)
    print(f"written to {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
