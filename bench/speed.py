"""Speed benchmark: zhsearch beside its two peers on the shared article pool (issue 5).

    python bench/speed.py                  # `make bench`: builds, re-runs, queries; table + bench/results.json
    python bench/speed.py --quick          # the same on 500 pool files: a smoke run
    python bench/speed.py --runs 3         # median of 3 runs of every build (default 5)
    python bench/speed.py --scale          # `make bench-scale`: the pool x1, x5, x20 (--scales 1,5 to limit)
    python bench/speed.py --quick --profile  # cProfile of a zhsearch build and of warm queries, top 10

What runs where. Every build is a child process (its wall time and its own peak RSS, from
os.wait4), one after the other, interleaved run by run, so that the load other users put on
this shared machine falls on all systems alike; the ratios are the point, not the seconds.

* zhsearch: `zhsearch index CORPUS --index DIR` (the CLI, as a user runs it) into a fresh
  folder; its summary line also gives update_index's own seconds. Re-runs (no-op, +50 new
  files, 50 touched, 50 edited) are the same command on the same index.
* whoosh (the textbook recipe) and fts5 (SQLite FTS5 over jieba's cut_for_search):
  bench/peers.py's builders, in bench/speed_child.py, which first parses the same corpus with
  zhsearch's reader (timed apart: parse_s) so that both sides go from files to an index.
* jieba / rjieba segmentation alone over every record (title, lead, body): the floor of any
  build that segments with them.

The corpus is a copy of the pool in bench/work/speed/ (the incremental steps touch and edit
files; nothing is written under the pool). Warm queries run in this process, all systems on
one query at a time, several rounds; a query's latency is its median over the rounds, and
p50/p95/max are over the query set. Timelines and facets are measured beside search on the
same index (bench/counts.py, also at each scale). Cold queries are fresh processes, the first run discarded
(it fills the page cache and jieba's dictionary cache), the median of the rest reported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", category=SyntaxWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

from bench import pool as bpool  # noqa: E402
from bench.counts import count_queries, print_counts  # noqa: E402

WORK = ROOT / "bench" / "work" / "speed"
RESULTS = ROOT / "bench" / "results.json"
BIN = Path(sys.executable).parent  # the venv's bin: `zhsearch` sits beside this python
CHILD = [sys.executable, str(ROOT / "bench" / "speed_child.py")]
PEERS = ("whoosh", "fts5")
QUICK_FILES = 500

# Fixed query set; the comments give document frequencies on the pool's 4,430 articles (the rare
# ones: 2-12). Phrases are in quotes; zhsearch finds them literally.
QUERIES = [
    # single words, very common to rare
    ("common", "中国"), ("common", "美国"), ("common", "表示"), ("common", "政府"),  # 2,300-2,950
    ("word", "香港"), ("word", "疫情"), ("word", "新冠"), ("word", "国安法"), ("word", "特朗普"),  # 790-1,860
    ("word", "华为"), ("word", "疫苗"), ("word", "关税"),  # 100-320
    ("rare", "卡塔尔"), ("rare", "贝鲁特"), ("rare", "余英时"), ("rare", "马提尼克岛"), ("rare", "熊猫"), ("rare", "稀土"),
    ("latin", "TikTok"), ("latin", "COVID-19"), ("latin", "G7"),
    # two or three words
    ("words", "香港 国安法"), ("words", "美国 中国 贸易"), ("words", "新冠 疫苗"), ("words", "特朗普 拜登 选举"),
    ("words", "欧盟 制裁 俄罗斯"), ("words", "华为 5G"), ("words", "武汉 口罩"),
    # a Chinese run typed without spaces, and phrases in quotes
    ("run", "中美关系"), ("phrase", '"一国两制"'), ("phrase", '"世界卫生组织"'), ("phrase", '"中美贸易战"'),
    ("phrase", '"美国总统特朗普"'), ("phrase", '"黑人的命也是命"'),
]
COLD_QUERY = "香港"

# Issue 5's goals, by figure; a figure meets its goal when it is <= the limit.
GOALS = {
    "build_ratio_fts5": 1.0, "noop_s": 1.0, "add50_s": 3.0, "query_p50_ms": 10.0, "query_p95_ms": 30.0,
    "cold_s": 0.5, "peak_rss_mb": 500.0, "x20_query_p95_ms": 60.0,
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- measuring helpers


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


def run_child(argv: list, stdout=None) -> dict:
    """Run one process to its end: wall seconds, peak memory (MB), exit code, output.

    rss_mb: os.wait4's peak RSS of that child (the largest of it and the children it waited
    for; getrusage(RUSAGE_CHILDREN) would give the largest peak of every child so far).
    tree_mb: the peak of the summed PSS of the child and its descendants, sampled every
    0.1 s (Linux /proc; 0 where it is missing): what a forked second process adds.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen([str(a) for a in argv], stdout=stdout or out, stderr=err, cwd=ROOT)
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
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait
        out.seek(0)
        err.seek(0)
        return {"wall_s": wall, "rss_mb": usage.ru_maxrss / 1024, "tree_mb": peak[0], "code": proc.returncode,
                "stdout": out.read().decode(errors="replace"), "stderr": err.read().decode(errors="replace")}


