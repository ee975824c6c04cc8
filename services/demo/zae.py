"""Zones d'activités économiques (ZAE) — MODELLED DEMONSTRATION DATA.

No consolidated public inventory of the business parks of the Artois exists
under an open licence, so this module *models* one.  The records are fictitious:
their outlines, names, areas, numbers of firms and jobs are drawn by a seeded
random generator (``numpy.random.default_rng``) and are not observations.

Schema: CNIG standard « Sites économiques », class SITE-ECO
(https://github.com/cnigfr/schema-sites-economiques, ``schema/site-eco/schema.json``
v1.0.0).  Field names are simplified French snake case; the mapping to the
standard is::

    id                     site_id            nom                  site_nom
    type_site              site_type          vocation             site_vocadomi
    etat                   site_etat          evol_urba            site_evol_urba
    insee / commune        site_comm_insee / site_comm_nom
    epci_siren / epci_nom  site_epci_siren / site_epci_nom
    moa_type               site_moa_type      gestionnaire         site_moa_nom
    surface_totale_ha      site_surf_brute    surface_utile_ha     site_surf_utile
    surface_disponible_ha  site_surf_comm_dispo
    nb_etablissements      site_nb_etab       nb_emplois           site_nb_emploi
    date_creation          site_creation_date (here a full ISO date)
    date_maj               site_actu_date     source               source_producteur

Code lists (``type_site``, ``vocation``, ``etat``, ``moa_type``, ``evol_urba``)
are the standard's own enumerations.

What is modelled: about 42 parks in the CA de Béthune-Bruay, Artois-Lys Romane
and 30 in the CA de Lens-Liévin, placed at the edge of real town centres
(communes drawn with a weight growing with their population; park centroid
0.5–3 km from the commune's representative point, the park wholly inside the
commune), 5–150 ha, irregular outlines (jittered rotated rectangles, ~20 % with
a detached extension), no overlaps.  Geometry: MultiPolygon, EPSG:2154.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from . import (
    CRS,
    EPCI_CODES,
    REFERENCE_DATE,
    de,
    epci_names,
    make_rng,
    random_date,
    round_coords,
    sorted_communes,
    source_label,
    territory,
    weighted_choice,
)

#: number of parks per EPCI (SIREN -> count)
TARGETS = {"200072460": 42, "246200364": 30}

TYPES_SITE = [
    "zone d'activité économique",
    "site économique historique hors ZAE",
    "établissement économique isolé",
    "réserve foncière",
]
VOCATIONS = [
    "industrielle",
    "commerciale",
    "tertiaire",
    "artisanale",
    "touristique",
    "portuaire",
    "aéroportuaire, aéronautique",
    "entrepôts, logistique",
    "logistique agricole",
    "mixte",
]
ETATS = ["en projet", "création", "existant et actif", "projet de déclassement", "déclassé", "annulé"]
MOA_TYPES = ["commune", "epci", "société d'économie mixte", "chambre de commerce et industrie", "Etat", "privé"]
EVOL_URBA = ["extension urbaine", "renouvellement urbain", "mixte"]

# vocation -> (draw weight, area factor, firms per useful ha (lo, hi), jobs per useful ha (lo, hi))
_VOCATION_MODEL = {
    "industrielle": (0.22, 1.4, (0.08, 0.30), (18, 45)),
    "entrepôts, logistique": (0.14, 2.0, (0.03, 0.10), (8, 22)),
    "artisanale": (0.24, 0.45, (0.7, 1.6), (12, 28)),
    "commerciale": (0.17, 0.8, (0.35, 0.9), (18, 40)),
    "tertiaire": (0.06, 0.35, (1.0, 3.0), (50, 120)),
    "mixte": (0.17, 1.0, (0.3, 0.8), (15, 35)),
}

_NAME_PATTERNS = {
    "industrielle": ["Zone industrielle {lieu}", "ZI {lieu}", "Parc industriel {lieu}"],
    "entrepôts, logistique": ["Parc logistique {lieu}", "Plateforme logistique {lieu}"],
    "artisanale": ["Zone artisanale {lieu}", "ZA {lieu}", "Village d'artisans {lieu}"],
    "commerciale": ["Zone commerciale {lieu}", "Pôle commercial {lieu}", "Parc commercial {lieu}"],
    "tertiaire": ["Parc tertiaire {lieu}", "Pôle d'affaires {lieu}"],
    "mixte": ["Parc d'activités {lieu}", "ZAE {lieu}", "ZAC {lieu}", "Zone d'activités {lieu}"],
}
_LIEUX_DITS = [
    "des Alouettes", "du Moulin", "de la Croisette", "des Champs", "du Marais", "de la Gare",
    "du Chemin Vert", "du Bois", "du Carreau", "de l'Épinette", "du Pont", "de la Motte",
    "du Blanc Pignon", "des Prés", "du Vivier", "des Hauts Champs", "de la Plaine",
    "du Calvaire", "de la Vallée", "des Tilleuls", "du Rietz", "des Peupliers",
    "du Bord des Eaux", "de la Chaussée", "du Petit Bois", "de la Justice",
]
_DIRECTIONS = ["Est", "Nord-Est", "Nord", "Nord-Ouest", "Ouest", "Sud-Ouest", "Sud", "Sud-Est"]

MIN_HA, MAX_HA = 5.0, 150.0


def _jittered_rectangle(rng: np.random.Generator, width: float, height: float) -> np.ndarray:
    """Vertices (local frame, counter-clockwise) of an irregular quadrilateral-ish
    outline: a rectangle with extra vertices jittered across its edges."""
    jit = 0.07 * min(width, height)
    hw, hh = width / 2, height / 2
    corners = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
    pts = []
    for k in range(4):
        (x0, y0), (x1, y1) = corners[k], corners[(k + 1) % 4]
        # outward normal of this edge
        nx, ny = (y1 - y0), -(x1 - x0)
        norm = math.hypot(nx, ny)
        nx, ny = nx / norm, ny / norm
        cj = rng.uniform(-0.5, 0.5, 2) * jit
        pts.append((x0 + cj[0], y0 + cj[1]))
        n_mid = int(rng.integers(1, 4))
        ts = np.sort(rng.uniform(0.15, 0.85, n_mid))
        for t in ts:
            off = rng.uniform(-1.0, 1.0) * jit
            pts.append((x0 + t * (x1 - x0) + off * nx, y0 + t * (y1 - y0) + off * ny))
    return np.asarray(pts)


def _notch(rng, local: np.ndarray, width: float, height: float) -> np.ndarray:
    """Sometimes cut a rectangular notch out of one corner (L-shaped park)."""
    if rng.random() >= 0.35:
        return local
    poly = Polygon(local)
    fx, fy = rng.uniform(0.25, 0.45), rng.uniform(0.25, 0.45)
    sx, sy = (1 if rng.random() < 0.5 else -1), (1 if rng.random() < 0.5 else -1)
    hw, hh = width / 2, height / 2
    x_in, y_in = sx * (hw - 2 * fx * hw), sy * (hh - 2 * fy * hh)
    x_out, y_out = sx * (hw * 1.5), sy * (hh * 1.5)
    cut = Polygon([(x_in, y_in), (x_out, y_in), (x_out, y_out), (x_in, y_out)])
    res = poly.difference(cut)
    if res.geom_type != "Polygon" or not res.is_valid:
        return local
    return np.asarray(res.exterior.coords)[:-1]


def _place(rng, local: np.ndarray, cx: float, cy: float, angle: float) -> Polygon:
    ca, sa = math.cos(angle), math.sin(angle)
    xy = np.column_stack([cx + local[:, 0] * ca - local[:, 1] * sa, cy + local[:, 0] * sa + local[:, 1] * ca])
    return Polygon(round_coords(xy, 1))


def _outline(rng, area_m2: float, cx: float, cy: float, angle: float) -> MultiPolygon | None:
    """One park: main jittered rectangle, sometimes with a detached extension."""
    aspect = rng.uniform(1.0, 2.3)
    extension = rng.random() < 0.2
    main_area = area_m2 * (rng.uniform(0.6, 0.8) if extension else 1.0)
    w = math.sqrt(main_area * aspect)
    h = main_area / w
    w, h = w * 1.1, h * 1.1  # room for an optional notch
    main = _place(rng, _notch(rng, _jittered_rectangle(rng, w, h), w, h), cx, cy, angle)
    if not main.is_valid or main.is_empty:
        return None
    parts = [main]
    if extension:
        ext_area = area_m2 - main_area
        h2 = h * rng.uniform(0.6, 1.0)
        w2 = ext_area / h2
        gap = rng.uniform(25.0, 60.0)  # a road between the two parts
        side = 1 if rng.random() < 0.5 else -1
        dx = side * (w / 2 + gap + w2 / 2 + 0.1 * min(w, h))
        ca, sa = math.cos(angle), math.sin(angle)
        ext = _place(rng, _jittered_rectangle(rng, w2, h2), cx + dx * ca, cy + dx * sa, angle)
        if not ext.is_valid or ext.intersects(main.buffer(10)):
            return None
        parts.append(ext)
    return MultiPolygon(parts)


def _choose_name(rng, vocation: str, commune: str, direction: str, used: set[str]) -> str:
    pattern = weighted_choice(rng, _NAME_PATTERNS[vocation], [1.0] * len(_NAME_PATTERNS[vocation]))
    for _ in range(20):
        r = rng.random()
        if r < 0.45:
            lieu = _LIEUX_DITS[int(rng.integers(len(_LIEUX_DITS)))]
        elif r < 0.8:
            lieu = f"{de(commune)} {direction}"
        else:
            lieu = de(commune)
        name = pattern.format(lieu=lieu)
        if name not in used:
            used.add(name)
            return name
    n = 2
    while f"{name} {n}" in used:
        n += 1
    used.add(f"{name} {n}")
    return f"{name} {n}"


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model the business parks of the CABBALR and the CALL (see module docstring)."""
    com = sorted_communes(layers)
    terr_inner = territory(com).buffer(-10)
    shapely.prepare(terr_inner)
    names = epci_names(layers, com)
    src = source_label(seed)

    placed: list[dict] = []
    geoms_placed: list = []
    used_names: set[str] = set()
    for siren in sorted(TARGETS):
        rng = make_rng(seed, f"zae:{siren}")
        target = TARGETS[siren]
        cand = com[(com["epci_siren"] == siren) & (com["population_municipale"] >= 800)].reset_index(drop=True)
        weights = cand["population_municipale"].to_numpy(dtype=float) ** 0.85
        p = weights / weights.sum()
        inner_cache: dict[int, object] = {}
        n_here, attempts = 0, 0
        while n_here < target and attempts < target * 40:
            attempts += 1
            i = int(rng.choice(len(cand), p=p))
            row = cand.iloc[i]
            if i not in inner_cache:
                g = row.geometry.buffer(-15)
                shapely.prepare(g)
                inner_cache[i] = g
            inner = inner_cache[i]
            vocation = weighted_choice(rng, list(_VOCATION_MODEL), [v[0] for v in _VOCATION_MODEL.values()])
            _, area_factor, firms_rng, jobs_rng = _VOCATION_MODEL[vocation]
            ha = float(np.clip(math.exp(rng.normal(math.log(28.0), 0.75)) * area_factor, MIN_HA, MAX_HA))
            ok = None
            for _try in range(25):
                dist = rng.uniform(500.0, 3000.0)
                theta = rng.uniform(0, 2 * math.pi)
                cx = row["centre"].x + dist * math.cos(theta)
                cy = row["centre"].y + dist * math.sin(theta)
                geom = _outline(rng, ha * 1e4, cx, cy, rng.uniform(0, math.pi))
                if geom is None:
                    continue
                c = geom.centroid
                d = math.hypot(c.x - row["centre"].x, c.y - row["centre"].y)
                area_ha = geom.area / 1e4
                if (
                    500.0 <= d <= 3000.0
                    and MIN_HA <= area_ha <= MAX_HA
                    and geom.is_valid
                    and inner.contains(geom)
                    and terr_inner.contains(geom)
                    and not any(geom.distance(o) < 30.0 for o in geoms_placed)
                ):
                    ok = (geom, theta)
                    break
                ha = max(MIN_HA + 0.5, ha * 0.9)  # shrink and retry
            if ok is None:
                continue
            geom, theta = ok
            geoms_placed.append(geom)
            n_here += 1
            direction = _DIRECTIONS[int(round(theta / (math.pi / 4))) % 8]
            placed.append(
                _attributes(rng, geom, row, siren, names, vocation, firms_rng, jobs_rng, direction, used_names, src)
            )

    gdf = gpd.GeoDataFrame(placed, geometry="geometry", crs=CRS)
    # identifiers follow the EPCI then the commune order
    gdf = gdf.sort_values(["epci_siren", "insee", "_order"], kind="mergesort").reset_index(drop=True)
    gdf["id"] = [
        f"ZAE-62-{EPCI_CODES.get(s, s)}-{k:03d}"
        for s, k in zip(gdf["epci_siren"], gdf.groupby("epci_siren").cumcount() + 1)
    ]
    gdf = gdf.drop(columns="_order")
    cols = ["id"] + [c for c in gdf.columns if c not in ("id", "geometry")] + ["geometry"]
    return gdf[cols]


