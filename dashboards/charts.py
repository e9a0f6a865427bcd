"""Charts drawn on the server as inline SVG: no JavaScript, no internet, testable as text.

Three shapes cover every page: lines over time (segment sizes, daily rates), horizontal bars
(per mailbox domain, per guardrail) and intervals (an experiment's credible interval per
variant). Each takes plain numbers and returns markup to drop into a template; reference
lines (Gmail's spam-rate limits, "no effect") are drawn across the plot with their label.
Every mark carries a `<title>`, so hovering shows the exact value and tests can read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

Formatter = Callable[[float], str]

PALETTE = ("#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d")
REFERENCE_COLOURS = ("#b45309", "#b91c1c", "#475569")


def plain_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def percent(value: float) -> str:
    """A rate as a percentage with enough digits to tell 0.1% from 0.3%."""
    return f"{value * 100:.2f}%"


@dataclass(frozen=True)
class Series:
    """One line: a name and its (x label, value) points, in x order."""

    name: str
    points: Sequence[tuple[str, float]]


@dataclass(frozen=True)
class Reference:
    """A horizontal (or, on interval charts, vertical) line at `value`, labelled."""

    value: float
    label: str


@dataclass(frozen=True)
class Interval:
    """A variant's estimate and its credible interval."""

    label: str
    low: float
    estimate: float
    high: float


@dataclass
class _Frame:
    """The plot area inside the chart's margins and the value range it maps."""

    width: int
    height: int
    left: int = 56
    right: int = 16
    top: int = 16
    bottom: int = 40
    low: float = 0.0
    high: float = 1.0
    parts: list[str] = field(default_factory=list)

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        return self.top + self.plot_height * (1 - (value - self.low) / span)


def _svg(frame: _Frame, label: str, css_class: str) -> Markup:
    """The chart's markup. Every text that came from data was escaped where it was added."""
    body = "".join(frame.parts)
    return Markup(  # noqa: S704 - built from escaped values only
        f'<svg class="chart {css_class}" viewBox="0 0 {frame.width} {frame.height}" '
        f'role="img" aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(label)}</title>{body}</svg>"
    )


def _empty(label: str, message: str, width: int, height: int) -> Markup:
    frame = _Frame(width, height)
    frame.parts.append(
        f'<text class="chart-empty" x="{width / 2:.0f}" y="{height / 2:.0f}" '
        f'text-anchor="middle">{escape(message)}</text>'
    )
    return _svg(frame, label, "chart-empty-state")


def _value_axis(frame: _Frame, fmt: Formatter, ticks: int = 4) -> None:
    for step in range(ticks + 1):
        value = frame.low + (frame.high - frame.low) * step / ticks
        y = frame.y(value)
        frame.parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(fmt(value))}</text>'
        )


def _horizontal_references(frame: _Frame, references: Sequence[Reference], fmt: Formatter) -> None:
    for index, reference in enumerate(references):
        y = frame.y(reference.value)
        colour = REFERENCE_COLOURS[index % len(REFERENCE_COLOURS)]
        text = f"{reference.label} ({fmt(reference.value)})"
        frame.parts.append(
            f'<g class="reference" data-value="{reference.value}">'
            f"<title>{escape(text)}</title>"
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{colour}" stroke-dasharray="6 4"/>'
            f'<text x="{frame.width - frame.right - 4}" y="{y - 4:.1f}" text-anchor="end" '
            f'fill="{colour}">{escape(text)}</text></g>'
        )


