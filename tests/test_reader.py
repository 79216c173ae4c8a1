"""Tests of indexer.reader: the seed article, real pool files, URL rules, bad input, fuzzing.

Pool files are read from the shared corpus (never copied into the repo); those tests skip when
it is absent. Set ZHSEARCH_SHARED to point elsewhere.
"""

from __future__ import annotations

import os
import random
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.errors import ArticleParseError
from indexer.reader import MAX_FILE_BYTES, Article, normalize_url, parse_article, source_of

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "corpus" / "000_ce5ff053ee2986c6.txt"
SHARED = Path(os.environ.get("ZHSEARCH_SHARED") or Path(__file__).resolve().parents[2] / "shared")
POOL = SHARED / "corpus-pool"
UTC = timezone.utc

# Furniture that must never reach lead or body.
FURNITURE = ("获取更多RSS", "分享 :", "Better Feed", "DW中文有Instagram", "德国之声版权声明")
# Markup of the feed HTML (all lower case). Reuters has a literal "&lt;SFII UL&gt;" ticker in its
# text, which is real text and correctly decodes to "<SFII UL>".
HTML_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>")


def parse_file(path: Path) -> Article:
    return parse_article(path.read_bytes(), str(path.relative_to(POOL)))


@pytest.fixture(scope="module")
def pool() -> Path:
    if not (POOL / "articles").is_dir():
        pytest.skip(f"shared corpus pool not found at {POOL} (set ZHSEARCH_SHARED)")
    return POOL


def pool_file(pool: Path, folder: str, file_id: str) -> Path:
    """The pool file `<folder>/<id>_*`; names hold spaces, "|", ":" and "?", so glob by id."""
    matches = sorted((pool / "articles" / folder).glob(f"{file_id}_*"))
    assert len(matches) == 1, (folder, file_id, matches)
    return matches[0]


def header(title: str = "标题", url: str = "https://www.rfi.fr/cn/x", ms: int = 1699524901000) -> str:
    return f"<!--{ms}-->\n[{title}]({url})\n------\n\n"


# ---------------------------------------------------------------- the seed


def test_seed_article():
    a = parse_article(SEED.read_bytes(), "corpus/000_ce5ff053ee2986c6.txt")
    assert a.title == "卡塔尔斡旋哈马斯释放人质"
    assert a.published == datetime(2023, 11, 9, 10, 15, 1, tzinfo=UTC)
    assert a.published == datetime.fromtimestamp(1699524901, UTC)
    assert a.source == "RFI"
    assert a.url == (
        "https://www.rfi.fr/cn/%E4%B8%AD%E4%B8%9C/20231109-%E5%8D%A1%E5%A1%94%E5%B0%94%E6%96%A1"
        "%E6%97%8B%E5%93%88%E9%A9%AC%E6%96%AF%E9%87%8A%E6%94%BE%E4%BA%BA%E8%B4%A8"
    )
    assert a.url == normalize_url("https://www.rfi.fr/cn/中东/20231109-卡塔尔斡旋哈马斯释放人质")
    assert a.path == "corpus/000_ce5ff053ee2986c6.txt"
    assert a.warnings == ()
    assert a.lead.startswith("卡塔尔正在谈判释放哈马斯在加沙地带扣押的约十名人质")
    assert a.lead.endswith("复杂的作用。")
    assert "\n" not in a.lead
    assert a.body.startswith("以色列与哈马斯战争中")
    assert a.body.endswith("带来和平”。")
    # the <strong> speaker labels inside the body are not a lead
    assert "\nRFI记者：本周四上午" in a.body
    for text in (a.body, a.lead):
        for junk in ("直升机航母", "分享", "同一主题", "G7声明", "09/11/2023", "rfi.my", "<"):
            assert junk not in text
    assert a.lead not in a.body
    assert all(line == line.strip() and "  " not in line for line in a.body.split("\n"))


def test_article_is_frozen():
    a = parse_article(SEED.read_bytes(), "seed")
    with pytest.raises(AttributeError):
        a.title = "x"  # type: ignore[misc]


# ---------------------------------------------------------------- one file per outlet

