"""Lots of the business parks and their land sales — MODELLED DEMONSTRATION DATA.

No open register of the lots of the Artois business parks exists, so this module *models*
one from the demonstration parks of services.demo.zae (themselves fictitious): every park
is cut into lots by a grid (random offset, lot size from the park's area) clipped to its
outline, each lot shrunk about its centre so that the lots cover the park's usable area
(`surface_utile_ha`: the rest is roads and green space). Statuses follow the park's figures:
the available lots (`disponible`) add up to the park's `surface_disponible_ha` (the last one
cut to the exact remainder), the others are mostly occupied (`occupé`), some reserved or
sold but not yet built (`cédé`); a park `en projet` has no occupied lot. Field names follow
the issue's interface; the park model is the CNIG « Sites économiques » standard (SITE-ECO).

`generate` (collection `zae-lots`) and `generate_sales` (collection `cessions`: one sale for
each `cédé` lot) share the signature of the other generators and never use the global
random state. These records are NOT real observations.
"""
from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity

from services.demo import CRS, REFERENCE_DATE, make_rng, random_date, source_label, \
    weighted_choice

STATUT_WEIGHTS = {  # the lots that are not available, by park state
    "en projet": ({"réservé": 0.6, "cédé": 0.4}),
    "default": ({"occupé": 0.85, "réservé": 0.07, "cédé": 0.08}),
}
AMENAGE_P = {"existant et actif": 0.85, "création": 0.6, "en projet": 0.15,
             "projet de déclassement": 0.7}
ACTIVITES = {
    "industrielle": ["industrie manufacturière", "métallurgie", "industrie agroalimentaire",
                     "plasturgie", "logistique, entreposage"],
    "commerciale": ["commerce de détail", "restauration", "commerce de gros",
                    "services aux particuliers"],
    "tertiaire": ["services aux entreprises", "bureaux d'études", "santé", "formation"],
    "artisanale": ["artisanat du bâtiment", "réparation automobile", "menuiserie",
                   "commerce de gros"],
    "entrepôts, logistique": ["logistique, entreposage", "transport routier",
                              "commerce de gros"],
}
DEFAULT_ACTIVITES = ["industrie manufacturière", "logistique, entreposage",
                     "artisanat du bâtiment", "services aux entreprises", "commerce de gros"]
ACQUEREURS = ["entreprise", "investisseur immobilier", "collectivité", "établissement public",
              "autre"]
MIN_LOT_M2 = 500.0          # grid pieces smaller than this are left out (slivers)
MIN_SPLIT_M2 = 50.0         # a remainder smaller than this is not cut off a lot
MAX_LOTS_PER_PARK = 60


