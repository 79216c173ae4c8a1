"""The shipped demo corpus: the seed and VOA's own articles, nothing of another outlet."""

from __future__ import annotations

import re

import pytest

from bench.voa_corpus import names_wire_service, selection
from indexer.reader import parse_article
from indexer.walk import DEFAULT_PATTERNS, walk_corpus

from .conftest import CORPUS, POOL, SEED

# The check the project's pre-stop hook makes on every committed corpus file.
ALLOWED_TITLE_LINE = re.compile(
    rb"^\[.*\]\(https?://(www\.voachinese\.com|www\.rfi\.fr/cn/[^)]*/20231109-)", re.M)


def corpus_articles():
    return sorted(p for p in CORPUS.iterdir() if p.name != "README.md")


def test_every_corpus_file_is_the_seed_or_a_voa_article():
    files = corpus_articles()
    assert SEED in files and len(files) > 400
    for path in files:
        data = path.read_bytes()
        assert ALLOWED_TITLE_LINE.search(data), path.name
        article = parse_article(data, path.name)
        assert article.source == ("RFI" if path == SEED else "VOA"), path.name
        assert article.body, path.name


def test_the_corpus_readme_is_not_read_as_an_article(tmp_path):
    warnings = []
    found = walk_corpus([CORPUS], DEFAULT_PATTERNS, lambda path, reason: warnings.append((path, reason)))
    assert warnings == []
    assert sorted(found) == [p.name for p in corpus_articles()]
    (tmp_path / "sub").mkdir()
    for name in ("README.md", "readme.txt", "sub/Readme.md", "README-notes.md", "a.md"):
        (tmp_path / name).write_text("x")
    assert sorted(walk_corpus([tmp_path], DEFAULT_PATTERNS, lambda *a: None)) == ["README-notes.md", "a.md"]


def test_no_voa_file_names_a_news_agency():
    named = [p.name for p in corpus_articles() if p != SEED and names_wire_service(p.read_bytes())]
    assert named == []


@pytest.mark.parametrize("text, named", [
    ("（美联社华盛顿电）", True), ("据路透社报道", True), ("路透中文网", True), ("彭博新闻社说", True),
    ("日本《共同通讯社》引述", True), ("據新華社報道", True), ("(AP Photo/Andy Wong)", True),
    ("Reuters/Thomas Peter", True), ("via AFP", True),
    ("美联储宣布降息", False), ("APEC 峰会", False), ("gdb.voanews.com/40EFE475-E33C-4C96.jpg", False),
    ("中央政府", False), ("MAP", False),
])
def test_news_agency_names(text, named):
    assert names_wire_service(text.encode()) is named


def test_corpus_is_exactly_the_selection_from_the_pool():
    if not POOL.is_dir():
        pytest.skip(f"the shared article pool is absent ({POOL})")
    wanted = selection(POOL)
    shipped = {p.name: p.read_bytes() for p in CORPUS.glob("voa-*.md")}
    assert shipped == wanted
    voa_total = len(list((POOL / "美国之音").glob("*.md")))
    assert 380 <= len(wanted) < voa_total
