"""`search --any` / `Index.search(match="any")` (issue 16): the top-level AND relaxed to a
fraction of the query's parts; everything below the top level keeps its meaning."""

from __future__ import annotations

from itertools import combinations

import pytest

import search
from search import query as ql
from search.anymatch import MAX_ANY_QUERY_CHARS, needed, relax

from .test_cli import json_lines, run


def every(ix, query, **kw) -> set[str]:
    return {h.url for h in ix.search(query, limit=0, fold=False, **kw)}


def test_parts_are_the_words_of_bare_runs_phrases_groups_and_fields():
    tree = relax(ql.parse('卡塔尔斡旋 "释放人质" (疫苗 OR 口罩) title:香港 -美国 卡塔尔'))
    assert tree == ql.And((ql.Term("卡塔尔"), ql.Term("斡旋"), ql.Phrase("释放人质"),
                           ql.Or((ql.Term("疫苗"), ql.Term("口罩"))), ql.Term("香港", "title"),
                           ql.Not(ql.Term("美国"))))


@pytest.mark.parametrize("fraction,parts,need", [(0.3, 10, 3), (0.5, 3, 2), (0.0, 5, 1), (1.0, 7, 7), (0.3, 1, 1)])
def test_needed_rounds_up_and_is_at_least_one(fraction, parts, need):
    assert needed(fraction, parts) == need


def test_a_hit_matches_at_least_the_fraction_of_parts(pool_ix):
    words = ["香港", "疫苗", "特朗普", "奥运会"]
    got = every(pool_ix, " ".join(words), match="any", min_match=0.5)
    pairs = set().union(*(every(pool_ix, f"{a} {b}") for a, b in combinations(words, 2)))
    assert got == pairs and len(got) > 20
    assert every(pool_ix, " ".join(words), match="any", min_match=1.0) == every(pool_ix, " ".join(words))
    assert every(pool_ix, " ".join(words), match="any", min_match=0.0) == every(pool_ix, " OR ".join(words))


def test_or_not_phrases_and_fields_keep_their_meaning(pool_ix):
    q = "(疫苗 OR 口罩) title:香港 -美国"
    assert every(pool_ix, q, match="any", min_match=1.0) == every(pool_ix, q)
    loose = every(pool_ix, q, match="any", min_match=0.5)
    assert loose > every(pool_ix, q) and not loose & every(pool_ix, "美国")
    assert loose == every(pool_ix, "(疫苗 OR 口罩 OR title:香港) -美国")


def test_best_matching_first_and_a_pasted_paragraph_finds_its_article(pool_ix):
    hit = pool_ix.search("国安法 抗议 香港", limit=1)[0]
    article = pool_ix.get(hit.url)
    paragraph = (article.lead + article.body)[:300]
    assert pool_ix.search(paragraph).total in (0, 1)  # all words: the source or nothing
    hits = pool_ix.search(paragraph, match="any", limit=10)
    assert hits[0].url == hit.url and hits.total > 10
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_long_queries_allowed_up_to_the_any_cap(pool_ix):
    long = "香港 " * 400  # 1,200 characters
    with pytest.raises(search.QuerySyntaxError):
        pool_ix.search(long)
    assert pool_ix.search(long, match="any").total > 0
    with pytest.raises(search.QuerySyntaxError, match="at most 10000"):
        pool_ix.search("港" * (MAX_ANY_QUERY_CHARS + 1), match="any")
    with pytest.raises(ValueError):
        pool_ix.search("香港", match="any", min_match=1.5)
    with pytest.raises(ValueError):
        pool_ix.search("香港", match="some")


def test_cli_any_and_min_match(pool_index, pool_ix):
    index = pool_index[0]
    got = json_lines(run("search", "--any", "--min-match", "0.5", "香港", "疫苗", "特朗普", "奥运会",
                         "-n", "0", "--json", "--index", index).output)
    assert {d["url"] for d in got} == {h.url for h in pool_ix.search("香港 疫苗 特朗普 奥运会", match="any",
                                                                     min_match=0.5, limit=0)}
    implied = run("search", "--min-match", "1", "香港", "疫苗", "--json", "--index", index)
    assert json_lines(implied.output) == json_lines(run("search", "香港", "疫苗", "--json", "--index", index).output)
    bad = run("search", "--any", "--min-match", "2", "香港", "--index", index)
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
