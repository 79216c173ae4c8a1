"""Known-item relevance benchmark: zhsearch against two peers on the shared article pool.

    python bench/relevance.py            # build (or reuse) the indexes, measure, write the summary
    python bench/relevance.py --tune     # also tune zhsearch's ranking constants (query-time only)

Queries and what counts as a hit: see bench/pool.py. Peers: see bench/peers.py. zhsearch is
queried through its public API (`search.open_index(dir).search(q, limit=10)`) on its own index
of the pool folder, built by `indexer.update_index`; a hit that folds copies of one story
(`Hit.duplicates`) is correct when any of its URLs is.

Metrics: MRR@10 (1/rank of the first correct hit in the top ten, 0 if none) and recall@10
(a correct hit in the top ten), per query kind and overall. The queries are split into a
tuning half and a held-out half (fixed seed): every choice made on the benchmark (FTS5 column
weights, zhsearch's constants under --tune) is made on the tuning half and reported on both.

Work files (indexes, queries.json, losses.txt) go to bench/work/ (git-ignored); the summary to
bench/relevance-results.json. Nothing is written under the pool.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", category=SyntaxWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

from bench import pool as bpool  # noqa: E402
from bench import peers  # noqa: E402

WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "relevance-results.json"
FTS5_WEIGHTS = ((1, 1, 1), (2, 1, 1), (3, 1.5, 1), (5, 2, 1), (10, 5, 1), (20, 5, 1))
# What decides the content of zhsearch's index: a change rebuilds the benchmark's copy.
INDEX_SOURCES = ("indexer/analysis.py", "indexer/schema.py", "indexer/reader.py", "indexer/html_text.py")
TUNE_GRID = {
    "title": (1.0, 2.0, 3.0, 5.0, 8.0),
    "lead": (1.0, 1.5, 2.0, 3.0),
    "K1": (0.9, 1.2, 1.6),
    "B": (0.5, 0.75, 0.9),
    "title_literal": (0.0, 2.0, 4.0, 8.0),
    "text_literal": (0.0, 1.0, 2.0),
    "recency": (0.0, 0.5, 1.0, 2.0, 4.0),
}
TUNE_PAIRS = (("K1", "B"), ("title", "title_literal"), ("title", "lead"))
KINDS = ("title", "body", "all")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- building


def _index_fingerprint() -> str:
    h = hashlib.sha256()
    for rel in INDEX_SOURCES:
        p = ROOT / rel
        h.update(rel.encode() + b"\0" + (p.read_bytes() if p.exists() else b""))
    return h.hexdigest()[:16]


def build_zhsearch(pool: Path, index_dir: Path, force: bool) -> str:
    from indexer.errors import IndexVersionMismatch
    from indexer.writer import update_index

    stamp = index_dir.parent / "zhsearch-index.fingerprint"
    fp = _index_fingerprint()
    rebuild = force or not stamp.exists() or stamp.read_text().strip() != fp
    started = time.monotonic()
    try:
        summary = update_index([pool], index_dir, rebuild=rebuild and index_dir.exists())
    except IndexVersionMismatch:
        summary = update_index([pool], index_dir, rebuild=True)
    stamp.write_text(fp + "\n")
    return f"zhsearch: {summary.line()} [{time.monotonic() - started:.0f} s]"


def _build_peer(kind: str, records, path: Path) -> None:
    seconds = peers.build_whoosh(records, path) if kind == "whoosh" else peers.build_fts5(records, path)
    (path.parent / f"{kind}.done").write_text(f"{seconds:.1f}\n")


def build_all(pool: Path, records, key: str, force: bool) -> Path:
    """zhsearch's index (incremental) here, the missing peer indexes in child processes."""
    peer_dir = WORK / f"peers-{key}"
    peer_dir.mkdir(parents=True, exist_ok=True)
    for stale in WORK.glob("peers-*"):
        if stale != peer_dir and stale.is_dir():
            import shutil

            shutil.rmtree(stale)
    jobs = []
    for kind, name in (("whoosh", "whoosh"), ("fts5", "fts5.sqlite")):
        if force or not (peer_dir / f"{kind}.done").exists():
            (peer_dir / f"{kind}.done").unlink(missing_ok=True)
            log(f"building the {kind} peer index in {peer_dir / name} ...")
            proc = multiprocessing.get_context("fork").Process(target=_build_peer, args=(kind, records, peer_dir / name))
            proc.start()
            jobs.append((kind, proc))
    log("updating the zhsearch index ...")
    log(build_zhsearch(pool, WORK / "zhsearch-index", force))
    for kind, proc in jobs:
        proc.join()
        if proc.exitcode != 0 or not (peer_dir / f"{kind}.done").exists():
            sys.exit(f"building the {kind} peer failed (exit code {proc.exitcode})")
        log(f"{kind} peer built in {(peer_dir / f'{kind}.done').read_text().strip()} s")
    return peer_dir


