"""Bâtiments (building footprints) — MODELLED DEMONSTRATION DATA.

The real building footprints of the Artois are in IGN's BD TOPO (theme « Bâti », class
BATIMENT), which this repository does not ship. This module *models* a small sample of buildings
so that the ``solar-potential`` process and the maps have something to work on. Every record is
fictitious: positions, outlines, heights, roof types, ridge orientations and dates are drawn by
a seeded random generator (``numpy.random.default_rng``); only the communes are real.

Schema: close to BD TOPO « BATIMENT » (IGN, BD TOPO v3), simplified names::

    id                       cleabs (here "BATI-000001", sequential)
    insee / commune          code INSEE / nom de la commune (from the real communes layer)
    usage                    usage_1 (values of the BD TOPO list: Résidentiel, Industriel,
                             Commercial et services, Agricole, Annexe, Religieux, Sportif,
                             Indifférencié)
    hauteur                  hauteur (m, ground to gutter)
    nb_etages                nombre_d_etages
    type_toit                not in BD TOPO (its 3-D LOD2 products have it): plat, deux pans,
                             quatre pans, shed
    orientation_faitage_deg  bearing of the ridge line, degrees clockwise from north, 0-180
                             (null for flat roofs)
    annee_construction       year of construction (BD TOPO: date_d_apparition, often empty)
    date_maj                 date_modification
    source                   "Données de démonstration modélisées (générateur artois-geo, graine N)"

What is modelled: about 5 800 buildings, ``3 + population / 120`` per commune (Lens ~260,
Liévin ~260, Béthune ~210, Bruay-la-Buissière ~185, a village of 300 inhabitants 5), placed
around the town centre (Gaussian, σ = 120 m + 3 m × √population; the centre is the commune's
representative point, or approximate town-hall coordinates for Béthune, Lens, Liévin and
Bruay-la-Buissière), wholly inside the commune, never overlapping (terraced houses share
walls). Each commune has a street
grid orientation; buildings follow it (± 6°) or its perpendicular. Residential groups are
detached houses, semi-detached pairs, rows of 4-9 terraced houses (« corons », mostly in the two
mining-basin EPCI) and a few blocks of flats; industrial, commercial and agricultural buildings
are larger and farther from the centre. Geometry: MultiPolygon, EPSG:2154, centimetre
coordinates. This is a *sample* (the real stock is roughly ten times larger).
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from . import (
    BASSIN_MINIER_EPCI,
    CRS,
    REFERENCE_DATE,
    make_rng,
    random_date,
    round_coords,
    sorted_communes,
    source_label,
    weighted_choice,
)

USAGES = ["Résidentiel", "Annexe", "Commercial et services", "Industriel", "Agricole",
          "Religieux", "Sportif", "Indifférencié"]
TYPES_TOIT = ["plat", "deux pans", "quatre pans", "shed"]

#: buildings per commune = BASE + population / PER_INHABITANTS
BASE, PER_INHABITANTS = 3, 120
#: spatial hash cell (m) for the overlap test
_CELL = 60.0
#: approximate town-centre coordinates (lon, lat; town-hall / main square, to ~300 m) of the four
#: largest towns, where the commune polygon's representative point is off-centre; elsewhere the
#: representative point stands in for the centre (as in the other generators)
_TOWN_CENTRES = {
    "62119": (2.6405, 50.5296),   # Béthune, Grand-Place
    "62498": (2.8281, 50.4322),   # Lens, hôtel de ville
    "62510": (2.7788, 50.4218),   # Liévin, centre
    "62178": (2.5478, 50.4831),   # Bruay-la-Buissière, centre
}

# usage weights: (urban commune >= 5 000 inhabitants, small town, rural < 1 000)
_USAGE_WEIGHTS = {
    "urban": [0.78, 0.07, 0.07, 0.04, 0.005, 0.01, 0.015, 0.01],
    "town": [0.72, 0.10, 0.05, 0.04, 0.05, 0.01, 0.01, 0.02],
    "rural": [0.58, 0.16, 0.03, 0.02, 0.17, 0.015, 0.005, 0.02],
}
# roof type weights per usage (plat, deux pans, quatre pans, shed)
_ROOF_WEIGHTS = {
    "Résidentiel": [0.08, 0.77, 0.15, 0.0],
    "Annexe": [0.45, 0.55, 0.0, 0.0],
    "Commercial et services": [0.72, 0.22, 0.06, 0.0],
    "Industriel": [0.45, 0.20, 0.0, 0.35],
    "Agricole": [0.05, 0.90, 0.0, 0.05],
    "Religieux": [0.0, 1.0, 0.0, 0.0],
    "Sportif": [0.55, 0.40, 0.0, 0.05],
    "Indifférencié": [0.35, 0.60, 0.05, 0.0],
}


def _rect(cx: float, cy: float, length: float, width: float, angle: float) -> Polygon:
    """Rectangle centred on (cx, cy), long side ``length`` along ``angle`` (radians, math)."""
    ca, sa = math.cos(angle), math.sin(angle)
    hl, hw = length / 2, width / 2
    local = np.array([(-hl, -hw), (hl, -hw), (hl, hw), (-hl, hw)])
    xy = np.column_stack([cx + local[:, 0] * ca - local[:, 1] * sa,
                          cy + local[:, 0] * sa + local[:, 1] * ca])
    return Polygon(round_coords(xy, 2))


def _l_shape(rng, cx, cy, length, width, angle) -> Polygon:
    """A rectangle with one corner cut out (L-shaped building)."""
    base = _rect(cx, cy, length, width, angle)
    cut_l, cut_w = length * rng.uniform(0.3, 0.5), width * rng.uniform(0.35, 0.55)
    sx, sy = (1 if rng.random() < 0.5 else -1), (1 if rng.random() < 0.5 else -1)
    ca, sa = math.cos(angle), math.sin(angle)
    ox, oy = sx * (length - cut_l) / 2, sy * (width - cut_w) / 2
    cut = _rect(cx + ox * ca - oy * sa, cy + ox * sa + oy * ca, cut_l + 0.02, cut_w + 0.02, angle)
    res = base.difference(cut)
    if res.geom_type != "Polygon" or not res.is_valid:
        return base
    return Polygon(round_coords(np.asarray(res.exterior.coords)[:-1], 2))


def _bearing(angle: float) -> float:
    """Math angle of a line (radians from east, counter-clockwise) -> bearing 0-180 from north."""
    return round((90.0 - math.degrees(angle)) % 180.0, 1)


class _Grid:
    """Spatial hash of placed footprints for the overlap test."""

    def __init__(self):
        self.cells: dict[tuple[int, int], list[Polygon]] = {}

    def _keys(self, bounds):
        x0, y0, x1, y1 = bounds
        for i in range(int(math.floor(x0 / _CELL)), int(math.floor(x1 / _CELL)) + 1):
            for j in range(int(math.floor(y0 / _CELL)), int(math.floor(y1 / _CELL)) + 1):
                yield i, j

    def free(self, geom: Polygon, clearance: float) -> bool:
        probe = geom.buffer(clearance, join_style="mitre")
        for key in self._keys(probe.bounds):
            for other in self.cells.get(key, ()):
                if probe.intersects(other):
                    return False
        return True

    def add(self, geom: Polygon) -> None:
        for key in self._keys(geom.bounds):
            self.cells.setdefault(key, []).append(geom)


def _year(rng, usage: str, mining: bool, rural: bool) -> int:
    if usage == "Religieux":
        return int(rng.integers(1850, 1960))
    if usage in ("Industriel", "Commercial et services", "Sportif"):
        return int(rng.integers(1955 if usage != "Industriel" else 1900, 2024))
    if mining and usage == "Résidentiel":
        period = weighted_choice(rng, [(1880, 1939), (1946, 1975), (1976, 2000), (2001, 2024)],
                                 [0.38, 0.30, 0.18, 0.14])
    elif rural:
        period = weighted_choice(rng, [(1750, 1914), (1915, 1975), (1976, 2000), (2001, 2024)],
                                 [0.35, 0.25, 0.22, 0.18])
    else:
        period = weighted_choice(rng, [(1850, 1939), (1946, 1975), (1976, 2000), (2001, 2024)],
                                 [0.30, 0.33, 0.20, 0.17])
    return int(rng.integers(period[0], period[1] + 1))


def _group(rng, usage: str, mining: bool, rural: bool, cx: float, cy: float,
           angle: float) -> list[dict]:
    """One placement draw: a list of buildings (several for a row of terraced houses)."""
    if usage == "Résidentiel":
        r = rng.random()
        p_row = 0.32 if mining else 0.12
        if r < 0.05 and not rural:  # block of flats
            length, width = rng.uniform(30, 70), rng.uniform(11, 15)
            floors = int(rng.integers(4, 11))
            roof = "plat" if rng.random() < 0.8 else "deux pans"
            return [dict(geom=_rect(cx, cy, length, width, angle), floors=floors, roof=roof,
                         ridge=angle, collective=True)]
        if r < 0.05 + p_row:  # terraced row: ridge along the street (row axis)
            n = int(rng.integers(4, 10))
            w, depth = rng.uniform(5.2, 7.0), rng.uniform(8.0, 10.5)
            floors = 1 if rng.random() < 0.4 else 2
            roof = "deux pans"
            ca, sa = math.cos(angle), math.sin(angle)
            out = []
            for k in range(n):
                off = (k - (n - 1) / 2) * w
                out.append(dict(geom=_rect(cx + off * ca, cy + off * sa, w, depth, angle),
                                floors=floors, roof=roof, ridge=angle, collective=False))
            return out
        if r < 0.05 + p_row + 0.18:  # semi-detached pair
            w, depth = rng.uniform(6.5, 9.0), rng.uniform(8.5, 11.0)
            floors = 1 if rng.random() < 0.35 else 2
            roof = weighted_choice(rng, TYPES_TOIT, _ROOF_WEIGHTS[usage])
            ca, sa = math.cos(angle), math.sin(angle)
            return [dict(geom=_rect(cx + s * w / 2 * ca, cy + s * w / 2 * sa, w, depth, angle),
                         floors=floors, roof=roof, ridge=angle, collective=False)
                    for s in (-1, 1)]
        length, width = rng.uniform(9, 16), rng.uniform(7.5, 11)
        geom = (_l_shape(rng, cx, cy, length, width, angle) if rng.random() < 0.15
                else _rect(cx, cy, length, width, angle))
        floors = 1 if rng.random() < 0.45 else 2
        return [dict(geom=geom, floors=floors,
                     roof=weighted_choice(rng, TYPES_TOIT, _ROOF_WEIGHTS[usage]),
                     ridge=angle, collective=False)]
    sizes = {
        "Annexe": ((3, 9), (2.5, 6), (1, 1)),
        "Commercial et services": ((14, 60), (10, 35), (1, 3)),
        "Industriel": ((30, 140), (20, 70), (1, 2)),
        "Agricole": ((15, 45), (9, 20), (1, 1)),
        "Religieux": ((20, 45), (9, 16), (1, 1)),
        "Sportif": ((25, 60), (18, 40), (1, 1)),
        "Indifférencié": ((5, 20), (4, 12), (1, 2)),
    }
    (l0, l1), (w0, w1), (f0, f1) = sizes[usage]
    length, width = rng.uniform(l0, l1), rng.uniform(w0, w1)
    if width > length:
        length, width = width, length
    roof = weighted_choice(rng, TYPES_TOIT, _ROOF_WEIGHTS[usage])
    ridge = angle
    if roof == "shed":  # sawtooth ridges run across the hall, glazing facing ~north
        ridge = angle + math.pi / 2
    geom = (_l_shape(rng, cx, cy, length, width, angle)
            if usage in ("Commercial et services", "Industriel") and rng.random() < 0.2
            else _rect(cx, cy, length, width, angle))
    return [dict(geom=geom, floors=int(rng.integers(f0, f1 + 1)), roof=roof, ridge=ridge,
                 collective=False)]


def _height(rng, usage: str, floors: int, roof: str, collective: bool) -> float:
    if usage == "Industriel":
        h = rng.uniform(6.0, 14.0)
    elif usage == "Agricole":
        h = rng.uniform(4.5, 9.0)
    elif usage == "Sportif":
        h = rng.uniform(7.0, 12.0)
    elif usage == "Religieux":
        h = rng.uniform(10.0, 22.0)
    elif usage == "Annexe":
        h = rng.uniform(2.2, 3.5)
    else:
        h = floors * rng.uniform(2.7, 3.1) + (0.6 if collective else rng.uniform(0.2, 0.8))
    return round(float(h), 1)


def _town_centres() -> dict[str, tuple[float, float]]:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    return {k: tuple(round(float(v), 2) for v in tr.transform(lon, lat))
            for k, (lon, lat) in _TOWN_CENTRES.items()}


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model a sample of buildings in every commune (see module docstring)."""
    com = sorted_communes(layers)
    src = source_label(seed)
    centres = _town_centres()
    records: list[dict] = []
    for _, row in com.iterrows():
        insee = str(row["insee"])
        rng = make_rng(seed, f"batiments:{insee}")
        pop = int(row["population_municipale"]) if row["population_municipale"] == \
            row["population_municipale"] else 0
        target = BASE + int(round(pop / PER_INHABITANTS))
        mining = str(row["epci_siren"]) in BASSIN_MINIER_EPCI
        rural = pop < 1000
        kind = "urban" if pop >= 5000 else ("rural" if rural else "town")
        sigma = 120.0 + 3.0 * math.sqrt(max(pop, 0))
        inner = row.geometry.buffer(-2.0)
        if inner.is_empty:
            continue
        shapely.prepare(inner)
        cx0, cy0 = row["centre"].x, row["centre"].y
        if insee in centres and shapely.contains_xy(inner, *centres[insee]):
            cx0, cy0 = centres[insee]
        grid_angle = rng.uniform(0, math.pi / 2)
        grid = _Grid()
        placed = 0
        attempts = 0
        while placed < target and attempts < target * 30:
            attempts += 1
            usage = weighted_choice(rng, USAGES, _USAGE_WEIGHTS[kind])
            spread = {"Industriel": 2.2, "Agricole": 2.5, "Commercial et services": 1.4}.get(
                usage, 1.0)
            x = rng.normal(cx0, sigma * spread)
            y = rng.normal(cy0, sigma * spread)
            angle = grid_angle + (math.pi / 2 if rng.random() < 0.5 else 0.0) \
                + math.radians(rng.uniform(-6, 6))
            group = _group(rng, usage, mining, rural, x, y, angle)
            group = group[: max(1, target - placed)]
            clearance = 1.5 if usage in ("Résidentiel", "Annexe") else 4.0
            if not all(b["geom"].is_valid and inner.contains(b["geom"]) for b in group):
                continue
            if not all(grid.free(b["geom"], clearance) for b in group):
                continue
            year = _year(rng, usage, mining, rural)
            maj = random_date(rng, dt.date(2023, 1, 1), REFERENCE_DATE)
            for b in group:
                grid.add(b["geom"])
                roof = b["roof"]
                records.append({
                    "insee": insee,
                    "commune": str(row["nom"]),
                    "usage": usage,
                    "hauteur": _height(rng, usage, b["floors"], roof, b["collective"]),
                    "nb_etages": int(b["floors"]),
                    "type_toit": roof,
                    "orientation_faitage_deg": None if roof == "plat" else _bearing(b["ridge"]),
                    "annee_construction": year,
                    "date_maj": maj.isoformat(),
                    "source": src,
                    "geometry": MultiPolygon([b["geom"]]),
                })
                placed += 1
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=CRS)
    gdf.insert(0, "id", [f"BATI-{i + 1:06d}" for i in range(len(gdf))])
    gdf["orientation_faitage_deg"] = gdf["orientation_faitage_deg"].astype("float64")
    return gdf
