"""Query-biased snippets cut from an article's stored text.

Pure functions, no index: highlighting is a literal search of the query's own
(normalised) words in the normalised stored text, so no body is re-segmented
at query time.

Highlight rule: the highlighted set is the union of every needle occurrence
(overlapping occurrences included). A run is a maximal group of occurrences
that overlap each other, so a needle nested in a longer one (马克 in 马克思,
人道主义 in 人道主义休战) never splits it, two different needles that partly
overlap become one run, and runs that merely touch stay separate (a reader can
still see where one word ends and the next begins).

Candidate pool: lead and body are one sequence of sentences, the lead's first,
so a lead sentence wins ties (it is the article's own summary) and the body is
used whenever it matches better.
"""

from __future__ import annotations

import math

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain, pairwise
from typing import Sequence

from indexer.analysis import normalize

ELLIPSIS = "…"
MAX_FRAGMENTS = 3
_MIN_ROOM = 24  # below this a trimmed extra fragment is mostly ellipsis and context-free

_WS = re.compile(r"(\s+)")  # split() keeps the runs
# A sentence ends after CJK terminators, after . ! ? followed by whitespace (Latin text:
# "3.5" and "rfi.fr" must not split), or at a paragraph break; closing quotes stay with it,
# and the one whitespace char that may follow (text is collapsed by then) is eaten too.
# The leading lookahead lets re skip ahead with a char-set scan: twice as fast.
_END = re.compile(
    r"(?=[。！？；….!?\n])"
    r"(?:[。！？；…]+[”’」』）)\]\"']*[ \n]?|[.!?]+[”’)\]\"']*(?=\s|$)[ \n]?|\n)"
)


@dataclass(frozen=True, slots=True)
class Snippet:
    """Plain text, and the highlighted runs as sorted, disjoint [start, end) into it."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()


def _alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _word_re(word: str) -> str:
    # News text often spaces digits and Latin off from Han ("在 11 月 8 日"), and the index
    # splits runs there anyway, so whitespace is optional where a word switches script.
    return "".join(
        (r"\s*" if i and _alnum(word[i - 1]) != _alnum(c) and word[i - 1].isalnum() and c.isalnum() else "")
        + re.escape(c)
        for i, c in enumerate(word)
    )


@lru_cache(maxsize=1024)
def _needle_re(needle: str) -> re.Pattern[str]:
    parts = needle.split(" ")
    pattern = _word_re(parts[0])
    for left, right in pairwise(parts):
        # Chinese writes words without spaces, so any or no whitespace may separate them;
        # two Latin words need a separator, or "new york" would match "newyork".
        sep = r"[\W_]+" if _alnum(left[-1]) and _alnum(right[0]) else r"\s*"
        pattern += sep + _word_re(right)
    if _alnum(needle[0]):
        pattern = r"(?<![0-9A-Za-z])" + pattern
    if _alnum(needle[-1]):
        pattern += r"(?![0-9A-Za-z])"
    return re.compile(pattern)


def _clean_needles(needles: Sequence[str]) -> list[str]:
    out = (" ".join(normalize(n).split()) for n in needles)
    return list(dict.fromkeys(n for n in out if n))


def _occurrences(norm: str, needles: list[str]) -> list[tuple[int, int, int]]:
    """Every (start, end, needle index), overlapping ones included, sorted."""
    found = []
    for k, needle in enumerate(needles):
        rx, pos = _needle_re(needle), 0
        # search() restarted one past each hit finds overlapping hits yet keeps the
        # fast literal scan that a lookahead pattern would lose.
        while (m := rx.search(norm, pos)) is not None:
            found.append((m.start(), m.end(), k))
            pos = m.start() + 1
    found.sort()
    return found


def _merge(occ: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Whole occurrences only, longest first: every run is exactly one needle's occurrence.

    Where two needles partly overlap (北京大学 and 大学生 in 北京大学生), the longer one
    is kept whole and the other is not marked, rather than marking a run that is no
    query word at all.
    """
    taken: list[tuple[int, int]] = []
    for s, e, _ in sorted(occ, key=lambda o: (o[0] - o[1], o[0])):
        i = bisect_left(taken, (s, e))
        if (i and taken[i - 1][1] > s) or (i < len(taken) and taken[i][0] < e):
            continue
        taken.insert(i, (s, e))
    return taken


