"""Charts as server-side SVG: plain data in, an accessible SVG and its numbers out.

No script and no library: the page stays readable without JavaScript, under a strict
CSP, on a slow phone and on paper. Each chart scales to its box (viewBox, width 100%),
names its numbers in words for screen readers (role="img", <title>, aria-label), and
carries the table of its numbers for a <details> under it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from markupsafe import Markup, escape

# Colours that stay apart for common colour blindness and in grey print.
PALETTE = ("#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#b22222", "#5d6d7e")
# A narrow box with large type: at 375 px the text is still about 11 px high.
WIDTH, HEIGHT = 480, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 36, 34, 78


@dataclass
class Series:
    name: str
    values: list[float]


@dataclass
class Chart:
    """A chart ready for templates/charts/_chart.html: its SVG and the numbers behind it."""

    title: str
    labels: list[str]
    series: list[Series]
    unit: str = ""
    svg: Markup = Markup("")
    words: str = ""
    rows: list[list[str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.labels or not self.series


def _fmt(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(int(value))


def _nice_max(value: float) -> float:
    """Round an axis top up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if value <= m * step:
            return m * step
    return 10 * step


def _describe(chart: Chart) -> None:
    unit = chart.unit
    parts = []
    for s in chart.series:
        values = "，".join(f"{label}{_fmt(v)}{unit}" for label, v in zip(chart.labels, s.values))
        parts.append(f"{s.name}：{values}" if len(chart.series) > 1 or s.name else values)
    chart.words = f"{chart.title}。" + "；".join(parts) + "。"
    chart.rows = [[label] + [_fmt(s.values[i]) for s in chart.series] for i, label in enumerate(chart.labels)]


def _frame(chart: Chart, top: float, bottom: float) -> list[str]:
    """The opening tag, title, axis lines and grid for a value range bottom..top."""
    words = escape(chart.words)
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{words}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{words}</title>",
        f'<text x="{LEFT}" y="18" font-size="17" font-weight="bold" fill="#222">{escape(chart.title)}</text>',
    ]
    plot_h = HEIGHT - TOP - BOTTOM
    for i in range(5):
        value = bottom + (top - bottom) * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="13" text-anchor="end" fill="#444">'
                   f'{_fmt(round(value, 2))}</text>')
    return out


def _legend(chart: Chart) -> list[str]:
    if len(chart.series) < 2:
        return []
    out, x = [], LEFT
    for i, s in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="13" fill="#222">{escape(s.name)}</text>')
        x += 30 + 14 * len(s.name)
    return out


def _label(x: float, text: str, many: bool) -> str:
    y = HEIGHT - BOTTOM + 16
    text = text if len(text) <= 7 else text[:6] + "…"
    if many:
        return (f'<text x="{x:.1f}" y="{y}" font-size="13" text-anchor="end" fill="#222" '
                f'transform="rotate(-35 {x:.1f} {y})">{escape(text)}</text>')
    return f'<text x="{x:.1f}" y="{y}" font-size="13" text-anchor="middle" fill="#222">{escape(text)}</text>'


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> Chart:
    """Grouped vertical bars: one group per label, one bar per series (values ≥ 0)."""
    chart = Chart(title, list(labels), list(series), unit)
    if chart.empty:
        return chart
    _describe(chart)
    top = _nice_max(max((v for s in chart.series for v in s.values), default=0))
    out = _frame(chart, top, 0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(chart.labels)
    bar = slot * 0.8 / len(chart.series)
    many = len(chart.labels) > 4
    for i, label in enumerate(chart.labels):
        x0 = LEFT + slot * i + slot * 0.1
        for j, s in enumerate(chart.series):
            value = max(0, s.values[i])
            h = plot_h * value / top
            colour = PALETTE[j % len(PALETTE)]
            out.append(f'<rect x="{x0 + bar * j:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(bar - 1, 1):.1f}" '
                       f'height="{h:.1f}" fill="{colour}"><title>{escape(label)} {escape(s.name)} '
                       f'{_fmt(s.values[i])}{escape(unit)}</title></rect>')
        out.append(_label(LEFT + slot * (i + 0.5), label, many))
    out += _legend(chart)
    out.append("</svg>")
    chart.svg = Markup("".join(out))
    return chart


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "",
               floor: float | None = None) -> Chart:
    """Lines over time: one point per label, one line per series; the axis starts at ``floor``
    (0 unless given) or below the lowest value."""
    chart = Chart(title, list(labels), list(series), unit)
    if chart.empty:
        return chart
    _describe(chart)
    values = [v for s in chart.series for v in s.values]
    bottom = min(0 if floor is None else floor, min(values))
    top = _nice_max(max(values) - bottom) + bottom if max(values) > bottom else bottom + 1
    out = _frame(chart, top, bottom)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(chart.labels) - 1, 1)
    many = len(chart.labels) > 4

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * (v - bottom) / (top - bottom)

    for j, s in enumerate(chart.series):
        colour = PALETTE[j % len(PALETTE)]
        points = " ".join(f"{LEFT + step * i:.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for i, v in enumerate(s.values):
            out.append(f'<circle cx="{LEFT + step * i:.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                       f'<title>{escape(chart.labels[i])} {escape(s.name)} {_fmt(v)}{escape(unit)}</title></circle>')
    for i, label in enumerate(chart.labels):
        out.append(_label(LEFT + step * i, label, many))
    out += _legend(chart)
    out.append("</svg>")
    chart.svg = Markup("".join(out))
    return chart


def distribution(title: str, scores: Sequence[int], width: int = 10) -> Chart:
    """Count households per score band of ``width`` points (90–99, 100–109 …)."""
    if not scores:
        return Chart(title, [], [])
    low = min(scores) // width * width
    high = max(scores) // width * width
    bands = list(range(low, high + width, width))
    counts = [sum(1 for s in scores if band <= s < band + width) for band in bands]
    labels = [f"{band}–{band + width - 1}" for band in bands]
    return bar_chart(title, labels, [Series("户数", counts)], "户")
