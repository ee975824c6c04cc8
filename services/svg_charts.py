"""Small charts and a locator map drawn as inline SVG (pure: numbers and shapely geometries in,
SVG text out; no web import, no store access). Used by the territory page
(services/territoires.py); the SVGs scale to their container (viewBox, width 100 %), print,
and need no JavaScript.

- ``bar_chart(rows, title)``: horizontal bars, one row per (label, value, text);
- ``donut(parts, title, centre)``: a ring of (label, value, colour) parts;
- ``radar(axes, series, title)``: values 0–100 on each axis, one polygon per series;
- ``locator(frame, layers, title)``: polygons in EPSG:2154 drawn in a frame's box.
"""
from __future__ import annotations

import math
from html import escape
from typing import Any, Iterable, Sequence

from shapely.geometry.base import BaseGeometry

WIDTH = 320
PALETTE = ("#1b6f9c", "#e07b22", "#3a9a4a", "#b53a3a", "#7a4fa0", "#8c6d31", "#c2569b",
           "#5b7f8f", "#9aa63a", "#4f6bd1", "#d1a23a")
GREY = "#d6d9dc"
MAX_ROWS = 20  # bars drawn per chart (the groups of the definitions file have at most 11)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _t(text: Any) -> str:
    return escape(str(text), quote=True)


