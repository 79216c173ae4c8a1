import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import normalize
from search.snippets import Snippet, find_spans, make_snippet

SEED = Path(__file__).resolve().parent.parent / "corpus" / "000_ce5ff053ee2986c6.txt"


def seed_article() -> tuple[str, str]:
    """Crude RFI extraction: lead = first <p><strong>, body = the <p>s before the promo divs."""
    raw = SEED.read_text(encoding="utf-8")
    m = re.search(r"<p><strong>(.*?)</strong></p>", raw, re.S)
    rest = raw[m.end() : raw.index("data-selfpromo")]
    paras = [re.sub(r"<[^>]+>", "", p) for p in re.findall(r"<p>(.*?)</p>", rest, re.S)]
    return m.group(1), "\n".join(paras)


def squash(s: str) -> str:
    return "".join(normalize(s).split())


def texts(text: str, spans) -> list[str]:
    return [text[s:e] for s, e in spans]


def assert_well_formed(text: str, spans, needles) -> None:
    """Spans sorted, disjoint, in bounds, and each is exactly one needle occurrence
    (modulo whitespace)."""
    squashed = [squash(n) for n in needles if squash(n)]
    prev_end = 0
    for s, e in spans:
        assert prev_end <= s < e <= len(text)
        prev_end = e
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert squash(text[s:e]) in squashed


# ---------------------------------------------------------------- find_spans


def test_longest_needle_wins():
    assert find_spans("马克思主义", ["马克", "马克思"]) == [(0, 3)]
    assert find_spans("马克思主义", ["马克思", "马克"]) == [(0, 3)]
    assert find_spans("法国总统马克龙", ["马克思", "马克"]) == [(4, 6)]
    assert find_spans("法国总统马克龙", ["马克思"]) == []


def test_nested_needles_do_not_split_longer_span():
    text = "以换取为期三天的人道主义休战。人道主义援助"
    spans = find_spans(text, ["人道主义休战", "人道主义", "休战"])
    assert texts(text, spans) == ["人道主义休战", "人道主义"]


def test_partly_overlapping_needles_keep_the_longer_whole():
    # Every run is exactly one needle: the longer of two overlapping ones wins whole.
    assert find_spans("北京大学生", ["北京大学", "大学生"]) == [(0, 4)]
    assert find_spans("北京大学生", ["北京", "大学生"]) == [(0, 2), (2, 5)]
    assert find_spans("卡塔尔哈马斯", ["卡塔尔", "哈马斯"]) == [(0, 3), (3, 6)]
    assert find_spans("哈哈哈！", ["哈哈"]) == [(0, 2)]


def test_full_width_text_matches_ascii_needle():
    text = "ＣＯＶＩＤ－１９疫情与Ｇ７峰会"
    spans = find_spans(text, ["covid", "g7"])
    assert texts(text, spans) == ["ＣＯＶＩＤ", "Ｇ７"]
    assert find_spans("ＣＯＶＩＤ１９", ["covid"]) == []  # one Latin word: covid19


def test_latin_needles_match_whole_words_only():
    assert find_spans("the covidiot", ["covid"]) == []
    assert find_spans("g77集团", ["g7"]) == []
    assert find_spans("2023年", ["023"]) == []
    assert find_spans("COVID-19 rules", ["covid"]) == [(0, 5)]
    assert find_spans("G7声明", ["g7"]) == [(0, 2)]
    assert find_spans("新冠covid疫情", ["covid"]) == [(2, 7)]
    # Han needles match anywhere: Chinese has no word spaces
    assert find_spans("巴勒斯坦运动", ["斯坦"]) == [(2, 4)]


@pytest.mark.parametrize(
    "text",
    ["哈马斯释放人质", "哈马斯 释放人质", "哈马斯\n\t 释放人质", "哈马斯\u3000释放人质", "哈马斯　 释放"],
)
def test_han_phrase_matches_any_whitespace(text):
    spans = find_spans(text, ["哈马斯 释放"])
    assert len(spans) == 1
    s, e = spans[0]
    assert s == 0 and squash(text[s:e]) == "哈马斯释放"


