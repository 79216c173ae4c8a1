"""The query side of a scale run, on an index already built: `make bench-queries INDEX=dir`.

A x100 build takes over an hour here, so a change to searching is measured again on an index
built before it (same schema) rather than by a new build: the 34 warm queries (top 10 with
snippets, medians of --reps rounds), timelines and facets against search, `similar` and `--any`,
and cold `zhsearch search` and `zhsearch stats` in fresh processes, each figure with the load.
`--fts5 FILE` runs the warm queries beside an FTS5+jieba index of the same files, one query at a
time as the scale bench does, or with `--blocks` each system's whole set in turn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import children
from bench.counts import count_queries, print_counts
from bench.measure import load, log
from bench.queries import COLD_QUERY, Fts5Q, ZhsearchQ, close_all, cold_queries, warm_queries
from bench.similar import similar_speed


def measure(index: Path, reps: int, cold_runs: int, fts5: Path | None = None, blocks: bool = False) -> dict:
    log(f"warm queries ({reps} rounds) ...")
    systems = {"zhsearch": ZhsearchQ(index), **({"fts5": Fts5Q(fts5)} if fts5 else {})}
    both = warm_queries(systems, reps, blocks)
    close_all(systems)
    warm = both["zhsearch"]
    log("timelines and facets against search ...")
    counts = count_queries(index, reps)
    log("similar and --any ...")
    similar = similar_speed(index)
    log(f"cold search and stats ({cold_runs} runs each) ...")
    cold_load = [load()]
    cold = cold_queries({"search": children.search_argv(index, COLD_QUERY), "stats": children.stats_argv(index)},
                        cold_runs)
    cold_load.append(load())
    return {"index": str(index), "warm": warm, "fts5_warm": both.get("fts5"), "blocks": blocks,
            "counts": counts, "similar": similar,
            "cold_search_s": cold["search"], "stats_s": cold["stats"], "cold_load": cold_load}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index", type=Path, help="a zhsearch index folder")
    ap.add_argument("--reps", type=int, default=5, help="timed rounds of the warm query set (default 5)")
    ap.add_argument("--cold-runs", type=int, default=5, help="fresh-process runs of each cold command (default 5)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--fts5", type=Path, help="an FTS5+jieba index of the same files: its warm queries beside")
    ap.add_argument("--blocks", action="store_true",
                    help="with --fts5: each system's whole query set in turn, not one query at a time")
    args = ap.parse_args(argv)
    if not (args.index / "CURRENT").exists():
        print(f"no zhsearch index at {args.index}", file=sys.stderr)
        return 2
    if args.fts5 and not args.fts5.is_file():
        print(f"no FTS5 index at {args.fts5}", file=sys.stderr)
        return 2
    res = measure(args.index, args.reps, args.cold_runs, args.fts5, args.blocks)
    w = res["warm"]
    slow = sorted(w["per_query_ms"].items(), key=lambda kv: -kv[1])[:5]
    print(f"warm p50 / p95 / max {w['p50_ms']:.1f} / {w['p95_ms']:.1f} / {w['max_ms']:.1f} ms (load {w['load']}); "
          f"slowest: " + ", ".join(f"{q} {ms:.0f}" for q, ms in slow))
    if f := res["fts5_warm"]:
        print(f"fts5 warm p50 / p95 / max {f['p50_ms']:.1f} / {f['p95_ms']:.1f} / {f['max_ms']:.1f} ms "
              f"({'in blocks' if args.blocks else 'one query at a time'})")
    print(f"cold search {res['cold_search_s']:.2f} s, stats {res['stats_s']:.2f} s (load {res['cold_load']})")
    print_counts(res["counts"])
    s = res["similar"]
    print(f"similar {s['similar_ms']} ms, --any of 300 characters {s['any_300_chars_ms']} ms (warm medians)")
    if w["errors"]:
        print(f"errors: {w['errors']}")
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