OUTLETS = [
    # folder, file id, source, normalised URL prefix
    ("法广", "1048010", "RFI", "https://www.rfi.fr/cn/"),
    ("路透", "1048495", "Reuters", "https://cn.reuters.com/article/"),
    ("美国之音", "1047867", "VOA", "https://www.voachinese.com/a/"),
    ("德国之声", "1048316", "DW", "https://www.dw.com/zh/"),
    ("中国数字时代", "398089", "CDT", "https://chinadigitaltimes.net/chinese/"),
    ("金融时报", "1048094", "FT", "https://cn.ft.com/story/"),
    ("自由亚洲电台", "1048456", "RFA", "https://www.rfa.org/mandarin/"),
    ("BBC", "1048060", "BBC", "https://www.bbc.com/zhongwen/"),
    ("纽约时报", "1048118", "NYT", "https://cn.nytimes.com/"),
]


@pytest.mark.parametrize(("folder", "file_id", "source", "prefix"), OUTLETS)
def test_one_file_per_outlet(pool, folder, file_id, source, prefix):
    a = parse_file(pool_file(pool, folder, file_id))
    assert a.source == source
    assert a.url.startswith(prefix)
    assert a.title and a.body
    assert a.published is not None and a.published.tzinfo is not None
    assert a.published.utcoffset().total_seconds() == 0
    assert datetime(2020, 6, 1, tzinfo=UTC) < a.published < datetime(2020, 8, 1, tzinfo=UTC)
    assert a.warnings == ()
    assert (a.lead != "") == (source in ("RFI", "FT"))
    assert not HTML_TAG.search(a.body)
    # the author/date line is metadata, not text
    first = a.body.split("\n", 1)[0]
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:|\d\d/\d\d/\d{4} - \d\d:\d\d|GMT$", first)


def test_rfi_afp_copy(pool):
    a = parse_file(pool_file(pool, "法广", "1047038"))
    assert a.title == "世卫：巴西疫情已处高峰稳定期 促把握机会抗疫"  # the site-name suffix is cut
    assert a.lead == ""  # AFP wire copy has no <strong> lead
    assert a.body.startswith("（法新社日内瓦17日电） 世界卫生组织（WHO）今天表示")
    assert "AFP" not in a.body and "18/07/2020" not in a.body


def test_rfi_video_title_with_brackets(pool):
    a = parse_file(pool_file(pool, "法广", "1048125"))
    assert a.title == "[视频]北京火速通过港版国安法或在国际舞台更孤立"
    assert a.url.startswith("https://www.rfi.fr/cn/")
    assert a.lead.startswith("中国全国人大6月30日全票一致通过了港区国安法")


def test_cdt_without_timestamp_line(pool):
    path = pool_file(pool, "中国数字时代", "400485")
    assert not path.read_bytes().startswith(b"<!--")
    a = parse_file(path)
    assert a.title == "【中国哭墙】意难平（6月23日）"
    assert a.published == datetime(2020, 6, 23, 5, 40, 58, tzinfo=UTC)
    assert a.source == "CDT"
    assert not a.body.startswith("日期")
    assert "Post tags" not in a.body and "Permalink" not in a.body


def test_dw_title_with_newlines(pool):
    path = pool_file(pool, "德国之声", "1048198")
    assert path.read_bytes().count(b"\n") == 7
    a = parse_file(path)
    assert a.title == "德语媒体：北京的快速回应"
    assert a.url.startswith("https://www.dw.com/zh/") and a.url.endswith("/a-53985946")
    assert a.body.startswith("资料图片：双手比出5")  # the teaser/caption under the image


def test_reuters_entity_title(pool):
    a = parse_file(pool_file(pool, "路透", "1048145"))
    assert a.title == '就美国对香港施加限制 中方"将采取必要反制措施"--中国外交部'
    assert a.source == "Reuters"


