"""Hazard layers of the risk matrix — MODELLED DEMONSTRATION DATA.

The agency has no open, territory-wide layer for four of the hazards of its exploratory risk
matrix, so the build publishes *modelled* stand-ins.  Every record is fictitious: zones,
classes, dates and concentrations are drawn by seeded random generators
(``numpy.random.default_rng`` through :func:`services.demo.make_rng`) on top of the real
communes.  They show what the matrix would do with the real national layers; they are NOT
hazard maps and must never be read as such.

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

``generate_clay``  -> ``alea-argiles`` (MultiPolygon)
    Clay shrink-swell exposure with the classes of the national BRGM map (``niveau`` faible /
    moyen / fort; unmapped = a priori nul).  A smooth susceptibility field on a 100 m grid:
    higher in the northern Lys plain (argiles des Flandres), along the valleys (alluvium), lower
    on the chalk plateaux of the south-west, plus correlated noise; classes are cut at fixed
    quantiles of the territory (:data:`CLAY_SHARES`: about 12 % nul, 58 % faible, 27 % moyen,
    3 % fort), polygonised, smoothed, nested (no overlap), split by commune.

``generate_noise``  -> ``bruit`` (MultiPolygon)
    Road and rail noise zones in Lden classes 55-60, 60-65, 65-70, 70-75, 75+ dB(A), like the
    type-A strategic noise maps (cartes de bruit stratégiques, directive 2002/49/CE), along
    *approximated* lines between real town centres (:data:`INFRASTRUCTURES`: A26, A21, RN17,
    RN41, RN47, RD943, RD939, RD916, RD301 and four railway lines).  Class widths depend on the
    infrastructure kind (:data:`NOISE_WIDTHS`) times a seeded factor varying along the line.
    The loudest class wins where zones meet; split by commune and infrastructure.

``generate_air``  -> ``qualite-air`` (MultiPolygon)
    Annual mean NO2 and PM2.5 concentrations (µg/m3) on a 1 km Lambert-93 grid clipped to the
    territory, like the regional modelled maps of Atmo Hauts-de-France: a background, an urban
    term growing with the population-weighted density of nearby communes, a road term
    decreasing with the distance to the modelled major roads and correlated noise.

All geometries are EPSG:2154; every record carries ``source`` =
:func:`services.demo.source_label` and the ``date_maj`` of the modelled data set.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from rasterio.transform import from_origin
from shapely.geometry import LineString, MultiPolygon, Point

from . import CRS, REFERENCE_DATE, make_rng, random_date, sorted_communes, source_label, territory
from .surchauffe import WATERWAYS, gaussian_blur

# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------
MIN_PIECE_M2 = 200.0  # slivers below this are dropped when splitting by commune


def _polygonal(geom) -> MultiPolygon | None:
    """The polygonal part of ``geom`` as a valid MultiPolygon (None if empty)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = []
    for g in getattr(geom, "geoms", [geom]):
        if g.geom_type == "Polygon" and g.area >= MIN_PIECE_M2:
            parts.append(g)
        elif g.geom_type in ("MultiPolygon", "GeometryCollection"):
            sub = _polygonal(g)
            if sub is not None:
                parts.extend(sub.geoms)
    if not parts:
        return None
    out = MultiPolygon(parts)
    return out if out.is_valid else _polygonal(shapely.make_valid(out))


def _round(geom):
    """Centimetre precision, as the other generators: byte-stable outputs."""
    return shapely.set_precision(geom, 0.01)


def _split_by_commune(geom, com: gpd.GeoDataFrame) -> list[tuple[int, MultiPolygon]]:
    """(row in ``com``, piece) for each commune ``geom`` meets, in INSEE order."""
    if geom is None or geom.is_empty:
        return []
    tree = shapely.STRtree(np.asarray(com.geometry.values))
    out = []
    for j in sorted(tree.query(geom, predicate="intersects").tolist()):
        piece = _polygonal(_round(shapely.intersection(geom, com.geometry.iloc[j])))
        if piece is not None:
            out.append((j, piece))
    return out


