"""Output for people (aligned, wrapped, highlighted) and for scripts (NDJSON).

Renderers write to the stream they are given and are told whether to colour;
they never look at the terminal themselves.
"""

from __future__ import annotations

import os
import unicodedata
from datetime import datetime
from urllib.parse import unquote
from typing import IO, Iterable, Sequence, Sized

import orjson

BOLD, HIGHLIGHT, DIM, RESET = "\x1b[1m", "\x1b[1;31m", "\x1b[2m", "\x1b[0m"


def use_color(choice: str, stream) -> bool:
    """--color auto: colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "FW" else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def local_time(dt: datetime | None) -> str:
    return "undated" if dt is None else dt.astimezone().strftime("%Y-%m-%d %H:%M %z")


def readable_url(url: str) -> str:
    """Percent-decoded for people (terminals link IRIs too); JSON keeps the canonical form."""
    text = unquote(url, errors="strict") if "%" in url else url
    return url if any(c.isspace() or not c.isprintable() for c in text) else text


def mark(text: str, spans: Sequence[tuple[int, int]], color: bool, style: str = HIGHLIGHT, base: str = "") -> str:
    if not color:
        return text
    out, pos = [base], 0
    for start, end in spans:
        out += [text[pos:start], style, text[start:end], RESET, base]
        pos = end
    out += [text[pos:], RESET if base else ""]
    return "".join(out)


# Chinese line-breaking rules (GB/T 15834, JIS X 4051's kinsoku): these never start a line...
_NO_LINE_START = frozenset("，。、；：？！」』）》〉】〕〗〙｝］”’…‥—・·％‰ー～" ",.;:!?)]}%")
# ...and these never end one.
_NO_LINE_END = frozenset("「『（《〈【〔〖〘｛［“‘" "([{")


def _latin(ch: str) -> bool:
    """Part of a Latin word, number or URL: any printable ASCII but the space (so COVID-19, 3.14,
    2,000, U.S. and https://… hold together), or a full-width letter or digit."""
    return "!" <= ch <= "~" or ch.isalnum() and 0xFF10 <= ord(ch) <= 0xFF5A


def _can_break(text: str, i: int, start: int) -> bool:
    """May a line that began at `start` end before text[i], with text[i] (not a space) starting the next?"""
    p = i - 1
    while p >= start and text[p] == " ":
        p -= 1
    if p < start:
        return False
    prev, nxt = text[p], text[i]
    if nxt in _NO_LINE_START or prev in _NO_LINE_END:
        return False
    if p < i - 1:  # a space between them
        return True
    return not (_latin(prev) and _latin(nxt))


def wrap(text: str, width: int, spans: Sequence[tuple[int, int]] = ()) -> list[tuple[str, list[tuple[int, int]]]]:
    """Cut text into lines of at most `width` columns (a CJK character counts two), keeping spans per line.

    Breaks follow Chinese rules: no line starts with closing punctuation (，。」）…) nor ends with
    opening punctuation (「（《), and a Latin word or number is never split, unless one such unit
    is wider than a whole line (a long URL): then it is cut at the width. Spaces at a break
    are dropped.
    """
    bounds: list[tuple[int, int]] = []
    start = col = i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        w = char_width(ch)
        if ch != " " and col + w > width and i > start:
            cut = next((b for b in range(i, start, -1) if text[b] != " " and _can_break(text, b, start)), i)
            end = cut
            while end > start and text[end - 1] == " ":
                end -= 1
            bounds.append((start, end))
            start = cut
            col = display_width(text[start:i])
            continue
        if ch == " " and i == start:
            start += 1  # a line never starts with a space
        else:
            col += w
        i += 1
    end = n
    while end > start and text[end - 1] == " ":
        end -= 1
    if end > start or not bounds:
        bounds.append((start, end))
    out = []
    for a, b in bounds:
        local = [(max(s, a) - a, min(e, b) - a) for s, e in spans if s < b and e > a]
        out.append((text[a:b], local))
    return out


def render_hits(hits: Sized, stream: IO[str], *, color: bool, width: int = 100) -> None:
    """Rank, title, date · outlet · URL, and the snippet, indented under the title.

    Each hit is written as it is iterated (a lazy `Hits` makes it then), so a long list streams."""
    if not len(hits):
        return
    # a Hits page's ranks run on from its offset; a plain list is read whole
    last_rank = hits.offset + len(hits) if hasattr(hits, "offset") else max(h.rank for h in hits)
    rank_w = len(str(last_rank)) + 2
    indent = " " * rank_w
    text_w = max(20, width - rank_w)
    for hit in hits:
        title = " ".join(hit.title.split())
        head = f"{hit.rank}.".rjust(rank_w - 1) + " "
        for n, (line, spans) in enumerate(wrap(title, text_w, hit.title_highlights)):
            prefix = head if n == 0 else indent
            stream.write(prefix + mark(line, spans, color, HIGHLIGHT, BOLD) + "\n")
        meta = f"{local_time(hit.published)} · {hit.source} · {readable_url(hit.url)}"
        stream.write(indent + (f"{DIM}{meta}{RESET}" if color else meta) + "\n")
        for url in hit.duplicates:
            also = f"also at {readable_url(url)}"
            stream.write(indent + (f"{DIM}{also}{RESET}" if color else also) + "\n")
        for line, spans in wrap(hit.snippet, text_w, hit.highlights):
            stream.write(indent + mark(line, spans, color) + "\n")
        stream.write("\n")


def write_ndjson(rows: Iterable[dict], stream: IO[str]) -> None:
    for row in rows:
        stream.write(orjson.dumps(row).decode() + "\n")


def write_json(obj: dict, stream: IO[str]) -> None:
    stream.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode() + "\n")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def render_stats(stats, stream: IO[str]) -> None:
    span = (f"{local_time(stats.first_published)} … {local_time(stats.last_published)}"
            if stats.first_published else "none")
    rows = [
        ("index", f"{stats.path} ({_size(stats.size_bytes)})"),
        ("last update", local_time(stats.last_update)),
        ("last change", "not recorded (built before zhsearch recorded it)" if stats.last_change is None else
         f"{local_time(stats.last_change)}: {stats.last_added:,} added, {stats.last_changed:,} changed, "
         f"{stats.last_removed:,} removed"),
        ("documents", f"{stats.documents:,}"),
        ("published", span),
    ]
    for key, value in rows:
        stream.write(f"{key:<12} {value}\n")
    stream.write("sources\n")
    name_w = max((display_width(s) for s in stats.sources), default=0)
    for name, count in stats.sources.items():
        stream.write(f"  {name}{' ' * (name_w - display_width(name))}  {count:>7,}\n")


def render_article(article, stream: IO[str], *, color: bool, width: int = 100) -> None:
    for line, _ in wrap(" ".join(article.title.split()), width):
        stream.write((f"{BOLD}{line}{RESET}" if color else line) + "\n")
    meta = f"{local_time(article.published)} · {article.source} · {readable_url(article.url)}"
    stream.write((f"{DIM}{meta}{RESET}" if color else meta) + "\n\n")
    for paragraph in [article.lead] + article.body.split("\n"):
        if paragraph.strip():
            for line, _ in wrap(paragraph.strip(), width):
                stream.write(line + "\n")
            stream.write("\n")
