"""postings.py against Whoosh's own matchers, and the shape of BM25F."""

from __future__ import annotations

import numpy as np
import pytest

import search
from indexer import update_index
from indexer.codec import w3
from search.postings import Plist, Postings, bm25f

from .test_index import article, write


def whoosh_postings(reader, field, term) -> dict[int, float]:
    if (field, term) not in reader:
        return {}
    m = reader.postings(field, term)
    out = {}
    while m.is_active():
        out[m.id()] = m.weight()
        m.next()
    return out


@pytest.fixture
def segmented(tmp_path):
    """An index of three segments with deletions: what incremental runs leave behind."""
    corpus, index_dir = tmp_path / "c", tmp_path / "ix"
    for i in range(6):
        write(corpus / f"a{i}.md", article(url=f"https://www.dw.com/zh/a/{i}", title=f"香港第{i}号", body="香港 国安法 香港。" * (i + 1)))
    update_index([corpus], index_dir)
    for i in range(3):
        write(corpus / f"b{i}.md", article(url=f"https://www.dw.com/zh/b/{i}", title="台湾选举", body="香港" + "台湾。" * i))
    (corpus / "a1.md").unlink()
    update_index([corpus], index_dir)
    write(corpus / "a2.md", article(url="https://www.dw.com/zh/a/2", title="改写", body="国安法"))
    update_index([corpus], index_dir)
    with search.open_index(index_dir) as ix:
        yield ix


def test_block_reader_equals_whoosh_matchers(segmented):
    reader = segmented._searcher.reader()
    assert len(list(reader.leaf_readers())) > 1
    live = set(reader.all_doc_ids())
    p = Postings(reader)
    for field, term in [("body", "香港"), ("body", "国安法"), ("title", "台湾"), ("url", "https://www.dw.com/zh/b/1"),
                        ("body", "无此词")]:
        plist = p.get(field, term)
        assert list(plist.ids) == sorted(plist.ids)
        ours = {d: w for d, w in zip(plist.ids.tolist(), plist.tf.tolist()) if d in live}
        assert ours == whoosh_postings(reader, field, term)
    assert p.lengths("body").tolist() == [reader.doc_field_length(d, "body", 0) for d in range(reader.doc_count_all())]


def test_multi_block_lists_equal_whoosh_matchers(tmp_path, monkeypatch):
    """Lists of many blocks (deltas restart at each block; 1- and 2-byte deltas)."""
    monkeypatch.setattr(w3, "BLOCK_SIZE", 64)
    corpus, index_dir = tmp_path / "c", tmp_path / "ix"
    for i in range(700):
        # 常见 in every article, 偶见 in every 300th (deltas past 255), 稀有 five times in the last
        body = "常见词。" + ("偶见词。" if i % 300 == 0 else "") + ("稀有词。" * 5 if i == 699 else "")
        write(corpus / f"a{i:03d}.md", article(url=f"https://www.dw.com/zh/a/{i}", title=f"第{i}号", body=body * (1 + i % 3)))
    update_index([corpus], index_dir)
    with search.open_index(index_dir) as ix:
        reader = ix._searcher.reader()
        p = Postings(reader)
        for field, term in [("body", "常见"), ("chars", "常见"), ("body", "偶见"), ("body", "稀有"), ("chars", "第")]:
            plist = p.get(field, term)
            assert dict(zip(plist.ids.tolist(), plist.tf.tolist())) == whoosh_postings(reader, field, term)
        assert len(p.get("body", "常见").ids) == 700


def test_bm25f_prefers_more_occurrences_and_shorter_fields(segmented):
    reader = segmented._searcher.reader()
    p = Postings(reader)
    docs = np.zeros(reader.doc_count_all(), dtype=bool)
    docs[list(reader.all_doc_ids())] = True
    scores = bm25f(p, [("香港", ("title", "lead", "body"))], docs, {"title": 1, "lead": 1, "body": 1}, 0.75, 1.2)
    holding = {d for f in ("title", "lead", "body") for d in p.get(f, "香港").ids.tolist()}
    assert set(np.flatnonzero(scores).tolist()) == holding & set(np.flatnonzero(docs).tolist())
    # Saturation: the scores stay below idf * (k1 + 1) however often the word occurs.
    assert scores.max() < 2.2 * 3


def test_bm25f_saturates_once_across_fields():
    """One title occurrence must not outweigh many body occurrences by field-wise addition."""
    from math import log

    class Reader:
        def doc_count_all(self):
            return 3

        def field_length(self, f):
            return 30  # an average length of 10

        def leaf_readers(self):
            return []

    p = Postings(Reader())
    p._cache = {("title", "w"): Plist(np.array([1]), np.array([1.0])), ("body", "w"): Plist(np.array([2]), np.array([12.0]))}
    p._lengths = {"title": np.full(3, 10.0), "body": np.full(3, 10.0)}
    s = bm25f(p, [("w", ("title", "body"))], np.array([False, True, True]), {"title": 3.0, "body": 1.0}, 0.75, 1.2)
    idf = log(1 + (3 - 2 + 0.5) / 2.5)
    tf_title = 3.0 * 1 / (0.25 + 0.75 * 10 / 10)
    assert s[1] == pytest.approx(idf * tf_title / (1.2 + tf_title))
    assert s[2] > s[1]


@pytest.mark.parametrize("seed", range(4))
def test_nth_smallest_equals_a_full_partition(seed):
    # ranking.nth_smallest bounds the n-th value from a sample: it must be exact whatever the
    # sample misses (ties of 100 copies of one score, sorted runs, a bound that keeps too few)
    from search.ranking import SAMPLE, first_by_keys, nth_smallest

    rng = np.random.default_rng(seed)
    for _ in range(200):
        size = int(rng.integers(1, 20 * SAMPLE))
        kind = int(rng.integers(5))
        if kind == 0:  # copies: every score repeated, as the x100 bench's 100 copies of a story
            values = -np.repeat(rng.random(size // 100 + 1), 100)[:size]
        elif kind == 1:  # few distinct values, in order (an index's docnums by date)
            values = np.sort(rng.integers(-5, 5, size)).astype(np.float64)
        elif kind == 2:  # descending: the sample starts at the largest values
            values = np.sort(rng.random(size))[::-1].copy()
        elif kind == 3:  # the sample's every value the least: the bound keeps only those
            values = np.where(np.arange(size) % max(size // SAMPLE, 1) == 0, -1.0, 0.0)
        else:
            values = rng.standard_normal(size)
        n = int(rng.integers(0, min(size, 3 * SAMPLE)))
        assert nth_smallest(values, n) == np.partition(values, n)[n]
        ids = np.arange(size)
        assert first_by_keys([ids, values], 10) == ids[np.lexsort([ids, values])][:10].tolist()
