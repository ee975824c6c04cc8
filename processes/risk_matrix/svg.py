"""SVG picture of the criticity grid of a ``matrix`` result (pure: dict in, text out).

Gravity in rows (Catastrophique at the top), probability in columns (Improbable on the left),
each cell coloured by its criticity, each assessed risk code (R1.., environmental in bold,
societal in italics: one matrix per picture, the two reuse the ids) drawn as a label in its
cell; French labels, a legend of the colours and the list of the risks with their classes and
trends below the grid.  Well-formed SVG 1.1 with a viewBox.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

WIDTH = 960
GRID_X, GRID_Y = 190, 120
CELL_W, CELL_H = 166, 92
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
TEXT = "#1a1a1a"


def _t(x: float, y: float, text: str, size: int = 13, anchor: str = "start", weight: str = "normal",
       style: str = "normal", fill: str = TEXT, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" font-style="{style}" fill="{fill}"{extra}>{escape(text)}</text>')


def _fmt_km2(v: float | None) -> str:
    return "?" if v is None else f"{v:,.2f}".replace(",", " ").replace(".", ",")


TRENDS = {"rising": "hausse ↗", "stable": "stable →", "falling": "baisse ↘"}


def _kind(matrix: Mapping[str, Any]) -> str:
    if matrix.get("kind") in ("environmental", "societal"):
        return matrix["kind"]
    return "societal" if matrix.get("societal") and not matrix.get("environmental") \
        else "environmental"


def _title(matrix: Mapping[str, Any]) -> str:
    name = "Matrice des risques " + ("sociétaux" if _kind(matrix) == "societal"
                                     else "environnementaux")
    if "commune" in matrix:
        c = matrix["commune"]
        return f"{name} — {c.get('nom', '?')} ({c.get('insee', '?')})"
    a = matrix.get("area", {})
    n = len(a.get("communes", []))
    return (f"{name} — zone de {_fmt_km2(a.get('surface_km2'))} km² "
            f"({n} commune{'s' if n > 1 else ''})")


def _uses_demo(entries) -> bool:
    return any(s.get("demo") for e in entries for s in e.get("sources", []))


def _pills(codes: list[str], x: float, y: float, societal: set[str]) -> list[str]:
    """Risk codes as small labels laid out in rows inside a cell."""
    if not codes:
        return []
    per_row = 4 if math.ceil(len(codes) / 4) <= 3 else 5
    pw = 34 if per_row == 4 else 29
    gap = (CELL_W - per_row * pw) / (per_row + 1)
    out = []
    for i, code in enumerate(codes):
        r, k = divmod(i, per_row)
        px = x + gap + k * (pw + gap)
        py = y + 10 + r * 26
        soc = code in societal
        dash = ' stroke-dasharray="3 2"' if soc else ""
        out.append(f'<rect class="risk" x="{px:.1f}" y="{py:.1f}" width="{pw}" height="20" rx="4" '
                   f'fill="#ffffff" fill-opacity="0.92" stroke="{TEXT}" stroke-width="1"{dash}/>')
        out.append(_t(px + pw / 2, py + 14.5, code, size=12, anchor="middle",
                      weight="normal" if soc else "bold", style="italic" if soc else "normal",
                      extra=f' class="code" data-risk={quoteattr(code)}'))
    return out


def _line(entry: Mapping[str, Any]) -> str:
    trend = f" ({TRENDS[entry['trend']]})" if entry.get("trend") in TRENDS else ""
    if not entry.get("assessed"):
        return f"{entry['id']}  {entry['label_fr']} : non évalué{trend}"
    return (f"{entry['id']}  {entry['label_fr']} : {entry['probability']} × {entry['gravity']}"
            f" → {entry['criticity']}{trend}")


def render(matrix: Mapping[str, Any]) -> str:
    """The SVG document (text) of ``matrix`` (the ``matrix`` output of the process)."""
    g = matrix["grid"]
    gravities = list(reversed(g["gravity"]))  # top row = most severe
    probabilities = list(g["probability"])
    colours = g["colours"]
    env = list(matrix.get("environmental", []))
    soc = list(matrix.get("societal", []))
    societal_codes = {e["id"] for e in soc}
    cells = {(c["gravity"], c["probability"]): c for c in g["cells"]}

    grid_w = CELL_W * len(probabilities)
    grid_h = CELL_H * len(gravities)
    legend_y = GRID_Y + grid_h + 70
    n_lines = len(env) + len(soc)
    n_sections = int(bool(env)) + int(bool(soc))
    height = int(legend_y + 32 + 19 * n_lines + n_sections * 30 + 40)

    parts: list[str] = []
    title = _title(matrix)
    parts.append(f'<title>{escape(title)}</title>')
    parts.append('<desc>Grille gravité × probabilité de la matrice exploratoire des risques de '
                 "l'agence d'urbanisme de l'Artois ; chaque code de risque est placé dans sa "
                 'case, colorée selon la criticité.</desc>')
    parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>')
    parts.append(_t(30, 36, title, size=20, weight="bold"))
    if _kind(matrix) == "societal":
        sub = "Gravité (lignes) × probabilité (colonnes) ; risques sociétaux en italique ; " \
              "R4, R10, R13, R15, R16 réservés (non nommés par la source)"
        demo = "Indicateurs sociaux, équipements et arrêts : données de démonstration " \
               "modélisées, non réelles"
    else:
        sub = "Gravité (lignes) × probabilité (colonnes) ; risques environnementaux"
        demo = "Aléas inondation, argiles, bruit, air et surchauffe : données de " \
               "démonstration modélisées, non réelles"
    parts.append(_t(30, 60, sub, size=12, fill="#444444"))
    if _uses_demo(env + soc):
        parts.append(_t(30, 80, demo, size=12, weight="bold", fill="#a61b1b"))

    # column headers and row labels
    for j, p in enumerate(probabilities):
        parts.append(_t(GRID_X + CELL_W * (j + 0.5), GRID_Y - 10, p, size=13, anchor="middle",
                        weight="bold", extra=' class="col-label"'))
    for i, grav in enumerate(gravities):
        parts.append(_t(GRID_X - 12, GRID_Y + CELL_H * (i + 0.5) + 5, grav, size=13, anchor="end",
                        weight="bold", extra=' class="row-label"'))
    cx, cy = 34, GRID_Y + grid_h / 2
    parts.append(_t(cx, cy, "Gravité ↑", size=14, anchor="middle", weight="bold",
                    extra=f' transform="rotate(-90 {cx} {cy:.1f})"'))
    parts.append(_t(GRID_X + grid_w / 2, GRID_Y + grid_h + 30, "Probabilité →", size=14,
                    anchor="middle", weight="bold"))

    # cells
    for i, grav in enumerate(gravities):
        for j, p in enumerate(probabilities):
            cell = cells[(grav, p)]
            x, y = GRID_X + CELL_W * j, GRID_Y + CELL_H * i
            crit = cell["criticity"]
            codes = cell["risks"]
            tip = f"{grav} × {p} → {crit}" + (f" : {', '.join(codes)}" if codes else "")
            parts.append(f'<g class="cell-group" data-gravity={quoteattr(grav)} '
                         f'data-probability={quoteattr(p)} data-criticity={quoteattr(crit)}>')
            parts.append(f'<title>{escape(tip)}</title>')
            parts.append(f'<rect class="cell" x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" '
                         f'fill="{colours[crit]}" stroke="#ffffff" stroke-width="3"/>')
            parts.append(_t(x + CELL_W - 6, y + CELL_H - 6, crit, size=10, anchor="end",
                            style="italic", fill="#333333"))
            parts.extend(_pills(codes, x, y, societal_codes))
            parts.append("</g>")
    parts.append(f'<rect x="{GRID_X}" y="{GRID_Y}" width="{grid_w}" height="{grid_h}" fill="none" '
                 f'stroke="{TEXT}" stroke-width="1"/>')

    # legend: criticity colours
    y = legend_y
    parts.append('<g class="legend">')
    parts.append(_t(30, y, "Criticité :", size=13, weight="bold"))
    x = 120
    for crit in list(g["criticity"]) + (["non évalué"] if g.get("not_assessed") else []):
        colour = colours.get(crit, "#d9d9d9")
        parts.append(f'<rect x="{x}" y="{y - 13}" width="22" height="16" fill="{colour}" '
                     f'stroke="{TEXT}" stroke-width="0.5"/>')
        parts.append(_t(x + 28, y, crit, size=13))
        x += 40 + 8 * len(crit)
    # legend: the risks, environmental then societal
    y += 32
    for heading, entries, style in (("Risques environnementaux", env, "normal"),
                                    ("Risques sociétaux", soc, "italic")):
        if not entries:
            continue
        parts.append(_t(30, y, heading, size=13, weight="bold"))
        for e in entries:
            y += 19
            parts.append(_t(44, y, _line(e), size=12, style=style,
                            fill=TEXT if e.get("assessed") else "#777777"))
        y += 30
    parts.append("</g>")
    foot_y = height - 16
    parts.append(_t(30, foot_y, f"Règles : {matrix.get('rules_version', '?')} (rules.yaml) — "
                    "matrice exploratoire, seuils non réglementaires", size=10, fill="#555555"))

    body = "\n".join(parts)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" '
            f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" '
            f'role="img" aria-label={quoteattr(title)}>\n{body}\n</svg>\n')
