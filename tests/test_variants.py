"""Name variants across regions (issue 14): the table, variants files, query-time expansion.

Small indexes are built from articles written here, so each test knows which article holds
which variant; the pool test compares the expansion with the same query spelled out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import search
from indexer import update_index
from indexer.analysis import HAN_RUN_RE, normalize
from search.cli import main
from search.variants import builtin, parse_variants, read_variants

from .test_cli import run
from .test_search import write_article

DATA = Path(search.__file__).parent / "data"

ARTICLES = {
    "cn.md": dict(title="特朗普政府宣布新关税", url="https://example.com/cn",
                  body="美国总统特朗普周一表示，新关税下月生效。"),
    "tw.md": dict(title="川普政府宣布新关税", url="https://example.com/tw",
                  body="美国总统川普周一表示，新关税下月生效。"),
    "macron.md": dict(title="法国总统马克宏访问北京", url="https://example.com/macron",
                      body="马克宏在北京会见了中国领导人。"),
    "apart.md": dict(title="马克思主义与宏观经济", url="https://example.com/apart",
                     body="马克思的著作里没有宏观经济学。"),
    "putin.md": dict(title="普丁会见记者", url="https://example.com/putin", body="俄罗斯总统普丁周二说。"),
    "other.md": dict(title="中国经济数据公布", url="https://example.com/other", body="国家统计局公布数据。"),
}


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("variants")
    for name, fields in ARTICLES.items():
        write_article(tmp / "corpus", name, **fields)
    update_index([tmp / "corpus"], tmp / "index")
    with search.open_index(tmp / "index") as index:
        yield index


def found(ix, query: str, **kw) -> set[str]:
    return {h.url.rsplit("/", 1)[1] for h in ix.search(query, limit=0, fold=False, **kw)}


# ---------------------------------------------------------------- the table


def test_builtin_table_holds_the_issue_names_in_simplified_script():
    table = builtin()
    assert len(table) >= 300
    for a, b in [("特朗普", "川普"), ("马克龙", "马克宏"), ("普京", "普丁"), ("奥巴马", "欧巴马"),
                 ("朝鲜", "北韩"), ("昂山素季", "翁山苏姬")]:
        assert b in table.group_of(a), (a, b)
    for group in table.groups:
        for v in group:
            assert normalize(v) == v and HAN_RUN_RE.fullmatch(v), v


def test_ambiguous_forms_are_left_out():
    table = builtin()
    for word in ["雪梨", "强生", "狮子山", "尼日", "富豪", "苏丹"]:
        assert table.group_of(word) is None, word


def test_every_packaged_file_states_its_licence():
    mediawiki = (DATA / "variants-mediawiki.txt").read_text(encoding="utf-8")
    assert "GPL-2.0-or-later" in mediawiki.split("\n", 5)[3]
    assert "GNU General Public License" in (DATA / "variants-mediawiki.COPYING").read_text(encoding="utf-8")
    curated = (DATA / "variants-curated.txt").read_text(encoding="utf-8")
    assert "MIT" in curated.split("\n", 3)[1]
    # one note per hand-kept group
    groups = [line for line in curated.splitlines() if line.strip() and not line.startswith("#")]
    assert len(groups) >= 30 and all("#" in line for line in groups)


# ---------------------------------------------------------------- variants files


def test_parse_folds_script_comments_and_spaces():
    table = parse_variants("# names\n馬克宏  馬克龍 # Macron\n\n特朗普\t川普 懂王\n", "f")
    assert table.groups == (("马克宏", "马克龙"), ("特朗普", "川普", "懂王"))
    assert table.warnings == ()


def test_a_variant_in_two_groups_merges_them_with_a_warning():
    table = parse_variants("川普 特朗普\n懂王 川普\n", "f")
    assert table.groups == (("川普", "特朗普", "懂王"),)
    assert table.warnings == ("line 2: 川普 is also in the group of line 1: the two are merged",)


def test_a_group_of_one_variant_is_ignored_with_a_warning():
    table = parse_variants("川普\n普京 普丁\n普京 普京\n", "f")
    assert table.groups == (("普京", "普丁"),)
    assert [w.split(":")[0] for w in table.warnings] == ["line 1", "line 3"]


def test_a_malformed_line_names_file_and_line():
    with pytest.raises(search.VariantsError) as err:
        parse_variants("普京 普丁\n\n川普, 特朗普\n", "names.txt")
    assert err.value.line == 3 and str(err.value).startswith("names.txt, line 3: '川普,'")


@pytest.mark.parametrize("data, what", [
    (b"", "no group"), (b"  \n# only a comment\n", "no group"), (b"\x00\x01PK\x03\x04", "binary"),
    ("川普 特朗普\n".encode() + "普京 普丁".encode("gb18030"), "line 2: not UTF-8"),
])
def test_unusable_files_are_one_error(tmp_path, data, what):
    path = tmp_path / "v.txt"
    path.write_bytes(data)
    with pytest.raises(search.VariantsError) as err:
        read_variants(path)
    assert what in str(err.value) and "\n" not in str(err.value)


def test_large_groups_and_files_load_and_expand(tmp_path):
    big_group = " ".join(f"名字{i}号" for i in range(1000))
    table = parse_variants(big_group + "\n", "big")
    assert len(table.groups[0]) == 1000
    assert table.find(["名字999号", "访华"]) == [(0, 1, table.groups[0])]
    path = tmp_path / "many.txt"
    path.write_text("".join(f"甲{i}乙 丙{i}丁\n" for i in range(100_000)), encoding="utf-8")
    many = read_variants(path)
    assert len(many) == 100_000 and many.group_of("丙99999丁") == ("甲99999乙", "丙99999丁")


def test_find_takes_whole_words_longest_first():
    table = parse_variants("特朗普 川普\n马克龙 马克宏\n", "f")
    assert table.find(["特朗普", "政府"]) == [(0, 1, ("特朗普", "川普"))]
    assert table.find(["法国", "马克", "龙"]) == [(1, 3, ("马克龙", "马克宏"))]
    assert table.find(["马克思"]) == [] and table.find(["马克"]) == []


# ---------------------------------------------------------------- expansion


def test_a_variant_finds_its_group(ix):
    assert found(ix, "特朗普") == found(ix, "川普") == {"cn", "tw"}
    assert found(ix, "特朗普政府") == {"cn", "tw"}  # the word inside a run
    assert found(ix, "普京") == {"putin"}


def test_other_variants_match_only_literally(ix):
    assert found(ix, "马克龙") == {"macron"}  # not 马克思 … 宏观
    assert found(ix, "马克宏") == {"macron"}


def test_quotes_stop_expansion_and_no_variants_turns_it_off(ix):
    assert found(ix, '"川普"') == {"tw"}
    assert found(ix, "川普", expand=False) == {"tw"}
    assert found(ix, "特朗普", expand=False) == {"cn"}


def test_not_and_fields_apply_to_every_variant(ix):
    assert found(ix, "关税 -川普") == set()
    assert found(ix, "关税 NOT 特朗普") == set()
    assert found(ix, "title:特朗普") == {"cn", "tw"}
    assert found(ix, "lead:特朗普") == set()


def test_traditional_input_expands_too(ix):
    assert found(ix, "馬克宏") == {"macron"}
    assert found(ix, "川普政府") == {"cn", "tw"}


def test_a_hit_ranks_as_if_the_typed_form_were_there(ix):
    hits = {h.url.rsplit("/", 1)[1]: h.score for h in ix.search("特朗普 关税", fold=False)}
    assert set(hits) == {"cn", "tw"} and hits["cn"] == pytest.approx(hits["tw"], rel=1e-6)


def test_variants_are_highlighted_whole(ix):
    hit = next(h for h in ix.search("马克龙", fold=False))
    assert [hit.title[a:b] for a, b in hit.title_highlights] == ["马克宏"]
    assert {hit.snippet[a:b] for a, b in hit.highlights} == {"马克宏"}
    tw = next(h for h in ix.search("特朗普政府", fold=False) if h.url.endswith("/tw"))
    assert "川普政府" in [tw.title[a:b] for a, b in tw.title_highlights]


def test_explain_shows_each_expansion(ix):
    text = ix.explain("特朗普政府 -普京")
    assert "variant '特朗普' expands to 川普" in text and "variant '普京' expands to 普丁, 蒲亭" in text
    assert "expands" not in ix.explain('"特朗普"') and "expands" not in ix.explain("特朗普", expand=False)


def test_search_variants_add_groups_for_one_search(ix, tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("统计局 统计署\n", encoding="utf-8")
    assert found(ix, "统计署") == set()
    assert found(ix, "统计署", variants=path) == {"other"}
    assert found(ix, "统计署", variants=read_variants(path), expand=False) == set()


# ---------------------------------------------------------------- kept with the index, and the CLI


def test_index_variants_are_kept_replaced_and_removed(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    for name in ("tw.md", "other.md"):
        write_article(corpus, name, **ARTICLES[name])
    mine = tmp_path / "mine.txt"
    mine.write_text("统计局 统计署\n", encoding="utf-8")
    assert run("index", corpus, "--index", index, "--variants", mine, "-q").exit_code == 0
    assert run("search", "统计署", "--index", index).exit_code == 0
    assert run("index", corpus, "--index", index, "-q").exit_code == 0  # a later run keeps them
    assert run("index", corpus, "--index", index, "--rebuild", "-q").exit_code == 0  # so does a rebuild
    assert run("search", "统计署", "--index", index).exit_code == 0
    mine.write_text("统计局 数据署\n", encoding="utf-8")  # replacing needs no rebuild
    assert run("index", corpus, "--index", index, "--variants", mine, "-q").exit_code == 0
    assert run("search", "统计署", "--index", index).exit_code == 1
    assert run("search", "数据署", "--index", index).exit_code == 0
    mine.write_text("", encoding="utf-8")  # an empty file removes them
    assert run("index", corpus, "--index", index, "--variants", mine, "-q").exit_code == 0
    assert run("search", "数据署", "--index", index).exit_code == 1
    assert run("search", "特朗普", "--index", index).exit_code == 0  # the built-in table stays


def test_an_open_index_sees_replaced_variants_after_refresh(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_article(corpus, "other.md", **ARTICLES["other.md"])
    update_index([corpus], index)
    with search.open_index(index) as ix:
        assert ix.search("统计署").total == 0
        mine = tmp_path / "mine.txt"
        mine.write_text("统计局 统计署\n", encoding="utf-8")
        update_index([corpus], index, variants=mine)
        ix.refresh()
        assert ix.search("统计署").total == 1


def test_cli_search_variants_warnings_and_errors(ix, tmp_path):
    index = ix.path
    mine = tmp_path / "mine.txt"
    mine.write_text("统计局 统计署\n统计署 数据署\n孤单\n", encoding="utf-8")
    result = run("search", "数据署", "--index", index, "--variants", mine)
    assert result.exit_code == 0 and "example.com/other" in result.stdout
    assert f"zhsearch: warning: {mine}: line 2: 统计署 is also in the group of line 1" in result.stderr
    assert f"zhsearch: warning: {mine}: line 3: a group of one variant (孤单) is ignored" in result.stderr
    assert run("search", "川普", "--index", index, "--no-variants").stdout.count("example.com/") == 1
    explained = run("search", "川普", "--index", index, "--explain")
    assert "variant '川普' expands to 特朗普" in explained.stderr
    corpus = tmp_path / "corpus"
    write_article(corpus, "other.md", **ARTICLES["other.md"])
    for content in ("普京 普丁\n川普; 特朗普\n".encode(), b"", b"\x00\xff\xfe", "川普 特朗普".encode("utf-16")):
        mine.write_bytes(content)
        commands = [["search", "川普", "--index", index], ["index", corpus, "--index", tmp_path / "i2"]]
        for args in commands[:1] if not content else commands:  # an index's empty file removes its groups
            result = run(*args, "--variants", mine)
            assert result.exit_code == 2, (content, args)
            assert result.stderr.count("\n") == 1 and str(mine) in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "i2").exists()  # a bad file is refused before anything is indexed


# ---------------------------------------------------------------- on the pool


def test_pool_expansion_is_the_group_spelled_out(pool_ix):
    """特朗普 with expansion finds what 特朗普 OR "川普" finds without it, and more than 特朗普 alone."""
    def urls(query, **kw):
        return {h.url for h in pool_ix.search(query, limit=0, fold=False, **kw)}

    expanded = urls("特朗普")
    assert expanded == urls('特朗普 OR "川普"', expand=False) == urls("川普")
    assert len(expanded) > len(urls("特朗普", expand=False))