def test_whitespace_optional_where_script_changes():
    # RFI spaces digits off from Han; the index does not see that space either
    text = "消息人士在 11 月 8 日星期三告诉我们"
    assert texts(text, find_spans(text, ["11月8日"])) == ["11 月 8 日"]
    assert texts("G7 峰会", find_spans("G7 峰会", ["g7峰会"])) == ["G7 峰会"]
    assert find_spans("在 11 月", ["在11月"]) == [(0, 6)]
    assert find_spans("人道 主义", ["人道主义"]) == []  # not between two Han characters
    assert find_spans("g 7", ["g7"]) == []  # nor inside a Latin word


def test_latin_phrase_needs_a_separator():
    assert find_spans("New York Times", ["new york"]) == [(0, 8)]
    assert find_spans("new   york", ["new york"]) == [(0, 10)]
    assert find_spans("New-York", ["new york"]) == [(0, 8)]
    assert find_spans("newyork", ["new york"]) == []
    assert find_spans("new yorker", ["new york"]) == []
    assert find_spans("G7峰会", ["g7 峰会"]) == [(0, 4)]


def test_find_spans_edge_cases():
    assert find_spans("", ["卡塔尔"]) == []
    assert find_spans("卡塔尔", []) == []
    assert find_spans("卡塔尔", ["", "  "]) == []
    assert find_spans("a.b (c)", ["(c)", "a.b"]) == [(0, 3), (4, 7)]  # regex chars are literal


# ------------------------------------------------------------- make_snippet


def assert_snippet(snip: Snippet, needles, max_chars=200) -> None:
    assert isinstance(snip, Snippet)
    assert len(snip.text) <= max_chars
    assert "\n" not in snip.text and "  " not in snip.text
    assert snip.text == snip.text.strip()
    assert_well_formed(snip.text, snip.highlights, needles)


@pytest.mark.parametrize(
    "needles",
    [
        ["卡塔尔", "人道主义休战", "人道主义", "休战", "哈马斯 释放"],
        ["卡塔尔", "哈马斯"],
        ["马克龙"],
        ["nicolas", "keraudren"],
        ["妇女", "儿童", "老人"],
        ["人质"],
        ["巴黎", "人道主义"],
    ],
)
def test_seed_snippet_length_and_highlights(needles):
    lead, body = seed_article()
    snip = make_snippet(lead, body, needles)
    assert 80 <= len(snip.text) <= 200, snip.text
    assert_snippet(snip, needles)
    assert snip.highlights
    assert snip.text.count("…") <= 2  # at most three fragments
    for s, e in snip.highlights:  # none of these needles partly overlap another
        assert squash(snip.text[s:e]) in {squash(n) for n in needles}


def test_seed_snippet_prefers_distinct_needles():
    lead, body = seed_article()
    snip = make_snippet(lead, body, ["马克龙", "巴黎"])
    hl = {snip.text[s:e] for s, e in snip.highlights}
    assert hl == {"马克龙", "巴黎"}


def test_seed_latin_needle_found_in_body():
    lead, body = seed_article()
    snip = make_snippet(lead, body, ["keraudren"])
    assert texts(snip.text, snip.highlights) == ["Keraudren"]
    assert snip.text.startswith("本台记者以及地区记者")  # the body sentence, whole


def test_fragments_in_document_order_joined_by_ellipsis():
    filler = "这是一段与查询完全无关的很长的填充文字，用来隔开两个命中的句子，不让它们相邻。"
    body = "卡塔尔在调解。" + filler + "哈马斯释放人质，已经确认。" + filler
    # the later sentence matches more needles, so it is picked first, yet printed second
    snip = make_snippet("", body, ["卡塔尔", "哈马斯", "释放"], min_chars=10, max_chars=60)
    assert snip.text == "卡塔尔在调解。…哈马斯释放人质，已经确认。"
    assert texts(snip.text, snip.highlights) == ["卡塔尔", "哈马斯", "释放"]
    assert_snippet(snip, ["卡塔尔", "哈马斯", "释放"], 60)


