"""`zhsearch similar` and `Index.similar` (issue 16): the same story from an indexed article or a
pasted text, with the bad inputs of the issue."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

import search
from search.similar import MAX_TERMS, MAX_TEXT_CHARS

from .test_cli import ZHSEARCH, json_lines, run
from .test_script import s2t


@pytest.fixture(scope="module")
def source(pool_ix):
    """A pool article with plenty of coverage: Hong Kong's security law."""
    return pool_ix.get(pool_ix.search("国安法 寒蝉效应", limit=1)[0].url)


def test_similar_leaves_out_the_article_and_its_copies_and_ties_hits_by_its_words(pool_ix, source):
    hits = pool_ix.similar(source.url, limit=0)
    words = hits.query.split()
    assert 10 <= len(words) <= MAX_TERMS and "国安法" in words
    assert hits.total > 20
    own = {source.url}
    assert not own & {u for h in hits for u in (h.url, *h.duplicates)}
    for h in hits[:10]:
        marked = {pool_ix_norm(h.snippet[s:e]) for s, e in h.highlights} | {
            pool_ix_norm(h.title[s:e]) for s, e in h.title_highlights}
        assert marked and marked <= set(words), (h.title, marked - set(words))
    # best first; the top is Hong Kong under the new law, in the days around the source
    assert [h.score for h in hits[:10]] == sorted((h.score for h in hits[:10]), reverse=True)
    assert sum("港" in h.title or "国安法" in h.title for h in hits[:10]) >= 8
    assert all(abs(h.published - source.published) <= timedelta(days=10) for h in hits[:10])


def pool_ix_norm(text: str) -> str:
    from indexer.analysis import normalize

    return normalize(text)


def test_days_keeps_a_window_around_the_article(pool_ix, source):
    hits = pool_ix.similar(source.url, days=2, limit=0)
    assert hits.total > 0
    for h in hits:
        assert abs(h.published - source.published) <= timedelta(days=2)
    assert hits.total < pool_ix.similar(source.url, limit=0).total


def test_a_traditional_paragraph_finds_its_story_first(pool_ix, source):
    text = s2t(source.title + "\n" + source.lead + "\n" + source.body[:600])
    assert text != source.title + "\n" + source.lead + "\n" + source.body[:600]
    assert pool_ix.similar(text, limit=1)[0].url == source.url


def test_bad_sources(pool_ix):
    with pytest.raises(search.ArticleNotFound):
        pool_ix.similar("https://www.rfi.fr/cn/no-such-article")
    for text in ("", "   \n\t", "，。！？……"):
        with pytest.raises(search.QuerySyntaxError):
            pool_ix.similar(text)
    with pytest.raises(search.QuerySyntaxError):
        pool_ix.similar("香港 国安法", days=3)  # a text has no date
    long = "香港国安法实施后，民主派人士宣布退出。" * 10_000
    assert pool_ix.similar(long, limit=1).query == pool_ix.similar(long[:MAX_TEXT_CHARS], limit=1).query


def test_cli_similar_url_text_and_stdin(pool_index, pool_ix, source):
    index = pool_index[0]
    by_url = run("similar", source.url, "--json", "--index", index)
    assert by_url.exit_code == 0
    assert [d["url"] for d in json_lines(by_url.output)] == [h.url for h in pool_ix.similar(source.url)]
    text = source.title + "\n" + source.lead
    by_text = run("similar", "--text", text, "--json", "-n", "3", "--index", index)
    by_stdin = CliRunner_stdin(["similar", "-", "--json", "-n", "3", "--index", str(index)], text.encode())
    assert json_lines(by_text.output) == json_lines(by_stdin.output) and len(json_lines(by_text.output)) == 3


def CliRunner_stdin(args, data: bytes):
    from click.testing import CliRunner

    from search.cli import main

    return CliRunner().invoke(main, args, input=data)


@pytest.mark.parametrize("args,data,code,message", [
    (["https://www.rfi.fr/cn/no-such-article"], b"", 1, "no indexed article has the URL https://www.rfi.fr/cn/no-such"),
    (["-"], b"  \n ", 2, "empty text"),
    (["-"], "，。！".encode(), 2, "no searchable words"),
    (["-"], bytes(range(256)) * 20, 2, "not UTF-8"),
    (["-"], b"\x00\x01\x02abc" * 100, 2, "binary"),
    ([], b"", 2, "give one of URL"),
])
def test_cli_bad_input_is_one_line_with_its_exit_code(pool_index, args, data, code, message):
    if not ZHSEARCH.exists():
        pytest.skip(f"{ZHSEARCH} is not installed")
    p = subprocess.run([str(ZHSEARCH), "similar", *args, "--index", str(pool_index[0])], input=data,
                       capture_output=True, timeout=120)
    err = p.stderr.decode()
    assert p.returncode == code and len(err.strip().splitlines()) == 1 and message in err, err
    assert p.stdout == b""


def test_cli_ten_megabytes_on_stdin_uses_the_first_100000_characters(pool_index):
    if not ZHSEARCH.exists():
        pytest.skip(f"{ZHSEARCH} is not installed")
    data = ("香港国安法实施后，民主派人士宣布退出。" * 600_000).encode()[:10_000_000]
    p = subprocess.run([str(ZHSEARCH), "similar", "-", "-n", "1", "--json", "--index", str(pool_index[0])],
                       input=data, capture_output=True, timeout=120)
    err = p.stderr.decode().strip().splitlines()
    assert p.returncode == 0 and len(json_lines(p.stdout.decode())) == 1
    assert len(err) == 1 and "first 100,000" in err[0]


def test_the_articles_own_copies_are_never_hits(pool_ix):
    copied = next(h for h in pool_ix.search("中国", limit=0) if h.duplicates)
    for url in (copied.url, copied.duplicates[0]):
        hits = pool_ix.similar(url, limit=0, fold=False)
        assert hits.total and not {copied.url, *copied.duplicates} & {h.url for h in hits}
