"""The child processes of bench/speed.py; each prints one JSON line of timings on stdout.

    python bench/speed_child.py build whoosh|fts5 OUT CORPUS...  parse the CORPUS folders, build a peer index at OUT
    python bench/speed_child.py segment jieba|rjieba CORPUS      parse CORPUS, segment every record
    python bench/speed_child.py cold whoosh|fts5 INDEX QUERY     open a peer index, run one query

Builds run in their own process so that each one's peak memory can be read (os.wait4 in the
parent) and no build inherits another's warm caches or heap. The module imports only the
standard library at the top: `cold` is timed from interpreter start, so it must pay for what
the peer's own query path needs (Whoosh, jieba) and nothing of zhsearch's.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
warnings.filterwarnings("ignore", category=SyntaxWarning)  # jieba and Whoosh on Python 3.12
warnings.filterwarnings("ignore", category=DeprecationWarning)


def _records(corpus: Path):
    """The benchmark's records (one per URL, as zhsearch indexes them), and the seconds it took."""
    sys.path.insert(0, str(ROOT))
    from bench import pool as bpool

    started = time.monotonic()
    records = bpool.load_records(corpus, bpool.pool_files(corpus))
    return records, time.monotonic() - started


class _Stream:
    """The records of several corpus folders, one folder in memory at a time.

    A replicated ×100 corpus is 447,000 articles, several GB as Python strings: the FTS5 peer
    reads it folder by folder (each replica is a folder whose URLs no other folder has, so one
    record per URL still holds). `parse_s` adds up the time spent parsing."""

    def __init__(self, corpora: list[Path]):
        self.corpora = corpora
        self.parse_s = 0.0
        self.count = 0

    def __iter__(self):
        for corpus in self.corpora:
            records, seconds = _records(corpus)
            self.parse_s += seconds
            self.count += len(records)
            yield from records


def build(kind: str, out: Path, corpora: list[Path]) -> dict:
    stream = _Stream(corpora)
    sys.path.insert(0, str(ROOT))
    from bench import peers

    # peers' builders time themselves after jieba's dictionary load (the process wall time has it).
    if kind == "whoosh":
        records = list(stream)
        seconds = peers.build_whoosh(records, out)
        return {"parse_s": stream.parse_s, "build_s": seconds, "records": stream.count}
    seconds = peers.build_fts5(stream, out)  # parses as it inserts
    return {"parse_s": stream.parse_s, "build_s": seconds - stream.parse_s, "records": stream.count}


def segment(kind: str, corpus: Path) -> dict:
    records, parse_s = _records(corpus)
    started = time.monotonic()
    if kind == "jieba":
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        cut = jieba.cut_for_search
    else:
        import rjieba

        rjieba.cut("预热")  # rjieba builds its dictionary on first use: count that as its load
        cut = rjieba.cut_for_search
    load_s = time.monotonic() - started
    started = time.monotonic()
    tokens = 0
    for r in records:
        for _ in cut(r.title + "\n" + r.lead + "\n" + r.body):
            tokens += 1
    return {"parse_s": parse_s, "load_s": load_s, "segment_s": time.monotonic() - started,
            "tokens": tokens, "chars": sum(len(r.title) + len(r.lead) + len(r.body) + 2 for r in records)}


def cold(kind: str, index: Path, text: str) -> dict:
    """One query the way each peer's own path runs it (bench/peers.py), top 10, printed.

    Written out here rather than imported from bench.peers, whose import pulls in zhsearch's
    analysis module. Whoosh shows no highlights here: its recipe needs the article text, which
    its index does not store, so this is a lower bound on a real Whoosh CLI.
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    if kind == "whoosh":
        from whoosh import index as windex
        from whoosh.qparser import AndGroup, MultifieldParser

        ix = windex.open_dir(str(index))
        with ix.searcher() as s:
            q = MultifieldParser(["title", "lead", "body"], ix.schema, group=AndGroup).parse(text)
            rows = [hit["url"] for hit in s.search(q, limit=10)]
    else:
        import sqlite3

        db = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
        words = [t for t in jieba.cut(text) if any(c.isalnum() for c in t)]
        expr = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = db.execute("select url, snippet(docs, -1, '[', ']', '…', 16) from docs where docs match ? "
                          "order by bm25(docs, 0, 1, 1, 1) limit 10", [expr]).fetchall()
    for row in rows:
        print(row)
    return {"hits": len(rows)}


def main(argv: list[str]) -> int:
    cmd, kind, *rest = argv
    if cmd == "build":
        out = build(kind, Path(rest[0]), [Path(c) for c in rest[1:]])
    elif cmd == "segment":
        out = segment(kind, Path(rest[0]))
    elif cmd == "cold":
        out = cold(kind, Path(rest[0]), rest[1])
    else:
        raise SystemExit(f"unknown command {cmd!r}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
