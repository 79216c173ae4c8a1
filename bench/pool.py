"""The shared article pool as benchmark records, and known-item queries drawn from it.

Records: every pool file parsed with the indexer's own `parse_article`, one record per
normalised URL; among files of one URL the indexer's choice wins (newest `published`, an
undated copy loses, then the file modified last).

Queries (fixed seed), the way a reader remembers a story:

* ``title``: two words of a title (jieba base words, as `analysis.query_words` cuts them;
  words of one character and pure numbers are skipped), in title order;
* ``body``: three keywords of the story text (lead and body): the ten words of length >= 2
  with the highest tf-idf over the pool, among words found in at least two articles (a word
  of one article is usually a segmentation accident, and would make the query trivial),
  three of them drawn at random, in text order.

The target is the article the query came from. The pool holds the same story under several
URLs (RFA, DW and CDT re-posts): a hit on an article whose normalised text (lead and body,
whitespace dropped) or normalised title is identical to the target's counts as correct too.
A secondary measure also counts near-duplicates (`near_duplicates`: the same story re-posted
with small edits), the most that folding duplicates into one hit could gain.
"""

from __future__ import annotations

import math
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from indexer import analysis
from indexer.errors import ArticleParseError
from indexer.reader import Article, parse_article

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = (".md", ".txt")


def pool_dir() -> Path:
    """`$ZHSEARCH_SHARED/corpus-pool/articles`, by default `<repo>/../shared/corpus-pool/articles`."""
    shared = Path(os.environ.get("ZHSEARCH_SHARED") or ROOT.parent / "shared")
    return shared / "corpus-pool" / "articles"


def pool_or_why() -> Path | None:
    """The pool folder; None, after a line saying why the bench is skipped, where it is absent."""
    pool = pool_dir()
    if pool.is_dir():
        return pool
    print(f"skipped: pool absent ({pool}); set ZHSEARCH_SHARED to the folder that holds corpus-pool/")
    return None


def pool_files(pool: Path) -> list[Path]:
    # Hidden files and folders are passed over, as the indexer's walk does.
    out = []
    for dirpath, dirnames, filenames in os.walk(pool):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.extend(Path(dirpath, n) for n in sorted(filenames)
                   if not n.startswith(".") and n.endswith(PATTERNS))
    return out


def pool_key(files: list[Path]) -> str:
    """Names the cached peer indexes: the pool's file count and total size."""
    return f"{len(files)}-{sum(p.stat().st_size for p in files)}"


@dataclass(frozen=True, slots=True)
class Record:
    url: str
    title: str
    lead: str
    body: str
    published: float | None


def load_records(pool: Path, files: list[Path]) -> list[Record]:
    """One record per normalised URL, sorted by URL; unreadable files are left out (as indexed)."""
    best: dict[str, tuple] = {}
    for p in files:
        rel = p.relative_to(pool).as_posix()
        try:
            data = p.read_bytes()
            mtime_ns = p.stat().st_mtime_ns
            a: Article = parse_article(data, rel)
        except (OSError, ArticleParseError):
            continue
        ts = None if a.published is None else a.published.timestamp()
        key = (ts is not None, ts or 0.0, mtime_ns, rel)  # indexer/writer.py _winner_key
        if a.url not in best or key > best[a.url][0]:
            best[a.url] = (key, Record(a.url, a.title, a.lead, a.body, ts))
    return [best[u][1] for u in sorted(best)]


def flat(text: str) -> str:
    return "".join(analysis.normalize(text).split())


def equivalents(records: list[Record]) -> dict[str, frozenset[str]]:
    """url -> the URLs that count as a correct hit for it (itself, same text, same title)."""
    by_text: dict[str, set[str]] = defaultdict(set)
    by_title: dict[str, set[str]] = defaultdict(set)
    for r in records:
        text = flat(r.lead + r.body)
        if text:
            by_text[text].add(r.url)
        by_title[flat(r.title)].add(r.url)
    out = {}
    for r in records:
        same = {r.url} | by_title[flat(r.title)]
        text = flat(r.lead + r.body)
        if text:
            same |= by_text[text]
        out[r.url] = frozenset(same)
    return out


