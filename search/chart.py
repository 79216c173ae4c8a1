"""Counts for people: a timeline as a bar chart split by outlet, and facets after the hits.

Like render.py, it writes to the stream it is given, in the width it is given, and colours
only when told to. Without colour, outlets are told apart by the bar's characters.
"""

from __future__ import annotations

from typing import IO, Sequence

from .render import RESET, display_width, wrap

# The outlets with the most matches get one style each; the rest share the last one.
COLORS = ("\x1b[34m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[36m", "\x1b[90m")
SHADES = ("█", "▓", "▒", "░", "#", "=", "·")
OTHER = "other"


def outlet_styles(totals: dict[str, int]) -> dict[str, int]:
    """Outlet -> style number: one each for the largest, the last shared by the others."""
    names = sorted(totals, key=lambda n: (-totals[n], n))
    if len(names) <= len(COLORS):
        return {n: i for i, n in enumerate(names)}
    return {n: min(i, len(COLORS) - 1) for i, n in enumerate(names)}


def _cell(style: int, n: int, color: bool) -> str:
    if n <= 0:
        return ""
    return f"{COLORS[style]}{'█' * n}{RESET}" if color else SHADES[style] * n


def bar_runs(sources: dict[str, int], styles: dict[str, int], scale: float) -> list[tuple[int, int]]:
    """(style, cells) runs of one row; cumulative rounding keeps the row's length its total's."""
    by_style: dict[int, int] = {}
    for name, n in sources.items():
        by_style[styles[name]] = by_style.get(styles[name], 0) + n
    runs, done, drawn = [], 0, 0
    for style in sorted(by_style):
        done += by_style[style]
        end = round(done * scale)
        runs.append((style, end - drawn))
        drawn = end
    if drawn == 0 and done:  # too small to show at this scale: still show that there is something
        runs = [(min(by_style, key=lambda s: -by_style[s]), 1)]
    return runs


def render_timeline(periods: Sequence, stream: IO[str], *, color: bool, width: int = 100) -> None:
    """A legend, then a row a period: its label, a bar split by outlet, its count."""
    if not periods:
        return
    totals = outlet_totals(periods)
    styles = outlet_styles(totals)
    _legend(totals, styles, stream, color, width)
    label_w = max(display_width(p.label) for p in periods)
    count_w = len(f"{max(p.count for p in periods):,}")
    bar_w = max(1, width - label_w - count_w - 2)
    peak = max(p.count for p in periods)
    scale = bar_w / peak if peak else 0.0
    for p in periods:
        runs = bar_runs(p.sources, styles, scale)
        bar = "".join(_cell(style, n, color) for style, n in runs)
        pad = bar_w - sum(n for _, n in runs)
        stream.write(f"{p.label:<{label_w}} {bar}{' ' * pad} {p.count:>{count_w},}\n")


def legend(totals: dict[str, int], styles: dict[str, int]) -> list[tuple[int, str, int]]:
    """(style, outlet, count) for each style, in style order; outlets sharing the last style are `other`."""
    shown: dict[int, tuple[str, int]] = {}
    for name in sorted(totals, key=lambda n: (-totals[n], n)):
        style = styles[name]
        label, n = shown.get(style, (name, 0))
        shown[style] = (label if n == 0 else OTHER, n + totals[name])
    return [(style, name, n) for style, (name, n) in sorted(shown.items())]


def outlet_totals(periods: Sequence) -> dict[str, int]:
    """Each outlet's matches over all the periods."""
    totals: dict[str, int] = {}
    for p in periods:
        for name, n in p.sources.items():
            totals[name] = totals.get(name, 0) + n
    return totals


def _legend(totals: dict[str, int], styles: dict[str, int], stream: IO[str], color: bool, width: int) -> None:
    line, used = "", 0
    for style, name, n in legend(totals, styles):
        plain = f"{SHADES[style]} {name or '?'} {n:,}"  # what the item takes on screen
        item = f"{_cell(style, 1, color)}{plain[1:]}"
        if line and used + 2 + display_width(plain) > width:
            stream.write(line + "\n")
            line, used = "", 0
        line, used = (f"{line}  {item}", used + 2 + display_width(plain)) if line else (item, display_width(plain))
    if line:
        stream.write(line + "\n")


def render_facets(facets, stream: IO[str], *, width: int = 100) -> None:
    """The counts of a whole result: by outlet, by month, undated."""
    stream.write(f"{facets.total:,} {'match' if facets.total == 1 else 'matches'} in all\n")
    rows = [("outlets", ", ".join(f"{name or '?'} {n:,}" for name, n in facets.sources.items())),
            ("months", ", ".join(f"{m} {n:,}" for m, n in facets.months.items()))]
    if facets.undated:
        rows.append(("undated", f"{facets.undated:,}"))
    for key, text in rows:
        for i, (line, _) in enumerate(wrap(text or "none", max(10, width - 10))):
            stream.write(f"{key if i == 0 else '':<8}  {line}\n")
