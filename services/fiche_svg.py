"""The two drawings of the brownfield sheet, as SVG text written on the server (pure: no web
import, no I/O): the mutability bar chart and the locator map.

Server-side SVG rather than a browser library: the sheet prints as it shows (the drawings
are part of the document, no canvas to capture, no script to wait for), the PDF renderer
(WeasyPrint, which runs no JavaScript) draws them, and a printed sheet needs no network.
The map is drawn in Lambert-93 (EPSG:2154, the store's CRS: metres, so a linear scale and a
true scale bar), from the server's own layers (services/layers.py), without a base map from
outside.
"""
from __future__ import annotations

from html import escape
from typing import Any, Callable, Iterable, Mapping, Sequence

from shapely import clip_by_rect
from shapely.geometry.base import BaseGeometry

# ---------------------------------------------------------------------------- the chart
CHART_WIDTH, LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, CHART_TOP = 660, 210, 320, 30, 26
MIN_BAR = 2.0  # px: a use of index 0 still shows a sliver (the reader sees it was scored)
EXCLUDED_FILL = "url(#fiche-hatch)"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def chart_svg(rows: Sequence[Mapping[str, Any]], title: str, excluded_word: str) -> str:
    """A horizontal bar chart of the uses, best first. Each row: ``use``, ``rank``,
    ``index`` (0-100), ``label`` (the use's name), ``value`` (text after the bar),
    ``excluded`` and ``colour``."""
    height = CHART_TOP + ROW_HEIGHT * len(rows) + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
           f'viewBox="0 0 {CHART_WIDTH} {height}" width="{CHART_WIDTH}" height="{height}" '
           f'aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>',
           '<defs><pattern id="fiche-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d9d9d9"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#8a8a8a" stroke-width="2.5"/>'
           '</pattern></defs>',
           '<g class="grid" font-size="10" fill="#6b6b6b" font-family="sans-serif">']
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_WIDTH + BAR_WIDTH * tick / 100
        out.append(f'<line x1="{_num(x)}" y1="{CHART_TOP - 4}" x2="{_num(x)}" '
                   f'y2="{height - 6}" stroke="#e2e2e2"/>'
                   f'<text x="{_num(x)}" y="{CHART_TOP - 8}" text-anchor="middle">{tick}</text>')
    out.append("</g>")
    for i, row in enumerate(rows):
        y = CHART_TOP + ROW_HEIGHT * i
        index = max(0.0, min(100.0, float(row.get("index") or 0)))
        width = max(MIN_BAR, BAR_WIDTH * index / 100)
        excluded = bool(row.get("excluded"))
        fill = EXCLUDED_FILL if excluded else escape(str(row.get("colour") or "#4c9f38"))
        stroke = ' stroke="#8a8a8a"' if excluded else ""
        value = str(row.get("value", ""))
        if excluded:
            value += f" ({excluded_word})"
        out.append(
            f'<g class="use{" excluded" if excluded else ""}" data-use="{escape(str(row["use"]))}"'
            f' data-rank="{int(row.get("rank") or i + 1)}" data-index="{_num(index)}"'
            f' data-excluded="{"true" if excluded else "false"}" font-family="sans-serif"'
            f' font-size="12">'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 19}" text-anchor="end" fill="#222">'
            f'{escape(str(row.get("rank") or i + 1))}. {escape(str(row["label"]))}</text>'
            f'<rect class="track" x="{LABEL_WIDTH}" y="{y + 6}" width="{BAR_WIDTH}" '
            f'height="18" fill="#f1f1f1"/>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 6}" width="{_num(width)}" height="18"'
            f' fill="{fill}"{stroke}/>'
            f'<text class="value" x="{_num(LABEL_WIDTH + width + 6)}" y="{y + 19}" '
            f'fill="#222">{escape(value)}</text></g>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------------- the map