# ---------------------------------------------------------------- measuring


class Zhsearch:
    name = "zhsearch"

    def __init__(self, index_dir: Path):
        import search

        self.ix = search.open_index(index_dir)
        self.errors = 0

    def hits(self, text: str, limit: int = 10):
        from indexer.errors import ZhsearchError

        try:
            return list(self.ix.search(text, limit=limit))
        except ZhsearchError:
            self.errors += 1
            return []

    def search(self, text: str, limit: int = 10) -> list[tuple[str, ...]]:
        # A hit that folds copies of one story (Hit.duplicates) stands for all their URLs.
        return [(h.url, *getattr(h, "duplicates", ())) for h in self.hits(text, limit)]

    def close(self):
        self.ix.close()


def run(system, queries) -> dict[int, list]:
    """qid -> the system's top ten hits, each a URL or a tuple of URLs (a folded hit)."""
    return {q.qid: system.search(q.text, 10) for q in queries}


def _urls(hit) -> tuple[str, ...]:
    return (hit,) if isinstance(hit, str) else hit


def ranks(results: dict[int, list], queries, equiv) -> dict[int, int | None]:
    """qid -> rank of the first correct hit in the top ten, or None."""
    out = {}
    for q in queries:
        correct = equiv[q.target]
        out[q.qid] = next((i for i, hit in enumerate(results[q.qid], 1)
                           if any(u in correct for u in _urls(hit))), None)
    return out


def metrics(rk: dict[int, int | None], queries, half: str | None = None) -> dict:
    out = {}
    for kind in KINDS:
        qs = [q for q in queries if (kind == "all" or q.kind == kind) and (half is None or q.half == half)]
        if not qs:
            continue
        rr = [0.0 if rk.get(q.qid) is None else 1.0 / rk[q.qid] for q in qs]
        out[kind] = {"mrr10": round(sum(rr) / len(rr), 4),
                     "recall10": round(sum(r > 0 for r in rr) / len(rr), 4), "queries": len(qs)}
    return out


def all_halves(rk, queries) -> dict:
    return {"all": metrics(rk, queries), "tune": metrics(rk, queries, "tune"),
            "held": metrics(rk, queries, "held")}


# ---------------------------------------------------------------- zhsearch's constants


def current_constants() -> dict:
    import search.ranking as R

    missing = [n for n in ("FIELD_BOOSTS", "BM25_K1", "BM25_B", "TITLE_LITERAL_BONUS", "TEXT_LITERAL_BONUS")
               if not hasattr(R, n)]
    if missing:
        sys.exit(f"search/ranking.py no longer has {', '.join(missing)}: update bench/relevance.py")
    return {"title": R.FIELD_BOOSTS["title"], "lead": R.FIELD_BOOSTS["lead"], "body": R.FIELD_BOOSTS.get("body", 1.0),
            "K1": R.BM25_K1, "B": R.BM25_B, "title_literal": R.TITLE_LITERAL_BONUS,
            "text_literal": R.TEXT_LITERAL_BONUS, "recency": getattr(R, "RECENCY_WEIGHT", 0.0)}


def apply_constants(c: dict) -> None:
    """Monkeypatch search.ranking in-process (query-time constants; reopen the index after)."""
    import search.ranking as R

    R.FIELD_BOOSTS = {**R.FIELD_BOOSTS, "title": c["title"], "lead": c["lead"], "body": c["body"]}
    R.BM25_K1, R.BM25_B = c["K1"], c["B"]
    R.TITLE_LITERAL_BONUS, R.TEXT_LITERAL_BONUS = c["title_literal"], c["text_literal"]
    R.RECENCY_WEIGHT = c.get("recency", 0.0)


def run_with(c: dict, index_dir: Path, queries) -> dict[int, list[str]]:
    apply_constants(c)
    zh = Zhsearch(index_dir)  # BM25 B/K1 are read when the searcher opens
    try:
        return run(zh, queries)
    finally:
        zh.close()