def test_adjacent_sentences_form_one_fragment():
    body = "第一句话没有命中。卡塔尔在调解。哈马斯释放人质。最后一句。"
    snip = make_snippet("", body, ["卡塔尔", "哈马斯"], min_chars=10, max_chars=60)
    assert snip.text == "卡塔尔在调解。哈马斯释放人质。"
    assert "…" not in snip.text


def test_short_snippet_is_padded_with_context():
    body = "前一句在这里。卡塔尔在调解。后一句在这里，也比较长一些。再后一句。"
    snip = make_snippet("", body, ["卡塔尔"], min_chars=20, max_chars=60)
    assert snip.text.startswith("卡塔尔在调解。后一句在这里")  # the following sentence first
    assert len(snip.text) >= 20


def test_lead_and_body_are_one_pool_lead_first():
    lead = "导语提到卡塔尔。"
    body = "正文也提到卡塔尔。正文还有别的内容。"
    snip = make_snippet(lead, body, ["卡塔尔"], min_chars=5, max_chars=60)
    assert snip.text == "导语提到卡塔尔。"
    # the body wins when it matches more of the query
    snip = make_snippet(lead, "正文说卡塔尔与哈马斯。", ["卡塔尔", "哈马斯"], min_chars=5, max_chars=60)
    assert snip.text.startswith("正文说卡塔尔与哈马斯。")


def test_lead_used_when_body_does_not_match():
    lead, body = seed_article()
    snip = make_snippet(lead, body, ["法新社"])
    assert "法新社" in lead and "法新社" not in body
    assert texts(snip.text, snip.highlights) == ["法新社"]
    assert snip.text in " ".join(lead.split())


def test_title_only_match_falls_back_to_opening():
    lead, body = seed_article()
    snip = make_snippet(lead, body, ["斡旋"])  # only the title says 斡旋
    assert snip.highlights == ()
    assert snip.text.startswith("卡塔尔正在谈判释放哈马斯")
    assert 80 <= len(snip.text) <= 200
    snip = make_snippet("", body, ["斡旋"])
    assert snip.text.startswith("以色列与哈马斯战争中")
    assert snip.highlights == () and len(snip.text) <= 200


def test_whitespace_is_normalised():
    snip = make_snippet("导语　第一句。\n\n  ", "正文\t第二句。\r\n第三句  在这里。", ["第三句"], min_chars=50)
    assert snip.text == "导语 第一句。 正文 第二句。 第三句 在这里。"
    assert texts(snip.text, snip.highlights) == ["第三句"]


def test_max_chars_must_leave_room():
    with pytest.raises(ValueError):
        make_snippet("导语。", "正文。", ["正文"], max_chars=5)


def test_empty_article():
    assert make_snippet("", "", ["卡塔尔"]) == Snippet("", ())
    assert make_snippet("  \n", "\u3000", ["卡塔尔"]) == Snippet("", ())


def test_long_sentence_trimmed_around_first_match():
    sentence = "的" * 300 + "卡塔尔" + "的" * 300 + "。"
    snip = make_snippet("", sentence, ["卡塔尔"], min_chars=80, max_chars=100)
    assert snip.text.startswith("…") and snip.text.endswith("…")
    assert len(snip.text) <= 100
    assert texts(snip.text, snip.highlights) == ["卡塔尔"]
    s, _ = snip.highlights[0]
    assert 10 <= s <= 40  # some context before the match, most of it after


def test_second_fragment_trimmed_to_the_room_left():
    body = "卡塔尔在调解。" + "的" * 100 + "。" + "的" * 150 + "哈马斯" + "的" * 150 + "。"
    snip = make_snippet("", body, ["卡塔尔", "哈马斯"], min_chars=20, max_chars=80)
    assert snip.text.startswith("卡塔尔在调解。…") and snip.text.endswith("…")
    assert "……" not in snip.text and len(snip.text) <= 80
    assert texts(snip.text, snip.highlights) == ["卡塔尔", "哈马斯"]