def _chaikin(coords: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Corner-cutting smoothing of an open polyline (end points kept)."""
    pts = np.asarray(coords, dtype=float)
    for _ in range(iterations):
        if len(pts) < 3:
            return pts
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        pts = np.vstack([pts[:1], mid, pts[-1:]])
    return pts


def _town_line(centre: dict, towns: list[str], smooth: bool = True) -> LineString | None:
    pts = [centre[t] for t in towns if t in centre]
    if len(pts) == 1:  # a single town: a short east-west reach through it (as surchauffe)
        p = pts[0]
        pts = [Point(p.x - 3000, p.y + 400), p, Point(p.x + 3000, p.y - 400)]
    if len(pts) < 2:
        return None
    xy = np.array([(p.x, p.y) for p in pts])
    return LineString(_chaikin(xy) if smooth else xy)


def _smooth_profile(rng: np.random.Generator, length: float, step: float, knot: float,
                    lo: float, hi: float) -> np.ndarray:
    """Values in [lo, hi] at every ``step`` m along a line of ``length`` m, varying smoothly
    (linear interpolation between seeded knots every ``knot`` m)."""
    n_knots = max(int(math.ceil(length / knot)) + 1, 2)
    knots = rng.uniform(lo, hi, n_knots)
    s = np.arange(0.0, length + step, step)
    return np.interp(s, np.linspace(0.0, length, n_knots), knots)


def _variable_buffer(line: LineString, radii: np.ndarray, step: float):
    """Union of discs of radius ``radii[k]`` every ``step`` m along ``line`` (a buffer whose
    width varies along the line)."""
    n = len(radii)
    dists = np.minimum(np.arange(n) * step, line.length)
    pts = shapely.line_interpolate_point(line, dists)
    discs = shapely.buffer(pts, radii, quad_segs=8)
    # consecutive discs joined by their convex hull: no beads on a string
    hulls = [shapely.convex_hull(shapely.union(discs[k], discs[k + 1])) for k in range(n - 1)]
    return shapely.union_all(hulls or list(discs))


def _date_maj(rng: np.random.Generator, start: dt.date) -> str:
    return random_date(rng, start, REFERENCE_DATE).isoformat()


def _frame(records: list[dict]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=CRS)
    cols = ["id"] + [c for c in gdf.columns if c not in ("id", "geometry")] + ["geometry"]
    return gdf[cols].reset_index(drop=True)


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


# --------------------------------------------------------------------------------------
# clay shrink-swell (alea-argiles)
# --------------------------------------------------------------------------------------
CLAY_RES = 100.0
#: cumulative shares of the territory below each class cut: nul | faible | moyen | fort
CLAY_SHARES = (0.12, 0.70, 0.97)
CLAY_LEVELS = ["faible", "moyen", "fort"]


def _grid(terr, res: float):
    minx, miny, maxx, maxy = terr.bounds
    step = res * 4
    minx, miny = math.floor(minx / step) * step, math.floor(miny / step) * step
    maxx, maxy = math.ceil(maxx / step) * step, math.ceil(maxy / step) * step
    shape = (int(round((maxy - miny) / res)), int(round((maxx - minx) / res)))
    return from_origin(minx, maxy, res, res), shape


def _noise(rng, shape, sigma_px):
    field = gaussian_blur(rng.standard_normal(shape, dtype=np.float32), sigma_px, mode="reflect")
    field -= field.mean()
    field /= max(float(field.std()), 1e-12)
    return field


def clay_field(com: gpd.GeoDataFrame, seed: int):
    """The modelled susceptibility field: (array, transform, inside mask)."""
    terr = territory(com)
    transform, shape = _grid(terr, CLAY_RES)
    inside = rasterio.features.rasterize([(terr, 1)], out_shape=shape, transform=transform,
                                         fill=0, dtype="uint8").astype(bool)
    h, w = shape
    ys = transform.f - (np.arange(h) + 0.5) * CLAY_RES
    xs = transform.c + (np.arange(w) + 0.5) * CLAY_RES
    north = np.clip((ys - 7042000.0) / 12000.0, -1.0, 1.0)[:, None]  # Lys plain (Flandrian clay)
    west = np.clip((640000.0 - xs) / 25000.0, 0.0, 1.0)[None, :]  # chalk of the 7 Vallées
    rng = make_rng(seed, "argiles:bruit")
    field = 1.1 * north - 0.5 * west + 0.45 * _noise(rng, shape, 25.0) + 0.3 * _noise(rng, shape, 6.0)
    # alluvial clays along the valleys
    rivers = [ln for _n, ln in flood_rivers(com)]
    valley = rasterio.features.rasterize([(ln.buffer(150.0), 1) for ln in rivers], out_shape=shape,
                                         transform=transform, fill=0, dtype="uint8")
    field += 0.7 * np.clip(gaussian_blur(valley.astype(np.float32), 5.0) * 2.0, 0.0, 1.0)
    return field.astype(np.float32), transform, inside


def generate_clay(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model the clay shrink-swell exposure classes (see module docstring)."""
    com = sorted_communes(layers)
    terr = territory(com)
    src = source_label(seed)
    field, transform, inside = clay_field(com, seed)
    cuts = np.quantile(field[inside], CLAY_SHARES)
    nested = []  # 'faible or more', 'moyen or more', 'fort'
    for k, cut in enumerate(cuts):
        mask = (field >= cut) & inside
        polys = [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(
            mask.astype(np.uint8), mask=mask, transform=transform) if v == 1]
        region = shapely.union_all(polys).simplify(CLAY_RES * 0.75).buffer(0)
        region = region.buffer(CLAY_RES, quad_segs=4).buffer(-CLAY_RES, quad_segs=4)
        nested.append(region.intersection(terr))
    # nested: fort ⊂ moyen+ ⊂ faible+  -> disjoint rings
    fort = nested[2]
    moyen = shapely.difference(shapely.union(nested[1], fort), fort)
    faible = shapely.difference(shapely.union(nested[0], nested[1], fort) if False else
                                shapely.union_all([nested[0], nested[1], fort]),
                                shapely.union(nested[1], fort))
    records = []
    rows = []
    for k, geom in enumerate([faible, moyen, fort]):
        for j, piece in _split_by_commune(geom, com):
            rows.append((j, k, piece))
    rows.sort(key=lambda r: (r[0], r[1]))
    for j, k, piece in rows:
        insee = str(com["insee"].iloc[j])
        rng = make_rng(seed, f"argiles:attr:{insee}:{k}")
        records.append({
            "id": f"RGA-{insee}-{k + 1}",
            "niveau": CLAY_LEVELS[k],
            "insee": insee,
            "commune": str(com["nom"].iloc[j]),
            "surface_ha": round(piece.area / 1e4, 2),
            "date_maj": _date_maj(rng, dt.date(2019, 8, 1)),
            "source": src,
            "geometry": piece,
        })
    return _frame(records)


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


# --------------------------------------------------------------------------------------
# air quality (qualite-air)
# --------------------------------------------------------------------------------------
AIR_RES = 1000.0
AIR_YEAR = 2024


def generate_air(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model annual mean NO2 and PM2.5 on a 1 km grid (see module docstring)."""
    com = sorted_communes(layers)
    terr = territory(com)
    src = source_label(seed)
    minx, miny, maxx, maxy = terr.bounds
    x0, y0 = math.floor(minx / AIR_RES) * AIR_RES, math.floor(miny / AIR_RES) * AIR_RES
    nx = int(math.ceil((maxx - x0) / AIR_RES))
    ny = int(math.ceil((maxy - y0) / AIR_RES))
    cx = x0 + (np.arange(nx) + 0.5) * AIR_RES
    cy = y0 + (np.arange(ny) + 0.5) * AIR_RES
    gx, gy = np.meshgrid(cx, cy)  # (ny, nx), row 0 = south

    # urban term: population-weighted Gaussian kernels (as the overheating model)
    pop = com["population_municipale"].to_numpy(dtype=float)
    area_km2 = com.geometry.area.to_numpy() / 1e6
    dens = pop / np.maximum(area_km2, 0.1)
    px = np.array([p.x for p in com["centre"]])
    py = np.array([p.y for p in com["centre"]])
    s = np.zeros_like(gx)
    for k in range(len(com)):
        amp = (pop[k] / 9000.0) ** 0.9 * float(np.clip((dens[k] / 600.0) ** 0.35, 0.5, 1.6))
        sig = 400.0 + 9.0 * math.sqrt(pop[k])
        s += amp * np.exp(-((gx - px[k]) ** 2 + (gy - py[k]) ** 2) / (2 * sig**2))
    urban = 1.0 - np.exp(-s)

    # road term: distance to the modelled major roads
    centres = shapely.points(gx.ravel(), gy.ravel())
    road = np.zeros(gx.size)
    for _name, kind, line in noise_lines(com):
        if kind == "voie ferrée":
            continue
        weight = {"autoroute": 1.0, "route nationale": 0.7, "route départementale": 0.4}[kind]
        d = shapely.distance(centres, line)
        road = np.maximum(road, weight * np.exp(-d / 600.0))
    road = road.reshape(gx.shape)

    rng = make_rng(seed, "air:bruit")
    large = _noise(rng, gx.shape, 6.0)
    fine = _noise(rng, gx.shape, 1.0)
    no2 = 9.5 + 13.0 * urban + 9.0 * road + 1.0 * large + 0.7 * fine
    pm25 = 7.4 + 3.0 * urban + 1.2 * road + 0.6 * large + 0.3 * fine
    no2 = np.clip(no2, 5.0, None)
    pm25 = np.clip(pm25, 4.0, None)

    cells = shapely.box(gx.ravel() - AIR_RES / 2, gy.ravel() - AIR_RES / 2,
                        gx.ravel() + AIR_RES / 2, gy.ravel() + AIR_RES / 2)
    tree = shapely.STRtree(np.asarray(com.geometry.values))
    shapely.prepare(terr)
    records = []
    rng_dates = make_rng(seed, "air:dates")
    maj = _date_maj(rng_dates, dt.date(2025, 3, 1))
    for i in range(ny - 1, -1, -1):  # north to south, west to east
        for k in range(nx):
            idx = i * nx + k
            cell = cells[idx]
            if not terr.intersects(cell):
                continue
            piece = _polygonal(_round(cell.intersection(terr)))
            if piece is None:
                continue
            c = piece.representative_point()
            j = tree.query(c, predicate="intersects")
            j = int(min(j)) if len(j) else int(tree.nearest(c))
            e, n = int(gx[i, k] - AIR_RES / 2) // 1000, int(gy[i, k] - AIR_RES / 2) // 1000
            records.append({
                "id": f"AIR-1km-E{e:04d}-N{n:04d}",
                "annee": AIR_YEAR,
                "no2_ugm3": round(float(no2[i, k]), 1),
                "pm25_ugm3": round(float(pm25[i, k]), 1),
                "insee": str(com["insee"].iloc[j]),
                "commune": str(com["nom"].iloc[j]),
                "date_maj": maj,
                "source": src,
                "geometry": piece,
            })
    return _frame(records)
