"""The two peers zhsearch is measured against, built on the same records.

* ``whoosh``: the textbook recipe. Whoosh with jieba's own `jieba.analyse.ChineseAnalyzer`
  (search-mode words, character offsets as positions, English stop words and stemming) on
  three TEXT fields title/lead/body; Whoosh's default BM25F (B=0.75, K1=1.2), no field boosts;
  queries through `MultifieldParser` over the three fields, with AND grouping (every query
  word must be in some field) or OR grouping.
* ``fts5``: SQLite FTS5 (unicode61 tokenizer) over the space-joined tokens of jieba's
  `cut_for_search`, one column each for title, lead and body; a query is the AND of the
  query's jieba words (default mode: search-mode indexing holds a long word's sub-words, not
  the other way round), ranked by `bm25(docs, w_title, w_lead, w_body)`.

Both are built once per pool (see `pool_key`) and kept in bench/work/.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from .pool import Record

WHOOSH_GROUPS = ("and", "or")


def _quiet_jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


# ---------------------------------------------------------------- Whoosh + ChineseAnalyzer


def build_whoosh(records: list[Record], path: Path, procs: int = 1) -> float:
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    _quiet_jieba()
    started = time.monotonic()
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    analyzer = ChineseAnalyzer()
    schema = Schema(url=ID(stored=True, unique=True), title=TEXT(analyzer=analyzer),
                    lead=TEXT(analyzer=analyzer), body=TEXT(analyzer=analyzer))
    ix = index.create_in(str(tmp), schema)
    kwargs = {"procs": procs, "multisegment": True} if procs > 1 else {}
    with ix.writer(limitmb=256, **kwargs) as w:
        for r in records:
            w.add_document(url=r.url, title=r.title, lead=r.lead, body=r.body)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    return time.monotonic() - started


class WhooshPeer:
    def __init__(self, path: Path, group: str):
        from whoosh import index
        from whoosh.qparser import AndGroup, MultifieldParser, OrGroup

        _quiet_jieba()
        self.ix = index.open_dir(str(path))
        self.searcher = self.ix.searcher()  # default weighting: BM25F()
        grouping = AndGroup if group == "and" else OrGroup
        self.parser = MultifieldParser(["title", "lead", "body"], self.ix.schema, group=grouping)
        self.name = f"whoosh-{group}"

    def search(self, text: str, limit: int = 10) -> list[str]:
        q = self.parser.parse(text)
        return [hit["url"] for hit in self.searcher.search(q, limit=limit or None)]

    def close(self):
        self.searcher.close()


# ---------------------------------------------------------------- SQLite FTS5 + cut_for_search


def _search_tokens(jieba, text: str) -> str:
    return " ".join(t for t in jieba.cut_for_search(text) if t.strip())


def build_fts5(records: Iterable[Record], path: Path) -> float:
    """Inserts as it reads `records`, which may be a stream too large to hold in memory."""
    jieba = _quiet_jieba()
    started = time.monotonic()
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.execute("create virtual table docs using fts5(url unindexed, title, lead, body, tokenize='unicode61')")
    db.executemany(
        "insert into docs (url, title, lead, body) values (?, ?, ?, ?)",
        ((r.url, _search_tokens(jieba, r.title), _search_tokens(jieba, r.lead), _search_tokens(jieba, r.body))
         for r in records),
    )
    db.commit()
    db.close()
    tmp.replace(path)
    return time.monotonic() - started


class Fts5Peer:
    def __init__(self, path: Path, weights: tuple[float, float, float]):
        self.jieba = _quiet_jieba()
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.weights = weights
        self.name = "fts5-" + "/".join(f"{w:g}" for w in weights)

    def match_expr(self, text: str) -> str:
        words = [t for t in self.jieba.cut(text) if any(c.isalnum() for c in t)]
        return " AND ".join('"' + w.replace('"', '""') + '"' for w in words)

    def search(self, text: str, limit: int = 10) -> list[str]:
        expr = self.match_expr(text)
        if not expr:
            return []
        sql = "select url from docs where docs match ? order by bm25(docs, 0, ?, ?, ?)"
        args: list = [expr, *self.weights]
        if limit:
            sql += " limit ?"
            args.append(limit)
        return [row[0] for row in self.db.execute(sql, args)]

    def close(self):
        self.db.close()