def test_long_latin_sentence_cut_between_words():
    words = " ".join(f"word{i}" for i in range(80))
    snip = make_snippet("", words + " covid " + words + ".", ["covid"], max_chars=100)
    inner = snip.text.strip("…")
    assert inner.split()[0].startswith("word") and inner.split()[-1].startswith("word")
    assert all(re.fullmatch(r"word\d+|covid", w) for w in inner.split())
    assert texts(snip.text, snip.highlights) == ["covid"]


@pytest.mark.parametrize("gap", range(0, 200, 7))
def test_highlights_never_cut(gap):
    # the needle's characters occur nowhere else: any of them shown must be highlighted
    needle = "甲乙丙丁戊己庚辛壬癸子丑"
    sentence = "的" * 120 + "卡塔尔" + "的" * gap + needle + "的" * 150 + "。"
    snip = make_snippet("", sentence, ["卡塔尔", needle], max_chars=120)
    marked = {i for s, e in snip.highlights for i in range(s, e)}
    shown = {i for i, c in enumerate(snip.text) if c in needle}
    assert shown <= marked
    assert len(snip.text) <= 120
    assert_snippet(snip, ["卡塔尔", needle], 120)


def test_snippet_time_on_seed():
    lead, body = seed_article()
    make_snippet(lead, body, ["卡塔尔", "人质"])  # warm regex cache
    n = 500
    t0 = time.perf_counter()
    for _ in range(n):
        make_snippet(lead, body, ["卡塔尔", "人质"])
    per_call = (time.perf_counter() - t0) / n
    print(f"\nmake_snippet on seed ({len(lead) + len(body)} chars), 2-word query: {per_call * 1e6:.0f} µs")


# ---------------------------------------------------------------- properties

ALPHABET = "卡塔尔哈马斯人质和平马克思ａＢcdeXy0１9 \u3000\n-。，！.?"
text_st = st.text(alphabet=ALPHABET, max_size=300)


@st.composite
def text_and_needles(draw, spaces: bool):
    text = draw(text_st)
    norm = normalize(text)
    needles = []
    for _ in range(draw(st.integers(0, 5))):
        if not norm:
            break
        i = draw(st.integers(0, len(norm) - 1))
        j = draw(st.integers(i + 1, min(len(norm), i + 12)))
        cut = " ".join(norm[i:j].split())
        if cut and (spaces or " " not in cut):
            needles.append(cut)
    needles += draw(st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=4), max_size=2))
    return text, needles


def is_word(c: str) -> bool:
    return c.isascii() and c.isalnum()


def seam(x: str, y: str) -> bool:
    return is_word(x) != is_word(y) and x.isalnum() and y.isalnum()


def match_at(norm: str, i: int, needle: str) -> int | None:
    """End of `needle` matched at norm[i:], whitespace allowed only at script seams."""
    j = i
    for k, c in enumerate(needle):
        if k and seam(needle[k - 1], c):
            while j < len(norm) and norm[j].isspace():
                j += 1
        if j >= len(norm) or norm[j] != c:
            return None
        j += 1
    return j


def brute_spans(text: str, needles) -> list[tuple[int, int]]:
    norm = normalize(text)
    occ = []
    for n in {normalize(n).strip() for n in needles if n.strip()}:
        for i in range(len(norm)):
            if (j := match_at(norm, i, n)) is None:
                continue
            if is_word(n[0]) and i > 0 and is_word(norm[i - 1]):
                continue
            if is_word(n[-1]) and j < len(norm) and is_word(norm[j]):
                continue
            occ.append((i, j))
    # Longest first, then leftmost; an occurrence overlapping a chosen one is dropped.
    chosen: list[tuple[int, int]] = []
    for s, e in sorted(set(occ), key=lambda o: (o[0] - o[1], o[0])):
        if all(e <= a or s >= b for a, b in chosen):
            chosen.append((s, e))
    return sorted(chosen)