def test_rfa_bare_cr(pool):
    path = pool_file(pool, "自由亚洲电台", "1048408")
    data = path.read_bytes()
    assert b"\r" in data and b"\r\n" not in data
    a = parse_file(path)
    assert a.title == "印度对美重量级官员任驻台代表 印度对台思维转变？"
    assert a.published == datetime(2020, 7, 13, 15, 55, 50, tzinfo=UTC)
    assert "\r" not in a.body
    assert "\n资料图片：美国国务卿蓬佩奥抵达印度新德里时，时任印度外交部美洲司司长（左二）送花迎接。（AFP）\n" in a.body


def test_recent_rfi_share_block_and_feedx_footer(pool):
    path = pool / "recent-transcribed" / "articles" / "rfi" / "999999.md"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    a = parse_file(path)
    assert a.title == "韩国外长：已向王毅传达反对遣返在华脱北者立场"
    assert a.source == "RFI"
    assert a.published == datetime(2023, 10, 28, 10, 15, 1, tzinfo=UTC)
    assert a.lead == "韩国外交部长朴振10月27日表示，已向中共中央政治局委员、中国外交部长王毅传达了不应将脱北者强制遣返回朝鲜的立场。"
    assert a.body.startswith("据韩联社报导")
    assert a.body.endswith("并掌握了目前的进展情况。")
    for junk in ("分享", "获取更多RSS", "feedx", "rfi.my", "<"):
        assert junk not in a.body


def test_recent_dw_sign_off(pool):
    path = pool / "recent-transcribed" / "articles" / "dw" / "1022765.md"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    a = parse_file(path)
    assert a.body.endswith("因此这个日期应当被批判地看待。")
    assert "Instagram" not in a.body and "版权声明" not in a.body


def test_ft_lead(pool):
    a = parse_file(pool_file(pool, "金融时报", "1048094"))
    assert a.lead == (
        "沃尔夫：当今时代，政治、社会和经济可以围绕怎样的思想运转？答案应该是公民意识。"
        "其理由在2500年前就被亚里士多德一语道破。"
    )
    assert a.lead not in a.body
    assert a.body.startswith("“很明显，最好的政治团体必须由中产阶级执掌政权")


def test_whole_pool(pool):
    bases = [pool / "articles", pool / "recent-transcribed" / "articles"]
    files = [p for base in bases if base.is_dir() for p in sorted(base.rglob("*")) if p.is_file()]
    assert len(files) >= 4470
    errors, articles = [], []
    start = time.perf_counter()
    for path in files:
        try:
            articles.append(parse_file(path))
        except ArticleParseError as e:
            errors.append(e)
    elapsed = time.perf_counter() - start
    assert errors == []
    assert elapsed < 60  # about 1 s on a laptop; generous for slow CI
    counts: dict[str, int] = {}
    for a in articles:
        counts[a.source] = counts.get(a.source, 0) + 1
        assert a.url.startswith("https://") and a.title, a.path
        assert a.published is not None, a.path
        for text in (a.lead, a.body):
            for junk in FURNITURE:
                assert junk not in text, (a.path, junk)
            assert not HTML_TAG.search(text), (a.path, HTML_TAG.search(text))
            assert "\r" not in text and "\n\n" not in text
            assert text == text.strip()
        assert a.warnings in ((), ("no body text",)), (a.path, a.warnings)
    assert counts["RFI"] >= 1403 and counts["Reuters"] == 823 and counts["CDT"] == 424
    assert set(counts) == {"RFI", "Reuters", "VOA", "DW", "CDT", "FT", "RFA", "BBC", "NYT"}
    # 859 RFI files have <p><strong> lead markup before the body, one of them empty
    # (法广/1047420_…); AFP wire copy never has a lead
    rfi = [a for a in articles if a.source == "RFI" and a.path.startswith("articles/")]
    assert sum(1 for a in rfi if a.lead) == 858
    assert all(not a.lead for a in rfi if a.title.endswith("法国国际广播电台 - RFI"))


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://www.rfi.fr//cn/%E4%B8%AD%E5%9B%BD/x", "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/x"),
        ("https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/x", "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/x"),
        ("https://www.rfi.fr/cn/中国/x", "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/x"),
        ("https://www.rfi.fr/cn/%e4%b8%ad%e5%9b%bd/x", "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/x"),
        ("HTTP://WWW.RFI.FR/cn/X", "https://www.rfi.fr/cn/X"),
        ("https://www.bbc.com:443/zhongwen/simp/a#top", "https://www.bbc.com/zhongwen/simp/a"),
        ("http://www.bbc.com:80/a", "https://www.bbc.com/a"),
        ("https://example.org:8080/a", "https://example.org:8080/a"),
        ("https://cn.ft.com/story/001088462?full=y", "https://cn.ft.com/story/001088462?full=y"),
        ("https://a.org/%7Euser/%41b", "https://a.org/~user/Ab"),  # unreserved escapes decoded
        ("https://a.org/a%2Fb?q=%26&r=1", "https://a.org/a%2Fb?q=%26&r=1"),  # reserved kept
        ("https://a.org/a b/50%", "https://a.org/a%20b/50%25"),
        ("https://a.org/s?q=中", "https://a.org/s?q=%E4%B8%AD"),
        ("https://a.org", "https://a.org/"),
        ("  https://a.org/x  ", "https://a.org/x"),
    ],
)
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected
    assert normalize_url(expected) == expected  # idempotent


