"""The 34 bench queries and how each system runs them: warm (in this process) and cold (fresh ones).

Warm queries run several rounds after an untimed one; a query's latency is its median over the
rounds, and p50/p95/max are over the query set. In a round all systems run one query at a time,
or (`blocks`) each system runs the whole set in turn, the systems taking turns at going first.
At x100 FTS5's slowest queries take ~0.4 s in this same process between two of zhsearch's; on
2026-12-03, alternating the two orders on one x100 index, zhsearch's p50 was 23.4 / 19.7 ms one
query at a time, 22.8 / 20.9 ms in blocks and 19.1 / 19.4 ms alone: no difference beyond the
noise, so the bench keeps one query at a time (README, Performance). Every
system returns its top 10 with snippets (highlights), as a user sees them. Cold queries are
fresh processes, run in turns, the first turn discarded (it fills the page cache and jieba's
dictionary cache), the median of the rest reported.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.measure import load, median, percentile, run_child

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


class ZhsearchQ:
    def __init__(self, index: Path):
        import search

        self.ix = search.open_index(index)

    def __call__(self, text: str) -> int:
        hits = list(self.ix.search(text, limit=10))
        for h in hits:  # snippets are made with the page; reading them keeps this honest if that changes
            _ = (h.snippet, h.highlights)
        return len(hits)

    def close(self) -> None:
        self.ix.close()


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

    def close(self) -> None:
        self.peer.close()


def warm_queries(systems: dict, reps: int, blocks: bool = False) -> dict:
    """`reps` timed rounds after one untimed round: all systems on one query at a time, or
    (`blocks`) each system's whole set in turn."""
    samples = {name: {q: [] for _, q in QUERIES} for name in systems}
    hits = {name: {} for name in systems}
    errors = {name: {} for name in systems}
    load_before = load()
    for round_ in range(reps + 1):
        if blocks:
            names = list(systems) if round_ % 2 == 0 else list(systems)[::-1]
            turns = [(name, q) for name in names for _, q in QUERIES]
        else:
            turns = [(name, q) for _, q in QUERIES for name in systems]
        for name, q in turns:
            started = time.perf_counter()
            try:
                n = systems[name](q)
            except Exception as exc:  # a query one system cannot run is reported, not fatal
                errors[name][q] = f"{type(exc).__name__}: {exc}"
                continue
            elapsed = time.perf_counter() - started
            if round_:
                samples[name][q].append(elapsed * 1000)
            hits[name][q] = n
    out, loads = {}, [load_before, load()]
    for name in systems:
        per_query = {q: median(v) for q, v in samples[name].items() if v}
        ms = list(per_query.values())
        out[name] = {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "max_ms": max(ms),
                     "per_query_ms": {q: round(v, 2) for q, v in per_query.items()},
                     "hits": hits[name], "errors": errors[name], "load": loads}
    return out


def close_all(systems: dict) -> None:
    for fn in systems.values():
        if hasattr(fn, "close"):
            fn.close()


def cold_queries(commands: dict[str, list], runs: int) -> dict[str, float]:
    """Median wall time of each command, run in turns; the first turn is untimed.

    A command's exit code 1 (no hits) is still a complete run; any other failure ends the bench."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs + 1):
        for name, argv in commands.items():
            r = run_child(argv, stdout=subprocess.DEVNULL)
            if r["code"] not in (0, 1):
                sys.exit(f"{' '.join(map(str, argv))} failed ({r['code']}):\n{r['stderr'][-2000:]}")
            if i:
                times[name].append(r["wall_s"])
    return {name: median(ts) for name, ts in times.items()}
