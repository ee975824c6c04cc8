"""Zonings and risk sites the mutability criteria read — MODELLED DEMONSTRATION DATA.

The ``mutability`` process (Mutafriches method) reads environmental, heritage, urban-policy,
renewable-energy and technological-risk zonings. The real ones (INPN, Géoportail de
l'urbanisme, ANCT, Géorisques...) are not shipped with the repository, so the build publishes
*modelled* stand-ins drawn by seeded generators over the real communes. Every record is
fictitious, its ``nom`` says « (démo) », and it carries ``source`` =
:func:`services.demo.source_label`. They are NOT the real zonings.

``generate_environment``  -> ``zonages-environnementaux`` (MultiPolygon)
    ``type`` ZNIEFF type 2 (valley corridors 300-900 m wide along the approximated rivers of
    :func:`services.demo.hazards.flood_rivers`, rural reaches only), ZNIEFF type 1 (18 seeded
    patches of 15-200 ha, a third of them on real slag heaps of ``terrils``), Natura 2000
    (3 patches of 100-400 ha in the Canche and Authie valleys) and réserve naturelle (2 patches
    of 15-60 ha on slag heaps). Zones of different types may overlap, as real ones do.
``generate_heritage``  -> ``servitudes-patrimoniales`` (MultiPolygon)
    Heritage easements of the local plans: ``abords de monument historique`` (AC1: a 500 m disc
    around a fictitious monument near the centre of a commune; a commune gets one with
    probability 0.15 + 0.5 × min(1, population / 10 000)), ``site inscrit`` / ``site classé``
    (AC2: 10 seeded patches of 10-150 ha) and ``site patrimonial remarquable`` (AC4: the
    centre, 300-600 m, of 3 towns of the Ternois and 7 Vallées).
``generate_qpv``  -> ``qpv`` (MultiPolygon)
    Priority urban neighbourhoods: in the mining-basin communes of at least 7 000 inhabitants,
    ``1 + population // 12 000`` patches of 15-70 ha 300-1 500 m from the centre, inside the
    commune; modelled population.
``generate_enr_zones``  -> ``zones-acceleration-enr`` (MultiPolygon)
    Renewable-energy acceleration zones (loi APER, 2023): in 60 % of the communes, 1-3 zones:
    ``solaire-ombrieres`` (car-park canopies, 1-8 ha near the centre), ``solaire-sol`` or
    ``eolien`` (5-60 ha away from the centre); in 12 % of the rural communes an exclusion zone
    (``exclusion``, 20-150 ha).
``generate_green_blue``  -> ``trame-verte-bleue`` (MultiPolygon)
    Regional ecological network (SRCE/SRADDET-like): ``corridor à préserver`` and ``corridor à
    restaurer`` (100-250 m each side of the approximated rivers, in 3 km reaches; restaurer
    where the reach crosses a commune of the mining basin) and ``réservoir de biodiversité``
    (25 seeded patches of 30-300 ha, a third on slag heaps).
``generate_icpe``  -> ``sites-icpe`` (Point)
    Classified installations (ICPE) and SEVESO sites: 70 establishments, 70 % inside the
    modelled business parks (``zae``), the others near the larger towns; 3 SEVESO seuil haut
    (effects radius 800-1 500 m, PPRT-like), 5 seuil bas (300-700 m), the rest under
    autorisation / enregistrement (effects radius 50-200 m).

``generate_cavities``  -> ``cavites-souterraines`` (Point)
    Underground cavities like BRGM's BDCavité: a Poisson number per commune (mean 3 in the
    communes of the 1914-1918 Artois front, mostly military dugouts; 1 in the Ternois and
    7 Vallées, mostly chalk quarries; 0.4 elsewhere), uniform in the commune.

All geometries are EPSG:2154, centimetre coordinates, inside the territory.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point
from shapely.ops import substring

from . import BASSIN_MINIER_EPCI, REFERENCE_DATE, make_rng, random_date, \
    random_point_in, sorted_communes, source_label, territory, to_l93
from .hazards import flood_rivers
from .reseaux import _frame, _population

MIN_PIECE_M2 = 200.0



def _polygonal(geom) -> MultiPolygon | None:
    if geom is None or geom.is_empty:
        return None
    geom = shapely.make_valid(shapely.set_precision(geom, 0.01))
    parts = []
    for g in getattr(geom, "geoms", [geom]):
        if g.geom_type == "Polygon" and g.area >= MIN_PIECE_M2:
            parts.append(g)
        elif g.geom_type == "MultiPolygon":
            parts += [p for p in g.geoms if p.area >= MIN_PIECE_M2]
    if not parts:
        return None
    out = MultiPolygon(parts)
    return out if out.is_valid else _polygonal(shapely.make_valid(out))


def _blob(rng: np.random.Generator, cx: float, cy: float, area_ha: float):
    """An irregular patch of about ``area_ha``: overlapping discs along a random axis."""
    r_total = math.sqrt(area_ha * 1e4 / math.pi)
    axis = rng.uniform(0, math.pi)
    elong = rng.uniform(1.0, 2.0)
    discs = []
    for _ in range(int(rng.integers(4, 8))):
        r = r_total * rng.uniform(0.35, 0.6)
        t = rng.uniform(-1.0, 1.0) * r_total * 0.7 * elong
        off = rng.normal(0.0, 0.25) * r_total
        discs.append(Point(cx + t * math.cos(axis) - off * math.sin(axis),
                           cy + t * math.sin(axis) + off * math.cos(axis)).buffer(r, quad_segs=6))
    return shapely.union_all(discs).simplify(5.0)


def _date(rng: np.random.Generator, start=dt.date(2015, 1, 1)) -> str:
    return random_date(rng, start, REFERENCE_DATE).isoformat()



def _commune_rows(com: gpd.GeoDataFrame, geom) -> list[int]:
    tree = shapely.STRtree(np.asarray(com.geometry.values))
    return sorted(tree.query(geom.representative_point(), predicate="intersects").tolist())


def _terril_points(layers: dict, rng: np.random.Generator, n: int) -> list[Point]:
    terrils = layers.get("terrils")
    if terrils is None or not len(terrils):
        return []
    pts = to_l93(terrils).geometry.representative_point().to_numpy()
    pick = rng.choice(len(pts), size=min(n, len(pts)), replace=False)
    return [pts[int(i)] for i in sorted(pick)]


def _rural_point(rng, com, pop) -> Point:
    rural = np.flatnonzero(pop < 2000)
    j = int(rng.choice(rural))
    return random_point_in(rng, com.geometry.iloc[j]) or com["centre"].iloc[j]


# ------------------------------------------------------------------------------ environment
ENV_TYPES = ("ZNIEFF type 1", "ZNIEFF type 2", "Natura 2000", "réserve naturelle")
RURAL_RIVERS = ("Canche", "Ternoise", "Authie", "Lys", "Clarence")


def generate_environment(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    terr = territory(com)
    pop = com["population_municipale"].map(_population).to_numpy()
    rng = make_rng(seed, "environnement")
    zones: list[tuple[str, str, object]] = []
    for name, line in flood_rivers(com):
        if not name.startswith(RURAL_RIVERS):
            continue
        zones.append(("ZNIEFF type 2", f"vallée — {name}",
                      line.buffer(rng.uniform(150, 450), quad_segs=6)))
    anchors = _terril_points(layers, rng, 6)
    for k in range(18):
        p = anchors[k] if k < len(anchors) else _rural_point(rng, com, pop)
        zones.append(("ZNIEFF type 1", f"site naturel n°{k + 1}",
                      _blob(rng, p.x, p.y, rng.uniform(15, 200))))
    valleys = [line for name, line in flood_rivers(com) if name.startswith(("Canche", "Authie"))]
    for k in range(3):
        if not valleys:
            break
        line = valleys[k % len(valleys)]
        p = line.interpolate(rng.uniform(0.1, 0.9), normalized=True)
        zones.append(("Natura 2000", f"vallée et coteaux n°{k + 1}",
                      _blob(rng, p.x, p.y, rng.uniform(100, 400))))
    for k, p in enumerate(_terril_points(layers, make_rng(seed, "reserves"), 2)):
        zones.append(("réserve naturelle", f"réserve régionale n°{k + 1}",
                      _blob(rng, p.x, p.y, rng.uniform(15, 60))))
    records = []
    for k, (kind, label, geom) in enumerate(zones):
        geom = _polygonal(shapely.intersection(geom, terr))
        if geom is None:
            continue
        records.append({
            "id": f"ENV-{k + 1:03d}", "type": kind, "nom": f"{kind} (démo) — {label}",
            "surface_ha": round(geom.area / 1e4, 2), "date_maj": _date(rng),
            "source": source_label(seed), "geometry": geom})
    return _frame(records)


# ------------------------------------------------------------------------------ heritage
HERITAGE_TYPES = {"abords de monument historique": "AC1", "site inscrit": "AC2",
                  "site classé": "AC2", "site patrimonial remarquable": "AC4"}
ABORDS_RADIUS_M = 500.0


def generate_heritage(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    terr = territory(com)
    pop = com["population_municipale"].map(_population).to_numpy()
    zones = []
    for i, row in enumerate(com.itertuples()):
        rng = make_rng(seed, f"patrimoine:{row.insee}")
        if rng.random() < 0.15 + 0.5 * min(1.0, pop[i] / 10000):
            p = random_point_in(rng, row.geometry, row.centre, 150.0) or row.centre
            zones.append(("abords de monument historique", row.insee, row.nom,
                          p.buffer(ABORDS_RADIUS_M, quad_segs=16)))
    rng = make_rng(seed, "patrimoine:sites")
    for k in range(10):
        p = _rural_point(rng, com, pop)
        j = _commune_rows(com, p)
        kind = "site classé" if rng.random() < 0.4 else "site inscrit"
        zones.append((kind, com["insee"].iloc[j[0]] if j else None,
                      com["nom"].iloc[j[0]] if j else None, _blob(rng, p.x, p.y,
                                                                   rng.uniform(10, 150))))
    small_towns = [i for i in range(len(com)) if com["epci_siren"].iloc[i] not in
                   BASSIN_MINIER_EPCI and pop[i] >= 1500]
    for i in sorted(rng.choice(small_towns, size=min(3, len(small_towns)),
                               replace=False).tolist()):
        c = com["centre"].iloc[i]
        zones.append(("site patrimonial remarquable", com["insee"].iloc[i], com["nom"].iloc[i],
                      _blob(rng, c.x, c.y, math.pi * rng.uniform(300, 600) ** 2 / 1e4)))
    records = []
    for k, (kind, insee, nom, geom) in enumerate(zones):
        geom = _polygonal(shapely.intersection(geom, terr))
        if geom is None:
            continue
        records.append({
            "id": f"PAT-{k + 1:03d}", "type": kind, "code_sup": HERITAGE_TYPES[kind],
            "nom": f"{kind[0].upper() + kind[1:]} (démo)" + (f" — {nom}" if nom else ""),
            "insee": insee, "commune": nom, "surface_ha": round(geom.area / 1e4, 2),
            "date_maj": _date(make_rng(seed, f"patrimoine:date:{k}")),
            "source": source_label(seed), "geometry": geom})
    return _frame(records)


# ------------------------------------------------------------------------------ QPV
QPV_MIN_POPULATION = 7000


def generate_qpv(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    records = []
    n = 0
    for row in com.itertuples():
        pop = _population(row.population_municipale)
        if row.epci_siren not in BASSIN_MINIER_EPCI or pop < QPV_MIN_POPULATION:
            continue
        rng = make_rng(seed, f"qpv:{row.insee}")
        for k in range(1 + int(pop // 12000)):
            angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(300, 1500)
            cx, cy = row.centre.x + dist * math.cos(angle), row.centre.y + dist * math.sin(angle)
            geom = _polygonal(shapely.intersection(_blob(rng, cx, cy, rng.uniform(15, 70)),
                                                   row.geometry))
            if geom is None:
                continue
            n += 1
            records.append({
                "id": f"QPV-DEMO-{n:03d}", "nom": f"Quartier prioritaire (démo) {k + 1} — {row.nom}",
                "insee": row.insee, "commune": row.nom,
                "population": int(geom.area / 1e4 * rng.uniform(40, 90)),
                "surface_ha": round(geom.area / 1e4, 2), "date_maj": "2024-01-01",
                "source": source_label(seed), "geometry": geom})
    return _frame(records)


# ------------------------------------------------------------------------------ ZAEnR
ENR_TYPES = ("solaire-ombrieres", "solaire-sol", "eolien", "exclusion")


def generate_enr_zones(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    records = []
    n = 0
    for row in com.itertuples():
        rng = make_rng(seed, f"zaenr:{row.insee}")
        pop = _population(row.population_municipale)
        zones = []
        if rng.random() < 0.6:
            for _ in range(int(rng.integers(1, 4))):
                kind = ("solaire-ombrieres", "solaire-sol", "eolien")[
                    int(rng.choice(3, p=[0.45, 0.4, 0.15]))]
                if kind == "solaire-ombrieres":
                    p = random_point_in(rng, row.geometry, row.centre, 400.0)
                    area = rng.uniform(1, 8)
                else:
                    p = random_point_in(rng, row.geometry)
                    area = rng.uniform(5, 60)
                if p is not None:
                    zones.append((kind, _blob(rng, p.x, p.y, area)))
        if pop < 2000 and rng.random() < 0.12:
            p = random_point_in(rng, row.geometry)
            if p is not None:
                zones.append(("exclusion", _blob(rng, p.x, p.y, rng.uniform(20, 150))))
        for kind, geom in zones:
            geom = _polygonal(shapely.intersection(geom, row.geometry))
            if geom is None:
                continue
            n += 1
            records.append({
                "id": f"ZAENR-{n:04d}", "type": kind, "insee": row.insee, "commune": row.nom,
                "surface_ha": round(geom.area / 1e4, 2),
                "date_deliberation": _date(rng, dt.date(2024, 1, 1)),
                "source": source_label(seed), "geometry": geom})
    return _frame(records)


# ------------------------------------------------------------------------------ trame verte et bleue
TVB_TYPES = ("réservoir de biodiversité", "corridor à préserver", "corridor à restaurer")
REACH_M = 3000.0


def generate_green_blue(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    terr = territory(com)
    pop = com["population_municipale"].map(_population).to_numpy()
    basin = shapely.union_all(np.asarray(com.geometry[com["epci_siren"].isin(
        BASSIN_MINIER_EPCI)].values))
    zones = []
    for name, line in flood_rivers(com):
        rng = make_rng(seed, f"tvb:{name}")
        n = max(1, int(math.ceil(line.length / REACH_M)))
        for k in range(n):
            reach = substring(line, k * REACH_M, min((k + 1) * REACH_M, line.length))
            if reach.length < 10:
                continue
            kind = "corridor à restaurer" if reach.intersects(basin) else "corridor à préserver"
            zones.append((kind, "humide", f"{name}, tronçon {k + 1}",
                          reach.buffer(rng.uniform(100, 250), quad_segs=6)))
    rng = make_rng(seed, "tvb:reservoirs")
    anchors = _terril_points(layers, rng, 8)
    for k in range(25):
        p = anchors[k] if k < len(anchors) else _rural_point(rng, com, pop)
        sub = "milieux ouverts (terrils)" if k < len(anchors) else \
            ("boisée", "prairies et bocage", "humide")[int(rng.integers(0, 3))]
        zones.append(("réservoir de biodiversité", sub, f"réservoir n°{k + 1}",
                      _blob(rng, p.x, p.y, rng.uniform(30, 300))))
    records = []
    for k, (kind, sub, label, geom) in enumerate(zones):
        geom = _polygonal(shapely.intersection(geom, terr))
        if geom is None:
            continue
        records.append({
            "id": f"TVB-{k + 1:03d}", "type": kind, "sous_trame": sub,
            "nom": f"{kind[0].upper() + kind[1:]} (démo) — {label}",
            "surface_ha": round(geom.area / 1e4, 2), "date_maj": "2024-06-30",
            "source": source_label(seed), "geometry": geom})
    return _frame(records)


# ------------------------------------------------------------------------------ ICPE / SEVESO
ICPE_COUNT = 70
ACTIVITIES = ("chimie", "stockage de liquides inflammables", "agroalimentaire", "logistique",
              "métallurgie", "traitement de déchets", "plasturgie")


def generate_icpe(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    pop = com["population_municipale"].map(_population).to_numpy()
    rng = make_rng(seed, "icpe")
    zae = layers.get("zae")
    parks = list(to_l93(zae).sort_values("id").geometry) if zae is not None and len(zae) else []
    towns = np.flatnonzero(pop >= 3000)
    statuses = ["seuil haut"] * 3 + ["seuil bas"] * 5 + ["non seveso"] * (ICPE_COUNT - 8)
    records = []
    for k, seveso in enumerate(statuses):
        point = None
        if parks and rng.random() < 0.7:
            point = random_point_in(rng, parks[int(rng.integers(0, len(parks)))])
        if point is None:
            j = int(rng.choice(towns))
            point = random_point_in(rng, com.geometry.iloc[j], com["centre"].iloc[j], 1500.0) \
                or com["centre"].iloc[j]
        if seveso == "seuil haut":
            radius = rng.uniform(800, 1500)
        elif seveso == "seuil bas":
            radius = rng.uniform(300, 700)
        else:
            radius = rng.uniform(50, 200)
        j = _commune_rows(com, point)
        records.append({
            "id": f"ICPE-{k + 1:03d}", "nom": f"Établissement (démo) n°{k + 1}",
            "regime": "autorisation" if seveso != "non seveso" or rng.random() < 0.6
            else "enregistrement",
            "seveso": seveso, "activite": ACTIVITIES[int(rng.integers(0, len(ACTIVITIES)))],
            "rayon_effets_m": round(float(radius), 0),
            "insee": com["insee"].iloc[j[0]] if j else None,
            "commune": com["nom"].iloc[j[0]] if j else None,
            "date_maj": _date(rng), "source": source_label(seed),
            "geometry": shapely.set_precision(point, 0.01)})
    return _frame(records)


# ------------------------------------------------------------------------------ cavities
CAVITY_TYPES = ("carrière souterraine", "ouvrage militaire", "cavité naturelle", "indéterminé")
#: communes of the 1914-1918 Artois front line (many dugouts, "sapes"), by name
FRONT_TOWNS = ("Souchez", "Givenchy-en-Gohelle", "Vimy", "Angres", "Liévin", "Loos-en-Gohelle",
               "Hulluch", "Vermelles", "Cuinchy", "Cambrin", "Festubert", "Richebourg")


def generate_cavities(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Underground cavities like BRGM's BDCavité (layer ``cavites-souterraines``): per commune a Poisson number of points, mean 3 in the communes
    of the 1914-1918 front (:data:`FRONT_TOWNS`, mostly ``ouvrage militaire``), 1 in the
    Ternois and 7 Vallées (chalk quarries, ``carrière souterraine``), 0.4 elsewhere; uniform
    in the commune."""
    com = sorted_communes(layers)
    records = []
    for row in com.itertuples():
        rng = make_rng(seed, f"cavites:{row.insee}")
        front = row.nom in FRONT_TOWNS
        lam = 3.0 if front else (1.0 if row.epci_siren not in BASSIN_MINIER_EPCI else 0.4)
        for k in range(int(rng.poisson(lam))):
            point = random_point_in(rng, row.geometry)
            if point is None:
                continue
            if front:
                kind = CAVITY_TYPES[0 if rng.random() < 0.2 else 1]
            else:
                kind = CAVITY_TYPES[int(rng.choice(4, p=[0.6, 0.05, 0.15, 0.2]))]
            records.append({
                "id": f"CAV-{row.insee}-{k + 1:02d}", "type": kind,
                "nom": f"Cavité (démo) {k + 1} — {row.nom}", "insee": row.insee,
                "commune": row.nom, "date_maj": _date(rng), "source": source_label(seed),
                "geometry": point})
    return _frame(records)