def test_normalize_url_rejects_non_urls():
    for bad in ("", "no host", "https://", "https://[::1", "https://a.org:port/"):
        with pytest.raises(ValueError):
            normalize_url(bad)


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("http://www.rfi.fr//cn/x", "RFI"),
        ("https://www.dw.com/zh/x", "DW"),
        ("http://www.bbc.com/zhongwen/simp/x", "BBC"),
        ("https://www.bbc.co.uk/zhongwen/x", "BBC"),
        ("https://www.voachinese.com/a/x", "VOA"),
        ("https://gdb.voanews.com/x", "VOA"),
        ("https://cn.reuters.com/article/x", "Reuters"),
        ("https://cn.ft.com/story/1", "FT"),
        ("https://cn.nytimes.com/x/", "NYT"),
        ("https://www.rfa.org/mandarin/x", "RFA"),
        ("https://chinadigitaltimes.net/chinese/x", "CDT"),
        ("https://www.example.org/x", "example.org"),
        ("https://news.example.org/x", "news.example.org"),
        ("https://notrfi.fr/x", "notrfi.fr"),
    ],
)
def test_source_of(url, source):
    assert source_of(url) == source


# ---------------------------------------------------------------- dates


def test_date_fallbacks():
    body = "<div>09/11/2023 - 10:57</div><p>正文</p>"
    no_stamp = "[标题](https://www.rfi.fr/cn/x)\n------\n\n" + body
    a = parse_article(no_stamp.encode(), "p")
    assert a.published == datetime(2023, 11, 9, 10, 57, tzinfo=UTC)
    assert a.body == "正文"
    cdt = "[t](https://chinadigitaltimes.net/chinese/x/)\n------\n日期：Tue, 23 Jun 2020 13:40:58 +0800\n\n<p>x</p>"
    assert parse_article(cdt.encode(), "p").published == datetime(2020, 6, 23, 5, 40, 58, tzinfo=UTC)
    nothing = "[t](https://www.rfi.fr/cn/x)\n------\n\n<p>x</p>"
    assert parse_article(nothing.encode(), "p").published is None
    huge = "<!--99999999999999999999-->\n[t](https://www.rfi.fr/cn/x)\n------\n\n<p>x</p>"
    a = parse_article(huge.encode(), "p")
    assert a.published is None and any("timestamp" in w for w in a.warnings)


# ---------------------------------------------------------------- bad input


def reason(data: bytes) -> str:
    with pytest.raises(ArticleParseError) as info:
        parse_article(data, "some/path.md")
    assert info.value.path == "some/path.md"
    return info.value.reason


def test_empty_file():
    assert "empty" in reason(b"")
    assert "empty" in reason(b" \n\r\n\t")


def test_binary_input():
    assert "binary" in reason(b"\x00\x01\x02\x03PK\x03\x04" * 100)
    assert "binary" in reason(header().encode() + b"<p>\x00</p>")
    garbage = random.Random(7).randbytes(4096).replace(b"\x00", b"\xff")
    assert "binary" in reason(garbage)


