"""Judged benchmark of `similar` (issue 16): the same story across outlets, on the shared pool.

    python bench/similar.py --pool      # write the candidates to judge (bench/work/similar-pool.txt)
    python bench/similar.py             # measure against bench/similar-judgments.json

Sources: SOURCES articles drawn from the pool with a fixed seed (articles with a body). For each,
the candidates are pooled from three methods, the top 20 of each: zhsearch `similar URL`,
zhsearch `search --any` over the source's title and lead (the body's first 200 characters where
an outlet has no lead), and SQLite FTS5 over jieba tokens (bench/peers.py) queried with the
source's top terms (the words `similar` chose) ORed, ranked by bm25 with the title weighted as
in bench/relevance.py. The judgments in bench/similar-judgments.json were made by reading the
candidates' titles and leads (bodies where unclear), not from any method's scores: source URL
-> the URLs that report the same event, and a one-line reason.

Copies of one text or title (bench/pool.py `equivalents`) are one story: the source's own are
never counted, and a method's list is read with copies collapsed to their first, so that
folding (zhsearch) and not folding (FTS5) are compared alike.

Measures: precision@5 over the sources with at least 5 judged same-story articles; recall@10
over the sources with at least one (stories found in the top 10 / min(stories, 10)); `similar`
with the s2t (OpenCC traditional) text of each source ranks the source first; speed (warm,
medians): `similar` for each source, `--any` for a 300-character paragraph of each.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# bench.relevance also quiets jieba's and Whoosh's warnings, for this process
from bench.relevance import WORK, build_zhsearch, log  # noqa: E402
from bench import peers  # noqa: E402
from bench import pool as bpool  # noqa: E402

JUDGMENTS = ROOT / "bench" / "similar-judgments.json"
RESULTS = ROOT / "bench" / "similar-results.json"
SOURCES = 60
SEED = 16
DEPTH = 20
FTS5_WEIGHTS = (3, 1.5, 1)


def pick_sources(records, n: int, seed: int):
    with_body = [r for r in records if len(r.body) >= 200]
    return random.Random(seed).sample(with_body, n)


def plain(text: str) -> str:
    """Text with the query language's operators (- " ( ) : OR) made spaces: --any parses its query."""
    return " ".join(w for w in "".join(c if c.isalnum() else " " for c in text).split()
                    if w not in ("OR", "AND", "NOT"))


def any_text(r) -> str:
    return plain(r.title + " " + (r.lead or r.body[:200]))


class Methods:
    def __init__(self, ix, fts5: Path, equiv):
        self.ix, self.equiv = ix, equiv
        self.fts = peers.Fts5Peer(fts5, FTS5_WEIGHTS)

    def collapse(self, src_url: str, urls) -> list[str]:
        """Copies collapsed to the first, the source's own left out."""
        seen = set(self.equiv.get(src_url, {src_url}))
        out = []
        for u in urls:
            group = self.equiv.get(u, frozenset({u}))
            if u in seen or group & seen:
                continue
            seen |= group
            out.append(u)
        return out

    def similar(self, r, n=DEPTH) -> list[str]:
        return self.collapse(r.url, [h.url for h in self.ix.similar(r.url, limit=n)])

    def any(self, r, n=DEPTH) -> list[str]:
        return self.collapse(r.url, [h.url for h in self.ix.search(any_text(r), match="any", limit=n + 5)])[:n]

    def fts5(self, r, n=DEPTH) -> list[str]:
        words = self.ix.similar(r.url, limit=1).query.split()
        expr = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = self.fts.db.execute("select url from docs where docs match ? order by bm25(docs, 0, ?, ?, ?) limit ?",
                                   [expr, *FTS5_WEIGHTS, n + 10]).fetchall() if expr else []
        return self.collapse(r.url, [u for (u,) in rows])[:n]


def write_pool(sources, methods: Methods, by_url) -> None:
    out, lines = [], []
    for i, r in enumerate(sources):
        cands: list[str] = []
        for name in ("similar", "any", "fts5"):
            for u in getattr(methods, name)(r):
                if u not in cands:
                    cands.append(u)
        cands.sort(key=lambda u: (by_url[u].published or 0))
        out.append({"source": r.url, "candidates": cands})
        lines.append(f"=== S{i} {r.url}\n    {r.title} | {(r.lead or r.body)[:160]!r}")
        for j, u in enumerate(cands):
            c = by_url[u]
            lines.append(f"  {j:2d}. {time.strftime('%m-%d', time.gmtime(c.published or 0))} {c.title} | "
                         f"{(c.lead or c.body)[:70]!r}")
    (WORK / "similar-pool.json").write_text(json.dumps(out, ensure_ascii=False, indent=1))
    (WORK / "similar-pool.txt").write_text("\n".join(lines) + "\n")
    log(f"wrote {WORK / 'similar-pool.txt'}: {sum(len(o['candidates']) for o in out)} candidates")


def groups(urls, equiv) -> set[frozenset]:
    return {equiv.get(u, frozenset({u})) for u in urls}


def score(ranked: list[str], same: set[frozenset], equiv) -> tuple[float, float]:
    got = [equiv.get(u, frozenset({u})) in same for u in ranked]
    p5 = sum(got[:5]) / 5
    r10 = sum(got[:10]) / min(len(same), 10) if same else float("nan")
    return p5, r10


