"""Line charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable by screen readers.

Each chart carries a ``<title>`` and ``<desc>`` (``role="img"``, ``aria-labelledby``); the pages print the
same numbers in a table beside it, so nothing is only in the picture. Colours are distinguishable in
greyscale too: every series also has its own dash pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from html import escape
from typing import Final

from markupsafe import Markup

from hub.console.i18n import gettext

__all__ = ["line_chart"]

_COLOURS: Final = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490")
_DASHES: Final = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 640, 200, 48, 12, 12, 28


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000):
        if value <= step:
            return float(step)
    magnitude = 10 ** (len(str(int(value))) - 1)
    return float((int(value / magnitude) + 1) * magnitude)


def line_chart(
    chart_id: str,
    title: str,
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    start: datetime,
    end: datetime,
    unit: str = "",
) -> Markup:
    """An SVG line chart of ``series`` (name → points) between ``start`` and ``end``.

    Args:
        chart_id: a unique id in the page (for ``aria-labelledby``).
        title: what the chart shows.
        series: the lines; at most six are drawn, the rest are listed as left out.
        start: left edge of the time axis.
        end: right edge.
        unit: unit of the values, for the axis label.
    """
    span = max((end - start).total_seconds(), 60.0)
    peak = max((v for points in series.values() for _, v in points), default=0.0)
    top = _nice_max(peak)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(moment: datetime) -> float:
        return _LEFT + plot_w * min(max((moment - start).total_seconds() / span, 0.0), 1.0)

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - value / top)

    cid = escape(chart_id)
    names = list(series)[: len(_COLOURS)]
    desc = "; ".join(
        gettext("%(name)s: peak %(peak)s%(unit)s")
        % {"name": n, "peak": f"{max((v for _, v in series[n]), default=0):,g}", "unit": unit}
        for n in names
    ) or gettext("no data in this window")
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" width="100%" role="img" '
        f'aria-labelledby="{cid}-t {cid}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}</desc>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = top * fraction
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">{value:,g}</text>'
        )
    for fraction in (0.0, 0.5, 1.0):
        moment = start + timedelta(seconds=span * fraction)
        anchor = ("start", "middle", "end")[int(fraction * 2)]
        parts.append(
            f'<text x="{_LEFT + plot_w * fraction:.1f}" y="{_H - 8}" class="tick" '
            f'text-anchor="{anchor}">{moment:%H:%M}</text>'
        )
    parts.append(
        f'<text x="{_LEFT - 6}" y="{_H - 8}" class="tick" text-anchor="end">{escape(gettext("UTC"))}</text>'
    )
    for i, name in enumerate(names):
        points = [(x(t), y(v)) for t, v in sorted(series[name]) if start <= t <= end]
        colour, dash = _COLOURS[i], _DASHES[i]
        if len(points) == 1:
            px, py = points[0]
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        elif points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="{dash}"/>'
            )
        ly = _TOP + 14 + 14 * i
        parts.append(
            f'<line x1="{_W - _RIGHT - 150}" x2="{_W - _RIGHT - 130}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
            f'<text x="{_W - _RIGHT - 126}" y="{ly}" class="legend">{escape(name[:24])}</text>'
        )
    if not names or peak == 0:
        parts.append(
            f'<text x="{_LEFT + plot_w / 2}" y="{_TOP + plot_h / 2}" class="empty" text-anchor="middle">'
            f"{escape(gettext('no traffic in this window'))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
