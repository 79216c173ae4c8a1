"""Issue 7: traditional and simplified script find each other; a user dictionary for new names.

Script: `normalize` folds traditional to simplified (OpenCC t2s) one character to one, so
both editions of an article index the same words and highlights land on the article's own
characters. The traditional editions are made here, from pool articles, with OpenCC s2t.

User dictionary: jieba's dictionary is process-global and words cannot be taken out of it,
so every test that loads one runs in a child process (the CLI, or `python -c`); this
process keeps jieba's own dictionary for the other test files.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import analysis as za
from indexer import store, update_index
from indexer.analysis import normalize, query_words, tokens
from indexer.errors import UserDictError
from indexer.reader import parse_article
from indexer.schema import TEXT_FIELDS

from .conftest import ROOT, SEED, pool_files

SAMPLE_SEED = 20231109
SAMPLE_SIZE = 200
INDEXED = 40  # of the sample, indexed in both editions
MIN_AGREEMENT = 0.995

_SCRIPT = Path(sys.executable).with_name("zhsearch")
ZH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from search.cli import main; main(prog_name='zhsearch')"]
ENV = {k: v for k, v in os.environ.items() if k != "ZHSEARCH_INDEX"} | {"NO_COLOR": "1"}


_CONVERTERS: dict = {}


def opencc(config: str, text: str) -> str:
    """OpenCC itself, independent of normalize."""
    if config not in _CONVERTERS:
        import opencc as oc

        _CONVERTERS[config] = oc.OpenCC(config)
    return _CONVERTERS[config].convert(text)


def s2t(text: str) -> str:
    return opencc("s2t", text)


def traditional_copy(text: str) -> str:
    """The article file in traditional script, under its URL plus `edition=hant`."""
    trad = s2t(text)
    i = trad.index("](http") + 2
    j = trad.find("\n", i)
    j = len(trad) if j < 0 else j
    url = trad[i:j].strip().removesuffix(")").strip().partition("#")[0]
    return trad[:i] + url + ("&" if "?" in url else "?") + "edition=hant)" + trad[j:]


def search_all(ix, q: str, fold: bool = False):
    return {h.url: h for h in ix.search(q, limit=0, fold=fold)}


# ---------------------------------------------------------------- normalize


def test_traditional_folds_to_simplified():
    assert normalize("卡塔爾斡旋哈馬斯釋放人質") == "卡塔尔斡旋哈马斯释放人质"
    assert query_words("卡塔爾斡旋哈馬斯釋放人質") == ["卡塔尔", "斡旋", "哈马斯", "释放", "人质"]
    assert tokens("卡塔爾斡旋哈馬斯釋放人質") == tokens("卡塔尔斡旋哈马斯释放人质")
    # Phrase-aware: 乾 is 干 in 乾燥 but stays in 乾隆; simplified text is left alone.
    assert normalize("乾隆年間天氣乾燥") == "乾隆年间天气干燥"
    assert normalize("中华人民共和国") == "中华人民共和国"
    # Width/case folding first, then script: full-width Latin and traditional together.
    assert normalize("ＣＯＶＩＤ１９疫情下的臺灣") == "covid19疫情下的台湾"
    # A phrase match that leaves a character (於倫 is a name) is converted again: as the
    # simplified text itself normalises, and normalize stays idempotent.
    assert normalize("由於倫敦") == normalize("由于伦敦") == "由于伦敦"


_TRAD = "卡塔爾斡旋哈馬斯釋放人質於倫敦乾隆燥蕭後發國為麼藉號會個來這覆採沒權時徵萬區風對係過們數學氣當內頭裡長爲現別樣選說開記聲實無問從將稱與經關變種難間強想像計畫鍾錶"
_SIMP = "卡塔尔斡旋哈马斯释放人质于伦敦干隆后发国为么借号会个来这复采没权时征万区风对系过们数学气当内头里长现别样选说开记声实无问从将称与经关变种难间强想象计划钟表"
_MIXED = st.text(alphabet=st.one_of(st.sampled_from(_TRAD + _SIMP), st.characters(blacklist_categories=())))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), _MIXED))
def test_normalize_keeps_length_and_is_idempotent(s):
    # blacklist_categories=() lets lone surrogates in: OpenCC cannot take them (fallback).
    norm = normalize(s)
    assert len(norm) == len(s)
    assert normalize(norm) == norm


def test_fallback_character_map(monkeypatch):
    text = "卡塔爾斡旋哈馬斯釋放人質，乾隆"
    folded = text.translate(za._TABLE)
    table = za._char_table()
    assert len(table) > 2000 and all(len(v) == 1 and za.is_han(v) and za.is_han(chr(k)) for k, v in table.items())

    class Growing:  # a conversion that would not keep the length
        def convert(self, s):
            return s.replace("卡塔爾", "卡塔尔国")

    monkeypatch.setattr(za, "_t2s", Growing())
    out = normalize(text)
    assert out == folded.translate(table) and len(out) == len(text)
    assert out.startswith("卡塔尔斡旋哈马斯释放人质")
    monkeypatch.undo()
    # Lone surrogates cannot cross into OpenCC: the character map folds the rest.
    assert normalize("國\ud800會") == "国\ud800会"


def test_opencc_is_loaded_lazily():
    probe = (
        "import importlib.util, sys, time\n"
        f"spec = importlib.util.spec_from_file_location('zh_probe', {za.__file__!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "assert 'opencc' not in sys.modules\n"
        "m.normalize('ASCII only'); m.tokens('COVID-19')\n"
        "assert 'opencc' not in sys.modules\n"
        "t = time.perf_counter(); assert m.normalize('國') == '国'\n"
        "assert 'opencc' in sys.modules\n"
        "print(time.perf_counter() - t)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    print(f"OpenCC first use (import + t2s config): {float(r.stdout) * 1000:.1f} ms")


# ---------------------------------------------------------------- both editions of pool articles


@pytest.fixture(scope="module")
def editions(pool_dir):
    """(file, original text, original Article) for a fixed-seed sample of pool articles."""
    files = pool_files()
    random.Random(SAMPLE_SEED).shuffle(files)
    out = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
            out.append((path, text, parse_article(text.encode(), str(path))))
        except Exception:  # not UTF-8, or not an article: the reader's tests cover those
            continue
        if len(out) == SAMPLE_SIZE:
            break
    assert len(out) == SAMPLE_SIZE
    return out


def test_segmentation_agrees_across_scripts(editions):
    """Tokens (term, start, end) of each field and of its s2t edition, as multisets."""
    same = total = changed_articles = 0
    for _path, _text, art in editions:
        changed = False
        for value in (art.title, art.lead, art.body):
            if not value:
                continue
            trad = s2t(value)
            assert len(trad) == len(value)
            assert normalize(normalize(trad)) == normalize(trad)
            ours = Counter((t, s, e) for t, _, s, e in tokens(value))
            theirs = Counter((t, s, e) for t, _, s, e in tokens(trad))
            same += sum((ours & theirs).values())
            total += sum(ours.values())
            changed |= ours != theirs
        changed_articles += changed
    agreement = same / total
    print(f"script agreement: {agreement:.4%} of {total} tokens; {changed_articles} of "
          f"{len(editions)} articles differ somewhere")
    assert agreement >= MIN_AGREEMENT


@pytest.fixture(scope="module")
def both_ix(editions, tmp_path_factory):
    import search

    root = tmp_path_factory.mktemp("editions")
    pairs = []
    for n, (path, text, art) in enumerate(editions[:INDEXED]):
        trad_text = traditional_copy(text)
        for sub, body in (("hans", text), ("hant", trad_text)):
            (root / "corpus" / sub).mkdir(parents=True, exist_ok=True)
            (root / "corpus" / sub / f"{n:03d}{path.suffix}").write_text(body, encoding="utf-8")
        trad = parse_article(trad_text.encode(), "hant")
        assert trad.url != art.url
        pairs.append((art, trad))
    summary = update_index([root / "corpus"], root / "index")
    assert summary.documents == 2 * INDEXED
    ix = search.open_index(root / "index")
    yield ix, pairs
    ix.close()


def _query_word(art) -> str | None:
    """A title word that is one word alone and round-trips exactly through OpenCC, preferring
    words written differently in the two scripts (then longer ones)."""
    words = {w for w in query_words(art.title) if len(w) >= 2 and all(map(za.is_han, w))}
    ok = [w for w in words if query_words(w) == [w] and opencc("t2s", s2t(w)) == w]
    return max(ok, key=lambda w: (s2t(w) != w, len(w), w), default=None)


def _assert_whole_highlights(text: str, spans, word: str, own: str) -> int:
    for s, e in spans:
        assert normalize(text[s:e]) == word, (text, s, e, word)
        assert text[s:e] in own  # the article's own characters, not the query's
    return len(spans)


def test_every_query_finds_both_editions(both_ix):
    ix, pairs = both_ix
    tried = marked = differ = 0
    for art, trad in pairs:
        w = _query_word(art)
        if w is None:
            continue
        tried += 1
        differ += s2t(w) != w
        for q in (w, s2t(w)):
            hits = search_all(ix, q)
            assert art.url in hits and trad.url in hits, (q, art.title, trad.title)
            folded = ix.search(q, limit=0)
            assert {art.url, trad.url} <= {u for h in folded for u in (h.url, *h.duplicates)}
            hit = hits[trad.url]
            own = "\n".join((trad.title, trad.lead, trad.body))
            marked += _assert_whole_highlights(hit.title, hit.title_highlights, w, trad.title)
            marked += _assert_whole_highlights(hit.snippet, hit.highlights, w, own)
            assert hit.title_highlights  # the word came from the title
    print(f"both editions found: {tried} title words ({differ} written differently in the two scripts), "
          f"each queried in both scripts; {marked} highlights checked")
    assert tried >= INDEXED * 3 // 4 and differ >= tried // 2 and marked >= 2 * tried


def test_seed_in_traditional(seed_corpus, tmp_path):
    import search

    trad_text = traditional_copy(SEED.read_text(encoding="utf-8"))
    (seed_corpus / "hant.txt").write_text(trad_text, encoding="utf-8")
    update_index([seed_corpus], tmp_path / "index")
    trad_title = "卡塔爾斡旋哈馬斯釋放人質"
    with search.open_index(tmp_path / "index") as ix:
        for q in ("卡塔尔", "卡塔爾", "卡塔爾 人質", "释放人質", '"斡旋哈馬斯"'):
            hits = search_all(ix, q)
            assert len(hits) == 2, q
            by_title = {h.title: h for h in hits.values()}
            assert set(by_title) == {trad_title, "卡塔尔斡旋哈马斯释放人质"}
        hits = {h.title: h for h in search_all(ix, "卡塔尔").values()}
        trad, simp = hits[trad_title], hits["卡塔尔斡旋哈马斯释放人质"]
        assert trad.title_highlights == simp.title_highlights == [(0, 3)]
        assert {trad.snippet[s:e] for s, e in trad.highlights} == {"卡塔爾"}
        assert {simp.snippet[s:e] for s, e in search_all(ix, "卡塔爾")[simp.url].highlights} == {"卡塔尔"}
        assert ix.get(trad.url).title == trad_title


# ---------------------------------------------------------------- user dictionary: parsing (no jieba state)


def test_parse_userdict_format():
    ud = za.parse_userdict(
        "\ufeff# 新闻人名\n\n布林肯\n澤連斯基 nr\n  林郑月娥 10 nr  \n泽连斯基 5\n", "names.txt"
    )
    # Normalised like text; a word given twice (here in two scripts) keeps its first place, last values.
    assert ud.entries == (("布林肯", None, None), ("泽连斯基", 5, None), ("林郑月娥", 10, "nr"))
    assert ud == za.parse_userdict("布林肯\n泽连斯基 5\n林郑月娥 10 nr\n", "other.txt")
    assert ud.digest == za.UserDict(ud.entries).digest and len(ud.digest) == 32
    assert za.UserDict.from_meta(ud.to_meta()) == ud
    assert za.parse_userdict("# nothing\n\n", "empty.txt").to_meta() is None


@pytest.mark.parametrize("line, message", [
    ("布林肯 1 nr extra", "found 4 fields"),
    ("布林肯 abc1", "neither a frequency"),
    ("布林肯 x nr", "frequency 'x' is not a whole number"),
    ("布林肯 10 n1", "tag 'n1'"),
    ("布林肯 0", "out of range"),
    ("iPhone 10", "no Chinese character"),
])
def test_malformed_userdict_line(tmp_path, line, message):
    path = tmp_path / "names.txt"
    path.write_text(f"# names\n泽连斯基\n{line}\n", encoding="utf-8")
    with pytest.raises(UserDictError, match=message) as err:
        za.read_userdict(path)
    assert err.value.line == 3 and err.value.path == str(path)
    assert str(err.value).startswith(f"{path}, line 3: ")


def test_unreadable_userdict(tmp_path):
    with pytest.raises(UserDictError, match="cannot read user dictionary"):
        za.read_userdict(tmp_path / "missing.txt")
    (tmp_path / "gbk.txt").write_bytes("泽连斯基\n".encode() + "布林肯\n".encode("gbk"))
    with pytest.raises(UserDictError, match="line 2: not UTF-8"):
        za.read_userdict(tmp_path / "gbk.txt")


# ---------------------------------------------------------------- user dictionary: in child processes

NAMES = "# 新闻人名\n布林肯 nr\n澤連斯基 nr\n林郑月娥 nr\n"
ARTICLES = {
    "blinken.md": ("美国国务卿布林肯抵达基辅", "blinken",
                   "美国国务卿布林肯周三抵达基辅，与乌克兰总统泽连斯基会谈。\n"
                   "布林肯表示，美国将继续支持乌克兰。泽连斯基感谢布林肯的访问。"),
    "lincoln.md": ("林肯纪念堂前的集会", "lincoln",
                   "数千人周日聚集在华盛顿的林肯纪念堂前。\n林肯是美国第十六任总统，集会者在林肯像前献花。"),
    "hongkong.md": ("林鄭月娥宣佈施政報告", "hongkong",
                    "香港特首林鄭月娥周三宣佈施政報告。\n林鄭月娥表示，政府會增加房屋供應。"),
}


def write_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, (title, slug, body) in ARTICLES.items():
        paras = "".join(f"<p>{p}</p>" for p in body.split("\n"))
        (corpus / name).write_text(
            f"<!--1699524901000-->\n[{title}](https://www.rfi.fr/cn/test/{slug})\n------\n\n<div>{paras}</div>\n",
            encoding="utf-8",
        )
    return corpus


def zh(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*ZH, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=300)


def py(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=300)


def hits_json(*args) -> list[dict]:
    r = zh("search", *args, "--json", "--no-fold", "-n", "0")
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def message(r: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


def word_docs(index_dir: Path, word: str) -> set[str]:
    """URLs of the documents that hold `word` as an indexed word (no analysis here)."""
    from whoosh import index as whoosh_index
    from whoosh import query as wq

    ix = whoosh_index.open_dir(str(store.current_generation_dir(index_dir)))
    with ix.searcher() as s:
        q = wq.Or([wq.Term(f, word) for f in TEXT_FIELDS])
        return {s.stored_fields(d)["url"].rsplit("/", 1)[1] for d in s.docs_for_query(q)}


@pytest.fixture(scope="module")
def ud_lab(tmp_path_factory):
    """A corpus indexed twice by the CLI: with the NAMES dictionary, and without one."""
    root = tmp_path_factory.mktemp("userdict")
    corpus = write_corpus(root)
    (root / "names.txt").write_text(NAMES, encoding="utf-8")
    r = zh("index", corpus, "--index", root / "with", "--userdict", root / "names.txt", "-q")
    assert r.returncode == 0, r.stderr
    r = zh("index", corpus, "--index", root / "without", "-q")
    assert r.returncode == 0, r.stderr
    return root


def test_userdict_keeps_names_whole_in_segmentation(tmp_path):
    (tmp_path / "names.txt").write_text(NAMES + "民共\n", encoding="utf-8")
    r = py("""
        import json, sys
        from indexer import analysis as a
        texts = ["美国国务卿布林肯会见泽连斯基，林郑月娥表示", "美國國務卿布林肯會見澤連斯基，林鄭月娥表示"]
        words = lambda: [a.query_words(t) for t in texts]
        terms = lambda t: [w for w, *_ in a.tokens(t)]
        out = {"before": words(), "sub_before": terms("布林肯 中华人民共和国")}
        a.use_userdict(a.read_userdict(sys.argv[1]))
        out |= {"after": words(), "sub_after": terms("布林肯 中华人民共和国")}
        print(json.dumps(out, ensure_ascii=False))
    """, tmp_path / "names.txt")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for before in out["before"]:
        assert "布林肯" not in before and "泽连斯基" not in before and "林郑月娥" not in before
    for after in out["after"]:  # both scripts
        assert after == ["美国", "国务卿", "布林肯", "会见", "泽连斯基", "林郑月娥", "表示"]
    # Before, 布林肯 was 布 / 林肯; after, it is one word without sub-words (no 林肯 in it).
    assert out["sub_before"][:2] == ["布", "林肯"]
    assert out["sub_after"][0] == "布林肯" and "林肯" not in out["sub_after"]
    # The sub-word cache was cleared: 民共, added later, is now a sub-word of 中华人民共和国.
    assert "民共" not in out["sub_before"] and "民共" in out["sub_after"]


def test_userdict_recorded_and_used_by_searches(ud_lab):
    meta = orjson.loads((store.current_generation_dir(ud_lab / "with") / store.META).read_bytes())
    ud = meta["userdict"]
    assert [e[0] for e in ud["entries"]] == ["布林肯", "泽连斯基", "林郑月娥"]  # 澤連斯基 normalised
    assert ud["digest"] == za.parse_userdict(NAMES).digest and ud["words"] == 3
    assert meta["analysis_version"] == za.ANALYSIS_VERSION and meta["opencc"]
    assert orjson.loads((store.current_generation_dir(ud_lab / "without") / store.META).read_bytes())["userdict"] is None

    ix = ud_lab / "with"
    for q, slug, marked in (("布林肯", "blinken", {"布林肯"}), ("澤連斯基", "blinken", {"泽连斯基"}),
                            ("林郑月娥", "hongkong", {"林鄭月娥"}), ("林鄭月娥", "hongkong", {"林鄭月娥"})):
        hits = hits_json(q, "--index", ix)
        assert [h["url"].rsplit("/", 1)[1] for h in hits] == [slug], q
        h = hits[0]
        assert {h["snippet"][s:e] for s, e in h["highlights"]} == marked, q
        assert all(h["title"][s:e] in marked for s, e in h["title_highlights"])


def test_lincoln_is_not_blinken(ud_lab):
    # Without the dictionary 布林肯 is 布 / 林肯: the Blinken story holds the word 林肯.
    assert word_docs(ud_lab / "without", "林肯") == {"blinken", "lincoln"}
    # With it, only Lincoln's story does; Blinken's matches 林肯 literally (inside 布林肯).
    assert word_docs(ud_lab / "with", "林肯") == {"lincoln"}
    assert word_docs(ud_lab / "with", "布林肯") == {"blinken"}
    hits = hits_json("林肯", "--index", ud_lab / "with")
    assert [h["url"].rsplit("/", 1)[1] for h in hits] == ["lincoln", "blinken"]
    assert hits[0]["score"] > hits[1]["score"]


def test_changed_dictionary_asks_for_rebuild(ud_lab, tmp_path):
    corpus = ud_lab / "corpus"
    index_dir = tmp_path / "index"
    names2 = tmp_path / "names2.txt"
    names2.write_text(NAMES + "拜登 nr\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("# none\n", encoding="utf-8")

    assert zh("index", corpus, "--index", index_dir, "-q").returncode == 0
    r = zh("index", corpus, "--index", index_dir, "--userdict", ud_lab / "names.txt", "-q")
    assert r.returncode == 2
    line = message(r)
    assert "was built with no user dictionary" in line and "names.txt" in line
    assert f"zhsearch index --rebuild --userdict {ud_lab / 'names.txt'}" in line

    r = zh("index", corpus, "--index", index_dir, "--rebuild", "--userdict", ud_lab / "names.txt", "-q")
    assert r.returncode == 0, r.stderr
    # The same dictionary again, or none given: the index keeps its own.
    assert zh("index", corpus, "--index", index_dir, "--userdict", ud_lab / "names.txt", "-q").returncode == 0
    assert zh("index", corpus, "--index", index_dir, "-q").returncode == 0
    for other, what in ((names2, "4 words"), (empty, "not with no user dictionary")):
        r = zh("index", corpus, "--index", index_dir, "--userdict", other, "-q")
        assert r.returncode == 2
        line = message(r)
        assert "user dictionary (" in line and "3 words" in line and what in line and "--rebuild" in line
    # A rebuild without --userdict keeps the dictionary; with one, it changes it.
    assert zh("index", corpus, "--index", index_dir, "--rebuild", "-q").returncode == 0
    assert hits_json("林肯", "--index", index_dir)[0]["url"].endswith("/lincoln")
    assert zh("index", corpus, "--index", index_dir, "--rebuild", "--userdict", names2, "-q").returncode == 0
    meta = orjson.loads((store.current_generation_dir(index_dir) / store.META).read_bytes())
    assert meta["userdict"]["entries"][-1] == ["拜登", None, "nr"]


def test_malformed_dictionary_exits_2(ud_lab, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("布林肯\n\n泽连斯基 很多\n", encoding="utf-8")
    r = zh("index", ud_lab / "corpus", "--index", tmp_path / "index", "--userdict", bad, "-q")
    assert r.returncode == 2
    assert message(r) == f"zhsearch: {bad}, line 3: '很多' is neither a frequency (a whole number) nor a tag (letters, like nr)"
    assert not (tmp_path / "index").exists()


def test_two_dictionaries_in_one_process(ud_lab, tmp_path):
    r = zh("index", ud_lab / "corpus", "--index", tmp_path / "same", "--userdict", ud_lab / "names.txt", "-q")
    assert r.returncode == 0, r.stderr
    (tmp_path / "names2.txt").write_text(NAMES + "拜登 nr\n", encoding="utf-8")
    r = py("""
        import json, sys
        import search
        from indexer import analysis, update_index
        from indexer.errors import UserDictError
        with_, without, same, names2, corpus = sys.argv[1:]
        out = {}
        ix = search.open_index(with_)
        out["words"] = analysis.query_words("布林肯访问基辅")  # the index's dictionary, loaded on open
        search.open_index(same).close()  # another index, the same dictionary: fine
        for name, call in (("open", lambda: search.open_index(without)),
                           ("index", lambda: update_index([corpus], names2 + ".ix", userdict=names2))):
            try:
                call()
                out[name] = None
            except UserDictError as exc:
                out[name] = str(exc)
        out["still"] = [h.url for h in ix.search("布林肯")]
        print(json.dumps(out, ensure_ascii=False))
    """, ud_lab / "with", ud_lab / "without", tmp_path / "same", tmp_path / "names2.txt", ud_lab / "corpus")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["words"] == ["布林肯", "访问", "基辅"]
    assert out["still"] == ["https://www.rfi.fr/cn/test/blinken"]
    assert "already segments words with user dictionary" in out["open"] and "no user dictionary" in out["open"]
    assert "already segments words with user dictionary" in out["index"] and "4 words" in out["index"]
    assert not list((tmp_path / "names2.txt.ix").glob("gen-*"))  # refused before anything was written

    # The other way round: an index without a dictionary first, then one with.
    r = py("""
        import sys
        import search
        from indexer.errors import UserDictError
        search.open_index(sys.argv[2]).close()
        try:
            search.open_index(sys.argv[1])
        except UserDictError as exc:
            print(exc)
    """, ud_lab / "with", ud_lab / "without")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("this process already segments words with no user dictionary, so it cannot also use user dictionary (")
