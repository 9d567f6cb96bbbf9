"""Server-rendered SVG charts for the regional sharing report.

Pure functions returning one accessible ``<svg>`` as ``Markup``: no JavaScript, scales with its container
(``viewBox`` + ``width="100%"``), readable without extra CSS (inline fill/stroke defaults) and in black and white
(series differ in dash pattern and marker shape, not only colour). All caller text is escaped via
``Markup.format``; only numbers produced here are interpolated directly. Output is deterministic: the same input
gives byte-identical markup, including the element ids (a hash of the content).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence

from markupsafe import Markup

__all__ = ["bar_chart", "line_chart", "no_data"]



def no_data() -> str:
    """What an empty chart says, in the language of the moment."""
    from core.i18n import gettext

    return gettext("No data")
ACCENT = "#1f5f8b"
NEGATIVE = "#a3431a"
# Accent plus companions, each above 4.5:1 against white; dashes and marker shapes keep series apart in greyscale.
COLOURS = (ACCENT, "#b35900", "#2e7d32", "#6a3d9a")
DASHES = ("none", "8 4", "2 3", "10 3 2 3")
TEXT = "#222222"
MUTED = "#555555"
GRID = "#d0d7de"
CHAR_W = 8.0  # generous average glyph width at font-size 13; only used to reserve room for text
LABEL_MAX = 26
X_LABEL_MAX = 16


def _n(value: float) -> str:
    """A compact coordinate; never 'nan' or 'inf'."""
    if not math.isfinite(value):
        value = 0.0
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _finite(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else 0.0


def _truncate(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _chart_id(kind: str, *parts: object) -> str:
    digest = hashlib.sha256(repr((kind, *parts)).encode("utf-8")).hexdigest()[:10]
    return f"chart-{kind}-{digest}"


def _desc(description: str, summary: str) -> str:
    return " ".join(part for part in (description.strip(), summary) if part)


def _svg(chart_id: str, kind: str, width: int, height: float, title: str, desc: str, body: Markup) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'style="max-width:{w}px;height:auto;font-family:inherit" font-size="13">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(kind=kind, id=chart_id, w=width, h=_n(height), title=title, desc=desc, body=body)


def _empty(chart_id: str, kind: str, width: int, title: str, description: str) -> Markup:
    body = Markup('<text class="chart-label chart-empty" x="{x}" y="32" text-anchor="middle" fill="{fill}">{text}</text>').format(
        x=_n(width / 2), fill=MUTED, text=no_data()
    )
    return _svg(chart_id, kind, width, 52, title, _desc(description, no_data() + "."), body)


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    value_label: Callable[[float], str] = str,
    width: int = 640,
    description: str = "",
    scale_max: float | None = None,
) -> Markup:
    """Horizontal bars from a zero line; the scale spans min(0, values)..max(0, values), or up to
    `scale_max` at least (100 for percentages: 3 % is drawn as a short bar, not a full one)."""
    width = max(int(width), 240)
    items = [(str(label), _finite(value), str(value_label(value))) for label, value in bars]
    chart_id = _chart_id("bar", title, description, width, items)
    if not any(value for _, value, _ in items):
        return _empty(chart_id, "bar", width, title, description)

    values = [value for _, value, _ in items]
    lo, hi = min([0.0, *values]), max([0.0, *values, _finite(scale_max or 0)])
    label_w = min(LABEL_MAX * CHAR_W, width * 0.4)
    value_w = min(max(len(text) for _, _, text in items) * CHAR_W + 8, width * 0.22)
    left = label_w + 10 + (value_w if lo < 0 else 0)
    right = width - 8 - (value_w if hi > 0 else 0)
    scale = (right - left) / (hi - lo)
    zero = left - lo * scale
    row, bar, top = 28, 18, 8
    height = 2 * top + row * len(items)

    rows = []
    for index, (label, value, text) in enumerate(items):
        y = top + index * row
        middle = y + row / 2
        end = zero + value * scale
        negative = value < 0
        rows.append(
            Markup(
                '<g class="chart-row"><title>{full}: {text}</title>'
                '<text class="chart-label" x="{lx}" y="{my}" dy="0.35em" text-anchor="end" fill="{ink}">{short}</text>'
                '<rect class="chart-bar{extra}" x="{bx}" y="{by}" width="{bw}" height="{bh}" fill="{fill}"/>'
                '<text class="chart-value" x="{vx}" y="{my}" dy="0.35em" text-anchor="{anchor}" fill="{ink}">{text}</text></g>'
            ).format(
                full=label,
                text=text,
                short=_truncate(label),
                lx=_n(label_w),
                my=_n(middle),
                ink=TEXT,
                extra=" chart-bar-negative" if negative else "",
                bx=_n(min(zero, end)),
                by=_n(y + (row - bar) / 2),
                bw=_n(abs(end - zero)),
                bh=bar,
                fill=NEGATIVE if negative else ACCENT,
                vx=_n(end - 4 if negative else end + 4),
                anchor="end" if negative else "start",
            )
        )
    axis = Markup('<line class="chart-axis" x1="{x}" x2="{x}" y1="{y1}" y2="{y2}" stroke="{ink}" stroke-width="1"/>').format(
        x=_n(zero), y1=top - 2, y2=height - top + 2, ink=MUTED
    )
    summary = "; ".join(f"{label}: {text}" for label, _, text in items) + "."
    return _svg(chart_id, "bar", width, height, title, _desc(description, summary), Markup("").join(rows) + axis)


def _nice_range(lo: float, hi: float) -> tuple[float, float, float]:
    """Widen lo..hi outwards to 3–5 intervals of a 1, 2, 2.5 or 5 × 10^k step (0 is always a tick)."""
    if hi - lo <= 0:
        hi = lo + 1.0
    exponent = math.floor(math.log10((hi - lo) / 5))
    for power in (exponent, exponent + 1, exponent + 2):
        for mantissa in (1.0, 2.0, 2.5, 5.0):
            step = mantissa * 10.0**power
            start, stop = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
            if stop - start <= 5:
                return start * step, stop * step, step
    return lo, hi, (hi - lo) / 4  # not reached: the last candidates are at least 20× the span / 5


def _marker(shape: int, x: float, y: float, colour: str, tip: str) -> Markup:
    """A point marker; the shape differs per series so lines stay distinguishable without colour."""
    if shape == 0:
        tag, geometry = "circle", f'cx="{_n(x)}" cy="{_n(y)}" r="4"'
    elif shape == 1:
        tag, geometry = "rect", f'x="{_n(x - 3.5)}" y="{_n(y - 3.5)}" width="7" height="7"'
    else:
        corners = ((x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)) if shape == 2 else ((x, y - 5), (x + 5, y + 4), (x - 5, y + 4))
        tag, geometry = "polygon", 'points="' + " ".join(f"{_n(a)},{_n(b)}" for a, b in corners) + '"'
    return Markup(
        '<{tag} class="chart-point" {geometry} fill="{fill}" stroke="#ffffff" stroke-width="1"><title>{tip}</title></{tag}>'
    ).format(tag=Markup(tag), geometry=Markup(geometry), fill=colour, tip=tip)


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    value_label: Callable[[float], str] = str,
    width: int = 640,
    description: str = "",
) -> Markup:
    """One line per series over shared x labels; the y axis runs over a rounded range that always includes 0."""
    width = max(int(width), 240)
    labels = [str(label) for label in x_labels]
    count = len(labels)
    data = [
        (str(name), [_finite(v) for v in values[:count]], [str(value_label(v)) for v in values[:count]]) for name, values in series
    ]
    chart_id = _chart_id("line", title, description, width, labels, data)
    if not any(values for _, values, _ in data):
        return _empty(chart_id, "line", width, title, description)

    everything = [v for _, values, _ in data for v in values]
    lo, hi, step = _nice_range(min([0.0, *everything]), max([0.0, *everything]))
    ticks = [round(lo + k * step, 10) + 0.0 for k in range(round((hi - lo) / step) + 1)]
    tick_texts = [str(value_label(tick)) for tick in ticks]
    left = min(max(len(text) for text in tick_texts) * CHAR_W + 14, width * 0.3)
    right, top, plot_h = width - 12, 12, 200
    bottom = top + plot_h
    band = (right - left) / count
    xs = [left + (i + 0.5) * band for i in range(count)]
    legend_top = bottom + 40
    height = legend_top + 22 * len(data)

    def y_of(value: float) -> float:
        return bottom - (value - lo) / (hi - lo) * plot_h

    parts: list[Markup] = []
    for tick, text in zip(ticks, tick_texts, strict=True):
        axis = tick == 0
        parts.append(
            Markup(
                '<line class="chart-grid{extra}" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}" stroke="{stroke}" stroke-width="1"/>'
                '<text class="chart-label chart-tick" x="{tx}" y="{y}" dy="0.35em" text-anchor="end" fill="{ink}">{text}</text>'
            ).format(
                extra=" chart-axis" if axis else "", x1=_n(left), x2=_n(right), y=_n(y_of(tick)),
                stroke=MUTED if axis else GRID, tx=_n(left - 6), ink=MUTED, text=text,
            )
        )
    longest = max(len(_truncate(label, X_LABEL_MAX)) for label in labels)
    stride = max(1, math.ceil((longest * CHAR_W + 8) / band))
    for i in range(0, count, stride):
        parts.append(
            Markup('<text class="chart-label chart-x" x="{x}" y="{y}" text-anchor="middle" fill="{ink}">{text}</text>').format(
                x=_n(xs[i]), y=_n(bottom + 20), ink=TEXT, text=_truncate(labels[i], X_LABEL_MAX)
            )
        )
    for index, (name, values, texts) in enumerate(data):
        colour, dash, shape = COLOURS[index % 4], DASHES[index % 4], index % 4
        line_attrs = Markup('fill="none" stroke="{c}" stroke-width="2.5" stroke-dasharray="{d}" stroke-linejoin="round"').format(
            c=colour, d=dash
        )
        if len(values) > 1:
            points = " ".join(f"{_n(xs[i])},{_n(y_of(v))}" for i, v in enumerate(values))
            polyline = Markup('<polyline class="chart-line chart-line-{i}" points="{p}" {a}/>')
            parts.append(polyline.format(i=index, p=points, a=line_attrs))
        for i, (value, text) in enumerate(zip(values, texts, strict=True)):
            parts.append(_marker(shape, xs[i], y_of(value), colour, f"{name}, {labels[i]}: {text}"))
        ly = legend_top + 22 * index + 6
        parts.append(
            Markup(
                '<g class="chart-legend chart-line-{i}"><line x1="{x1}" x2="{x2}" y1="{y}" y2="{y}" {a}/>{marker}'
                '<text class="chart-label" x="{tx}" y="{y}" dy="0.35em" fill="{ink}">{name}</text></g>'
            ).format(
                i=index, x1=_n(left), x2=_n(left + 32), y=_n(ly), a=line_attrs,
                marker=_marker(shape, left + 16, ly, colour, name), tx=_n(left + 40), ink=TEXT, name=name,
            )
        )
    summary = "; ".join(
        f"{name} – " + ", ".join(f"{label}: {text}" for label, text in zip(labels, texts, strict=False))
        for name, _, texts in data
        if texts
    )
    return _svg(chart_id, "line", width, height, title, _desc(description, summary + "."), Markup("").join(parts))