def line_chart(
    series: Sequence[Series],
    *,
    label: str,
    fmt: Formatter = plain_number,
    references: Sequence[Reference] = (),
    width: int = 640,
    height: int = 240,
    empty_message: str = "No data yet",
) -> Markup:
    """Lines sharing one x axis (the union of their labels, in first-seen order)."""
    xs: list[str] = []
    for one in series:
        xs.extend(x for x, _ in one.points if x not in xs)
    if not xs:
        return _empty(label, empty_message, width, 80)
    values = [v for one in series for _, v in one.points] + [r.value for r in references]
    frame = _Frame(width, height, low=min(0.0, *values), high=max(values) * 1.1 or 1.0)
    _value_axis(frame, fmt)
    step = frame.plot_width / max(len(xs) - 1, 1)
    position = {
        x: frame.left + (step * i if len(xs) > 1 else frame.plot_width / 2)
        for i, x in enumerate(xs)
    }
    every = max(1, len(xs) // 6)
    for i, x in enumerate(xs):
        if i % every == 0 or i == len(xs) - 1:
            frame.parts.append(
                f'<text class="tick" x="{position[x]:.1f}" y="{height - frame.bottom + 16}" '
                f'text-anchor="middle">{escape(x)}</text>'
            )
    _horizontal_references(frame, references, fmt)
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        coords = [(position[x], frame.y(v)) for x, v in one.points]
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        frame.parts.append(
            f'<g class="series" data-series="{escape(one.name)}">'
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
        )
        for (x_label, value), (cx, cy) in zip(one.points, coords, strict=True):
            frame.parts.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(one.name)} · {escape(x_label)}: {escape(fmt(value))}</title>"
                "</circle>"
            )
        frame.parts.append("</g>")
    legend_y = height - 8
    for index, one in enumerate(series):
        left = frame.left + index * 150
        frame.parts.append(
            f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{PALETTE[index % len(PALETTE)]}"/>'
            f'<text class="legend" x="{left + 14}" y="{legend_y}">{escape(one.name)}</text>'
        )
    return _svg(frame, label, "line-chart")


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    label: str,
    fmt: Formatter = plain_number,
    references: Sequence[Reference] = (),
    width: int = 640,
    empty_message: str = "No data yet",
) -> Markup:
    """Horizontal bars, one per (label, value), with vertical reference lines."""
    row = 26
    height = 24 + row * max(len(bars), 1) + (14 if references else 0)
    if not bars:
        return _empty(label, empty_message, width, 80)
    left, right = 160, 90
    plot = width - left - right
    high = max([v for _, v in bars] + [r.value for r in references]) * 1.05 or 1.0
    parts: list[str] = []
    top = 12 + (14 if references else 0)
    for index, (name, value) in enumerate(bars):
        y = top + row * index
        length = plot * value / high
        text = f"{name}: {fmt(value)}"
        parts.append(
            f'<g class="bar" data-label="{escape(name)}" data-value="{value}">'
            f"<title>{escape(text)}</title>"
            f'<text class="tick" x="{left - 8}" y="{y + 14}" text-anchor="end">'
            f"{escape(name)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text class="value" x="{left + length + 6:.1f}" y="{y + 14}">'
            f"{escape(fmt(value))}</text></g>"
        )
    for index, reference in enumerate(references):
        x = left + plot * reference.value / high
        colour = REFERENCE_COLOURS[index % len(REFERENCE_COLOURS)]
        text = f"{reference.label} ({fmt(reference.value)})"
        parts.append(
            f'<g class="reference" data-value="{reference.value}"><title>{escape(text)}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="14" y2="{height - 4}" stroke="{colour}" '
            f'stroke-dasharray="6 4"/><text x="{x:.1f}" y="10" text-anchor="middle" '
            f'fill="{colour}">{escape(reference.label)}</text></g>'
        )
    frame = _Frame(width, height + 8, parts=parts)
    return _svg(frame, label, "bar-chart")


def interval_chart(
    intervals: Sequence[Interval],
    *,
    label: str,
    fmt: Formatter = percent,
    references: Sequence[Reference] = (),
    width: int = 640,
    empty_message: str = "No results yet",
) -> Markup:
    """One row per variant: a line from low to high and a dot at the estimate."""
    if not intervals:
        return _empty(label, empty_message, width, 80)
    row = 34
    height = 30 + row * len(intervals)
    left, right = 140, 24
    plot = width - left - right
    values = [v for i in intervals for v in (i.low, i.high)] + [r.value for r in references]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 0.01
    low, high = low - pad, high + pad

    def x_of(value: float) -> float:
        return left + plot * (value - low) / (high - low)

    parts = [
        f'<text class="tick" x="{left}" y="{height - 6}">{escape(fmt(low))}</text>'
        f'<text class="tick" x="{width - right}" y="{height - 6}" text-anchor="end">'
        f"{escape(fmt(high))}</text>"
    ]
    for index, reference in enumerate(references):
        x = x_of(reference.value)
        colour = REFERENCE_COLOURS[(index + 2) % len(REFERENCE_COLOURS)]
        text = f"{reference.label} ({fmt(reference.value)})"
        parts.append(
            f'<g class="reference" data-value="{reference.value}"><title>{escape(text)}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{height - 20}" stroke="{colour}" '
            f'stroke-dasharray="6 4"/></g>'
        )
    for index, interval in enumerate(intervals):
        y = 18 + row * index
        colour = PALETTE[index % len(PALETTE)]
        text = (
            f"{interval.label}: {fmt(interval.estimate)} "
            f"(95% credible interval {fmt(interval.low)} to {fmt(interval.high)})"
        )
        parts.append(
            f'<g class="interval" data-label="{escape(interval.label)}"><title>{escape(text)}'
            f'</title><text class="tick" x="{left - 8}" y="{y + 4}" text-anchor="end">'
            f"{escape(interval.label)}</text>"
            f'<line x1="{x_of(interval.low):.1f}" x2="{x_of(interval.high):.1f}" y1="{y}" '
            f'y2="{y}" stroke="{colour}" stroke-width="4" stroke-linecap="round"/>'
            f'<circle cx="{x_of(interval.estimate):.1f}" cy="{y}" r="6" fill="{colour}"/></g>'
        )
    frame = _Frame(width, height, parts=parts)
    return _svg(frame, label, "interval-chart")
