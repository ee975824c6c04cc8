"""Networks the mutability criteria read — MODELLED DEMONSTRATION DATA.

The method of the ``mutability`` process (Mutafriches) measures distances from a brownfield to
the major road network, to public transport, to the electricity grid and to heat networks. No
open layer of these is shipped with the repository, so the build publishes *modelled*
stand-ins drawn by seeded generators (``numpy.random.default_rng`` through
:func:`services.demo.make_rng`) over the real communes. Every record is fictitious and carries
``source`` = :func:`services.demo.source_label`. They are NOT the real networks.

``generate_roads``  -> ``routes-principales`` (MultiLineString)
    The major roads of :data:`services.demo.hazards.INFRASTRUCTURES` (A26, A21, RN17, RN41,
    RN47, RD943, RD301, RD939, RD916): the *same approximated* courses as the ``bruit`` layer
    (smoothed lines through real town centres), clipped to the territory. ``categorie``
    autoroute / route nationale / route départementale; every one is flagged as a "route à
    grande circulation" (``grande_circulation``).
``generate_junctions``  -> ``echangeurs-autoroutiers`` (Point)
    Motorway junctions: on each modelled motorway, the point of the line nearest to each town
    it passes, moved along the line by a seeded ±300 m, numbered in line order.
``generate_stops``  -> ``arrets-transport`` (Point)
    Railway stations (``mode`` train) on the modelled lines of
    :data:`~services.demo.hazards.INFRASTRUCTURES`, at the point of the line nearest to each
    town listed on it; bus stops (``mode`` bus): ``round(population / 700)`` per commune (at
    most 45; communes under 150 inhabitants get one with probability population / 300),
    Gaussian around the town centre (σ = 150 m + 4 m × √population), inside the commune.
``generate_substations``  -> ``postes-electriques`` (Point)
    HV/MV substations ("postes sources"): one in each commune of at least 6 000 inhabitants
    and in 8 rural communes drawn with a probability proportional to their area, within
    800 m of the centre; ``tension_kv`` 63/90/225 kV; ``capacite_restante_mw``, the capacity
    still reserved for renewables in the regional grid plan (S3REnR-like), is 0 for about
    a quarter of them (``sature`` = true).
``generate_heat_networks``  -> ``reseaux-chaleur`` (MultiLineString)
    Urban heat networks in the six largest towns (Lens, Liévin, Béthune, Bruay-la-Buissière,
    Avion, Harnes): 3-6 branches of seeded random walks of 300-1 500 m from the town centre,
    inside the commune; energy mix and commissioning year drawn.

All geometries are EPSG:2154, centimetre coordinates.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point

from . import CRS, REFERENCE_DATE, make_rng, random_date, random_point_in, sorted_communes, \
    source_label, territory
from .hazards import INFRASTRUCTURES, noise_lines

ROAD_KINDS = ("autoroute", "route nationale", "route départementale")
MANAGERS = {"autoroute": "concessionnaire autoroutier", "route nationale": "DIR Nord",
            "route départementale": "Département du Pas-de-Calais"}


def _frame(records: list[dict]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=CRS)
    cols = ["id"] + [c for c in gdf.columns if c not in ("id", "geometry")] + ["geometry"]
    return gdf[cols].reset_index(drop=True)


def _round(geom):
    return shapely.set_precision(geom, 0.01)


def _date_maj(rng: np.random.Generator) -> str:
    return random_date(rng, dt.date(2023, 1, 1), REFERENCE_DATE).isoformat()


def _population(value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(x) else x


def _commune_at(com: gpd.GeoDataFrame, point: Point) -> int:
    """Row of ``com`` containing ``point`` (nearest commune on a gap)."""
    tree = shapely.STRtree(np.asarray(com.geometry.values))
    hits = sorted(tree.query(point, predicate="intersects").tolist())
    return hits[0] if hits else int(tree.nearest(point))


def _lines_multi(geom) -> MultiLineString | None:
    parts = [g for g in getattr(geom, "geoms", [geom])
             if g.geom_type == "LineString" and g.length > 1.0]
    parts += [p for g in getattr(geom, "geoms", [geom]) if g.geom_type == "MultiLineString"
              for p in g.geoms if p.length > 1.0]
    return MultiLineString(parts) if parts else None


def _line_points(line: LineString, towns: list[str], centre: dict) -> list[tuple[str, float]]:
    """(town, distance along the line) of the point nearest to each town centre."""
    return [(t, float(line.project(centre[t]))) for t in towns if t in centre]


# ------------------------------------------------------------------------------ roads
def generate_roads(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    terr = territory(com)
    records = []
    for name, kind, line in noise_lines(com):
        if kind not in ROAD_KINDS:
            continue
        rng = make_rng(seed, f"routes:{name}")
        geom = _lines_multi(_round(shapely.intersection(line, terr)))
        if geom is None:
            continue
        records.append({
            "id": "ROUTE-" + name, "numero": name, "categorie": kind,
            "grande_circulation": True, "gestionnaire": MANAGERS[kind],
            "longueur_km": round(geom.length / 1000, 2), "date_maj": _date_maj(rng),
            "source": source_label(seed), "geometry": geom})
    return _frame(records)


def generate_junctions(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    terr = territory(com)
    centre = dict(zip(com["nom"], com["centre"]))
    towns_of = {name: towns for name, _kind, towns in INFRASTRUCTURES}
    records = []
    for name, kind, line in noise_lines(com):
        if kind != "autoroute":
            continue
        rng = make_rng(seed, f"echangeurs:{name}")
        number = 0
        for town, at in sorted(_line_points(line, towns_of[name], centre), key=lambda t: t[1]):
            at = min(max(at + rng.uniform(-300, 300), 0.0), line.length)
            point = _round(line.interpolate(at))
            if not terr.contains(point):
                continue
            number += 1
            j = _commune_at(com, point)
            records.append({
                "id": f"ECH-{name}-{number:02d}", "autoroute": name, "numero": number,
                "nom": f"Échangeur {number} ({town})", "insee": com["insee"].iloc[j],
                "commune": com["nom"].iloc[j], "date_maj": _date_maj(rng),
                "source": source_label(seed), "geometry": point})
    return _frame(records)


# ------------------------------------------------------------------------------ public transport
BUS_PER_INHABITANTS = 700
MAX_BUS_STOPS = 45


def generate_stops(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    terr = territory(com)
    centre = dict(zip(com["nom"], com["centre"]))
    towns_of = {name: towns for name, _kind, towns in INFRASTRUCTURES}
    records = []
    stations: set[str] = set()
    for name, kind, line in noise_lines(com):
        if kind != "voie ferrée":
            continue
        for town, at in _line_points(line, towns_of[name], centre):
            if town in stations:
                continue
            point = _round(line.interpolate(at))
            if not terr.contains(point):
                continue
            stations.add(town)
            j = _commune_at(com, point)
            records.append({
                "id": f"GARE-{com['insee'].iloc[j]}", "nom": f"Gare de {town}", "mode": "train",
                "nb_lignes": 1, "insee": com["insee"].iloc[j], "commune": com["nom"].iloc[j],
                "geometry": point})
    for row in com.itertuples():
        rng = make_rng(seed, f"arrets:{row.insee}")
        pop = _population(row.population_municipale)
        n = min(round(pop / BUS_PER_INHABITANTS), MAX_BUS_STOPS)
        if n == 0 and pop >= 150:
            n = 1
        elif n == 0 and rng.random() < pop / 300:
            n = 1
        sigma = 150.0 + 4.0 * math.sqrt(max(pop, 1.0))
        for k in range(n):
            point = random_point_in(rng, row.geometry, row.centre, sigma) or \
                random_point_in(rng, row.geometry)
            if point is None:
                continue
            records.append({
                "id": f"BUS-{row.insee}-{k + 1:02d}", "nom": f"Arrêt {k + 1} ({row.nom})",
                "mode": "bus", "nb_lignes": int(1 + rng.integers(0, 1 + int(pop // 8000))),
                "insee": row.insee, "commune": row.nom, "geometry": point})
    rng = make_rng(seed, "arrets:dates")
    for r in records:
        r["date_maj"] = _date_maj(rng)
        r["source"] = source_label(seed)
    return _frame(records)


# ------------------------------------------------------------------------------ energy
SUBSTATION_MIN_POPULATION = 6000
RURAL_SUBSTATIONS = 8
SATURATED_SHARE = 0.25


def generate_substations(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    rng = make_rng(seed, "postes")
    pop = com["population_municipale"].fillna(0).astype(float).to_numpy()
    chosen = [i for i in range(len(com)) if pop[i] >= SUBSTATION_MIN_POPULATION]
    rural = [i for i in range(len(com)) if pop[i] < SUBSTATION_MIN_POPULATION]
    area = com.geometry.area.to_numpy()[rural]
    chosen += sorted(rng.choice(rural, size=RURAL_SUBSTATIONS, replace=False,
                                p=area / area.sum()).tolist())
    records = []
    for i in sorted(chosen):
        row = com.iloc[i]
        point = random_point_in(rng, row.geometry, row["centre"], 800.0) or row["centre"]
        saturated = bool(rng.random() < SATURATED_SHARE)
        records.append({
            "id": f"POSTE-{row['insee']}", "nom": f"Poste source (démo) {row['nom']}",
            "tension_kv": int(rng.choice([63, 90, 225], p=[0.55, 0.35, 0.10])),
            "capacite_restante_mw": 0.0 if saturated else round(float(rng.uniform(0.5, 40.0)), 1),
            "sature": saturated, "insee": row["insee"], "commune": row["nom"],
            "date_maj": _date_maj(rng), "source": source_label(seed),
            "geometry": _round(point)})
    return _frame(records)


HEAT_TOWNS = ("Lens", "Liévin", "Béthune", "Bruay-la-Buissière", "Avion", "Harnes")
HEAT_ENERGIES = ("biomasse et gaz", "récupération de chaleur fatale", "gaz", "géothermie et gaz")


def generate_heat_networks(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    records = []
    for town in HEAT_TOWNS:
        match = com.index[com["nom"] == town]
        if not len(match):
            continue
        row = com.loc[match[0]]
        rng = make_rng(seed, f"chaleur:{town}")
        branches = []
        for _ in range(int(rng.integers(3, 7))):
            x, y = row["centre"].x, row["centre"].y
            heading = rng.uniform(0, 2 * math.pi)
            length = rng.uniform(300, 1500)
            pts = [(x, y)]
            walked = 0.0
            while walked < length:
                step = rng.uniform(80, 200)
                heading += rng.normal(0, 0.35)
                x, y = x + step * math.cos(heading), y + step * math.sin(heading)
                pts.append((x, y))
                walked += step
            branches.append(LineString(pts))
        geom = _lines_multi(_round(shapely.intersection(shapely.union_all(branches),
                                                        row.geometry)))
        if geom is None:
            continue
        records.append({
            "id": f"RCU-{row['insee']}", "nom": f"Réseau de chaleur (démo) {row['nom']}",
            "energie": HEAT_ENERGIES[int(rng.integers(0, len(HEAT_ENERGIES)))],
            "annee_mise_en_service": int(rng.integers(1965, 2023)),
            "longueur_km": round(geom.length / 1000, 2), "insee": row["insee"],
            "commune": row["nom"], "date_maj": _date_maj(rng), "source": source_label(seed),
            "geometry": geom})
    return _frame(records)