def test_header_only():
    assert "header only" in reason(header().encode())
    assert "header only" in reason(header().encode() + b"  \n\n")
    assert "no [title](url) line" in reason(b"<!--1699524901000-->\n")


def test_no_title_line():
    assert "no [title](url) line" in reason(b"<!--1699524901000-->\n------\n\n<p>text</p>")
    assert "no [title](url) line" in reason("<p>只有正文</p>".encode())


def test_title_without_url():
    assert "title without URL" in reason(header(url="").encode() + b"<p>x</p>")
    assert "title without URL" in reason("<!--1-->\n[标题]\n------\n\n<p>x</p>".encode())
    assert "title without URL" in reason("[标题](www.rfi.fr/cn)\n------\n\n<p>x</p>".encode())
    assert "invalid URL" in reason(header(url="https://[bad").encode() + b"<p>x</p>")
    assert "empty title" in reason(header(title=" &nbsp; ").encode() + b"<p>x</p>")


def test_too_large():
    data = b"x" * (MAX_FILE_BYTES + 1)
    assert "too large" in reason(data)
    assert str(MAX_FILE_BYTES + 1) in reason(data)


def test_bom_tolerated():
    a = parse_article(b"\xef\xbb\xbf" + SEED.read_bytes(), "seed")
    assert a.title == "卡塔尔斡旋哈马斯释放人质" and a.warnings == ()


def test_invalid_utf8_bytes_replaced():
    good = SEED.read_bytes()
    i = good.index("两周多前".encode())
    a = parse_article(good[:i] + b"\xff\xfe\xc3" + good[i:], "seed")
    assert a.warnings == ("3 invalid UTF-8 bytes replaced by U+FFFD",)
    assert "\ufffd\ufffd\ufffd两周多前" in a.body
    reference = parse_article(good, "seed")
    assert a.body.replace("\ufffd", "") == reference.body  # nothing else lost
    assert a.title == reference.title and a.lead == reference.lead


def test_gb18030_article():
    text = header(title="卡塔尔斡旋哈马斯释放人质") + (
        "<p><strong>卡塔尔正在谈判释放人质。</strong></p><div><p>以色列与哈马斯战争中，卡塔尔是关键参与者。</p>"
        "<p>第二段：€ 与 ‘引号’ 以及 𠀀 扩展字。</p></div>"
    )
    a = parse_article(text.encode("gb18030"), "gb.md")
    assert a.warnings == ("not UTF-8, read as GB18030",)
    assert a.title == "卡塔尔斡旋哈马斯释放人质"
    assert a.lead == "卡塔尔正在谈判释放人质。"
    assert a.body == "以色列与哈马斯战争中，卡塔尔是关键参与者。\n第二段：€ 与 ‘引号’ 以及 𠀀 扩展字。"
    assert a.published == datetime(2023, 11, 9, 10, 15, 1, tzinfo=UTC)


def test_gb18030_seed_reads_like_utf8():
    reference = parse_article(SEED.read_bytes(), "seed")
    a = parse_article(SEED.read_text(encoding="utf-8").encode("gb18030"), "seed")
    assert a.warnings == ("not UTF-8, read as GB18030",)
    assert (a.url, a.title, a.published, a.lead, a.body) == (
        reference.url, reference.title, reference.published, reference.lead, reference.body
    )


def test_deeply_nested_html():
    n = 100_000
    data = (header() + "<div>" * n + "深处的文字" + "</div>" * n + "<p>之后</p>").encode()
    start = time.perf_counter()
    a = parse_article(data, "deep.md")
    assert time.perf_counter() - start < 10
    assert a.body == "深处的文字\n之后"
    assert any("nested" in w for w in a.warnings)
    for html in ("<ul><li>" * n + "x", "<a><b>" * n + "x", "<p>" * n + "x"):
        a = parse_article((header() + html).encode(), "deep.md")
        assert a.body.endswith("x")