def _cut(text: Any, width: int) -> str:
    """The text cut to `width` characters with an ellipsis (the full text is in <title>)."""
    text = str(text)
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _lines(text: str, width: int, most: int = 3) -> list[str]:
    """The words of `text` wrapped into at most `most` lines of about `width` characters."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = _cut(lines[-1] + " …", width)
    return [_cut(line, width + 4) for line in lines]


def _open(height: float, title: str, chart: str) -> str:
    return (f'<svg class="chart" data-chart="{_t(chart)}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(height)}" '
            f'width="100%" preserveAspectRatio="xMidYMin meet"><title>{_t(title)}</title>')


def bar_chart(rows: Sequence[tuple[str, float, str]], title: str, chart: str) -> str:
    """Horizontal bars: the label above its bar, the value's text at the bar's end."""
    rows = list(rows)[:MAX_ROWS]
    top = max((float(v) for _, v, _ in rows), default=0.0) or 1.0
    step, bar_h, label_w = 34, 12, WIDTH - 70
    out = [_open(len(rows) * step + 4, title, chart)]
    for i, (label, value, text) in enumerate(rows):
        y = i * step + 14
        w = max(0.0, float(value)) / top * label_w
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<text x="0" y="{y}" font-size="11" fill="#222">{_t(_cut(label, 52))}'
                   f'<title>{_t(label)}</title></text>')
        out.append(f'<rect class="bar" x="0" y="{y + 5}" width="{_n(max(w, 1.5))}" '
                   f'height="{bar_h}" fill="{colour}" data-value="{_t(value)}"/>')
        inside = w > label_w * 0.6  # a long bar carries its value, a short one is followed by it
        out.append(f'<text x="{_n(w - 4 if inside else max(w, 1.5) + 4)}" y="{y + 15}" '
                   f'font-size="11" text-anchor="{"end" if inside else "start"}" '
                   f'fill="{"#fff" if inside else "#222"}">{_t(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def _arc(cx: float, cy: float, r_out: float, r_in: float, a0: float, a1: float) -> str:
    """The path of a ring sector from angle a0 to a1 (radians, clockwise from 12 o'clock)."""
    if a1 - a0 >= 2 * math.pi - 1e-9:
        a1 = a0 + 2 * math.pi - 1e-4  # a full ring: one arc cannot start where it ends
    large = 1 if a1 - a0 > math.pi else 0

    def pt(r: float, a: float) -> str:
        return f"{_n(cx + r * math.sin(a))},{_n(cy - r * math.cos(a))}"
    return (f"M{pt(r_out, a0)} A{_n(r_out)},{_n(r_out)} 0 {large} 1 {pt(r_out, a1)} "
            f"L{pt(r_in, a1)} A{_n(r_in)},{_n(r_in)} 0 {large} 0 {pt(r_in, a0)} Z")


def donut(parts: Sequence[tuple[str, float, str, str]], title: str, centre: str,
          chart: str) -> str:
    """A ring of (label, value, value's text, colour) parts and its legend below."""
    total = sum(max(0.0, float(v)) for _, v, _, _ in parts) or 1.0
    cx, cy, r = WIDTH / 2, 80, 70
    out = [_open(170 + 20 * len(parts), title, chart)]
    angle = 0.0
    for label, value, text, colour in parts:
        share = max(0.0, float(value)) / total
        if share > 0:
            end = angle + share * 2 * math.pi
            out.append(f'<path class="slice" d="{_arc(cx, cy, r, r * 0.6, angle, end)}" '
                       f'fill="{colour}"><title>{_t(label)} : {_t(text)}</title></path>')
            angle = end
    out.append(f'<text x="{_n(cx)}" y="{cy + 5}" font-size="14" font-weight="bold" '
               f'text-anchor="middle" fill="#222">{_t(centre)}</text>')
    for i, (label, _, text, colour) in enumerate(parts):
        y = 172 + 20 * i
        out.append(f'<rect x="0" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="18" y="{y}" font-size="11" fill="#222">'
                   f'{_t(_cut(f"{label} : {text}", 50))}</text>')
    out.append("</svg>")
    return "".join(out)


def _ceiling(top: float) -> float:
    """The radar's outer ring: 10, 20, 25, 50 or 100 (shares)."""
    return next((c for c in (10.0, 20.0, 25.0, 50.0) if top <= c), 100.0)


def radar(axes: Sequence[str], series: Sequence[tuple[str, Sequence[float | None], str]],
          title: str, chart: str) -> str:
    """Shares (0–100) on each axis, the outer ring at the smallest of 10, 20, 25, 50, 100 %
    that holds them; one closed polygon per (name, values, colour) series; a missing value
    sits at the centre."""
    n = len(axes)
    cx, cy, r = WIDTH / 2, 135, 72
    top = _ceiling(max((float(v) for _, vals, _ in series for v in vals if v is not None),
                       default=0.0))
    out = [_open(280 + 20 * len(series), title, chart)]

    def point(i: int, v: float) -> tuple[float, float]:
        a = 2 * math.pi * i / n
        return cx + r * v / top * math.sin(a), cy - r * v / top * math.cos(a)
    for level in (0.25, 0.5, 0.75, 1.0):
        ring = " ".join(f"{_n(x)},{_n(y)}" for x, y in (point(i, level * top)
                                                          for i in range(n)))
        out.append(f'<polygon points="{ring}" fill="none" stroke="{GREY}" stroke-width="1"/>')
    out.append(f'<text x="{_n(cx + 4)}" y="{_n(cy - r + 12)}" font-size="9" fill="#666">'
               f'{_n(top)} %</text>')
    for i, label in enumerate(axes):
        x, y = point(i, top)
        lx, ly = point(i, top * 1.12)
        side = abs(lx - cx) >= 10
        anchor = "start" if side and lx > cx else "end" if side else "middle"
        lines = _lines(label, 15 if side else 30)
        if not side and ly < cy:
            ly -= 12 * (len(lines) - 1) + 4
        out.append(f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(x)}" y2="{_n(y)}" '
                   f'stroke="{GREY}"/>')
        spans = "".join(f'<tspan x="{_n(lx)}" dy="{0 if k == 0 else 12}">{_t(line)}</tspan>'
                        for k, line in enumerate(lines))
        start = ly + 4 - (6 * (len(lines) - 1) if side else 0)
        out.append(f'<text x="{_n(lx)}" y="{_n(start)}" font-size="10" fill="#222" '
                   f'text-anchor="{anchor}">{spans}<title>{_t(label)}</title></text>')
    for name, values, colour in series:
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in (
            point(i, min(top, max(0.0, float(v or 0)))) for i, v in enumerate(values)))
        out.append(f'<polygon class="series" points="{pts}" fill="{colour}" fill-opacity=".3" '
                   f'stroke="{colour}" stroke-width="2"><title>{_t(name)}</title></polygon>')
    for i, (name, _, colour) in enumerate(series):
        y = 272 + 20 * i
        out.append(f'<rect x="0" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="18" y="{y}" font-size="11" fill="#222">{_t(_cut(name, 50))}'
                   f'</text>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------------- locator map
def _rings(geom: BaseGeometry) -> Iterable[Sequence[tuple[float, ...]]]:
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        yield poly.exterior.coords
        for hole in poly.interiors:
            yield hole.coords


def locator(frame: BaseGeometry, layers: Sequence[tuple[Iterable[BaseGeometry], str]],
            title: str, chart: str = "locator") -> str:
    """Polygons (EPSG:2154) in the box of `frame`: `layers` = [(geometries, class)], drawn in
    order (the CSS of the page styles each class)."""
    x0, y0, x1, y1 = frame.bounds
    span = max(x1 - x0, y1 - y0, 1.0)
    scale = (WIDTH - 10) / span
    height = (y1 - y0) * scale + 10
    tolerance = span / 600  # under a pixel: the drawing looks the same, the page is light
    out = [_open(height, title, chart)]
    for geoms, cls in layers:
        for geom in geoms:
            if geom is None or geom.is_empty:
                continue
            simple = geom.simplify(tolerance, preserve_topology=True)
            d = " ".join("M" + " L".join(f"{_n((x - x0) * scale + 5)},{_n((y1 - y) * scale + 5)}"
                                         for x, y, *_ in ring) + " Z"
                         for ring in _rings(simple))
            if d:
                out.append(f'<path class="{_t(cls)}" d="{d}" fill-rule="evenodd"/>')
    out.append("</svg>")
    return "".join(out)
