"""SVG radar of the half-hour territory shares (pure: dicts in, text out).

One axis per social function (0 % at the centre, 100 % on the outer ring), one closed polygon
per level (its share of the population reaching that function); with a second state
(``before``, an earlier date) each level is drawn twice: the earlier state dashed, the later
one filled. French labels; a legend with the "all functions" share of each level. Well-formed
SVG 1.1 with a viewBox.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 820, 640
CX, CY, RADIUS = 330, 330, 220
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
COLOURS = {"proximite": "#1b9e77", "intermediaire": "#d95f02", "structurant": "#7570b3"}
OTHER = ("#e7298a", "#66a61e", "#e6ab02")


def _colour(level: str, k: int) -> str:
    return COLOURS.get(level, OTHER[k % len(OTHER)])


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def _text(x: float, y: float, text: str, size: int = 13, anchor: str = "middle",
          weight: str = "normal", fill: str = "#1a1a1a") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}">{escape(text)}</text>')


def _point(j: int, n: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * j / n
    r = RADIUS * max(0.0, min(1.0, float(value)))
    return CX + r * math.cos(angle), CY + r * math.sin(angle)


def _polygon(shares: Mapping[str, float], functions: Sequence[str], colour: str,
             dashed: bool, label: str) -> str:
    n = len(functions)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in
                   (_point(j, n, shares.get(f, 0.0)) for j, f in enumerate(functions)))
    style = ('fill="none" stroke-dasharray="6 4"' if dashed
             else f'fill="{colour}" fill-opacity="0.18"')
    return (f'<polygon class="level" data-level="{escape(label)}" points="{pts}" '
            f'stroke="{colour}" stroke-width="2.5" {style}/>')


def radar_svg(shares: Mapping[str, Mapping[str, float]], functions: Sequence[str],
              titles: Mapping[str, Mapping[str, str]], level_titles: Mapping[str, Mapping[str, str]],
              title: str, subtitle: str = "",
              before: Mapping[str, Mapping[str, float]] | None = None,
              before_label: str = "", after_label: str = "") -> str:
    """The radar document (see the module docstring). `shares` = {level: {function: 0-1,
    "all": 0-1}}; `before` the same for the earlier state (drawn dashed)."""
    n = max(len(functions), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" '
           f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}">',
           f'<title>{escape(title)}</title>',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           _text(WIDTH / 2, 30, title, 18, weight="bold")]
    if subtitle:
        out.append(_text(WIDTH / 2, 52, subtitle, 12, fill="#555555"))
    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (_point(j, n, ring) for j in range(n)))
        out.append(f'<polygon points="{pts}" fill="none" stroke="#cccccc" stroke-width="1"/>')
        out.append(_text(CX + 4, CY - RADIUS * ring + 12, _pct(ring), 10, "start", fill="#888888"))
    for j, f in enumerate(functions):
        x, y = _point(j, n, 1.0)
        out.append(f'<line x1="{CX}" y1="{CY}" x2="{x:.1f}" y2="{y:.1f}" stroke="#bbbbbb"/>')
        lx, ly = _point(j, n, 1.13)
        anchor = "middle" if abs(lx - CX) < 20 else ("start" if lx > CX else "end")
        out.append(_text(lx, ly + 4, titles.get(f, {}).get("fr", f), 13, anchor, "bold"))
    levels = list(shares)
    for k, lid in enumerate(levels):
        colour = _colour(lid, k)
        if before is not None and lid in before:
            out.append(_polygon(before[lid], functions, colour, True, f"{lid}:avant"))
        out.append(_polygon(shares[lid], functions, colour, False, lid))
    # legend
    lx, ly = 600, 110
    out.append(_text(lx, ly, "Niveau — toutes fonctions", 13, "start", "bold"))
    for k, lid in enumerate(levels):
        y = ly + 26 + 40 * k
        colour = _colour(lid, k)
        name = level_titles.get(lid, {}).get("fr", lid)
        out.append(f'<rect x="{lx}" y="{y - 11}" width="14" height="14" fill="{colour}" '
                   f'fill-opacity="0.5" stroke="{colour}"/>')
        line = f"{name} : {_pct(shares[lid].get('all', 0.0))}"
        if before is not None and lid in before:
            line += f" (avant {_pct(before[lid].get('all', 0.0))})"
        out.append(_text(lx + 20, y, line, 12, "start"))
    if before is not None:
        y = ly + 26 + 40 * len(levels)
        out.append(f'<line x1="{lx}" y1="{y - 4}" x2="{lx + 14}" y2="{y - 4}" stroke="#333" '
                   f'stroke-dasharray="4 3" stroke-width="2"/>')
        out.append(_text(lx + 20, y, f"pointillés : {before_label}", 12, "start"))
        out.append(_text(lx + 20, y + 18, f"plein : {after_label}", 12, "start"))
    out.append(_text(WIDTH / 2, HEIGHT - 14, "Part de la population atteignant le panier de "
                     "services de chaque fonction", 11, fill="#555555"))
    out.append("</svg>")
    return "\n".join(out)