def near_duplicates(records: list[Record], threshold: float = 0.8, k: int = 8) -> dict[str, frozenset[str]]:
    """url -> the URLs of the same story re-posted with small edits (a secondary measure only).

    Two texts are near-duplicates when they share at least `threshold` of the larger one's
    sampled k-character shingles (one shingle in eight, by hash). At 0.8 this pairs re-posts
    ("德国之声｜…" on CDT), re-edited wire copy and spelling variants (也门/叶门); the daily
    template stories (Reuters' 中间价 reports, 0.6-0.78) stay apart.
    """
    import zlib

    shingles: list[set[int]] = []
    postings: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        text = flat(r.lead + r.body)
        s = {h for h in (zlib.crc32(text[j:j + k].encode()) for j in range(len(text) - k + 1)) if h % 8 == 0}
        shingles.append(s)
        for h in s:
            postings[h].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in postings.values():
        if 1 < len(docs) <= 30:  # longer lists are boilerplate
            for x in range(len(docs)):
                for y in range(x + 1, len(docs)):
                    shared[docs[x], docs[y]] += 1
    near: dict[str, set[str]] = {r.url: {r.url} for r in records}
    for (a, b), n in shared.items():
        if n >= threshold * max(len(shingles[a]), len(shingles[b])):
            near[records[a].url].add(records[b].url)
            near[records[b].url].add(records[a].url)
    return {u: frozenset(s) for u, s in near.items()}


@dataclass(frozen=True, slots=True)
class Query:
    qid: int
    kind: str  # "title" | "body"
    words: tuple[str, ...]
    target: str  # url
    half: str  # "tune" | "held"

    @property
    def text(self) -> str:
        return " ".join(self.words)


def _eligible(word: str) -> bool:
    return len(word) >= 2 and not word.isdigit()


def _ordered_unique(words):
    seen, out = set(), []
    for w in words:
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def make_queries(records: list[Record], n_per_kind: int, seed: int,
                 top_keywords: int = 10) -> list[Query]:
    """`n_per_kind` title queries and as many body queries, each kind split in two halves."""
    rng = random.Random(seed)
    title_words = {r.url: _ordered_unique(w for w in analysis.query_words(r.title) if _eligible(w))
                   for r in records}
    text_words = {r.url: analysis.query_words(r.lead + "\n" + r.body) for r in records}
    df: Counter[str] = Counter()
    for r in records:
        df.update(set(text_words[r.url]) | set(title_words[r.url]))
    n_docs = len(records)

    def keywords(r: Record) -> list[str]:
        words = text_words[r.url]
        tf = Counter(w for w in words if _eligible(w) and df[w] >= 2)
        ranked = sorted(tf, key=lambda w: (-tf[w] * math.log(n_docs / df[w]), w))[:top_keywords]
        if len(ranked) < 3:
            return []
        chosen = set(rng.sample(ranked, 3))
        return [w for w in _ordered_unique(words) if w in chosen]

    queries: list[Query] = []
    for kind in ("title", "body"):
        pool = [r for r in records if len(title_words[r.url]) >= 2] if kind == "title" else list(records)
        order = rng.sample(pool, len(pool))
        picked: list[tuple[tuple[str, ...], str]] = []
        for r in order:
            if len(picked) == n_per_kind:
                break
            if kind == "title":
                chosen = set(rng.sample(title_words[r.url], 2))
                words = [w for w in title_words[r.url] if w in chosen]
            else:
                words = keywords(r)
            if words:
                picked.append((tuple(words), r.url))
        halves = ["tune"] * (len(picked) // 2) + ["held"] * (len(picked) - len(picked) // 2)
        rng.shuffle(halves)
        for (words, url), half in zip(picked, halves):
            queries.append(Query(len(queries), kind, words, url, half))
    return queries