def tune(index_dir: Path, queries, equiv) -> dict:
    """Search TUNE_GRID on the tuning half, starting from the shipped constants.

    The full grid (2,160 settings, ~90 minutes) is out of budget. Each round tries every value
    of each constant with the others fixed, then the whole 2-D grid of each pair in
    TUNE_PAIRS (constants that trade off against each other); rounds repeat until one
    changes nothing. A change must win on MRR@10, then recall@10: ties keep what is there.
    """
    shipped = current_constants()
    tune_qs = [q for q in queries if q.half == "tune"]
    held_qs = [q for q in queries if q.half == "held"]
    cache: dict[tuple, dict] = {}

    def key(c: dict) -> tuple:
        return tuple(sorted(c.items()))

    def score(c: dict) -> tuple[float, float]:
        if key(c) not in cache:
            cache[key(c)] = metrics(ranks(run_with(c, index_dir, tune_qs), tune_qs, equiv), tune_qs)["all"]
        m = cache[key(c)]
        return m["mrr10"], m["recall10"]

    best = dict(shipped)
    best_score = score(best)
    log(f"tuning from the shipped constants: MRR@10 {best_score[0]:.4f} on the tuning half")
    steps = [(name,) for name in TUNE_GRID] + list(TUNE_PAIRS)
    for round_ in range(1, 5):
        changed = False
        for dims in steps:
            grids = [sorted(set(TUNE_GRID[d]) | {best[d]}) for d in dims]
            for values in itertools.product(*grids):
                trial = {**best, **dict(zip(dims, values))}
                s = score(trial)
                if s > best_score:
                    best, best_score, changed = trial, s, True
            log(f"  round {round_}, {'×'.join(dims)}: {', '.join(f'{best[d]:g}' for d in dims)} "
                f"(MRR@10 {best_score[0]:.4f}; {len(cache)} settings tried)")
        if not changed:
            break

    # The runners-up, scored on the held-out half too: how much of the gain is noise.
    top = sorted(cache.items(), key=lambda kv: (kv[1]["mrr10"], kv[1]["recall10"]), reverse=True)[:5]
    runners = []
    for k, m in top:
        c = dict(k)
        held = metrics(ranks(run_with(c, index_dir, held_qs), held_qs, equiv), held_qs)["all"]
        runners.append({"constants": c, "tune_mrr10": m["mrr10"], "held_mrr10": held["mrr10"]})
    tuned_ranks = ranks(run_with(best, index_dir, queries), queries, equiv)
    shipped_ranks = ranks(run_with(shipped, index_dir, queries), queries, equiv)
    apply_constants(shipped)
    return {
        "method": "per constant, then per pair " + ", ".join("×".join(p) for p in TUNE_PAIRS)
                  + ", on the tuning half, from the shipped constants, until a round changes nothing",
        "grid": {k: list(v) for k, v in TUNE_GRID.items()},
        "settings_tried": len(cache),
        "shipped": {"constants": shipped, **all_halves(shipped_ranks, queries)},
        "tuned": {"constants": best, **all_halves(tuned_ranks, queries)},
        "top5_on_tuning_half": runners,
    }


# ---------------------------------------------------------------- where zhsearch loses


def _title_words(title: str, words) -> int:
    """How many of the (normalised) query words the title holds literally."""
    flat = bpool.flat(title)
    return sum(w in flat for w in words)


def losses(index_dir: Path, queries, equiv, near, records, rk: dict, peer_ranks: dict, depth: int = 100):
    """Every query whose target is not first: a readable account, and a tally of causes.

    Causes, for what stands first instead of the target (checked in this order):
    not-matched (the target is not among the matches), near-duplicate (the first hit is the
    same story re-posted: folding duplicates fixes it), title-dominance (the first hit has
    more query words in its title than the target: body evidence lost to title weight),
    title-underweighted (it has fewer: title evidence lost to body tf), under-specified (it
    has as many: the query cannot tell them apart by title; tf, length and recency decide).
    """
    by_url = {r.url: r for r in records}
    zh = Zhsearch(index_dir)
    blocks, causes = [], {}
    for q in sorted(queries, key=lambda q: (rk[q.qid] is not None, -(rk[q.qid] or 0), q.qid)):
        if rk[q.qid] == 1:
            continue
        hits = zh.hits(q.text, limit=depth)
        total = zh.ix.search(q.text, limit=1).total
        correct = equiv[q.target]
        pos = next((h for h in hits if any(u in correct for u in (h.url, *getattr(h, "duplicates", ())))), None)
        target = by_url[q.target]
        first = by_url[hits[0].url] if hits else None
        if pos is None and total <= depth:
            cause = "not-matched"
        elif first is not None and first.url in near[q.target]:
            cause = "near-duplicate"
        elif first is not None and _title_words(first.title, q.words) > _title_words(target.title, q.words):
            cause = "title-dominance"
        elif first is not None and _title_words(first.title, q.words) < _title_words(target.title, q.words):
            cause = "title-underweighted"
        else:
            cause = "under-specified"
        causes.setdefault(q.kind, {}).setdefault(cause, 0)
        causes[q.kind][cause] += 1
        where = (f"rank {pos.rank} (score {pos.score:g})" if pos else
                 f"below rank {depth}" if total > depth else "NOT MATCHED")
        peers_ = ", ".join(f"{n} {pr[q.qid] or '-'}" for n, pr in peer_ranks.items())
        lines = [f"[{q.kind}/{q.half}] {q.text!r}: {total} matches, target {where}, {cause}; peers: {peers_}",
                 f"      target: {target.title}  (query words in title: {_title_words(target.title, q.words)}; "
                 f"{sum(_title_words(r.title, q.words) == len(q.words) for r in records)} titles hold them all)"]
        shown = hits[: min(pos.rank - 1, 3)] if pos else hits[:3]
        lines += [f"  {h.rank:>4}. {h.score:>7g}  {h.title}  ({_title_words(h.title, q.words)} in title"
                  f"{', near-duplicate' if h.url in near[q.target] else ''})" for h in shown]
        blocks.append("\n".join(lines))
    zh.close()
    return blocks, causes


