"""Server-rendered SVG charts: geometry computed here, drawn by templates/_charts.html.

No inline styles (the CSP forbids them): colours come from CSS classes, so the charts
follow the light and dark themes. Every chart also has its numbers as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the full label, for the tooltip and the table
    value: float
    text: str  # the value as shown
    css: str = ""


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass
class BarChart:
    """A vertical bar chart in a `width` x `height` viewBox."""

    width: int
    height: int
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    plot_left: float
    plot_bottom: float
    plot_right: float
    target: Tick | None = None  # a horizontal reference line
    extra: dict[str, str] = field(default_factory=dict)


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def bar_chart(
    labels: list[str],
    values: list[float],
    *,
    tick_every: int = 7,
    tick_labels: list[str] | None = None,
    width: int = 720,
    height: int = 200,
    y_max: float | None = None,
    y_format: str = "{:g}",
    value_format: str = "{:g}",
    css: list[str] | None = None,
) -> BarChart:
    """Bars for `values`, with x labels every `tick_every` bars counted back from the
    last one (the last is today on a history, the first is today on a forecast when
    `tick_every` is negative: counted forward)."""
    left, right, top, bottom = 36.0, 8.0, 8.0, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = y_max if y_max is not None else nice_max(max(values, default=0))
    n = max(len(values), 1)
    slot = plot_w / n
    gap = min(2.0, slot * 0.2)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = 0.0 if top_value <= 0 else plot_h * min(value, top_value) / top_value
        if value > 0:
            h = max(h, 1.5)  # a day with answers never looks empty
        bars.append(
            Bar(
                x=round(left + i * slot + gap / 2, 2),
                y=round(top + plot_h - h, 2),
                width=round(slot - gap, 2),
                height=round(h, 2),
                label=label,
                value=value,
                text=value_format.format(value),
                css=css[i] if css else "",
            )
        )
    names = tick_labels or labels
    if tick_every > 0:
        indexes = range(len(values) - 1, -1, -tick_every)
    else:
        indexes = range(0, len(values), -tick_every)
    x_ticks = [Tick(round(left + (i + 0.5) * slot, 2), names[i]) for i in sorted(indexes)]
    y_ticks = [
        Tick(round(top + plot_h - plot_h * f, 2), y_format.format(top_value * f))
        for f in (0.0, 0.5, 1.0)
    ]
    return BarChart(
        width=width,
        height=height,
        bars=bars,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        plot_left=left,
        plot_bottom=top + plot_h,
        plot_right=width - right,
    )


@dataclass(frozen=True)
class HBar:
    y: float
    width: float
    label: str
    value: float | None
    text: str


@dataclass
class HBarChart:
    """Horizontal bars of shares in [0, 1] (recall by deck), one row each."""

    width: int
    height: int
    label_width: float
    bar_max: float
    row_height: float
    bars: list[HBar]
    target_x: float | None


def share_bars(
    labels: list[str],
    shares: Sequence[float | None],
    *,
    target: float | None = None,
    width: int = 720,
    label_width: int = 220,
    row_height: int = 26,
) -> HBarChart:
    bar_max = width - label_width - 56
    bars = [
        HBar(
            y=i * row_height,
            width=round(bar_max * (share or 0.0), 2),
            label=label,
            value=share,
            text="–" if share is None else f"{share * 100:.0f}%",
        )
        for i, (label, share) in enumerate(zip(labels, shares, strict=True))
    ]
    return HBarChart(
        width=width,
        height=max(row_height * len(bars), row_height),
        label_width=label_width,
        bar_max=bar_max,
        row_height=row_height,
        bars=bars,
        target_x=round(label_width + bar_max * target, 2) if target is not None else None,
    )
