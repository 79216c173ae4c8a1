"""The timeline of a result as an SVG bar chart laid out on the server (no script, no CDN).

One bar a period (day, week, month or year: `Index.timeline(by="auto")` keeps them under 40),
stacked by outlet with the terminal chart's styles (search/chart.py: the six largest outlets
one each, the rest `other`), each bar a link to the search narrowed to its period.

The SVG's markup is written here rather than by a template: a chart is a few hundred
elements, which Jinja took ~13 ms a page to write (a third of the page's time); every text in
it goes through `escape`, as a template would send it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

from ..chart import bar_runs, legend, outlet_styles, outlet_totals
from ..facets import period_end

WIDTH, HEIGHT = 720, 100  # the viewBox: the SVG stretches to the page's width (labels are HTML beside it)


@dataclass(frozen=True, slots=True)
class Segment:
    y: int
    height: int
    style: int


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    label: str
    count: int
    sources: dict[str, int]
    since: str  # the period's first and last day, for the link that narrows the search to it
    until: str
    segments: list[Segment]


@dataclass(frozen=True, slots=True)
class Chart:
    by: str
    bars: list[Bar]
    legend: list[tuple[int, str, int]]  # (style, outlet or "other", count)
    undated: int
    width: int = WIDTH
    height: int = HEIGHT


def lay_out(periods: Sequence) -> Chart | None:
    """The chart of `Index.timeline`'s periods; None when nothing dated matched."""
    dated = [p for p in periods if p.start is not None]
    if not any(p.count for p in dated):
        return None
    undated = sum(p.count for p in periods if p.start is None)
    totals = outlet_totals(dated)
    styles = outlet_styles(totals)
    peak = max(p.count for p in dated)
    scale = HEIGHT / peak
    step = WIDTH / len(dated)
    gap = min(2.0, step / 5)
    bars = []
    for i, p in enumerate(dated):
        segments, top = [], HEIGHT
        for style, n in bar_runs(p.sources, styles, scale):
            top -= n
            segments.append(Segment(top, n, style))
        bars.append(Bar(round(i * step + gap / 2, 2), round(step - gap, 2), p.label, p.count, dict(p.sources),
                        p.start.isoformat(), period_end(p.by, p.start).isoformat(), segments))
    return Chart(dated[0].by, bars, legend(totals, styles), undated)


def svg(chart: Chart, href: Callable[[Bar], str]) -> Markup:
    """The chart's <svg>: each bar an <a> to `href(bar)`, titled with its count by outlet."""
    out = [f'<svg viewBox="0 0 {chart.width} {chart.height}" role="img" aria-label="Matches by {escape(chart.by)}" '
           f'preserveAspectRatio="none">']
    for b in chart.bars:
        split = ", ".join(f"{name or '?'} {n}" for name, n in b.sources.items())
        title = f"{b.label}: {b.count}" + (f" ({split})" if split else "")
        out.append(f'<a href="{escape(href(b))}" class="bar" data-since="{escape(b.since)}" data-until="{escape(b.until)}">'
                   f'<title>{escape(title)}</title>'
                   f'<rect class="hover" x="{b.x}" y="0" width="{b.width}" height="{chart.height}"></rect>')
        out.extend(f'<rect class="s{s.style}" x="{b.x}" y="{s.y}" width="{b.width}" height="{s.height}"></rect>'
                   for s in b.segments if s.height > 0)
        out.append("</a>")
    out.append("</svg>")
    return Markup("".join(out))