def child_json(argv: list) -> dict:
    r = run_child(argv)
    if r["code"] != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed ({r['code']}):\n{r['stderr'][-2000:]}")
    return {**json.loads(r["stdout"].strip().splitlines()[-1]), "wall_s": r["wall_s"], "rss_mb": r["rss_mb"],
            "tree_mb": r["tree_mb"]}


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


# ---------------------------------------------------------------- corpora


_URL_HOST = re.compile(rb"\]\(\s*https?://[^/\s)?#]+", re.I)


def with_new_url(data: bytes, tag: str) -> bytes:
    """The same article under a distinct URL: a first path segment after the host (the indexer
    drops fragments, and the host names the outlet)."""
    return _URL_HOST.sub(lambda m: m.group(0) + b"/" + tag.encode(), data, count=1)


def copy_corpus(files: list[Path], pool: Path, dest: Path) -> None:
    """A private copy: the incremental steps touch and edit files, which the pool must never see."""
    shutil.rmtree(dest, ignore_errors=True)
    for p in files:
        target = dest / p.relative_to(pool)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)


def write_replicas(files: list[Path], pool: Path, dest: Path, copies: int) -> None:
    """Copies 1..copies of every file, each under dest/rNN/ with its own URL (copy 0 is the pool itself)."""
    shutil.rmtree(dest, ignore_errors=True)
    for k in range(1, copies + 1):
        for p in files:
            target = dest / f"r{k:02d}" / p.relative_to(pool)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(with_new_url(p.read_bytes(), f"bench-r{k:02d}"))


# ---------------------------------------------------------------- zhsearch via its CLI


_SUMMARY = re.compile(r"(\d+) documents in the index \(([\d.]+) s\)")


def zhsearch_index(corpora: list[Path], index: Path) -> dict:
    r = run_child([BIN / "zhsearch", "index", *corpora, "--index", index])
    m = _SUMMARY.search(r["stderr"])
    if r["code"] != 0 or not m:
        sys.exit(f"zhsearch index failed ({r['code']}):\n{r['stderr'][-2000:]}")
    return {"wall_s": r["wall_s"], "inproc_s": float(m.group(2)), "rss_mb": r["rss_mb"], "tree_mb": r["tree_mb"],
            "documents": int(m.group(1)), "summary": r["stderr"].strip().splitlines()[-1]}


def zhsearch_build(corpora: list[Path], index: Path) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    return {**zhsearch_index(corpora, index), "size_mb": du_mb(index)}


def incremental(corpus: Path, index: Path, files: list[Path], reps: int) -> dict:
    """No-op re-runs, then per round: +50 new files, 50 touched (same content), 50 edited."""
    rng = random.Random(5)
    existing = sorted(p for p in corpus.rglob("*") if p.is_file())
    touched = rng.sample(existing, 50)
    edited = rng.sample(sorted(set(existing) - set(touched)), 50)
    steps: dict[str, list[dict]] = {"noop": [], "add50": [], "touch50": [], "change50": []}
    for _ in range(reps):
        steps["noop"].append(zhsearch_index([corpus], index))
    for k in range(reps):
        new_dir = corpus / "bench-new" / f"round{k}"
        new_dir.mkdir(parents=True)
        for i, p in enumerate(rng.sample(files, 50)):
            (new_dir / f"{i:02d}-{p.name}").write_bytes(with_new_url(p.read_bytes(), f"bench-new{k}-{i}"))
        steps["add50"].append(zhsearch_index([corpus], index))
        stamp = time.time_ns() + k * 10**9  # a new mtime each round; the content stays
        for p in touched:
            os.utime(p, ns=(stamp, stamp))
        steps["touch50"].append(zhsearch_index([corpus], index))
        for p in edited:
            with p.open("ab") as f:
                f.write(f"\n<p>基准测试第{k}次修改了这篇文章。</p>\n".encode())
        steps["change50"].append(zhsearch_index([corpus], index))
    return {name: {"wall_s": median([r["wall_s"] for r in rs]), "inproc_s": median([r["inproc_s"] for r in rs]),
                   "runs": [round(r["wall_s"], 3) for r in rs], "summary": rs[-1]["summary"]}
            for name, rs in steps.items()}


