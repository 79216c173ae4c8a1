"""indexer/jieba_words.py: a query cut from the word table is rjieba's cut with its whole dictionary."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from indexer import analysis, jieba_words, user_cache
from indexer.errors import ArticleParseError
from indexer.reader import parse_article

from .conftest import CORPUS, pool_files


@pytest.fixture(scope="module")
def table():
    jieba_words.ensure_table(analysis._jieba())
    t = jieba_words.open_table()
    assert t is not None, "the table could not be made from jieba's dict.txt"
    return t


def _sentences(paths, every: int = 1) -> list[str]:
    out = []
    for p in paths:
        try:
            a = parse_article(p.read_bytes(), str(p))
        except ArticleParseError:
            continue
        out.append(a.title)
        for i, text in enumerate([a.lead, *a.body.split("\n")]):
            out.extend(s for j, s in enumerate(re.split(r"(?<=[。！？；])", text)) if s.strip() and (i + j) % every == 0)
    return [analysis.normalize(s) for s in out]


def _cuts_agree(table, texts: list[str]) -> None:
    full = analysis._jieba()
    bad = []
    for text in texts:
        mine = table.jieba_for(text)
        if mine.tokenize(text, "default", True) != full.tokenize(text, "default", True):
            bad.append(text)
    assert not bad, f"{len(bad)} of {len(texts)} texts cut otherwise than with the whole dictionary: {bad[:3]}"


def test_cuts_agree_on_the_shipped_corpus(table):
    texts = _sentences(sorted(p for p in CORPUS.iterdir() if p.is_file()), every=4)
    assert len(texts) > 500
    _cuts_agree(table, texts)


def test_cuts_agree_on_the_pool(table, pool_dir):
    # Every title and about one sentence in eight (all 149,668 sentences agreed when this was
    # written; that takes ~2.5 minutes). Mixed scripts, numbers, names, traditional text.
    texts = _sentences(pool_files(), every=8)
    assert len(texts) > 15_000
    _cuts_agree(table, texts)


@pytest.mark.parametrize("query", [
    "卡塔尔 人质", "川普", "COVID-19疫苗", "4s店", "高达30", "20年来", "新冠肺炎疫情", "中华人民共和国国务院总理",
    "一", "的的的的的", "abc", "特朗普和拜登的第一场辩论", "台湾海峡两岸关系",
])
def test_cuts_agree_on_queries(table, query):
    norm = analysis.normalize(query)
    assert table.jieba_for(norm).tokenize(norm, "default", True) == analysis._jieba().tokenize(norm, "default", True)


def test_the_filler_word_is_refused(table):
    assert table.jieba_for("香港" + jieba_words.FILLER) is None
    # and the filler brings the total to the whole dictionary's: a word's suggested frequency agrees
    for word in ("一个人", "的的", "中国美国", "人们是"):
        assert table.jieba_for(word).suggest_freq(word) == analysis._jieba().suggest_freq(word)


def test_word_keys_agree_with_their_vector_form():
    words = ["香港", "a", "卡塔尔", "𠀀字", "中华人民共和国国务院总理办公室"]
    assert jieba_words._keys(words).tolist() == [jieba_words.word_key(w) for w in words]


def test_a_dictionary_that_is_not_rjiebas_makes_no_table(monkeypatch):
    real = jieba_words._read_dict

    def with_a_stranger(path):
        words = real(path)
        words["这不是一个词语吗"] = 5
        return words

    monkeypatch.setattr(jieba_words, "_read_dict", with_a_stranger)
    assert jieba_words.build(analysis._jieba()) is None


def test_damaged_or_stale_tables_are_not_used(table, monkeypatch, tmp_path):
    monkeypatch.setenv("ZHSEARCH_CACHE", str(tmp_path))
    assert jieba_words.open_table() is None  # not made yet here
    jieba_words.ensure_table(analysis._jieba())
    name = jieba_words.table_name()
    assert (tmp_path / name).is_file() and jieba_words.open_table() is not None
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[:-8])  # truncated
    assert jieba_words.open_table() is None
    (tmp_path / name).write_bytes(b"garbage" + data[7:])
    assert jieba_words.open_table() is None
    flipped = bytearray(data)
    flipped[-3] ^= 1  # a frequency changed, the length kept
    (tmp_path / name).write_bytes(bytes(flipped))
    assert jieba_words.open_table() is None
    jieba_words.ensure_table(analysis._jieba())  # made again
    assert (tmp_path / name).read_bytes() == data and jieba_words.open_table() is not None
    # another rjieba or jieba (an upgrade) names another file: this one is not read
    (tmp_path / name).write_bytes(data)
    sources = jieba_words._sources()
    sources["rjieba"][2] += 1
    monkeypatch.setattr(jieba_words, "_sources", lambda: sources)
    assert jieba_words.table_name() != name and jieba_words.open_table() is None
    monkeypatch.setenv("ZHSEARCH_CACHE", "off")
    assert user_cache.cache_dir() is None and jieba_words.open_table() is None


def _probe(code: str, cache: str | Path) -> str:
    env = {**__import__("os").environ, "ZHSEARCH_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1]).stdout.strip()


QUERY = "卡塔尔斡旋 人质 COVID-19疫苗"
PROBE = (
    "import sys\n"
    "from indexer import analysis\n"
    f"words = analysis.query_words({QUERY!r})\n"
    "print(' '.join(words), 'rjieba' in sys.modules)\n"
)


def test_a_query_is_cut_without_rjiebas_dictionary(table, tmp_path):
    want = " ".join(w for w, _, _, _ in analysis._scan(analysis.normalize(QUERY), False))
    # the suite's cache holds the table: rjieba's package (which builds the dictionary) stays out
    assert _probe(PROBE, user_cache.cache_dir()) == f"{want} False"
    # no table: the whole dictionary, the same words
    assert _probe(PROBE, "off") == f"{want} True"
    assert _probe(PROBE, tmp_path) == f"{want} True"
    # ... and that run made the table for the next
    assert jieba_words.table_name() in {p.name for p in tmp_path.iterdir()}
    assert _probe(PROBE, tmp_path) == f"{want} False"


def test_a_user_dictionary_cuts_queries_with_rjieba(table):
    code = (
        "import sys\n"
        "from indexer import analysis\n"
        "analysis.use_userdict(analysis.UserDict([('卡塔尔斡旋', 10000, None)]))\n"
        f"print(' '.join(analysis.query_words({QUERY!r})), 'rjieba' in sys.modules)\n"
    )
    out = _probe(code, user_cache.cache_dir())
    assert out.startswith("卡塔尔斡旋 ") and out.endswith(" True")


def test_a_search_of_the_corpus_leaves_rjieba_out(corpus_index):
    code = (
        "import sys, search\n"
        f"ix = search.open_index({str(corpus_index)!r})\n"
        "hits = ix.search('新冠 疫苗')\n"
        "print(hits.total > 0, 'rjieba' in sys.modules)\n"
    )
    assert _probe(code, user_cache.cache_dir()) == "True False"


def test_a_process_that_keeps_searching_loads_the_whole_dictionary(table):
    code = (
        "import sys\n"
        "from indexer import analysis\n"
        "seen = []\n"
        "for i in range(analysis._TABLE_CUTS + 2):\n"
        "    analysis.query_words('香港 国安法')\n"
        "    seen.append('rjieba' in sys.modules)\n"
        "print(seen.index(True), analysis._TABLE_CUTS)\n"
    )
    first, cuts = _probe(code, user_cache.cache_dir()).split()
    assert first == cuts


def test_an_index_run_makes_the_table_in_a_process_of_its_own(tmp_path, monkeypatch):
    from indexer import update_index

    monkeypatch.setenv("ZHSEARCH_CACHE", str(tmp_path / "cache"))
    made_here = []
    monkeypatch.setattr(jieba_words, "build", lambda rjieba: made_here.append(1))
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_bytes((CORPUS / "000_ce5ff053ee2986c6.txt").read_bytes())
    update_index([tmp_path / "corpus"], tmp_path / "index")
    assert not made_here  # not in this process ...
    assert jieba_words.open_table() is not None  # ... but made
    monkeypatch.setenv("ZHSEARCH_CACHE", "off")
    assert jieba_words.table_name() is None