def test_whitespace_and_furniture_rules():
    html = (
        "<div>09/11/2023 - 10:57</div><p><strong>导语\u3000 \xa0 第二句。   </strong></p>"
        "<div><p>第一段\t文字\r继续。</p><p>　</p><p>第二段<br>第二行</p>"
        "<script>var x = '<p>脚本</p>';</script><style>p{}</style>"
        '<div data-selfpromo-newsletter>订阅</div><p class="t-copyright">© 2020 AFP</p>'
        "<p><em><strong>相关报道 <a href='/x'>别的文章</a></strong></em></p>"
        "<ul><li><a href='/y'>相关一</a></li><li><a href='/z'>相关二</a></li></ul>"
        "<ul><li>真正的列表项</li></ul></div>"
        "<div><div>分享 :</div><div><a href='https://facebook.com'><span></span></a></div></div>"
        '<div><asidedata-org-name=""data-org-type=""><span>同一主题</span>'
        "<divdata-article-list><h2>相关文章</h2></div></aside></div>"
        '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a><br></div>'
    )
    a = parse_article((header() + html).encode(), "p")
    assert a.lead == "导语 第二句。"
    assert a.body == "第一段 文字 继续。\n第二段\n第二行\n真正的列表项"


# ---------------------------------------------------------------- fuzzing