def _grid_pieces(park: shapely.Geometry, rng: np.random.Generator) -> list[shapely.Geometry]:
    """The park cut by a grid of squares (random offset), pieces of at least MIN_LOT_M2."""
    area = park.area
    n = int(np.clip(round(area / rng.uniform(9_000, 20_000)), 3, MAX_LOTS_PER_PARK))
    side = math.sqrt(area / n)
    minx, miny, maxx, maxy = park.bounds
    ox, oy = minx - rng.uniform(0, side), miny - rng.uniform(0, side)
    pieces = []
    shapely.prepare(park)
    for i in range(int((maxx - ox) // side) + 1):
        for j in range(int((maxy - oy) // side) + 1):
            cell = shapely.box(ox + i * side, oy + j * side, ox + (i + 1) * side,
                               oy + (j + 1) * side)
            if not park.intersects(cell):
                continue
            piece = shapely.make_valid(park.intersection(cell))
            polys = [g for g in getattr(piece, "geoms", [piece]) if g.geom_type == "Polygon"]
            piece = shapely.MultiPolygon(polys) if polys else None
            if piece is not None and piece.area >= MIN_LOT_M2:
                pieces.append(piece)
    return pieces


def _shrink(piece: shapely.Geometry, factor: float) -> shapely.Geometry:
    """`piece` scaled by `factor` of its area about its centre, kept inside itself."""
    k = math.sqrt(max(min(factor, 1.0), 0.01))
    c = piece.centroid
    out = shapely.make_valid(affinity.scale(piece, k, k, origin=c).intersection(piece))
    polys = [g for g in getattr(out, "geoms", [out]) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys) if polys else piece


def _split(lot: shapely.Geometry, target_m2: float) -> tuple[shapely.Geometry, shapely.Geometry]:
    """`lot` cut by a vertical line into a western part of `target_m2` (bisection) and the
    rest."""
    minx, miny, maxx, maxy = lot.bounds
    lo, hi = minx, maxx
    for _ in range(50):
        mid = (lo + hi) / 2
        if lot.intersection(shapely.box(minx - 1, miny - 1, mid, maxy + 1)).area < target_m2:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-4:
            break
    west = lot.intersection(shapely.box(minx - 1, miny - 1, hi, maxy + 1))
    east = lot.difference(shapely.box(minx - 1, miny - 1, hi, maxy + 1))

    def multi(g):
        g = shapely.make_valid(g)
        polys = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
        return shapely.MultiPolygon(polys)
    return multi(west), multi(east)


def park_lots(park: dict, geom: shapely.Geometry, seed: int) -> list[dict]:
    """The lots of one park (properties and geometry), deterministic for (seed, park id)."""
    rng = make_rng(seed, f"zae-lots:{park['id']}")
    pieces = _grid_pieces(geom, rng)
    if not pieces:
        return []
    utile = float(park.get("surface_utile_ha") or 0) * 1e4
    factor = utile / sum(p.area for p in pieces) if utile > 0 else 0.85
    lots = [_shrink(p, factor) for p in pieces]
    order = list(rng.permutation(len(lots)))
    dispo = float(park.get("surface_disponible_ha") or 0) * 1e4
    status: dict[int, str] = {}
    extra: list[shapely.Geometry] = []
    left = dispo
    for i in order:
        a = lots[i].area
        if a <= left + 1e-6:
            status[i] = "disponible"
            left -= a
        elif left >= MIN_SPLIT_M2:  # the exact remainder cut off this lot
            west, east = _split(lots[i], left)
            extra.append(west)
            lots[i] = east
            left = 0.0
        if left < MIN_SPLIT_M2:
            break
    etat = park.get("etat") or "existant et actif"
    weights = STATUT_WEIGHTS["en projet" if etat == "en projet" else "default"]
    activites = ACTIVITES.get(park.get("vocation"), DEFAULT_ACTIVITES)
    created = dt.date.fromisoformat(str(park.get("date_creation") or "2000-01-01"))
    out = []
    geoms = lots + extra
    for i, g in enumerate(geoms):
        statut = "disponible" if i >= len(lots) else status.get(i) or \
            weighted_choice(rng, list(weights), list(weights.values()))
        amenage = bool(rng.random() < (0.95 if statut in ("occupé", "cédé")
                                       else AMENAGE_P.get(etat, 0.7)))
        start = max(created, dt.date(1990, 1, 1))
        sold = random_date(rng, start, REFERENCE_DATE) if statut in ("cédé", "occupé") else None
        if statut == "cédé":  # sold recently, not built yet
            sold = random_date(rng, max(start, dt.date(2022, 1, 1)), REFERENCE_DATE)
        out.append({
            "zae_id": park["id"], "statut": statut, "amenage": amenage,
            "surface_m2": round(float(g.area), 1),
            "activite": str(rng.choice(activites)) if statut == "occupé" else None,
            "date_cession": sold.isoformat() if sold else None,
            "date_maj": (sold or random_date(rng, dt.date(2023, 1, 1), REFERENCE_DATE)).isoformat(),
            "geometry": g,
        })
    # identifiers from west to east, then south to north (stable, readable on a map)
    out.sort(key=lambda r: (round(r["geometry"].centroid.x, 1), round(r["geometry"].centroid.y, 1)))
    for n, row in enumerate(out, 1):
        row["id"] = f"{park['id']}-L{n:03d}"
        row["numero"] = n
    return out


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """The lots of every demonstration park (collection `zae-lots`)."""
    parks = layers["zae"].sort_values("id", kind="mergesort")
    src = source_label(seed)
    rows = []
    for park, geom in zip(parks.drop(columns="geometry").to_dict("records"), parks.geometry):
        for lot in park_lots(park, geom, seed):
            rows.append({**lot, "source": src})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    cols = ["id", "zae_id", "numero", "statut", "amenage", "surface_m2", "activite",
            "date_cession", "date_maj", "source", "geometry"]
    return gdf[cols]


def generate_sales(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """One sale for each lot `cédé` (collection `cessions`): its date, surface and park are
    the lot's, the buyer type and price (12 to 40 EUR/m², some unknown) are drawn."""
    lots = layers["zae-lots"].sort_values("id", kind="mergesort")
    lots = lots[lots["statut"] == "cédé"]
    src = source_label(seed)
    rows = []
    for lot, geom in zip(lots.drop(columns="geometry").to_dict("records"), lots.geometry):
        rng = make_rng(seed, f"cessions:{lot['id']}")
        price = None if rng.random() < 0.2 else \
            float(round(lot["surface_m2"] * rng.uniform(12.0, 40.0), -2))
        rows.append({
            "id": f"CES-{lot['id']}", "lot_id": lot["id"], "zae_id": lot["zae_id"],
            "date": lot["date_cession"] or lot["date_maj"], "surface_m2": lot["surface_m2"],
            "acquereur_type": weighted_choice(rng, ACQUEREURS, [0.7, 0.15, 0.05, 0.05, 0.05]),
            "prix_eur": price, "source": src, "geometry": geom,
        })
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    if gdf.empty:
        gdf = gpd.GeoDataFrame(columns=["id", "lot_id", "zae_id", "date", "surface_m2",
                                        "acquereur_type", "prix_eur", "source", "geometry"],
                               geometry="geometry", crs=CRS)
    return gdf
