"""Name variants on the shared pool (issue 14): recall, precision and cost of the expansion.

    python bench/variants.py        # or: make bench-variants

For every group of zhsearch's built-in table that occurs in the pool (some variant in some
article's title, lead or body, after normalisation), each variant is queried alone
(`Index.search(v, limit=0, fold=False)`) and compared with the articles that contain any
variant of the group literally:

* recall: the share of those articles the query returns (goal >= 99%);
* extra: of the hits the expansion adds (those the same query with `expand=False` does not
  return), the share that contain no variant (goal <= 1%);
* unexpanded: for the record, the share of the hits of the query *without* expansion that
  contain no variant: a variant that jieba cuts into several words (麦可: 麦 / 可) is matched
  as any bare run is, by its words apart too; that is today's matching, which the expansion
  keeps for the typed form.

Cost: one query per group found (its most frequent variant), top 10 with snippets as the
CLI shows them, with expansion and with `expand=False`, interleaved, REPS warm runs each;
the ratio of the p95s of the per-query medians (goal <= 1.2). Loading: a group of 1,000
variants and a file of 100,000 groups (goal: under a second each).

The per-group report goes to bench/variants-results.json; the index to bench/work/.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import pool as bpool  # noqa: E402

WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "variants-results.json"
REPS = 7


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def quality(ix, records, table) -> list[dict]:
    from indexer.analysis import normalize

    texts = {r.url: "\n".join(normalize(t) for t in (r.title, r.lead, r.body)) for r in records}
    rows = []
    for group in table.groups:
        holding = {v: {u for u, t in texts.items() if v in t} for v in group}
        truth = set().union(*holding.values())
        if not truth:
            continue
        row = {"group": list(group), "articles": len(truth),
               "per_variant": {v: len(holding[v]) for v in group}, "queries": {}}
        for v in group:
            hits = {h.url for h in ix.search(v, limit=0, fold=False)}
            plain = {h.url for h in ix.search(v, limit=0, fold=False, expand=False)}
            added = hits - plain
            row["queries"][v] = {"hits": len(hits), "recall": len(hits & truth) / len(truth),
                                 "added": len(added), "extra": len(added - truth) / len(added) if added else 0.0,
                                 "extra_urls": sorted(added - truth)[:3],
                                 "unexpanded_extra": len(plain - truth) / len(plain) if plain else 0.0}
        for key, worst in (("recall", min), ("extra", max), ("unexpanded_extra", max)):
            row[key] = worst(q[key] for q in row["queries"].values())
        rows.append(row)
    return rows


def cost(ix, rows) -> dict:
    queries = [max(r["per_variant"], key=r["per_variant"].get) for r in rows]
    for q in queries:  # warm: posting lists, snapshot caches, regexes
        ix.search(q), ix.search(q, expand=False)
    times: dict[bool, dict[str, list[float]]] = {True: {}, False: {}}
    for _ in range(REPS):
        for q in queries:
            for expand in (True, False):
                t = time.perf_counter()
                ix.search(q, expand=expand)
                times[expand].setdefault(q, []).append((time.perf_counter() - t) * 1000)
    med = {e: [statistics.median(v) for v in times[e].values()] for e in times}
    return {"queries": len(queries), "reps": REPS,
            "p50_ms": {"expand": statistics.median(med[True]), "no_variants": statistics.median(med[False])},
            "p95_ms": {"expand": p95(med[True]), "no_variants": p95(med[False])},
            "ratio_p95": p95(med[True]) / p95(med[False])}


def loading() -> dict:
    from search.variants import read_variants

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {"one group of 1,000 variants": " ".join(f"名字{i}号" for i in range(1000)) + "\n",
                 "100,000 groups": "".join(f"甲{i}乙 丙{i}丁\n" for i in range(100_000))}
        for name, text in files.items():
            path = Path(tmp) / "v.txt"
            path.write_text(text, encoding="utf-8")
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                read_variants(path)
                runs.append(time.perf_counter() - t)
            out[name] = statistics.median(runs)
    return out


def main() -> int:
    import search
    from indexer import update_index
    from search.variants import builtin

    pool = bpool.pool_dir()
    if not pool.is_dir():
        log(f"skipped: pool absent ({pool}); set ZHSEARCH_SHARED to the folder that holds corpus-pool/")
        return 0
    files = bpool.pool_files(pool)
    records = bpool.load_records(pool, files)
    index = WORK / "variants-index"
    log(f"zhsearch: {update_index([pool], index).line()}")
    table = builtin()
    with search.open_index(index) as ix:
        rows = quality(ix, records, table)
        speed = cost(ix, rows)
    load = loading()
    bad = [r for r in rows if r["recall"] < 0.99 or r["extra"] > 0.01]
    for r in sorted(rows, key=lambda r: -r["articles"]):
        variants = " / ".join(f"{v} {n}" for v, n in r["per_variant"].items())
        flag = "" if r in bad else "  ok"
        print(f"{r['articles']:5d} articles  recall {r['recall']:6.1%}  extra {r['extra']:5.1%}  "
              f"(unexpanded {r['unexpanded_extra']:5.1%})  {variants}{flag}")
    print(f"\n{len(rows)} of {len(table)} groups occur in the pool ({len(records)} articles); "
          f"{len(rows) - len(bad)} meet recall >= 99% and extra <= 1% for every variant; "
          f"{sum(r['unexpanded_extra'] > 0.01 for r in rows)} have a variant whose unexpanded hits are "
          f"over 1% without any variant")
    print(f"cost, {speed['queries']} queries x {REPS}: p50 {speed['p50_ms']['expand']:.1f} / "
          f"{speed['p50_ms']['no_variants']:.1f} ms, p95 {speed['p95_ms']['expand']:.1f} / "
          f"{speed['p95_ms']['no_variants']:.1f} ms (expansion / --no-variants), ratio {speed['ratio_p95']:.2f}")
    print("loading: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in load.items()))
    RESULTS.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average": os.getloadavg(),
        "groups_in_pool": len(rows), "groups_in_table": len(table), "cost": speed, "loading_s": load,
        "groups": rows}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
