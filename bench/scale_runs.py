"""The builds and query figures of every scale run, kept across runs: the issue's medians of 3 at ×100.

One ×100 build of each system takes ~2.5 h of this machine, so three of each do not fit in one
sitting. Every scale run appends its builds (zhsearch's and FTS5+jieba's, side by side in that
run, each with its load) and its query figures to the results file's `scale_runs`. The pooled
builds are medians over the runs made with the same indexing code as the latest one: the git
trees of indexer/ and pyproject.toml at the run's commit, taken when the run starts (bench/speed.py's
meta `build_code`). The pooled query figures are medians over the runs made with the same
indexing and search code (`query_code`, the trees of search/ as well): a query figure is already a
median within its run, and pooled it is the median of the runs' figures, so that one run on a
slowed host does not decide it. A run from a work tree whose code differs from its commit gets a
code of its own, so it is never pooled with another; a run without one is never pooled.

The ledger is a file of its own, kept in git (bench/scale-runs.json, beside the relevance
results): a ×100 run fills most of a working session, so the three runs of a median are made in
different sessions, and a checkout that starts afresh has no results file of the ones before.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bench.measure import median

CODE_PATHS = ("indexer", "pyproject.toml")
QUERY_CODE_PATHS = (*CODE_PATHS, "search")
QUERY_KEYS = ("p50_ms", "p95_ms", "max_ms", "cold_s", "stats_s")


def build_code(root: Path, head: str, paths: tuple[str, ...] = CODE_PATHS) -> str:
    """The code under `paths` a run was made with, as git trees; "" when git cannot tell."""
    if not head:
        return ""
    try:
        trees = subprocess.run(["git", "rev-parse", *(f"{head}:{p}" for p in paths)], cwd=root,
                               capture_output=True, text=True)
        clean = subprocess.run(["git", "diff", "--quiet", head, "--", *paths], cwd=root)
    except OSError:
        return ""
    if trees.returncode:
        return ""
    code = "+".join(t[:12] for t in trees.stdout.split())
    return code if clean.returncode == 0 else f"{code}+changed"


def read(path: Path) -> dict:
    """The ledger kept in `path`; {} where there is none yet."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def write(path: Path, ledger: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ledger, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def entry(result: dict) -> dict:
    """One run's builds and query figures (with the load during its warm queries, for the record),
    from a scale's result (bench/scale.py one_scale)."""
    runs, meta = result["build_runs"], result["meta"]

    def builds(kind: str) -> list[dict]:
        return [{"wall_s": round(r["wall_s"], 2), "tree_mb": round(r["tree_mb"], 1), "size_mb": round(r["size_mb"], 1),
                 "load": r.get("load")} for r in runs.get(kind) or []]

    queries = {k: round(result[k], 4) for k in QUERY_KEYS if result.get(k) is not None}
    return {"started": meta["started"], "git_head": meta.get("git_head", ""), "code": meta.get("build_code", ""),
            "quick": meta.get("quick", False), "zhsearch": builds("zhsearch"), "fts5": builds("fts5"),
            **({"queries": {**queries, "warm_load": result.get("warm_load"), "code": meta.get("query_code", "")}}
               if queries else {})}


def add(ledger: dict, scale: str, e: dict) -> dict:
    """`ledger` (the results file's `scale_runs`) with `e` appended to `scale`'s runs and that
    scale's pooled figures brought up to date."""
    runs = [r for r in (ledger.get(scale) or {}).get("runs", []) if r["started"] != e["started"]] + [e]
    return {**ledger, scale: {"runs": runs, **pooled(runs)}}


def pooled(runs: list[dict]) -> dict:
    """Medians over the runs of the latest run's code that built both systems (quick runs aside)."""
    latest = runs[-1]
    same = [r for r in runs if r["code"] and r["code"] == latest["code"] and not r["quick"]
            and r["zhsearch"] and r["fts5"]]
    if not same:
        return {"code": latest["code"], "runs_pooled": 0}
    zh = [b for r in same for b in r["zhsearch"]]
    fts = [b for r in same for b in r["fts5"]]
    zh_s, fts_s = median([b["wall_s"] for b in zh]), median([b["wall_s"] for b in fts])
    # Each run's ratio sets the two systems side by side on one host at one time; the ratio of the
    # pooled medians mixes hosts (on 2026-12-04 a host ~1.5x faster than the day before gave 1.04x
    # where the slower one had given 0.86-0.94x).
    by_run = [median([b["wall_s"] for b in r["zhsearch"]]) / median([b["wall_s"] for b in r["fts5"]]) for r in same]
    loads = [x for b in zh + fts for x in (b["load"] or [])]
    return {"code": latest["code"], "runs_pooled": len(same), "builds_pooled": min(len(zh), len(fts)),
            "zhsearch_wall_s": zh_s, "fts5_wall_s": fts_s, "build_zhsearch/fts5": zh_s / fts_s,
            "build_ratios_by_run": by_run, "build_ratio_median_by_run": median(by_run),
            "tree_mb": median([b["tree_mb"] for b in zh]), "max_tree_mb": max(b["tree_mb"] for b in zh),
            **_pooled_queries(same, latest),
            "meta": {"started": f"{same[0]['started']} to {same[-1]['started']}",
                     "load_before": min(loads, default=None), "load_after": max(loads, default=None)}}


def _pooled_queries(runs: list[dict], latest: dict) -> dict:
    """The query figures' medians over the runs of the latest run's search code that kept them all
    (runs saved before the ledger kept queries have none)."""
    code = (latest.get("queries") or {}).get("code")
    if not code:
        return {}
    measured = [q for q in (r.get("queries") or {} for r in runs)
                if q.get("code") == code and all(k in q for k in QUERY_KEYS)]
    if not measured:
        return {}
    return {"queries": {"runs": len(measured), "code": code,
                        **{k: median([q[k] for q in measured]) for k in QUERY_KEYS}}}


def describe(scale: str, pooled_: dict) -> str:
    n = pooled_.get("runs_pooled", 0)
    if not n:
        code = pooled_.get("code") or "unknown"
        return f"{scale}: no full run (not --quick) of this indexing code ({code}) built both systems"
    return (f"{scale}: builds pooled over {n} run(s) of this indexing code ({pooled_['code']}), "
            f"{pooled_['builds_pooled']} of each: zhsearch median {pooled_['zhsearch_wall_s']:.1f} s, "
            f"FTS5+jieba {pooled_['fts5_wall_s']:.1f} s, ratio {pooled_['build_zhsearch/fts5']:.2f} "
            f"(run by run {_span(pooled_['build_ratios_by_run'])}, median {pooled_['build_ratio_median_by_run']:.2f}; "
            f"the goal asks for medians of 3 builds); peak {pooled_['tree_mb']:.0f} MB median, "
            f"{pooled_['max_tree_mb']:.0f} MB at most" + _describe_queries(pooled_.get("queries")))


def _span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def _describe_queries(q: dict | None) -> str:
    if not q:  # _pooled_queries gives every figure or none
        return ""
    return (f"; warm p50/p95 {q['p50_ms']:.1f}/{q['p95_ms']:.1f} ms, cold search {q['cold_s']:.2f} s, "
            f"medians over {q['runs']} run(s) that kept them")