# ---------------------------------------------------------------- report


def table(rows: list[tuple[str, dict]]) -> str:
    head = f"{'system':<22}" + "".join(f"{k + ' MRR@10':>14}{k + ' R@10':>12}" for k in KINDS)
    lines = [head, "-" * len(head)]
    for name, m in rows:
        lines.append(f"{name:<22}" + "".join(
            f"{m[k]['mrr10']:>14.3f}{m[k]['recall10']:>12.3f}" if k in m else f"{'':>26}" for k in KINDS))
    return "\n".join(lines)


def _earlier_tuning(path: Path, summary: dict) -> dict:
    """Keep the tuning block of an earlier --tune run on the same pool, queries and constants."""
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    t = old.get("tuning")
    same = all(old.get(k) == summary[k] for k in ("pool", "queries", "zhsearch_constants"))
    if not t or not same or t["shipped"]["constants"] != summary["zhsearch_constants"]:
        return {}
    return {"tuning": {**t, "note": "from an earlier --tune run on the same pool, queries and constants"}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tune", action="store_true", help="tune zhsearch's ranking constants (tuning half)")
    ap.add_argument("--per-kind", type=int, default=200, help="queries of each kind (default 200)")
    ap.add_argument("--seed", type=int, default=20200720, help="query seed (default 20200720)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild all three indexes")
    ap.add_argument("--show-losses", type=int, default=15,
                    help="zhsearch losses to print, worst first (all go to bench/work/losses.txt)")
    ap.add_argument("--results", type=Path, default=RESULTS, help=f"summary JSON (default {RESULTS.relative_to(ROOT)})")
    args = ap.parse_args(argv)

    pool = bpool.pool_or_why()
    if pool is None:
        return 0
    started = time.monotonic()
    WORK.mkdir(parents=True, exist_ok=True)
    files = bpool.pool_files(pool)
    key = bpool.pool_key(files)
    records = bpool.load_records(pool, files)
    equiv = bpool.equivalents(records)
    near = bpool.near_duplicates(records)
    near = {u: near[u] | equiv[u] for u in equiv}
    queries = bpool.make_queries(records, args.per_kind, args.seed)
    with_dups = sum(len(equiv[q.target]) > 1 for q in queries)
    with_near = sum(len(near[q.target]) > 1 for q in queries)
    log(f"pool {pool}: {len(files)} files, {len(records)} articles (one per URL); {len(queries)} queries, "
        f"{with_dups} with a duplicate (same text or title) of the target, {with_near} with a near-duplicate")
    (WORK / "queries.json").write_text(json.dumps(
        [{"qid": q.qid, "kind": q.kind, "half": q.half, "query": q.text, "target": q.target} for q in queries],
        ensure_ascii=False, indent=1))

    peer_dir = build_all(pool, records, key, args.rebuild)
    index_dir = WORK / "zhsearch-index"

    log("running the queries ...")
    results: dict[str, dict] = {}
    zh = Zhsearch(index_dir)
    results["zhsearch"] = run(zh, queries)
    zh.close()
    if zh.errors:
        log(f"warning: zhsearch raised an error on {zh.errors} queries (counted as misses)")
    for group in peers.WHOOSH_GROUPS:
        p = peers.WhooshPeer(peer_dir / "whoosh", group)
        results[p.name] = run(p, queries)
        p.close()
    fts: dict[str, dict] = {}
    fts_results: dict[str, dict] = {}
    for w in FTS5_WEIGHTS:
        p = peers.Fts5Peer(peer_dir / "fts5.sqlite", w)
        fts_results[p.name] = run(p, queries)
        fts[p.name] = ranks(fts_results[p.name], queries, equiv)
        p.close()
    tune_qs = [q for q in queries if q.half == "tune"]
    best_fts = max(fts, key=lambda n: (metrics(fts[n], tune_qs)["all"]["mrr10"], n == "fts5-10/5/1"))
    results[best_fts] = fts_results[best_fts]
    rk = {name: ranks(r, queries, equiv) for name, r in results.items()}
    rk_near = {name: ranks(r, queries, near) for name, r in results.items()}

    summary = {
        "pool": {"files": len(files), "articles": len(records), "key": key},
        "queries": {"seed": args.seed, "per_kind": args.per_kind, "total": len(queries),
                    "targets_with_duplicates": with_dups, "targets_with_near_duplicates": with_near},
        "zhsearch_constants": current_constants(),
        "systems": {name: all_halves(r, queries) for name, r in rk.items()},
        "systems_near_duplicates_count": {name: metrics(r, queries) for name, r in rk_near.items()},
        "fts5_weights": {name: all_halves(r, queries) for name, r in fts.items()},
        "fts5_best_on_tuning_half": best_fts,
    }
    print(f"\nKnown-item queries: {len(queries)} ({args.per_kind} title: two title words; "
          f"{args.per_kind} body: three tf-idf keywords), seed {args.seed}, {len(records)} articles")
    print(table([(name, metrics(r, queries)) for name, r in rk.items()]))
    print("\nThe same, counting near-duplicates of the target as correct too (what folding could gain):")
    print(table([(name, metrics(r, queries)) for name, r in rk_near.items()]))
    print(f"\nFTS5 column weights (title/lead/body); chosen on the tuning half: {best_fts}")
    print(table([(n, metrics(r, queries)) for n, r in fts.items()]))
    print("\nTuning half / held-out half (MRR@10, all queries):")
    for name, r in rk.items():
        print(f"  {name:<20} {metrics(r, queries, 'tune')['all']['mrr10']:.3f} / "
              f"{metrics(r, queries, 'held')['all']['mrr10']:.3f}")

    log("looking at zhsearch's losses ...")
    peer_rk = {n: r for n, r in rk.items() if n != "zhsearch"}
    blocks, causes = losses(index_dir, queries, equiv, near, records, rk["zhsearch"], peer_rk)
    (WORK / "losses.txt").write_text("\n".join(blocks) + "\n")
    summary["zhsearch_losses"] = causes
    misses = sum(r is None for r in rk["zhsearch"].values())
    print(f"\nzhsearch: target not first in {len(blocks)} queries (not in the top 10: {misses}); causes: "
          + "; ".join(f"{kind}: " + ", ".join(f"{c} {n}" for c, n in sorted(cs.items(), key=lambda x: -x[1]))
                      for kind, cs in causes.items()))
    print(f"all of them, worst first, in {(WORK / 'losses.txt').relative_to(ROOT)}")
    for block in blocks[: args.show_losses]:
        print(block)

    if args.tune:
        log("tuning ...")
        t = tune(index_dir, queries, equiv)
        summary["tuning"] = t
        print(f"\nTuning on the tuning half ({t['settings_tried']} settings tried); MRR@10 / recall@10:")
        for label in ("shipped", "tuned"):
            c = t[label]
            print(f"  {label:<8} {c['constants']}")
            for half in ("tune", "held", "all"):
                m = c[half]["all"]
                print(f"      {half:<5} MRR@10 {m['mrr10']:.3f}  R@10 {m['recall10']:.3f}   "
                      f"(title {c[half]['title']['mrr10']:.3f}, body {c[half]['body']['mrr10']:.3f})")
        print("  the five best settings on the tuning half, MRR@10 tuning / held-out:")
        for r in t["top5_on_tuning_half"]:
            print(f"      {r['tune_mrr10']:.3f} / {r['held_mrr10']:.3f}  {r['constants']}")

    if not args.tune:
        summary.update(_earlier_tuning(args.results, summary))
    args.results.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    print(f"\nsummary written to {args.results.relative_to(ROOT) if args.results.is_relative_to(ROOT) else args.results}"
          f" ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