# ---------------------------------------------------------------- warm and cold queries


class ZhsearchQ:
    def __init__(self, index: Path):
        import search

        self.ix = search.open_index(index)

    def __call__(self, text: str) -> int:
        hits = list(self.ix.search(text, limit=10))
        for h in hits:  # snippets are made with the page; reading them keeps this honest if that changes
            _ = (h.snippet, h.highlights)
        return len(hits)


class WhooshQ:
    """The textbook recipe: highlights re-analyse each hit's body with the ChineseAnalyzer.
    Its index stores no text, so the body comes from the records in memory (a free lookup)."""

    def __init__(self, index: Path, records):
        from bench import peers

        self.peer = peers.WhooshPeer(index, "and")
        self.text = {r.url: r.body for r in records}

    def __call__(self, text: str) -> int:
        results = self.peer.searcher.search(self.peer.parser.parse(text), limit=10, terms=True)
        n = 0
        for hit in results:  # len(results) would be every match, not the page
            hit.highlights("body", text=self.text[hit["url"]])
            n += 1
        return n


class Fts5Q:
    def __init__(self, index: Path):
        from bench import peers

        self.peer = peers.Fts5Peer(index, (1.0, 1.0, 1.0))

    def __call__(self, text: str) -> int:
        expr = self.peer.match_expr(text)
        if not expr:
            return 0
        rows = self.peer.db.execute(
            "select url, snippet(docs, -1, '[', ']', '…', 16) from docs where docs match ? "
            "order by bm25(docs, 0, ?, ?, ?) limit 10", [expr, *self.peer.weights]).fetchall()
        return len(rows)


def warm_queries(systems: dict, reps: int) -> dict:
    """All systems on one query at a time, `reps` rounds after one untimed round."""
    samples = {name: {q: [] for _, q in QUERIES} for name in systems}
    hits = {name: {} for name in systems}
    errors = {name: {} for name in systems}
    for round_ in range(reps + 1):
        for _, q in QUERIES:
            for name, fn in systems.items():
                started = time.perf_counter()
                try:
                    n = fn(q)
                except Exception as exc:  # a query one system cannot run is reported, not fatal
                    errors[name][q] = f"{type(exc).__name__}: {exc}"
                    continue
                elapsed = time.perf_counter() - started
                if round_:
                    samples[name][q].append(elapsed * 1000)
                hits[name][q] = n
    out = {}
    for name in systems:
        per_query = {q: median(v) for q, v in samples[name].items() if v}
        ms = list(per_query.values())
        out[name] = {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "max_ms": max(ms),
                     "per_query_ms": {q: round(v, 2) for q, v in per_query.items()},
                     "hits": hits[name], "errors": errors[name]}
    return out


