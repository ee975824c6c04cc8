"""Noise layer of the risk matrix — MODELLED DEMONSTRATION DATA.

Every record is fictitious (see :mod:`services.demo.hazards`); NOT a hazard map.

``generate_noise``  -> ``bruit`` (MultiPolygon)
    Road and rail noise zones in Lden classes 55-60, 60-65, 65-70, 70-75, 75+ dB(A), like the
    type-A strategic noise maps (cartes de bruit stratégiques, directive 2002/49/CE), along
    *approximated* lines between real town centres (:data:`INFRASTRUCTURES`: A26, A21, RN17,
    RN41, RN47, RD943, RD939, RD916, RD301 and four railway lines).  Class widths depend on the
    infrastructure kind (:data:`NOISE_WIDTHS`) times a seeded factor varying along the line.
    The loudest class wins where zones meet; split by commune and infrastructure.

EPSG:2154, ``source`` and ``date_maj`` on every record: see :mod:`services.demo.hazards`.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import shapely
from shapely.geometry import LineString

from . import make_rng, sorted_communes, source_label, territory
from .hazards_common import (
    _date_maj,
    _frame,
    _smooth_profile,
    _split_by_commune,
    _town_line,
    _variable_buffer,
)

# --------------------------------------------------------------------------------------
# noise (bruit)
# --------------------------------------------------------------------------------------
#: "75+" rather than ">75": pygeoapi escapes < and > in JSON (queryables, items)
LDEN_CLASSES = ["55-60", "60-65", "65-70", "70-75", "75+"]
LDEN_MIN = {"55-60": 55, "60-65": 60, "65-70": 65, "70-75": 70, "75+": 75}
TYPES_SOURCE = ["routier", "ferroviaire"]

#: (name, kind, towns along it) — approximate courses through real town centres
INFRASTRUCTURES = [
    ("A26", "autoroute", ["Ham-en-Artois", "Lillers", "Lapugnoy", "Labourse", "Nœux-les-Mines",
                          "Aix-Noulette", "Souchez"]),
    ("A21", "autoroute", ["Aix-Noulette", "Liévin", "Lens", "Noyelles-sous-Lens",
                          "Fouquières-lès-Lens"]),
    ("RN17", "route nationale", ["Lens", "Avion", "Vimy"]),
    ("RN41", "route nationale", ["Béthune", "Beuvry", "Cambrin", "Cuinchy"]),
    ("RN47", "route nationale", ["Lens", "Hulluch", "Haisnes"]),
    ("RD943", "route départementale", ["Béthune", "Nœux-les-Mines", "Mazingarbe",
                                       "Loos-en-Gohelle", "Lens"]),
    ("RD301", "route départementale", ["Béthune", "Fouquières-lès-Béthune", "Bruay-la-Buissière",
                                       "Houdain"]),
    ("RD939", "route départementale", ["Roëllecourt", "Saint-Pol-sur-Ternoise", "Gauchin-Verloingt",
                                       "Blangy-sur-Ternoise", "Hesdin-la-Forêt", "Marconnelle",
                                       "Aubin-Saint-Vaast"]),
    ("RD916", "route départementale", ["Saint-Pol-sur-Ternoise", "Frévent"]),
    ("Ligne Lens – Béthune", "voie ferrée", ["Lens", "Bully-les-Mines", "Nœux-les-Mines", "Béthune"]),
    ("Ligne Béthune – Saint-Omer", "voie ferrée", ["Béthune", "Chocques", "Lillers", "Isbergues"]),
    ("Ligne Lens – Lille", "voie ferrée", ["Lens", "Vendin-le-Vieil", "Pont-à-Vendin"]),
    ("Ligne Arras – Saint-Pol – Étaples", "voie ferrée", ["Saint-Pol-sur-Ternoise", "Anvin",
                                                          "Blangy-sur-Ternoise", "Auchy-lès-Hesdin",
                                                          "Hesdin-la-Forêt", "Beaurainville",
                                                          "Brimeux"]),
]
#: outer distance (m, each side) of each Lden class, by kind; None = class absent
NOISE_WIDTHS = {
    "autoroute": {"55-60": 480.0, "60-65": 270.0, "65-70": 140.0, "70-75": 60.0, "75+": 22.0},
    "route nationale": {"55-60": 300.0, "60-65": 160.0, "65-70": 75.0, "70-75": 30.0, "75+": 10.0},
    "route départementale": {"55-60": 170.0, "60-65": 85.0, "65-70": 35.0, "70-75": 12.0, "75+": None},
    "voie ferrée": {"55-60": 230.0, "60-65": 115.0, "65-70": 50.0, "70-75": 18.0, "75+": None},
}
NOISE_STEP = 50.0
NOISE_KNOT = 2000.0


def noise_lines(com: gpd.GeoDataFrame) -> list[tuple[str, str, LineString]]:
    centre = dict(zip(com["nom"], com["centre"]))
    out = []
    for name, kind, towns in INFRASTRUCTURES:
        line = _town_line(centre, towns)
        if line is not None:
            out.append((name, kind, line))
    return out


def generate_noise(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model road and rail noise zones (see module docstring)."""
    com = sorted_communes(layers)
    terr = territory(com)
    src = source_label(seed)
    bands = []  # (name, kind, {class: envelope})
    for name, kind, line in noise_lines(com):
        rng = make_rng(seed, f"bruit:{name}")
        factor = _smooth_profile(rng, line.length, NOISE_STEP, NOISE_KNOT, 0.75, 1.25)
        env = {}
        for cls, dist in NOISE_WIDTHS[kind].items():
            if dist is not None:
                env[cls] = _variable_buffer(line, dist * factor, NOISE_STEP)
        bands.append((name, kind, env))
    claimed = shapely.Polygon()
    merged = []
    for cls in reversed(LDEN_CLASSES):  # loudest first
        for name, kind, env in bands:
            if cls not in env:
                continue
            g = shapely.difference(env[cls].intersection(terr), claimed)
            if not g.is_empty:
                merged.append((name, kind, cls, g))
                claimed = shapely.union(claimed, g)
    order = {name: i for i, (name, _k, _t) in enumerate(INFRASTRUCTURES)}
    rows = []
    for name, kind, cls, g in merged:
        for j, piece in _split_by_commune(g, com):
            rows.append((j, order[name], LDEN_CLASSES.index(cls), name, kind, piece))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    records, counters = [], {}
    for j, _o, ci, name, kind, piece in rows:
        insee = str(com["insee"].iloc[j])
        counters[insee] = counters.get(insee, 0) + 1
        rng = make_rng(seed, f"bruit:attr:{insee}:{name}:{ci}")
        cls = LDEN_CLASSES[ci]
        records.append({
            "id": f"BRUIT-{insee}-{counters[insee]:03d}",
            "infrastructure": name,
            "type_infrastructure": kind,
            "type_source": TYPES_SOURCE[1] if kind == "voie ferrée" else TYPES_SOURCE[0],
            "classe_lden": cls,
            "lden_min_db": LDEN_MIN[cls],
            "insee": insee,
            "commune": str(com["nom"].iloc[j]),
            "surface_ha": round(piece.area / 1e4, 2),
            "date_maj": _date_maj(rng, dt.date(2022, 6, 1)),
            "source": src,
            "geometry": piece,
        })
    return _frame(records)