def median_ms(fn, items, repeats: int = 3) -> float:
    times = []
    for x in items:
        fn(x)  # warm: this query's words and the snapshot's caches
        best = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn(x)
            best.append(time.perf_counter() - t)
        times.append(statistics.median(best))
    return 1000 * statistics.median(times)


def similar_speed(index: Path, sources: int = 30, seed: int = 3) -> dict:
    """Warm `similar` of indexed articles (a fixed sample) and `--any` of their first 300
    characters, medians in ms: what `make bench-scale` reports at each scale (issue 16)."""
    import search

    with search.open_index(index) as ix:
        reader = ix._searcher.reader()
        docs = random.Random(seed).sample(sorted(reader.all_doc_ids()), min(sources, reader.doc_count()))
        urls = [reader.stored_fields(d)["url"] for d in docs]
        paragraphs = [plain((a.lead + a.body)[:300]) for a in map(ix.get, urls[:15])]
        return {"similar_ms": round(median_ms(lambda u: ix.similar(u).hits, urls), 1),
                "any_300_chars_ms": round(median_ms(lambda p: ix.search(p, match="any").hits,
                                                    [p for p in paragraphs if p.strip()]), 1)}


def first_line_ms(index: Path, args: list[str]) -> float:
    """Wall time until `zhsearch search ARGS --json | head -1` ends (a fresh process)."""
    import shlex
    import subprocess

    zhsearch = Path(sys.executable).with_name("zhsearch")
    cmd = f"{shlex.quote(str(zhsearch))} search {' '.join(map(shlex.quote, args))} --json " \
          f"--index {shlex.quote(str(index))} | head -1 > /dev/null"
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True)
    return 1000 * (time.perf_counter() - t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool", action="store_true", help="write the candidates to judge, then stop")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    pool = bpool.pool_or_why()
    if pool is None:
        return 0
    import os

    import search

    WORK.mkdir(parents=True, exist_ok=True)
    files = bpool.pool_files(pool)
    records = bpool.load_records(pool, files)
    by_url = {r.url: r for r in records}
    equiv = bpool.equivalents(records)
    log(build_zhsearch(pool, WORK / "zhsearch-index", False))
    fts5 = WORK / f"peers-{bpool.pool_key(files)}" / "fts5.sqlite"
    if not fts5.exists():
        fts5.parent.mkdir(parents=True, exist_ok=True)
        log(f"building the FTS5 peer in {fts5} ...")
        peers.build_fts5(records, fts5)
    sources = pick_sources(records, SOURCES, SEED)
    with search.open_index(WORK / "zhsearch-index") as ix:
        methods = Methods(ix, fts5, equiv)
        if args.pool:
            write_pool(sources, methods, by_url)
            return 0
        judged = json.loads(JUDGMENTS.read_text())
        rows = {"similar": [], "fts5": [], "any": []}
        counted = []
        for r in sources:
            if r.url not in judged:
                continue
            same = groups(judged[r.url]["same"], equiv) - groups([r.url], equiv)
            counted.append((r, same))
            for name in rows:
                rows[name].append((len(same), *score(getattr(methods, name)(r, 10), same, equiv)))
        summary: dict = {"sources judged": len(counted),
                         "with >= 5 same-story": sum(len(s) >= 5 for _, s in counted),
                         "with >= 1 same-story": sum(len(s) >= 1 for _, s in counted)}
        for name, vals in rows.items():
            p5 = [p for n, p, _ in vals if n >= 5]
            r10 = [r for n, _, r in vals if n >= 1]
            summary[name] = {"precision@5": round(statistics.mean(p5), 3) if p5 else None,
                             "recall@10": round(statistics.mean(r10), 3) if r10 else None}
        from opencc import OpenCC

        s2t = OpenCC("s2t")
        first = 0
        for r, _ in counted:
            text = s2t.convert(r.title + "\n" + r.lead + "\n" + r.body)
            top = ix.similar(text, limit=1)
            first += bool(len(top)) and bool({top[0].url, *top[0].duplicates} & equiv.get(r.url, {r.url}))
        summary["s2t text ranks its source first"] = f"{first}/{len(counted)}"
        paragraphs = [plain((r.lead + r.body)[:300]) for r, _ in counted]
        summary["similar URL warm median ms"] = round(median_ms(lambda r: ix.similar(r.url).hits, [r for r, _ in counted]), 1)
        summary["--any 300-char paragraph warm median ms"] = round(
            median_ms(lambda p: ix.search(p, match="any").hits, paragraphs), 1)
        # streaming: the first line of every hit (-n 0) against a top-10 search, interleaved
        index = WORK / "zhsearch-index"
        top10, every = [], []
        for _ in range(5):
            top10.append(first_line_ms(index, ["中国"]))
            every.append(first_line_ms(index, ["中国", "-n", "0"]))
        summary["first line of `search 中国 --json`, ms (top 10 / -n 0)"] = [
            round(statistics.median(top10)), round(statistics.median(every))]
        summary["measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()) + \
            f", load {os.getloadavg()[0]:.2f}"
    args.results.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