def cold_queries(commands: dict[str, list], runs: int) -> dict[str, float]:
    """Median wall time of each command, run in turns; the first turn is untimed."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs + 1):
        for name, argv in commands.items():
            r = run_child(argv, stdout=subprocess.DEVNULL)
            if r["code"] not in (0, 1):  # 1: no hits, still a complete query
                sys.exit(f"{' '.join(map(str, argv))} failed ({r['code']}):\n{r['stderr'][-2000:]}")
            if i:
                times[name].append(r["wall_s"])
    return {name: median(ts) for name, ts in times.items()}


# ---------------------------------------------------------------- the main benchmark


def main_bench(args, pool: Path, files: list[Path]) -> dict:
    corpus, idx = WORK / "corpus", WORK / "index"
    log(f"copying {len(files)} pool files to {corpus} ...")
    copy_corpus(files, pool, corpus)
    slow_runs = min(args.runs, 3)  # the textbook recipe takes ~50 s a build
    builds: dict[str, list[dict]] = {"zhsearch": [], "whoosh": [], "fts5": [], "jieba": [], "rjieba": []}
    for run in range(args.runs):
        log(f"[run {run + 1}] zhsearch build ...")
        builds["zhsearch"].append(zhsearch_build([corpus], idx / "zhsearch"))
        log(f"  {builds['zhsearch'][-1]['wall_s']:.1f} s, {builds['zhsearch'][-1]['tree_mb']:.0f} MB")
        for kind in PEERS:
            if kind == "fts5" or run < slow_runs:
                out = idx / ("fts5.sqlite" if kind == "fts5" else kind)
                log(f"[run {run + 1}] {kind} build ...")
                builds[kind].append({**child_json([*CHILD, "build", kind, corpus, out]), "size_mb": du_mb(out)})
                log(f"  {builds[kind][-1]['wall_s']:.1f} s, {builds[kind][-1]['tree_mb']:.0f} MB")
        for kind in ("jieba", "rjieba"):
            log(f"[run {run + 1}] {kind} segmentation ...")
            builds[kind].append(child_json([*CHILD, "segment", kind, corpus]))
            log(f"  {builds[kind][-1]['segment_s']:.1f} s")

    build = {kind: summarize(runs) for kind, runs in builds.items()}

    log(f"warm queries: {len(QUERIES)} queries x {args.reps} rounds x 3 systems ...")
    records = bpool.load_records(corpus, bpool.pool_files(corpus))
    systems = {"zhsearch": ZhsearchQ(idx / "zhsearch"), "whoosh": WhooshQ(idx / "whoosh", records),
               "fts5": Fts5Q(idx / "fts5.sqlite")}
    warm = warm_queries(systems, args.reps)
    log(f"cold queries ({COLD_QUERY}), {args.cold_runs} runs each ...")
    cold = cold_queries({"zhsearch": [BIN / "zhsearch", "search", "--index", idx / "zhsearch", COLD_QUERY],
                         "whoosh": [*CHILD, "cold", "whoosh", idx / "whoosh", COLD_QUERY],
                         "fts5": [*CHILD, "cold", "fts5", idx / "fts5.sqlite", COLD_QUERY]}, args.cold_runs)

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


def summarize(runs: list[dict]) -> dict:
    """The median of every number over the runs, and the wall times of each run."""
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    return {k: median([r[k] for r in runs]) for k in keys} | {"runs_wall_s": [round(r["wall_s"], 2) for r in runs]}


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


# ---------------------------------------------------------------- scale


def scale_bench(args, pool: Path, files: list[Path], base: Path) -> dict:
    """The corpus x1, x5, x20: copy 0 is `base` itself, copies 1.. are written to bench/work."""
    out = {}
    for n in args.scales:
        started = time.monotonic()
        replicas, idx = WORK / "replicas", WORK / f"index-x{n}"
        log(f"x{n}: writing {n - 1} copies ...")
        write_replicas(files, pool, replicas, n - 1)
        corpora = [base] + ([replicas] if n > 1 else [])
        log(f"x{n}: zhsearch build ...")
        b = zhsearch_build(corpora, idx)
        log(f"x{n}: {b['wall_s']:.0f} s; warm and cold queries ...")
        warm = warm_queries({"zhsearch": ZhsearchQ(idx)}, args.reps)["zhsearch"]
        counts = count_queries(idx, args.reps)
        cold = cold_queries({"zhsearch": [BIN / "zhsearch", "search", "--index", idx, COLD_QUERY]},
                            args.cold_runs)["zhsearch"]
        out[f"x{n}"] = {"files": len(files) * n, "build": b, "cold_s": cold, "counts": counts,
                        **{k: warm[k] for k in ("p50_ms", "p95_ms", "max_ms", "per_query_ms")},
                        "elapsed_s": time.monotonic() - started}
        shutil.rmtree(replicas, ignore_errors=True)  # up to 20 x 33 MB
        shutil.rmtree(idx, ignore_errors=True)
        log(f"x{n}: done in {out[f'x{n}']['elapsed_s']:.0f} s")
    return out


def print_scale(res: dict) -> None:
    head = f"{'scale':<7}{'files':>8}{'build s':>9}{'s/1k files':>11}{'mem MB':>8}{'size MB':>9}" \
           f"{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'cold s':>8}{'took s':>8}"
    print("\n" + head + "\n" + "-" * len(head))
    for name, s in res.items():
        b = s["build"]
        print(f"{name:<7}{s['files']:>8}{b['wall_s']:>9.1f}{b['wall_s'] / s['files'] * 1000:>11.2f}{b['tree_mb']:>8.0f}"
              f"{b['size_mb']:>9.1f}{s['p50_ms']:>8.1f}{s['p95_ms']:>8.1f}{s['max_ms']:>8.1f}{s['cold_s']:>8.2f}"
              f"{s['elapsed_s']:>8.0f}")
    for name, s in res.items():
        print_counts(s["counts"], f" {name}")
    for name, s in res.items():
        print(f"{name}: query p95 {s['p95_ms']:.1f} ms{goal(s['p95_ms'], 'x20_query_p95_ms') if name == 'x20' else ''}; "
              f"indexer peak memory (PSS, all processes) {s['build']['tree_mb']:.0f} MB"
              f"{goal(s['build']['tree_mb'], 'peak_rss_mb')}")


# ---------------------------------------------------------------- profile


def profile(files: list[Path], pool: Path) -> None:
    """cProfile, in this process, of an update_index build and of three rounds of the warm queries."""
    import cProfile
    import pstats

    corpus, idx = WORK / "profile-corpus", WORK / "profile-index"
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


# ---------------------------------------------------------------- main


def _results(key: str, value: dict) -> None:
    """bench/results.json holds the last main run and the last scale run side by side."""
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        data = {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")


def _git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_FILES} pool files only: a smoke run")
    ap.add_argument("--runs", type=int, default=5, help="runs of each build, median reported (default 5; "
                                                       "the textbook Whoosh recipe at most 3)")
    ap.add_argument("--reps", type=int, default=5, help="timed rounds of the warm query set (default 5)")
    ap.add_argument("--cold-runs", type=int, default=5, help="fresh-process queries per system (default 5)")
    ap.add_argument("--inc-runs", type=int, default=3, help="rounds of each incremental re-run (default 3)")
    ap.add_argument("--scale", action="store_true", help="the scale run instead (make bench-scale)")
    ap.add_argument("--scales", default="1,5,20", help="with --scale: replication factors (default 1,5,20)")
    ap.add_argument("--profile", action="store_true", help="cProfile a zhsearch build and warm queries")
    args = ap.parse_args(argv)
    args.scales = [int(s) for s in args.scales.split(",")]

    pool = bpool.pool_dir()
    if not pool.is_dir():
        print(f"skipped: pool absent ({pool}); set ZHSEARCH_SHARED to the folder that holds corpus-pool/")
        return 0
    files = bpool.pool_files(pool)
    if args.quick:  # every n-th file: all outlets, not the first folder's
        files = files[:: max(1, len(files) // QUICK_FILES)][:QUICK_FILES]
    WORK.mkdir(parents=True, exist_ok=True)
    if args.profile:
        profile(files, pool)
        return 0

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    records = bpool.load_records(pool, files)
    meta = {"pool": str(pool), "files": len(files), "articles": len(records),
            "chars": sum(len(r.title) + len(r.lead) + len(r.body) for r in records),
            "quick": args.quick, "runs": args.runs, "reps": args.reps, "cold_runs": args.cold_runs,
            "queries": [q for _, q in QUERIES], "cold_query": COLD_QUERY, "goals": GOALS,
            "git_head": _git_head(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "zhsearch_build": "CLI `zhsearch index` in a child process (wall); update_index's own time from its summary line",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_before": round(load_before, 2)}
    if args.scale:
        base = pool
        if args.quick:
            base = WORK / "scale-corpus"  # not main_bench's corpus, which its re-runs have edited
            copy_corpus(files, pool, base)
        res = scale_bench(args, pool, files, base)
        meta.update(elapsed_s=time.monotonic() - started, load_after=round(os.getloadavg()[0], 2))
        print_scale(res)
        print(f"scale run took {meta['elapsed_s'] / 60:.1f} min; load average {meta['load_before']} -> {meta['load_after']}")
        _results("scale", {"meta": meta, **res})
    else:
        res = main_bench(args, pool, files)
        meta.update(elapsed_s=time.monotonic() - started, load_after=round(os.getloadavg()[0], 2))
        print_main(res, meta)
        _results("main", {"meta": meta, **res})
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
