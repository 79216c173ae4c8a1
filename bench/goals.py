"""The speed goals of issues 5, 12 and 15, checked against bench/results.json.

A goal names the section of the results that measures it (`main`: `make bench`; `scale/x20`:
that scale of `make bench-scale`; `scale_runs/x100`: the ×100 builds and query figures pooled
over runs of the same code, bench/scale_runs.py; `daily`: the steady-daily-updates case;
`serve`: the load on `zhsearch serve`, bench/serve_load.py), how to read its figure there, and
its limit; a figure meets its goal when it is <= the limit. The table is
printed from the whole results file, so that a ×100 run in the background and a ×1/×20 run
earlier both show, each with the date and load average of the run that measured it. A goal
whose section was not run says so, rather than passing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

Figure = Callable[[dict], "float | None"]


@dataclass(frozen=True, slots=True)
class Goal:
    issue: int
    label: str
    section: str  # "main", "daily", "serve", "scale/xN" or "scale_runs/xN"
    figure: Figure
    limit: float | Figure  # a function of the section where the limit depends on it (daily runs)
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    issue: int
    label: str
    section: str
    value: float | None
    limit: float | None
    unit: str
    met: bool | None  # None: not measured
    started: str | None
    load: str | None


def _get(data: dict, *keys):
    for k in keys:
        if not isinstance(data, dict) or k not in data or data[k] is None:
            return None
        data = data[k]
    return data


def _daily_limit(d: dict) -> float | None:
    med = _get(d, "median_s")
    return None if med is None else max(10.0, 3 * med)


def _pooled_query(runs: dict, key: str) -> float | None:
    """A query figure's median over the runs of one indexing and search code, once 3 runs measured
    it (bench/scale_runs.py pools only runs that kept every figure)."""
    return _get(runs, "queries", key) if (_get(runs, "queries", "runs") or 0) >= 3 else None


# Issue 5's limits by figure, as `make bench` has reported them beside its table since then.
ISSUE5 = {
    "build_ratio_fts5": 1.0, "noop_s": 1.0, "add50_s": 3.0, "query_p50_ms": 10.0, "query_p95_ms": 30.0,
    "cold_s": 0.5, "peak_rss_mb": 500.0, "x20_query_p95_ms": 60.0,
}

GOALS: tuple[Goal, ...] = (
    Goal(5, "pool build / FTS5+jieba's", "main", lambda m: _get(m, "ratios", "build_zhsearch/fts5"),
         ISSUE5["build_ratio_fts5"], "x"),
    Goal(5, "no-op re-run", "main", lambda m: _get(m, "incremental", "noop", "wall_s"), ISSUE5["noop_s"], "s"),
    Goal(5, "re-run after +50 new files", "main", lambda m: _get(m, "incremental", "add50", "wall_s"),
         ISSUE5["add50_s"], "s"),
    Goal(5, "pool warm p50", "main", lambda m: _get(m, "warm", "zhsearch", "p50_ms"), ISSUE5["query_p50_ms"], "ms"),
    Goal(5, "pool warm p95", "main", lambda m: _get(m, "warm", "zhsearch", "p95_ms"), ISSUE5["query_p95_ms"], "ms"),
    Goal(5, "pool cold search", "main", lambda m: _get(m, "cold_s", "zhsearch"), ISSUE5["cold_s"], "s"),
    Goal(5, "pool indexer peak memory (PSS)", "main", lambda m: _get(m, "build", "zhsearch", "tree_mb"),
         ISSUE5["peak_rss_mb"], "MB"),
    Goal(5, "x20 warm p95", "scale/x20", lambda s: _get(s, "p95_ms"), ISSUE5["x20_query_p95_ms"], "ms"),
    Goal(5, "x20 indexer peak memory (PSS)", "scale/x20", lambda s: _get(s, "build", "tree_mb"),
         ISSUE5["peak_rss_mb"], "MB"),
    Goal(12, "x1 index size / FTS5+jieba's", "scale/x1", lambda s: _get(s, "ratios", "size_zhsearch/fts5"), 1.5, "x"),
    Goal(12, "x20 index size / FTS5+jieba's", "scale/x20", lambda s: _get(s, "ratios", "size_zhsearch/fts5"), 1.5, "x"),
    Goal(12, "x20 warm p95", "scale/x20", lambda s: _get(s, "p95_ms"), 30.0, "ms"),
    Goal(12, "x20 cold search", "scale/x20", lambda s: _get(s, "cold_s"), 0.5, "s"),
    Goal(12, "x100 build / FTS5+jieba's", "scale/x100", lambda s: _get(s, "ratios", "build_zhsearch/fts5"), 1.0, "x"),
    Goal(12, "x100 build / FTS5's, median of 3+ runs", "scale_runs/x100",
         lambda s: _get(s, "build_zhsearch/fts5") if (_get(s, "builds_pooled") or 0) >= 3 else None, 1.0, "x"),
    Goal(12, "x100 build / FTS5's, median of run ratios", "scale_runs/x100",
         lambda s: _get(s, "build_ratio_median_by_run") if (_get(s, "runs_pooled") or 0) >= 3 else None, 1.0, "x"),
    Goal(12, "x100 indexer peak memory (PSS)", "scale/x100", lambda s: _get(s, "build", "tree_mb"), 1024.0, "MB"),
    Goal(12, "x100 warm p50", "scale/x100", lambda s: _get(s, "p50_ms"), 30.0, "ms"),
    Goal(12, "x100 warm p95", "scale/x100", lambda s: _get(s, "p95_ms"), 100.0, "ms"),
    Goal(12, "x100 warm p50, median of 3+ runs", "scale_runs/x100", lambda s: _pooled_query(s, "p50_ms"), 30.0, "ms"),
    Goal(12, "x100 warm p95, median of 3+ runs", "scale_runs/x100", lambda s: _pooled_query(s, "p95_ms"), 100.0, "ms"),
    Goal(12, "x100 cold search", "scale/x100", lambda s: _get(s, "cold_s"), 1.0, "s"),
    Goal(12, "x100 zhsearch stats", "scale/x100", lambda s: _get(s, "stats_s"), 1.0, "s"),
    Goal(12, "daily: slowest run <= max(10 s, 3x median)", "daily", lambda d: _get(d, "max_s"), _daily_limit, "s"),
    Goal(12, "daily: warm p95 / fresh build's", "daily", lambda d: _get(d, "ratios", "p95_daily/fresh"), 1.2, "x"),
    Goal(12, "daily: index size / fresh build's", "daily", lambda d: _get(d, "ratios", "size_daily/fresh"), 1.2, "x"),
    Goal(15, "serve: p95, 50 requests/s from 20 clients", "serve", lambda s: _get(s, "open", "p95_ms"), 50.0, "ms"),
    Goal(15, "serve: errors at 50 requests/s", "serve", lambda s: _get(s, "open", "errors"), 0.0),
    Goal(15, "serve: memory (PSS) at the end / after 100 req.", "serve",
         lambda s: _get(s, "memory", "growth"), 1.1, "x"),
    Goal(15, "serve: errors, 20 clients flat out", "serve", lambda s: _get(s, "closed", "errors"), 0.0),
    Goal(15, "serve: start to the address printed", "serve", lambda s: _get(s, "start", "address_s"), 1.0, "s"),
)


def section_of(results: dict, name: str) -> dict | None:
    return _get(results, *name.split("/"))


def check(results: dict, goals: tuple[Goal, ...] = GOALS) -> list[Verdict]:
    out = []
    for g in goals:
        sec = section_of(results, g.section)
        value = None if sec is None else g.figure(sec)
        if callable(g.limit):
            limit = None if sec is None else g.limit(sec)
        else:
            limit = g.limit
        met = None if value is None or limit is None else value <= limit
        meta = _get(sec, "meta") or {}
        load = None
        if "load_before" in meta:
            load = f"{meta['load_before']}-{meta.get('load_after', '?')}"
        out.append(Verdict(g.issue, g.label, g.section, value, limit, g.unit, met, meta.get("started"), load))
    return out


def print_goals(verdicts: list[Verdict], quick: bool = False) -> None:
    title = "goals (issues 5, 12 and 15), from every section of the results file"
    if quick:
        title += " -- a --quick run: a smoke test, not a measure"
    head = f"{'issue':<6}{'goal':<46}{'value':>10}{'limit':>10}{'met':>6}  measured (load)"
    print(f"\n{title}\n{head}\n{'-' * len(head)}")
    for v in verdicts:
        value = "—" if v.value is None else f"{v.value:.2f}{v.unit}"
        limit = "—" if v.limit is None else f"{v.limit:g}{v.unit}"
        met = "—" if v.met is None else ("yes" if v.met else "NO")
        when = f"{v.started or 'not run'}" + (f" ({v.load})" if v.load else "")
        print(f"{v.issue:<6}{v.label:<46}{value:>10}{limit:>10}{met:>6}  {when}")


def as_json(verdicts: list[Verdict]) -> list[dict]:
    return [asdict(v) for v in verdicts]