def _attributes(rng, geom, row, siren, names, vocation, firms_rng, jobs_rng, direction, used_names, src) -> dict:
    total = round(geom.area / 1e4, 2)
    r = rng.random()
    if r < 0.05:
        type_site = "réserve foncière"
    elif r < 0.15 and vocation in ("industrielle", "mixte", "entrepôts, logistique"):
        type_site = "site économique historique hors ZAE"
    else:
        type_site = "zone d'activité économique"

    if type_site == "réserve foncière":
        etat = "en projet"
    else:
        etat = weighted_choice(rng, ["existant et actif", "création", "en projet", "projet de déclassement"],
                               [0.85, 0.07, 0.04, 0.04])

    utile = round(total * rng.uniform(0.72, 0.9), 2)
    if etat in ("en projet",):
        dispo = round(utile * rng.uniform(0.6, 1.0), 2)
    elif etat == "création":
        dispo = round(utile * rng.uniform(0.3, 0.8), 2)
    else:
        dispo = round(utile * float(rng.beta(0.8, 9.0)), 2)
    dispo = min(dispo, utile, total)

    if etat == "en projet":
        n_etab, n_emploi = 0, 0
    else:
        occupied = max(utile - dispo, 0.5)
        n_etab = max(1, int(round(occupied * rng.uniform(*firms_rng))))
        n_emploi = max(n_etab, int(round(occupied * rng.uniform(*jobs_rng))))

    moa_type = weighted_choice(rng, ["epci", "commune", "société d'économie mixte", "privé",
                                     "chambre de commerce et industrie"], [0.70, 0.10, 0.10, 0.08, 0.02])
    gestionnaire = {
        "epci": names.get(siren, siren),
        "commune": f"Commune de {row['nom']}",
        "société d'économie mixte": "Société d'économie mixte d'aménagement (fictive)",
        "privé": "Gestionnaire privé (fictif)",
        "chambre de commerce et industrie": "CCI Hauts-de-France",
    }[moa_type]

    if type_site == "site économique historique hors ZAE":
        evol = "renouvellement urbain"
        created = random_date(rng, dt.date(1950, 1, 1), dt.date(1990, 12, 31))
    elif etat == "en projet":
        evol = weighted_choice(rng, EVOL_URBA, [0.5, 0.35, 0.15])
        created = random_date(rng, dt.date(2022, 1, 1), dt.date(2025, 6, 30))
    elif etat == "création":
        evol = weighted_choice(rng, EVOL_URBA, [0.5, 0.35, 0.15])
        created = random_date(rng, dt.date(2018, 1, 1), dt.date(2024, 12, 31))
    else:
        evol = weighted_choice(rng, EVOL_URBA, [0.55, 0.3, 0.15])
        created = random_date(rng, dt.date(1965, 1, 1), dt.date(2019, 12, 31))
    maj = random_date(rng, max(created, dt.date(2023, 1, 1)), REFERENCE_DATE)

    return {
        "_order": len(used_names),
        "nom": _choose_name(rng, vocation, str(row["nom"]), direction, used_names),
        "type_site": type_site,
        "vocation": vocation,
        "etat": etat,
        "evol_urba": evol,
        "insee": str(row["insee"]),
        "commune": str(row["nom"]),
        "epci_siren": siren,
        "epci_nom": names.get(siren, siren),
        "moa_type": moa_type,
        "gestionnaire": gestionnaire,
        "surface_totale_ha": total,
        "surface_utile_ha": utile,
        "surface_disponible_ha": dispo,
        "nb_etablissements": int(n_etab),
        "nb_emplois": int(n_emploi),
        "date_creation": created.isoformat(),
        "date_maj": maj.isoformat(),
        "source": src,
        "geometry": geom,
    }