def literal_in(norm_text: str, needle: str) -> bool:
    """Whether `needle` occurs literally in already-normalised text (as find_spans would mark it)."""
    needle = " ".join(needle.split())
    return bool(needle) and _needle_re(needle).search(norm_text) is not None


def count_literal(norm_text: str, needle: str) -> int:
    """How often `needle` occurs literally in already-normalised text, without overlaps."""
    needle = " ".join(needle.split())
    return len(_needle_re(needle).findall(norm_text)) if needle else 0


def find_spans(text: str, needles: Sequence[str], normalized: str | None = None) -> list[tuple[int, int]]:
    """Highlight runs of `needles` in `text`, as code point offsets into `text`.

    `normalized`: normalize(text) when the caller has it (the index stores it)."""
    return _merge(_occurrences(normalize(text) if normalized is None else normalized, _clean_needles(needles)))


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of whitespace-collapsed `text`, without edge spaces."""
    bounds = [0, *[m.end() for m in _END.finditer(text)]]
    if bounds[-1] < len(text):
        bounds.append(len(text))
    return [(a, b - (text[b - 1] in " \n")) for a, b in pairwise(bounds)]


def _inside(spans: list[tuple[int, int]], pos: int) -> tuple[int, int] | None:
    i = bisect_right(spans, (pos, math.inf)) - 1
    return spans[i] if i >= 0 and spans[i][0] < pos < spans[i][1] else None


def _window(text, a, b, room, spans):
    """Cut sentence [a, b) to at most `room` chars around its first highlight.

    Returns (start, end, cut_left, cut_right); each cut costs one ellipsis char.
    """
    if b - a <= room:
        return a, b, False, False
    i = bisect_left(spans, (a, a))
    anchor, anchor_end = spans[i] if i < len(spans) and spans[i][0] < b else (a, a)
    start = max(a, anchor - room // 4)
    if (hit := _inside(spans, start)) is not None:
        start = max(a, hit[0])
    # Don't open in the middle of a Latin word or on a space (bounded: a long
    # unspaced run just gets cut).
    limit = min(anchor, start + 16)
    while a < start < limit and (text[start].isspace() or _alnum(text[start - 1]) and _alnum(text[start])):
        start += 1
    avail = room - (start > a)
    end = b if start + avail >= b else start + avail - 1
    if (hit := _inside(spans, end)) is not None and hit[0] > start:
        end = hit[0]  # a highlight that still crosses the edge is dropped, never split
    limit = max(anchor_end, start + 1, end - 16)
    while end < b and end > limit and (text[end - 1].isspace() or _alnum(text[end - 1]) and _alnum(text[end])):
        end -= 1
    return start, end, start > a, end < b


def _collapsed(lead: str, body: str, normalized: tuple[str, str] | None) -> tuple[str, str]:
    """Lead and body as one text with whitespace collapsed, and the same of their normalised
    forms (normalised here when not given): every offset into one is an offset into the other."""
    if normalized is not None and (len(normalized[0]), len(normalized[1])) != (len(lead), len(body)):
        normalized = None  # not the same text's (normalising keeps lengths)
    keep = [k for k, p in enumerate((lead, body)) if p and not p.isspace()]
    text = "\n".join((lead, body)[k] for k in keep)
    norm = None if normalized is None else "\n".join(normalized[k] for k in keep)
    # A paragraph break stays a (1-char) "\n" to end sentences and becomes " " on output.
    # Split once at the whitespace runs (in C), the normalised text cut at the same places.
    parts = _WS.split(text)
    seps = ["\n" if "\n" in gap else " " for gap in parts[1::2]]
    words = parts[0::2]
    text = "".join(chain.from_iterable(zip(words, seps))) + words[-1]
    left = len(text) - len(text.lstrip())
    text = text.strip()
    if norm is None:
        return text, normalize(text)
    ends = list(accumulate(map(len, parts)))
    nwords = [norm[start:start + len(w)] for start, w in zip((0, *ends[1::2]), words)]
    return text, ("".join(chain.from_iterable(zip(nwords, seps))) + nwords[-1])[left:left + len(text)]


def make_snippet(
    lead: str, body: str, needles: Sequence[str], *, min_chars: int = 80, max_chars: int = 200,
    normalized: tuple[str, str] | None = None,
) -> Snippet:
    """Up to three fragments of the article that best show the query, in document order.

    Sentences are scored by the distinct needles they hold; the best is taken first, then
    those adding needles not yet shown; short results are padded with neighbouring
    sentences up to `min_chars`. `len(text) <= max_chars` always holds. With no match at
    all (e.g. only the title matched) it is the opening sentences, up to `max_chars`.
    `normalized`: (normalize(lead), normalize(body)) when the caller has them (the index
    stores them): normalising a whole article was most of a snippet's cost.
    """
    if max_chars < 16:
        raise ValueError(f"max_chars={max_chars}: too short for a snippet")
    # Whitespace is collapsed once so every offset below is already a final-text offset.
    text, norm = _collapsed(lead, body, normalized)
    if not text:
        return Snippet("")
    words = _clean_needles(needles)
    occ = _occurrences(norm, words)
    spans = _merge(occ)
    sents = _sentences(text)
    starts = [a for a, _ in sents]
    has: list[set[int]] = [set() for _ in sents]
    for s, e, k in occ:
        i = bisect_right(starts, s) - 1
        if e <= sents[i][1]:
            has[i].add(k)
    # Distinct needles count most; sqrt(length) makes longer ones weigh more without
    # letting one long word outweigh two shorter ones.
    weight = [math.sqrt(len(w.replace(" ", ""))) for w in words]

    # A sentence's score depends only on which needles it holds, and few sets occur: the
    # scores are computed per set (a common word's snippet weighs ~100 sentences, 3 times)
    sets = [frozenset(h) for h in has]
    scores: dict[tuple[frozenset, frozenset], float] = {}

    def score(i: int, skip: frozenset[int] = frozenset()) -> float:
        key = (sets[i], skip)
        found = scores.get(key)
        if found is None:
            found = scores[key] = sum(weight[k] for k in sets[i] - skip)
        return found

    chosen: dict[int, tuple[int, int, bool, bool]] = {}
    total = -1  # every fragment pays for one joiner, except the first

    def add(i: int, room_floor: int) -> bool:
        nonlocal total
        room = max_chars - total - 1
        if room < room_floor:
            return False
        chosen[i] = win = _window(text, *sents[i], room, spans)
        total += 1 + win[1] - win[0] + win[2] + win[3]
        return True

    pool = [i for i in range(len(sents)) if has[i]]
    covered: frozenset[int] = frozenset()
    while pool and len(chosen) < MAX_FRAGMENTS:
        best = max(pool, key=lambda i: (score(i, covered), score(i), -i))
        pool.remove(best)
        if total >= min_chars and not score(best, covered):
            break
        if add(best, _MIN_ROOM if chosen else 1):
            covered |= sets[best]
    target = min_chars
    if not chosen:  # nothing matched (only the title did): the opening sentences, lead first
        add(0, 1)
        target = max_chars
    # Pad a short snippet with whole sentences around the chosen ones, following first.
    grown = True
    while total < target and grown:
        grown = False
        for i in sorted(chosen):
            for j in (i + 1, i - 1):
                # chosen[i][3] / [2]: that side was trimmed, so j is not adjacent any more.
                if total >= target or not 0 <= j < len(sents) or j in chosen or chosen[i][2 + (j > i)]:
                    continue
                if sents[j][1] - sents[j][0] <= max_chars - total - 1 and add(j, 1):
                    grown = True
    return _assemble(text, chosen, spans)


def _assemble(text, chosen, spans) -> Snippet:
    runs: list[list] = []
    for i in sorted(chosen):
        start, end, cut_l, cut_r = chosen[i]
        prev = runs[-1] if runs else None
        if prev and prev[4] == i - 1 and not prev[3] and not cut_l:
            prev[1], prev[3], prev[4] = end, cut_r, i  # adjacent sentences read as one fragment
        else:
            runs.append([start, end, cut_l, cut_r, i])
    out, marks = [], []
    pos = 0
    for n, (start, end, cut_l, cut_r, _) in enumerate(runs):
        # One ellipsis between fragments, even when both sides were trimmed.
        if (not runs[n - 1][3]) if n else cut_l:
            out.append(ELLIPSIS)
            pos += 1
        j = bisect_left(spans, (start, start))
        while j < len(spans) and spans[j][1] <= end:
            marks.append((pos + spans[j][0] - start, pos + spans[j][1] - start))
            j += 1
        out.append(text[start:end].replace("\n", " "))
        pos += end - start
        if cut_r:
            out.append(ELLIPSIS)
            pos += 1
    return Snippet("".join(out), tuple(marks))
