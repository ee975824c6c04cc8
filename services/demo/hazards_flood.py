"""Flood-hazard layer of the risk matrix — MODELLED DEMONSTRATION DATA.

Every record is fictitious (see :mod:`services.demo.hazards`); NOT a hazard map.

``generate_flood``  -> ``alea-inondation`` (MultiPolygon)
    Flood-hazard zones shaped like the national *atlas des zones inondables* (AZI) and PPRI
    zonings: ``type_alea`` débordement de cours d'eau / remontée de nappe / ruissellement,
    ``niveau`` faible / moyen / fort.  Overflow zones follow *approximated* river lines: the
    polylines of :data:`services.demo.surchauffe.WATERWAYS` (through the representative points
    of real communes; the canal d'Aire is left out: a canal, not a valley), extended by the
    reaches in :data:`EXTRA_RIVERS` (Clarence, lower Lawe, lower Lys, lower Authie).  Each river
    gets a seeded valley half-width (:data:`RIVER_WIDTH`) that varies smoothly along its course;
    ``fort`` is the inner 20-35 %, ``moyen`` the inner 50-70 %, ``faible`` the rest.
    Groundwater zones are seeded blobs in the low Lys plain, run-off zones are narrow seeded
    thalweg strips on the Artois hills and Ternois plateaux.  Zones are made disjoint (the
    higher level, then the first-listed river, wins), clipped to and split by commune.
    ``derniere_crue_annee`` (year of the last flood) is drawn per river and commune among
    plausible years (:data:`LAST_FLOOD_YEARS`) — modelled, not the GASPAR/CATNAT record.

EPSG:2154, ``source`` and ``date_maj`` on every record: see :mod:`services.demo.hazards`.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point

from . import make_rng, sorted_communes, source_label, territory
from .hazards_common import (
    _chaikin,
    _date_maj,
    _frame,
    _smooth_profile,
    _split_by_commune,
    _town_line,
    _variable_buffer,
)
from .surchauffe import WATERWAYS

# --------------------------------------------------------------------------------------
# flood hazard (alea-inondation)
# --------------------------------------------------------------------------------------
TYPES_ALEA = ["débordement de cours d'eau", "remontée de nappe", "ruissellement"]
NIVEAUX = ["faible", "moyen", "fort"]
DOCUMENTS = ["atlas des zones inondables (AZI)", "plan de prévention du risque inondation (PPRI)",
             "étude hydraulique locale"]

#: reaches added to the surchauffe waterways (approximate courses, upstream -> downstream)
EXTRA_RIVERS = [
    ("Clarence", ["Pernes", "Camblain-Châtelain", "Calonne-Ricouart", "Marles-les-Mines",
                  "Lozinghem", "Lapugnoy", "Chocques", "Gonnehem", "Robecq", "Calonne-sur-la-Lys"]),
    ("Lawe (aval)", ["Béthune", "Essars", "Locon", "Vieille-Chapelle"]),
    ("Lys (aval)", ["Saint-Venant", "Saint-Floris", "Calonne-sur-la-Lys"]),
    ("Authie (aval)", ["Auxi-le-Château", "Willencourt", "Labroye", "Raye-sur-Authie"]),
]
#: surchauffe waterways that are canals, not flood valleys
NOT_VALLEYS = {"Canal d'Aire"}
#: valley half-width of the 'faible' envelope, metres (lo, hi), by river name prefix
RIVER_WIDTH = {
    "Lys": (700.0, 1400.0),
    "Lawe": (250.0, 650.0),
    "Clarence": (150.0, 380.0),
    "Canal de Lens (Souchez)": (70.0, 180.0),
    "Canal de la Haute-Deûle": (150.0, 350.0),
    "Canche": (250.0, 600.0),
    "Ternoise": (120.0, 320.0),
    "Authie": (200.0, 500.0),
}
#: candidate years of the last flood event, by river name prefix (modelled draws)
LAST_FLOOD_YEARS = {
    "Lys": [1993, 1999, 2002, 2012, 2021, 2024],
    "Lawe": [1993, 1999, 2005, 2016, 2021, 2024],
    "Clarence": [1999, 2002, 2016, 2021],
    "Canal de Lens (Souchez)": [1999, 2005, 2016, 2021],
    "Canal de la Haute-Deûle": [1993, 1999, 2002],
    "Canche": [1988, 1994, 1999, 2001, 2012, 2023, 2024],
    "Ternoise": [1994, 1999, 2001, 2023],
    "Authie": [1994, 2001, 2012, 2023],
    "nappe": [2001, 2002, 2014, 2021, 2024],
    "ruissellement": [1990, 1999, 2005, 2016, 2021, 2023],
}
FLOOD_STEP = 100.0  # m between discs of the variable buffer
FLOOD_KNOT = 1500.0  # m between width knots


def _prefix_value(table: dict, name: str):
    for key in sorted(table, key=len, reverse=True):
        if name.startswith(key):
            return table[key]
    raise KeyError(name)


def flood_rivers(com: gpd.GeoDataFrame) -> list[tuple[str, LineString]]:
    """The approximated river lines used for overflow zones (name, line), in a fixed order."""
    centre = dict(zip(com["nom"], com["centre"]))
    out = []
    for name, towns in list(WATERWAYS) + EXTRA_RIVERS:
        if name in NOT_VALLEYS:
            continue
        line = _town_line(centre, towns)
        if line is not None:
            out.append((name, line))
    return out


def _overflow_envelopes(rivers, seed: int) -> list[tuple[str, dict]]:
    """For each river, its nested envelopes {'fort', 'moyen', 'faible'}."""
    out = []
    for name, line in rivers:
        rng = make_rng(seed, f"inondation:{name}")
        lo, hi = _prefix_value(RIVER_WIDTH, name)
        width = _smooth_profile(rng, line.length, FLOOD_STEP, FLOOD_KNOT, lo, hi)
        f_fort = _smooth_profile(rng, line.length, FLOOD_STEP, FLOOD_KNOT, 0.20, 0.35)
        f_moyen = _smooth_profile(rng, line.length, FLOOD_STEP, FLOOD_KNOT, 0.50, 0.70)
        env = {
            "faible": _variable_buffer(line, width, FLOOD_STEP),
            "moyen": _variable_buffer(line, width * f_moyen, FLOOD_STEP),
            "fort": _variable_buffer(line, width * f_fort, FLOOD_STEP),
        }
        out.append((name, env))
    return out


def _blob(rng: np.random.Generator, cx: float, cy: float, area_ha: float):
    """Irregular patch of about ``area_ha`` (chain of overlapping discs)."""
    r_total = math.sqrt(area_ha * 1e4 / math.pi)
    axis = rng.uniform(0, math.pi)
    discs = []
    for _ in range(int(rng.integers(4, 8))):
        r = r_total * rng.uniform(0.35, 0.6)
        t = rng.uniform(-1.0, 1.0) * r_total * 1.2
        off = rng.normal(0.0, 0.25) * r_total
        discs.append(Point(cx + t * math.cos(axis) - off * math.sin(axis),
                           cy + t * math.sin(axis) + off * math.cos(axis)).buffer(r, quad_segs=8))
    return shapely.union_all(discs).simplify(5.0)


def _groundwater_zones(com, terr, seed: int) -> list[tuple[str, object]]:
    """Seeded groundwater-flooding blobs in the low Lys plain (north of the CABBALR)."""
    rng = make_rng(seed, "inondation:nappe")
    plain = com[(com["epci_siren"] == "200072460") & (com["centre"].map(lambda p: p.y) > 7050000.0)]
    plain = plain.reset_index(drop=True)
    out = []
    for _ in range(14):
        row = plain.iloc[int(rng.integers(len(plain)))]
        poly = row.geometry
        minx, miny, maxx, maxy = poly.bounds
        for _try in range(50):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(poly, x, y):
                ha = float(np.clip(math.exp(rng.normal(math.log(80.0), 0.6)), 20.0, 400.0))
                niveau = "moyen" if rng.random() < 0.35 else "faible"
                out.append((niveau, _blob(rng, x, y, ha).intersection(terr)))
                break
    return out


def _runoff_zones(com, terr, seed: int) -> list[tuple[str, object]]:
    """Seeded run-off strips (dry-valley thalwegs) on the Artois hills and Ternois plateaux."""
    rng = make_rng(seed, "inondation:ruissellement")
    hills = com[((com["epci_siren"].isin(["246200364", "200072460"]))
                 & (com["centre"].map(lambda p: p.y) < 7042000.0))
                | (com["epci_siren"] == "200069672")].reset_index(drop=True)
    out = []
    for _ in range(40):
        row = hills.iloc[int(rng.integers(len(hills)))]
        poly = row.geometry
        minx, miny, maxx, maxy = poly.bounds
        for _try in range(50):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if not shapely.contains_xy(poly, x, y):
                continue
            length = rng.uniform(800.0, 2800.0)
            heading = rng.uniform(0, 2 * math.pi)
            n = 6
            pts = [(x, y)]
            for _k in range(n):
                heading += rng.normal(0.0, 0.25)
                x += length / n * math.cos(heading)
                y += length / n * math.sin(heading)
                pts.append((x, y))
            line = LineString(_chaikin(np.array(pts), 2))
            width = rng.uniform(30.0, 70.0)
            niveau = "fort" if rng.random() < 0.3 else "moyen"
            out.append((niveau, line.buffer(width, quad_segs=6).intersection(terr)))
            break
    return out


def generate_flood(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model flood-hazard zones (see module docstring)."""
    com = sorted_communes(layers)
    terr = territory(com)
    src = source_label(seed)
    rivers = flood_rivers(com)
    envelopes = _overflow_envelopes(rivers, seed)

    # Disjoint zones: débordement first (fort > moyen > faible, earlier river wins), then
    # groundwater and run-off on what is left.
    claimed = shapely.Polygon()
    pieces: list[tuple[str, str, str, object]] = []  # (type, key, niveau, geometry)
    for niveau in ("fort", "moyen", "faible"):
        for name, env in envelopes:
            g = shapely.difference(env[niveau].intersection(terr), claimed)
            if not g.is_empty:
                pieces.append((TYPES_ALEA[0], name, niveau, g))
                claimed = shapely.union(claimed, g)
    extra = [(TYPES_ALEA[2], "ruissellement", n, g) for n, g in _runoff_zones(com, terr, seed)]
    extra += [(TYPES_ALEA[1], "nappe", n, g) for n, g in _groundwater_zones(com, terr, seed)]
    for niveau in ("fort", "moyen", "faible"):
        for kind, key, n, g in extra:
            if n != niveau:
                continue
            g = shapely.difference(g, claimed)
            if not g.is_empty:
                pieces.append((kind, key, niveau, g))
                claimed = shapely.union(claimed, g)

    # merge by (type, river, niveau), then split by commune
    merged: dict[tuple[str, str, str], list] = {}
    for kind, key, niveau, g in pieces:
        merged.setdefault((kind, key, niveau), []).append(g)
    rows = []
    for (kind, key, niveau), geoms in merged.items():
        for j, piece in _split_by_commune(shapely.union_all(geoms), com):
            rows.append((j, TYPES_ALEA.index(kind), key, NIVEAUX.index(niveau), piece))
    rows.sort(key=lambda r: (r[0], r[1], r[2], -r[3]))

    records = []
    doc_by_river: dict[str, str] = {}
    last_by: dict[tuple[str, int], int] = {}
    counters: dict[str, int] = {}
    for j, kind_i, key, niveau_i, piece in rows:
        insee = str(com["insee"].iloc[j])
        kind = TYPES_ALEA[kind_i]
        rng = make_rng(seed, f"inondation:attr:{insee}:{key}:{niveau_i}")
        if key not in doc_by_river:
            drng = make_rng(seed, f"inondation:doc:{key}")
            if kind == TYPES_ALEA[0]:
                doc_by_river[key] = DOCUMENTS[0] if drng.random() < 0.55 else DOCUMENTS[1]
            else:
                doc_by_river[key] = DOCUMENTS[2]
        # one last-flood year per (river, commune): every level of a reach shares it
        if (key, j) not in last_by:
            yrng = make_rng(seed, f"inondation:crue:{insee}:{key}")
            years = _prefix_value(LAST_FLOOD_YEARS, key)
            weights = np.linspace(1.0, 2.0, len(years))  # recent events a little likelier
            last_by[(key, j)] = int(years[int(yrng.choice(len(years), p=weights / weights.sum()))])
        counters[insee] = counters.get(insee, 0) + 1
        records.append({
            "id": f"INOND-{insee}-{counters[insee]:03d}",
            "type_alea": kind,
            "niveau": NIVEAUX[niveau_i],
            "cours_eau": key if kind == TYPES_ALEA[0] else None,
            "document": doc_by_river[key],
            "insee": insee,
            "commune": str(com["nom"].iloc[j]),
            "surface_ha": round(piece.area / 1e4, 2),
            "derniere_crue_annee": last_by[(key, j)],
            "date_maj": _date_maj(rng, dt.date(2016, 1, 1)),
            "source": src,
            "geometry": piece,
        })
    return _frame(records)