HTML_BITS = st.sampled_from(
    [
        "<div>", "</div>", "<p>", "</p>", "<ul>", "<li>", "<strong>", "</strong>", "<a href=x>", "</a>",
        "<aside", "<asidedata-x=\"\"", "data-selfpromo-app", "<script>", "</script>", "<plaintext>",
        "<table><td>", "<svg>", "<select>", "<template>", "<h3>相关图集", "<img>", "<br>", "<hr>",
        "<div>获取更多RSS", "<p><small>&copy;", "<div><i>", "</i></div>", "&amp;", "&#0;", "&#xD800;",
        "分享 :", "文本", " ", "\u3000", "\xa0", "\r", "\n", "------", "<!--", "-->", "[", "]", "(", ")",
        "](https://a.org/", "%", "%e4%b8", "日期：", "\x0b", "\ufffd",
    ]
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_typed_error(data: bytes) -> None:
    try:
        a = parse_article(data, "fuzz.md")
    except ArticleParseError as e:
        assert e.reason and e.path == "fuzz.md"
        return
    assert isinstance(a, Article)
    assert a.title and a.url.startswith("https://") and a.source
    assert a.published is None or a.published.utcoffset().total_seconds() == 0
    for text in (a.title, a.lead, a.body):
        assert isinstance(text, str) and "\r" not in text
        text.encode("utf-8")  # no lone surrogates
    assert "\n" not in a.title


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(data):
    parses_or_typed_error(data)


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_bytes_after_valid_header(data):
    parses_or_typed_error(header().encode() + data)


@FUZZ
@given(st.lists(HTML_BITS, max_size=200).map("".join), st.booleans(), st.sampled_from(["utf-8", "gb18030"]))
def test_fuzz_html_fragments(html, with_header, encoding):
    text = (header() if with_header else "") + html
    parses_or_typed_error(text.encode(encoding, "replace"))


def test_ft_lead_is_not_repeated_in_body(pool_dir):
    path = next((pool_dir / "金融时报").glob("1048137_*.md"))
    a = parse_article(path.read_bytes(), "x.md")
    assert a.lead.startswith("梁海明：港区国安法现已落地")
    assert a.body.startswith("面临中国在变")


def test_rfi_site_name_is_cut_from_afp_titles(pool_dir):
    titles = [parse_article(p.read_bytes(), p.name).title for p in sorted((pool_dir / "法广").glob("*.md"))]
    assert not [t for t in titles if "法国国际广播电台" in t and t.endswith("RFI")]
    assert "COVID-19疫情持续发烧 欧股收黑" in titles


# ---------------------------------------------------------------- furniture of the 2022-2025 layouts
# Each test is built from a fragment as the archiver's newer files carry it (issue 17), between
# two story paragraphs, and checks what else must stay.


def body_of(fragment: str, url: str = "https://www.bbc.com/zhongwen/simp/world-1") -> str:
    html = f"<p>第一段正文。</p>{fragment}<p>最后一段正文。</p>"
    return parse_article((header(url=url) + html).encode(), "new.md").body


def closing(fragment: str, url: str = "https://cn.nytimes.com/asia-pacific/20240707/x/") -> str:
    """The body of an article that ends with `fragment`."""
    return parse_article((header(url=url) + f"<p>正文。</p>{fragment}").encode(), "new.md").body


STORY = "第一段正文。\n最后一段正文。"

# Furniture between two story paragraphs, by the rule that drops it.
BETWEEN = {
    "relative time": [
        '<div><time dateTime="2024-07-07">26 分钟前</time></div>',
        '<div><time datetime="2023-01-02T08:00:00Z">2023年1月2日</time></div>',  # any dated <time> line
        "<div><time>3小时前</time></div>",
        "<div><span>2 天前</span></div>",
        "<p>十分钟前</p>",
        "<div><time>剛剛</time></div>",
    ],
    "image credit": [
        '<p role="text"><span>图像来源，</span><span>EPA</span></p>',
        '<p role="text"><span>圖像來源，</span><span>Getty Images</span></p>',
        "<p><b>图片来源：Stephen Shaver/Alamy</b></p>",
    ],
    "byline list": [
        "<ul><li><span>作者,</span><span>黄凯欣</span></li><li><span>Role,</span><span>BBC中文</span></li></ul>",
        "<ul><li>記者, 張三</li><li>報道地點, 台北</li></ul>",
        "<ol><li>Author: Jonathan Head</li><li>Reporting from Bangkok</li></ol>",
    ],
    "promotion": [
        '<a href="#end-of-podcasts">Skip podcast promotion and continue reading</a>'
        '<div><p>播客推荐</p><p>BBC中文播客：每周五更新，听听我们怎么说。</p></div>'
        '<p id="end-of-podcasts">End of podcasts</p>',
        '<a href="#end-of-recommendations">Skip 推荐 and continue reading</a>'
        '<ul><li><a href="/zhongwen/simp/x">推荐文章</a></li></ul><div id="end-of-recommendations"></div>',
        '<div><a href="#newsletter-end">跳过通讯订阅推广并继续阅读</a><p>订阅我们的电子报，每天一封。</p></div>'
        '<span id="newsletter-end">通讯订阅推广结束</span>',
    ],
    "related links": [
        '<h2>相关内容</h2><ul><li><a href="/zhongwen/simp/a">文章一</a></li><li><a href="/zhongwen/simp/b">文章二</a></li></ul>',
        '<p>相關報導：</p><ul><li><a href="/trad/a">文章一</a> 2024年7月1日</li></ul>',
        '<p><strong>延伸阅读</strong></p><p><a href="/x">另一篇文章</a></p>',
    ],
}


@pytest.mark.parametrize("kind, fragment", [(k, f) for k, fs in BETWEEN.items() for f in fs])
def test_newer_layout_furniture_between_paragraphs_is_dropped(kind, fragment):
    assert body_of(fragment) == STORY


def test_times_that_are_text_stay():
    assert body_of("<p>几个小时前，香港政府宣布实施新规。</p>") == "第一段正文。\n几个小时前，香港政府宣布实施新规。\n最后一段正文。"
    # a timeline labels its items with <time>, without a machine-readable date: story text
    timeline = '<p class="timeline__date"><time >1839年</time></p><p>鸦片战争前夕。</p>'
    assert body_of(timeline) == "第一段正文。\n1839年\n鸦片战争前夕。\n最后一段正文。"


def test_a_credit_inside_a_caption_stays():
    caption = '<div><small style="color: #999;">蓬佩奥参加峰会。（图片来源：美国国务院）</small></div>'
    assert "蓬佩奥参加峰会。（图片来源：美国国务院）" in body_of(caption).split("\n")


def test_a_list_of_story_text_stays():
    assert body_of("<ul><li>作者认为，这一政策适得其反。</li><li>第二点。</li></ul>").count("\n") == 3


def test_a_skip_link_without_its_target_goes_alone():
    fragment = '<a href="#gone">Skip podcast promotion and continue reading</a><p>中间一段正文。</p>'
    assert body_of(fragment) == "第一段正文。\n中间一段正文。\n最后一段正文。"


@pytest.mark.parametrize("fragment", [
    "<p>记者：黄春梅    责编：许书婷、何平    网编：洪伟</p>",
    "<p>（记者：韩洁   责编：申铧   网编：洪伟）</p>",
    "<p>自由亚洲电台记者家傲华盛顿报道   责编：申铧   网编：洪伟</p>",
    "<p>記者：黃春梅 責編：許書婷 網編：洪偉</p>",
])
def test_staff_credits_are_furniture(fragment):
    assert closing(fragment, "https://www.rfa.org/mandarin/x.html") == "正文。"
    assert body_of(fragment, "https://www.rfa.org/mandarin/x.html") == STORY  # also mid-body


def test_interview_lines_opened_by_the_reporter_stay():
    interview = "<p>记者：请问您对此有何看法？</p><p>张先生：这是打压。</p><p>记者：谢谢您接受采访。</p>"
    assert closing(interview, "https://www.rfa.org/mandarin/x.html") == (
        "正文。\n记者：请问您对此有何看法？\n张先生：这是打压。\n记者：谢谢您接受采访。")


def test_author_biographies_are_furniture():
    bio = ('<p>尹如民(John Yoon)是时报驻首尔记者，报道朝鲜半岛新闻。<a class="css-1g7m0tk" '
           'href="https://www.nytimes.com/by/john-yoon">点击查看更多关于他的信息。</a></p>')
    assert closing(bio) == "正文。"
    assert closing(bio.replace("他", "她") + bio) == "正文。"  # several authors
    assert body_of("<p>点击查看更多关于疫苗的报道。</p>") != STORY  # not a biography


@pytest.mark.parametrize("fragment", ["<p>翻译：Koney Bai</p>", "<p><i>翻译：奇芳</i></p>", "<p>（撰文：三拾）</p>",
                                      "<p>翻译：纽约时报中文网</p><p>翻譯：Harry Wong</p>"])
def test_translator_and_closing_credit_lines_are_furniture(fragment):
    assert closing(fragment) == "正文。"


def test_translator_words_inside_the_story_stay():
    inside = "<p>他说，翻译：这是一句话。</p><p>翻译：Koney Bai</p><p>翻译工作者协会表示反对。</p>"
    assert closing(inside) == "正文。\n他说，翻译：这是一句话。\n翻译：Koney Bai\n翻译工作者协会表示反对。"


@pytest.mark.parametrize("footer", [
    '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a> <br>'
    '<a href="https://feedx.best">https://feedx.best</a><br></div>',
    '<br><hr><div>获取更多RSS：<br><a href="https://feedx.top" style="color:orange">https://feedx.top</a></div>',
    '<hr><div><a href="https://feedx.site" target="_blank">https://feedx.site</a><br></div>',
    "<p>https://feedx.xyz</p>",
])
def test_the_feedx_footer_under_any_domain_is_furniture(footer):
    assert closing(footer, "https://www.rfi.fr/cn/x") == "正文。"


def test_cdt_card_is_furniture():
    card = ('<div class="su-spoiler su-spoiler-style-fancy su-spoiler-icon-plus su-spoiler-closed">'
            '<div class="su-spoiler-title" tabindex="0" role="button"><span class="su-spoiler-icon"></span>'
            'CDT 档案卡</div><div class="su-spoiler-content su-u-clearfix su-u-trim">'
            '<p>标题：被删除的文章</p><p>作者：李某</p><p>发表日期：2024.7.7</p><p>来源：微信公众号</p>'
            '<p>主题归类：审查</p><p>CDS收藏：公民馆</p><p>版权说明：该作品版权归原作者所有。</p></div></div>')
    url = "https://chinadigitaltimes.net/chinese/712345.html"
    assert body_of(card, url) == STORY
    # the same card with its markup flattened: the title line and the field lines after it
    flat = "<p>CDT 档案卡</p><p>标题：被删除的文章</p><p>作者：李某</p><p>来源：微信公众号</p>"
    assert body_of(flat, url) == STORY
    assert body_of("<p>作者：李某认为此事另有隐情。</p>", url) == "第一段正文。\n作者：李某认为此事另有隐情。\n最后一段正文。"
