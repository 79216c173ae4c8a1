"""search/textstore.py reads the stored texts straight from the segments' maps: it must agree
with Whoosh's column reader and with the per-document checks it replaces."""

from __future__ import annotations

import random

import numpy as np
import pytest

from indexer.schema import TEXT_FIELDS, encode_text, holds, texts
from search.snippets import count_literal
from search import textstore
from search.textstore import TextStore


def _needles(column, docs: list[int], rng: random.Random) -> list[str]:
    """Han runs of 1-4 characters cut from real texts, and a few that occur nowhere."""
    out = {"龘龘", "的的的的的"}
    for d, after in zip(docs, docs[1:]):  # the end of one text and the start of the next, joined
        tail, head = texts(column, d)["body"][-2:], texts(column, after)["title"][:2]
        if all("\u4e00" <= c <= "\u9fff" for c in tail + head):
            out.add(tail + head)
    for d in docs:
        body = texts(column, d)["body"]
        for _ in range(3):
            i = rng.randrange(max(len(body) - 4, 1))
            run = body[i:i + rng.randint(1, 4)]
            if run and all("\u4e00" <= c <= "\u9fff" for c in run):
                out.add(run)
    return sorted(out)


@pytest.mark.parametrize("which", ["corpus_ix", "pool_ix"])
def test_agrees_with_whoosh_and_the_per_document_checks(which, request, monkeypatch):
    ix = request.getfixturevalue(which)
    reader = ix._searcher.reader()
    column = reader.column_reader("text")
    store = TextStore(reader)
    assert store._maps is not None  # the mapped path, which a search uses
    with monkeypatch.context() as m:  # a segment that is not mapped: Whoosh's column reader
        m.setattr(textstore, "bytes_column", lambda seg, name: None)
        fallback = TextStore(reader)
    assert fallback._maps is None
    n = reader.doc_count_all()
    assert all(store[d] == column[d] for d in range(n))
    urls, whoosh_urls = TextStore(reader, "url"), reader.column_reader("url")  # another bytes column
    assert urls._maps is not None and all(urls[d].decode("utf-8") == whoosh_urls[d] for d in range(n))
    rng = random.Random(7)
    docs = np.array(sorted(rng.sample(range(n), min(n, 300))), np.int64)
    for needle in _needles(column, docs[:60].tolist(), rng):
        raw = encode_text([needle])
        expected = [holds(column[d], raw) for d in docs.tolist()]
        assert store.holding(docs, raw).tolist() == expected, needle
        assert fallback.holding(docs, raw).tolist() == expected, needle
        counts = [[count_literal(texts(column, d)[f], needle) for f in TEXT_FIELDS] for d in docs.tolist()]
        assert store.field_counts(docs, needle).tolist() == counts, needle
        assert fallback.field_counts(docs, needle).tolist() == counts, needle


def test_a_match_across_two_characters_is_no_match():
    # 中文 is 2D 4E 87 65 in UTF-16-LE; U+874E is 4E 87: there at an odd offset, straddling both
    value = encode_text(["中文", "中文中文", "文"])
    needle = encode_text(["\u874e"])
    assert value.find(needle) == 1
    assert not holds(value, needle)
    # the same value inside a larger buffer at an odd position: parity counts from its start
    buf = b"x" + value
    assert holds(buf, encode_text(["文中"]), 1, len(buf))
    assert not holds(buf, needle, 1, len(buf))
    # a store's documents: the first find at an odd offset, then none (0) or one in place (1)
    store = _store([["中文", "中文中文", "文"], ["中文\u874e", "", ""], ["\u874e", "", ""]])
    assert store.holding(np.array([0, 1, 2]), needle).tolist() == [False, True, True]
    assert store.holding(np.array([2, 0, 1]), needle).tolist() == [True, False, True]


def _store(values: list[list[str]], *more: list[list[str]]) -> TextStore:
    """A TextStore over crafted values laid end to end in one buffer, as in a segment's map;
    `more`: the values of further segments, each in a buffer of its own."""
    store = TextStore.__new__(TextStore)
    store._maps, starts, segment = [], [], []
    for m, seg_values in enumerate((values, *more)):
        raws = [encode_text(v) for v in seg_values]
        store._maps.append(b"".join(raws))
        lengths = np.array([len(r) for r in raws], np.int64)
        starts.append(np.cumsum(lengths) - lengths)
        segment += [m] * len(raws)
    store._starts = np.concatenate(starts)
    store._ends = store._starts + np.array([len(encode_text(v)) for v in (*values, *[v for s in more for v in s])])
    store._segment = np.array(segment, np.int64)
    return store


def test_documents_of_several_segments_in_any_order():
    store = _store([["川普", "", ""], ["", "", "特朗普"]], [["", "川普说", ""]], [["龘", "", "川普"]])
    needle = encode_text(["川普"])
    assert store.holding(np.array([0, 1, 2, 3]), needle).tolist() == [True, False, True, True]
    assert store.holding(np.array([3, 1, 0, 2]), needle).tolist() == [True, False, True, True]
    assert store.field_counts(np.array([3, 2, 0]), "川普").tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]


def test_counts_stay_within_each_text_and_field():
    store = _store([["标题", "导语", "正文川"], ["普京的标题", "", "川普说川普"], ["川普", "川普", "哈哈哈哈"]])
    docs = np.array([0, 1, 2])
    # 川 ending one text and 普 starting the next are no match
    assert store.field_counts(docs, "川普").tolist() == [[0, 0, 0], [0, 0, 2], [1, 1, 0]]
    assert store.field_counts(docs, "普京").tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 0]]
    assert store.field_counts(np.array([2, 0]), "哈哈").tolist() == [[0, 0, 2], [0, 0, 0]]  # without overlaps
    assert store.field_counts(np.array([], np.int64), "川普").shape == (0, 3)
    assert store.holding(docs, encode_text(["川普"])).tolist() == [False, True, True]