@given(text_and_needles(spaces=False))
def test_find_spans_equals_brute_force(case):
    text, needles = case
    needles = [n for n in needles if " " not in n.strip() and not any(c.isspace() for c in n.strip())]
    assert find_spans(text, needles) == brute_spans(text, needles)


@given(text_and_needles(spaces=True))
def test_find_spans_well_formed_with_phrases(case):
    text, needles = case
    spans = find_spans(text, needles)
    assert_well_formed(text, spans, needles)
    for s, e in spans:  # whole words at the run's edges
        for a, b in ((s - 1, s), (e - 1, e)):
            if 0 <= a and b < len(text):
                assert not (is_word(normalize(text[a])) and is_word(normalize(text[b])))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    text_and_needles(spaces=True),
    text_st,
    st.integers(20, 120),
    st.integers(0, 150),
)
def test_make_snippet_properties(case, lead, min_chars, extra):
    body, needles = case
    max_chars = min_chars + extra
    snip = make_snippet(lead, body, needles, min_chars=min_chars, max_chars=max_chars)
    assert_snippet(snip, needles, max_chars)
    assert "……" not in snip.text  # one joiner, even between two trimmed fragments
    if not (lead + body).strip():
        assert snip == Snippet("", ())
    else:
        assert snip.text
    # Han-only needles never cross a sentence end, so a short match is always shown
    han = [n for n in needles if n and all("\u4e00" <= c <= "\u9fff" for c in n) and len(n) <= 10]
    spans = find_spans(lead + "\n" + body, han)
    if spans and max_chars >= 40 and all(e - s <= 20 for s, e in spans):
        snip = make_snippet(lead, body, han, min_chars=min_chars, max_chars=max_chars)
        assert snip.highlights


@given(
    st.text(alphabet="卡塔尔哈马斯人质和平ａＢcdeXy0１9 \u3000-，", min_size=100, max_size=900),
    st.lists(st.text(alphabet="卡塔尔哈马斯人质ｃde 0", min_size=1, max_size=8), max_size=4),
    st.integers(16, 150),
)
def test_make_snippet_long_sentences(body, needles, max_chars):
    # no terminators: one long sentence, always trimmed around its first match
    snip = make_snippet("", body, needles, min_chars=max_chars // 2, max_chars=max_chars)
    assert_snippet(snip, needles, max_chars)
    assert snip.text.count("…") <= 2
    assert "……" not in snip.text
    first = find_spans(body, needles)[:1]
    if first and max_chars >= 40 and first[0][1] - first[0][0] <= 8:
        s, e = snip.highlights[0]
        assert squash(snip.text[s:e]) == squash(body[first[0][0] : first[0][1]])


def test_the_stored_normalised_text_gives_the_same_snippets_as_normalising_again():
    """A hit's snippet uses the normalised lead and body the index stores (normalising a whole
    article was most of a query's time); on every pool article it is the snippet normalising
    the article itself gives, for the title's first words and for its first word alone."""
    from indexer.analysis import query_words
    from indexer.errors import ArticleParseError
    from indexer.reader import parse_article

    from .conftest import POOL, pool_files

    if not POOL.is_dir():
        pytest.skip(f"the shared article pool is not at {POOL}")
    compared = 0
    for p in pool_files()[::2]:
        try:
            a = parse_article(p.read_bytes(), p.name)
        except ArticleParseError:
            continue
        words = query_words(a.title)[:4]
        norm = (normalize(a.lead), normalize(a.body))
        for needles in (words, words[:1]):
            assert make_snippet(a.lead, a.body, needles, normalized=norm) == make_snippet(a.lead, a.body, needles), p
            compared += 1
    assert compared > 4000


def test_normalised_text_of_another_length_is_not_used():
    lead, body = "卡塔尔  调停", "人质获释。"
    wrong = ("x", "y")  # not normalize(lead), normalize(body): the snippet normalises itself
    assert make_snippet(lead, body, ["卡塔尔"], normalized=wrong) == make_snippet(lead, body, ["卡塔尔"])