MAP_WIDTH, MAP_HEIGHT = 520, 360
MAP_SCALE = 0.2            # px per metre: the frame is 2.6 km × 1.8 km around the site
RADIUS_M = 500.0           # the circle of the hazards looked up around the site
SCALE_BAR_M = 500
STYLE = {  # layer -> SVG attributes
    "communes": 'fill="#fbfaf7" stroke="#8d877c" stroke-width="1"',
    "commune-site": 'fill="#f3ecdc" stroke="#6f6759" stroke-width="1.4"',
    "alea-inondation": 'fill="#7fb8e6" fill-opacity="0.55" stroke="#4a8fc7" '
                       'stroke-width="0.6"',
    "routes-principales": 'fill="none" stroke="#c4513f" stroke-width="2.2" '
                          'stroke-linejoin="round" stroke-linecap="round"',
    "friches": 'fill="#7a5a3a" stroke="#fff" stroke-width="1"',
}


class Frame:
    """The map's window: Lambert-93 metres -> SVG pixels (y down)."""

    def __init__(self, x: float, y: float):
        half_w, half_h = MAP_WIDTH / MAP_SCALE / 2, MAP_HEIGHT / MAP_SCALE / 2
        self.centre = (x, y)
        self.box = (x - half_w, y - half_h, x + half_w, y + half_h)

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.box[0]) * MAP_SCALE, (self.box[3] - y) * MAP_SCALE

    def clip(self, geom: BaseGeometry) -> BaseGeometry:
        pad = 10 / MAP_SCALE  # lines leave the frame a little beyond the border
        x0, y0, x1, y1 = self.box
        return clip_by_rect(geom, x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def _ring(coords: Iterable[tuple[float, ...]], frame: Frame, close: bool) -> str:
    points = [frame.px(c[0], c[1]) for c in coords]
    if len(points) < 2:
        return ""
    body = "L".join(f"{_num(px)},{_num(py)}" for px, py in points)
    return f"M{body}{'Z' if close else ''}"


def path_data(geom: BaseGeometry, frame: Frame) -> str:
    """The SVG path of a (multi)polygon or (multi)line, in the frame's pixels."""
    if geom is None or geom.is_empty:
        return ""
    kind = geom.geom_type
    if kind == "Polygon":
        return "".join(_ring(r.coords, frame, True) for r in (geom.exterior, *geom.interiors))
    if kind == "LineString":
        return _ring(geom.coords, frame, False)
    if kind.startswith("Multi") or kind == "GeometryCollection":
        return "".join(path_data(g, frame) for g in geom.geoms)
    return ""


def _shapes(frame: Frame, geoms: Iterable[BaseGeometry], style: str, cls: str,
            tolerance: float) -> list[str]:
    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        clipped = frame.clip(geom.simplify(tolerance, preserve_topology=True))
        d = path_data(clipped, frame)
        if d:
            out.append(f'<path class="{cls}" d="{d}" {style} fill-rule="evenodd"/>')
    return out


def _label(x: float, y: float, text: str, size: int = 11, anchor: str = "middle",
           weight: str = "normal") -> str:
    """A text with a white halo: the halo is a copy drawn first (renderers without
    ``paint-order``, such as the PDF one, draw it too), the text kept inside the map."""
    if anchor == "middle":  # an estimated half width keeps the label inside the frame
        half = 0.31 * size * len(text)
        x = min(max(x, half + 3), MAP_WIDTH - half - 3) if 2 * half < MAP_WIDTH else x
    common = (f'x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" '
              f'font-weight="{weight}" font-family="sans-serif"')
    return (f'<g class="label"><text {common} fill="none" stroke="#fff" stroke-width="3" '
            f'stroke-linejoin="round" aria-hidden="true">{escape(text)}</text>'
            f'<text {common} fill="#333">{escape(text)}</text></g>')


def map_svg(x: float, y: float, layers: Mapping[str, Any], *, commune: str | None,
            site_name: str, title: str, scale_label: Callable[[int], str]) -> str:
    """The locator map around the site (x, y in EPSG:2154). ``layers``: GeoDataFrames read
    in the frame (``communes``, ``alea-inondation``, ``routes-principales``, ``friches``),
    each may be None (not published); ``commune``: INSEE code of the site's commune."""
    frame = Frame(x, y)
    tolerance = 1 / MAP_SCALE  # a pixel
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="locator" role="img" '
           f'viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" width="{MAP_WIDTH}" height="{MAP_HEIGHT}" '
           f'aria-labelledby="map-title"><title id="map-title">{escape(title)}</title>',
           f'<defs><clipPath id="fiche-frame"><rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}"/>'
           f'</clipPath></defs><rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="#eef0ea"/>',
           '<g clip-path="url(#fiche-frame)">']
    labels: list[str] = []
    communes = layers.get("communes")
    if communes is not None and len(communes):
        for _, row in communes.iterrows():
            mine = commune is not None and str(row.get("insee")) == str(commune)
            out += _shapes(frame, [row.geometry], STYLE["commune-site" if mine else "communes"],
                           "commune", tolerance)
            inside = frame.clip(row.geometry)
            if not inside.is_empty and inside.area > 60_000:
                px, py = frame.px(*inside.representative_point().coords[0])
                labels.append(_label(px, py, str(row.get("nom") or ""), 11 if mine else 10,
                                     weight="bold" if mine else "normal"))
    flood = layers.get("alea-inondation")
    if flood is not None and len(flood):
        out += _shapes(frame, flood.geometry, STYLE["alea-inondation"], "flood", tolerance)
    roads = layers.get("routes-principales")
    if roads is not None and len(roads):
        out += _shapes(frame, roads.geometry, STYLE["routes-principales"], "road", tolerance)
    others = layers.get("friches")
    if others is not None and len(others):
        for geom in others.geometry:
            if geom is None or geom.is_empty:
                continue
            point = geom.representative_point()
            if (point.x, point.y) == (x, y):
                continue
            px, py = frame.px(point.x, point.y)
            if 0 <= px <= MAP_WIDTH and 0 <= py <= MAP_HEIGHT:
                out.append(f'<circle class="other-friche" cx="{_num(px)}" cy="{_num(py)}" '
                           f'r="3.5" {STYLE["friches"]}/>')
    cx, cy = frame.px(x, y)
    out.append(f'<circle class="radius" cx="{_num(cx)}" cy="{_num(cy)}" '
               f'r="{_num(RADIUS_M * MAP_SCALE)}" fill="none" stroke="#b3261e" '
               f'stroke-width="1.4" stroke-dasharray="6 4"/>')
    out.append(f'<circle class="site" cx="{_num(cx)}" cy="{_num(cy)}" r="7" fill="#b3261e" '
               f'stroke="#fff" stroke-width="2.5"/>')
    out += labels
    out.append(_label(cx, cy - 14, site_name[:60], 12, weight="bold"))
    out.append("</g>")
    # scale bar (bottom left) and north arrow (top right)
    bar = SCALE_BAR_M * MAP_SCALE
    out.append(f'<g class="scale"><rect x="10" y="{MAP_HEIGHT - 26}" width="{_num(bar + 16)}" '
               f'height="20" fill="#fff" fill-opacity="0.8"/>'
               f'<path d="M18,{MAP_HEIGHT - 12}v5h{_num(bar)}v-5" fill="none" stroke="#222" '
               f'stroke-width="1.5"/>'
               + _label(18 + bar / 2, MAP_HEIGHT - 14, scale_label(SCALE_BAR_M), 10) + "</g>")
    out.append(f'<g class="north" transform="translate({MAP_WIDTH - 22},14)">'
               '<path d="M0,0L7,18L0,14L-7,18Z" fill="#222"/>'
               + _label(0, 30, "N", 11, weight="bold") + "</g>")
    out.append(f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="none" stroke="#bbb"/>')
    out.append("</svg>")
    return "".join(out)


def map_box(x: float, y: float) -> tuple[float, float, float, float]:
    """The frame of the map around (x, y), EPSG:2154: what to read from the layers."""
    return Frame(x, y).box
