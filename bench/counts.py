"""Timelines and facets against search itself, warm, on one index (issue 13's speed goals).

    python bench/counts.py --index DIR [--reps 5]    an existing index (e.g. one bench-scale built)
    python bench/counts.py [--reps 5]                builds the pool into bench/work/counts first

For each query of bench/speed.py's set, and 的 (every article), one round after another:
search (top 10 with snippets, as speed.py's warm queries), the same search with facets=True,
and a timeline (by auto); medians of `reps` rounds after an untimed one, side by side.
bench/speed.py calls count_queries() on the indexes it builds (x1 in `make bench`, each scale
in `make bench-scale`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EVERY = "的"  # matches every article: the largest count there is


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def count_queries(index: Path, reps: int, queries: list[str] | None = None) -> dict:
    """Medians (ms) per query of search, search with facets and timeline, and their ratios."""
    import search

    if queries is None:
        from bench.speed import QUERIES

        queries = [q for _, q in QUERIES]
    kinds = {
        "search": lambda ix, q: [h.snippet for h in ix.search(q, limit=10)],
        "search+facets": lambda ix, q: [h.snippet for h in ix.search(q, limit=10, facets=True)],
        "facets": lambda ix, q: ix.facets(q),
        "timeline": lambda ix, q: ix.timeline(q, by="auto"),
    }
    samples = {k: {q: [] for q in [EVERY, *queries]} for k in kinds}
    with search.open_index(index) as ix:
        for round_ in range(reps + 1):
            for q in [EVERY, *queries]:
                for kind, fn in kinds.items():
                    ms = _timed(lambda: fn(ix, q))
                    if round_:
                        samples[kind][q].append(ms)
    per = {k: {q: statistics.median(v) for q, v in s.items()} for k, s in samples.items()}
    typical = [q for q in queries if q != EVERY]
    counts = ("search+facets", "facets", "timeline")
    ratio = {k: statistics.median(per[k][q] / per["search"][q] for q in typical) for k in counts}
    return {
        "every": {k: round(per[k][EVERY], 2) for k in kinds},
        "typical_p50_ms": {k: round(statistics.median(per[k][q] for q in typical), 2) for k in kinds},
        "typical_ratio_to_search": {k: round(v, 3) for k, v in ratio.items()},
        "worst_ratio_to_search": {k: round(max(per[k][q] / per["search"][q] for q in typical), 3)
                                  for k in counts},
        "per_query_ms": {k: {q: round(v, 2) for q, v in per[k].items()} for k in kinds},
    }


def print_counts(res: dict, label: str = "") -> None:
    e, p, r, w = res["every"], res["typical_p50_ms"], res["typical_ratio_to_search"], res["worst_ratio_to_search"]
    print(f"counts{label}: {EVERY} (every article) facets {e['facets']:.1f} ms, timeline {e['timeline']:.1f} ms; "
          f"search {e['search']:.1f} ms, search with facets {e['search+facets']:.1f} ms")
    print(f"counts{label}: typical queries, median ms (median ratio to search, worst): search {p['search']:.1f}, "
          + ", ".join(f"{k} {p[k]:.1f} (x{r[k]:.2f}, x{w[k]:.2f})" for k in r))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, help="an existing index (default: build the pool)")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    index = args.index
    if index is None:
        from bench import pool as bpool
        from indexer import update_index

        pool = bpool.pool_or_why()
        if pool is None:
            return 0
        index = ROOT / "bench" / "work" / "counts" / "index"
        print(f"building {index} ...", file=sys.stderr)
        update_index([pool], index, rebuild=index.exists())
    load = os.getloadavg()[0]
    res = count_queries(index, args.reps)
    print_counts(res)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load:.2f} -> "
          f"{os.getloadavg()[0]:.2f}; {args.reps} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
