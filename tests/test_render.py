"""Wrapping human output (search/render.py `wrap`): display width and Chinese line-breaking rules,
property-tested on the paragraphs and titles of the shipped corpus."""

from __future__ import annotations

import functools
import re
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indexer.reader import parse_article
from search.render import wrap

from .conftest import CORPUS

# The lists, kept here apart from the implementation's own sets.
CLOSING = set("，。、；：？！」』）》")
OPENING = set("「『（《")
LATIN_RUN = re.compile(r"[!-~]+")  # a Latin word, number or URL: printable ASCII without spaces


def columns(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "FW" else 1 for c in text)


@functools.cache
def corpus_texts() -> list[str]:
    texts = []
    for path in sorted(CORPUS.iterdir())[:120]:
        if path.name == "README.md":
            continue
        article = parse_article(path.read_bytes(), path.name)
        texts.append(article.title)
        texts.extend(p for p in article.body.split("\n") if len(p) > 30)
    return texts


def line_offsets(text: str, lines: list[str]) -> list[int]:
    """Where each line starts in text; asserts the lines are the text, less spaces at the breaks."""
    starts, pos = [], 0
    for line in lines:
        while pos < len(text) and text[pos] == " ":
            pos += 1
        assert text.startswith(line, pos), (line, text[pos:pos + 40])
        starts.append(pos)
        pos += len(line)
    assert text[pos:].strip(" ") == ""
    return starts


@settings(max_examples=300, deadline=None)
@given(data=st.data(), width=st.integers(min_value=12, max_value=120))
def test_wrap_follows_width_and_chinese_line_breaking_on_real_text(data, width):
    text = data.draw(st.sampled_from(corpus_texts()))
    # A Latin run wider than half a line may have to be cut (see the URL test below).
    assume(all(columns(m.group()) <= width // 2 for m in LATIN_RUN.finditer(text)))
    word = data.draw(st.sampled_from([text[i:i + 2] for i in range(0, len(text) - 1, 7)]))
    spans = [(m.start(), m.end()) for m in re.finditer(re.escape(word), text)]
    lines = [line for line, _ in wrap(text, width, spans)]
    starts = line_offsets(text, lines)
    for line in lines:
        assert line and columns(line) <= width, line
        assert line[0] not in CLOSING and line[-1] not in OPENING and line[0] != " " != line[-1], line
    for start in starts[1:]:
        # the break before `start`: never inside a Latin word or number
        assert not (LATIN_RUN.match(text[start - 1]) and LATIN_RUN.match(text[start])), text[start - 5:start + 5]
    # every highlighted character is highlighted on its line, and nothing else
    marked, shown = set(), set()
    for (line, line_spans), start in zip(wrap(text, width, spans), starts):
        shown.update(range(start, start + len(line)))
        for s, e in line_spans:
            assert 0 <= s < e <= len(line)
            marked.update(range(start + s, start + e))
    assert marked == {i for s, e in spans for i in range(s, e)} & shown


def test_wrap_keeps_punctuation_with_its_neighbours():
    # 10 columns: "，" would start line 2, "（" would end it; both move with a neighbour.
    assert [l for l, _ in wrap("一二三四五，六七八（九十）", 10)] == ["一二三四", "五，六七八", "（九十）"]
    assert [l for l, _ in wrap("他说：“完全不合法”。然后", 18)] == ["他说：“完全不合", "法”。然后"]
    assert [l for l, _ in wrap("疫苗名为Ad5-nCoV的候选", 12)] == ["疫苗名为", "Ad5-nCoV的候", "选"]


def test_a_latin_run_wider_than_the_line_is_cut_at_the_width():
    url = "https://www.voachinese.com/a/us-china-south-china-sea/5502897.html"
    lines = [l for l, _ in wrap(f"见 {url} 全文", 30)]
    # moved to a line of its own first, then cut where the line is full
    assert lines == ["见", url[:30], url[30:60], url[60:] + " 全文"]


@pytest.mark.parametrize("width", [1, 2, 3])
def test_wrap_makes_progress_on_tiny_widths(width):
    lines = [l for l, _ in wrap("中文，English。", width)]
    assert "".join(lines) == "中文，English。"
