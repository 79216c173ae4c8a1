"""Issue 4's guarantees as properties over the pool: substring recall, exact phrases, whole highlights."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import normalize

HAN_RUN = re.compile(r"[\u4e00-\u9fff]{4,}")
PROPERTY = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def corpus(pool_ix):
    """url -> normalised title/lead/body, and the Chinese runs to cut queries from."""
    from indexer.schema import document_texts

    texts, runs = {}, []
    reader = pool_ix._searcher.reader()
    for d in reader.all_doc_ids():
        own = document_texts(reader, d)
        parts = [normalize(own[f]) for f in ("title", "lead", "body")]
        texts[reader.stored_fields(d)["url"]] = parts
        runs.extend(HAN_RUN.findall(parts[0]))
        runs.extend(HAN_RUN.findall(parts[2])[:3])
    return texts, runs


def containing(texts, needle: str) -> set[str]:
    return {url for url, parts in texts.items() if any(needle in p for p in parts)}


def draw_needle(data, runs: list[str], shortest: int, longest: int) -> str:
    run = data.draw(st.sampled_from(runs))
    start = data.draw(st.integers(0, len(run) - shortest))
    return run[start:start + data.draw(st.integers(shortest, longest))]


def found(ix, query: str) -> set[str]:
    hits = ix.search(query, limit=0)
    assert hits.total == len(hits)
    return {u for h in hits for u in (h.url, *h.duplicates)}


@PROPERTY
@given(data=st.data())
def test_every_literal_run_is_found(pool_ix, corpus, data):
    """Recall 1: a 1-4 character run cut anywhere from a title or body, across jieba's words."""
    texts, runs = corpus
    needle = draw_needle(data, runs, 1, 4)
    assert containing(texts, needle) <= found(pool_ix, needle)


@PROPERTY
@given(data=st.data())
def test_quoted_runs_are_exact(pool_ix, corpus, data):
    """Phrases 3: a quoted run returns exactly the articles containing it."""
    texts, runs = corpus
    needle = draw_needle(data, runs, 2, 6)
    assert found(pool_ix, f'"{needle}"') == containing(texts, needle)


@PROPERTY
@given(data=st.data())
def test_highlights_are_whole_occurrences(pool_ix, corpus, data):
    """Highlights 4: each highlighted run is exactly the query run, and no occurrence is left half-marked."""
    _, runs = corpus
    needle = draw_needle(data, runs, 2, 4)
    for hit in pool_ix.search(f'"{needle}"', limit=5):
        for text, spans in ((hit.snippet, hit.highlights), (hit.title, hit.title_highlights)):
            norm = normalize(text)
            assert all(norm[s:e] == needle for s, e in spans)
            assert [s for s, _ in spans] == [m.start() for m in re.finditer(re.escape(needle), norm)]


def test_phrase_of_a_long_words_sub_words(pool_ix, corpus):
    """人民共和 sits inside the one indexed word 中华人民共和国: the phrase still matches."""
    texts, _ = corpus
    assert containing(texts, "人民共和")
    assert found(pool_ix, '"人民共和"') == containing(texts, "人民共和")
    assert found(pool_ix, '"华人民"') == containing(texts, "华人民")


def test_last_character_of_a_run_is_findable(pool_ix, corpus):
    texts, _ = corpus
    for title in [p[0] for p in list(texts.values())[:200]]:
        for run in HAN_RUN.findall(title)[:1]:
            assert containing(texts, run[-1]) <= found(pool_ix, run[-1])
