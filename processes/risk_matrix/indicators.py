"""Indicator values of the environmental risks for an area (a commune or a polygon).

Pure functions over GeoDataFrames (EPSG:2154) and a raster path: no web framework, no store
access (the processor reads the layers with :mod:`services.layers` and passes them in).  Each
``rN_*`` function returns a flat dict of named indicators; which of them set the probability
and the gravity of a risk is decided by ``data/rules.yaml``, not here.  The definitions are
documented in ``data/SOURCES.md``.

Population of an area
    Only the municipal population of each commune is published (``communes``), so people are
    assumed spread evenly over each commune: the population of an area is
    ``sum_c pop_c * |A ∩ c| / |c|`` and the population exposed to a zone ``Z`` is
    ``sum_c pop_c * |Z ∩ A ∩ c| / |c|``.  For a commune this gives its exact population and
    ``pop * share of its area in the zone``.  This uniform-density assumption overstates
    exposure in rural communes (people live in the village, not the fields) and is the first
    thing to replace with a building-level population (INSEE Filosofi 200 m grid, BD TOPO).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from processes.raster_zones import Raster, raster_values

#: collections read by each environmental risk (the processor reads these, the output cites them)
RISK_COLLECTIONS: dict[str, list[str]] = {
    "R1": ["communes", "surchauffe"],
    "R2": ["communes", "alea-inondation"],
    "R3": ["communes", "alea-argiles"],
    "R4": ["communes", "puits-miniers", "terrils", "friches"],
    "R5": ["communes", "bruit"],
    "R6": ["communes", "alea-inondation"],
    "R7": ["communes", "friches"],
    "R8": ["communes", "qualite-air"],
}
VECTOR_LAYERS = sorted({c for cs in RISK_COLLECTIONS.values() for c in cs} - {"surchauffe"})

#: parts of an area smaller than this (m²) are boundary slivers and ignored
MIN_PART_M2 = 1.0


class AreaOutsideTerritory(ValueError):
    """The requested area does not meet any commune of the territory."""


@dataclass(frozen=True)
class Part:
    """The piece of the requested area inside one commune."""

    insee: str
    nom: str
    population: float
    commune_area: float
    geometry: BaseGeometry

    @property
    def fraction(self) -> float:
        """Share of the commune's area covered by the piece (0..1)."""
        return self.geometry.area / self.commune_area if self.commune_area else 0.0


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep the areal part of a geometry (intersections may add lines or points)."""
    if geom.is_empty or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def commune_parts(area: BaseGeometry, communes: gpd.GeoDataFrame,
                  insee: str | None = None) -> list[Part]:
    """Split ``area`` by commune.  With ``insee`` the area *is* that commune: one part, whole.

    ``communes`` needs the columns ``insee``, ``nom`` and ``population_municipale``.
    """
    com = communes.sort_values("insee", kind="mergesort")
    parts = []
    for row in com.itertuples(index=False):
        geom = row.geometry
        if insee is not None:
            if str(row.insee) != str(insee):
                continue
            piece = geom
        else:
            if not geom.intersects(area):
                continue
            piece = _polygonal(shapely.intersection(geom, area))
            if piece.is_empty or piece.area < MIN_PART_M2:
                continue
        parts.append(Part(str(row.insee), str(row.nom), float(row.population_municipale or 0),
                          float(geom.area), piece))
    if not parts:
        raise AreaOutsideTerritory("the area does not meet the territory")
    return parts


def commune_parts_by_insee(communes: gpd.GeoDataFrame) -> dict[str, list[Part]]:
    """``commune_parts(None, communes, insee=i)`` for every commune ``i`` at once (a batch)."""
    out = {}
    for row in communes.itertuples(index=False):
        geom = row.geometry
        out.setdefault(str(row.insee), []).append(
            Part(str(row.insee), str(row.nom), float(row.population_municipale or 0),
                 float(geom.area), geom))
    return out


def covered(parts: Sequence[Part]) -> BaseGeometry:
    """The part of the requested area that lies in the territory."""
    return shapely.union_all([p.geometry for p in parts])


def population(parts: Sequence[Part]) -> float:
    return float(sum(p.population * p.fraction for p in parts))


def exposed_population(parts: Sequence[Part], zone: BaseGeometry | None) -> float:
    """People living in ``zone`` under the uniform-density assumption (module docstring)."""
    if zone is None or zone.is_empty:
        return 0.0
    shapely.prepare(zone)
    total = 0.0
    for p in parts:
        if zone.intersects(p.geometry):
            total += p.population * shapely.intersection(zone, p.geometry).area / p.commune_area
    return float(total)


def share_pct(parts: Sequence[Part], zone: BaseGeometry | None) -> float:
    """Share (%) of the covered area inside ``zone``."""
    if zone is None or zone.is_empty:
        return 0.0
    area = covered(parts)
    if area.area == 0:
        return 0.0
    return float(100.0 * shapely.intersection(zone, area).area / area.area)


def _union(gdf: "gpd.GeoDataFrame | Layer | None", mask=None) -> BaseGeometry:
    if gdf is None or len(gdf) == 0:
        return shapely.Polygon()
    geoms = gdf.geometry if mask is None else gdf.geometry[mask]
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    return shapely.union_all(geoms) if geoms else shapely.Polygon()


class Layer:
    """A vector layer as plain arrays with a spatial index (built once, queried per area).

    Behaves like the small part of a GeoDataFrame the indicators use: ``len``, ``in``,
    ``layer[column]`` (a numpy array), ``.get``, ``.geometry`` (a numpy array of geometries).
    Selecting rows keeps the original order, so unions and counts are those of the frame.
    """

    def __init__(self, geometry: np.ndarray, columns: Mapping[str, np.ndarray],
                 flags: Mapping[str, np.ndarray] | None = None, tree: Any = None,
                 buffers: dict | None = None, index: np.ndarray | None = None):
        self.geometry = geometry
        self.columns = dict(columns)
        self._flags = None if flags is None else dict(flags)
        self._tree = tree
        self._buffers = {} if buffers is None else buffers  # shared with subsets, by distance
        self._index = index  # rows of the root layer (for the shared buffer cache)

    @classmethod
    def of(cls, gdf: "gpd.GeoDataFrame | Layer | None") -> "Layer":
        if isinstance(gdf, Layer):
            return gdf
        if gdf is None or len(gdf) == 0:
            return cls(np.array([], dtype=object), {})
        name = gdf.geometry.name
        cols = {c: gdf[c].to_numpy() for c in gdf.columns if c != name}
        return cls(np.asarray(gdf.geometry.array, dtype=object), cols, flags=friche_flags(gdf))

    def __len__(self) -> int:
        return len(self.geometry)

    def __contains__(self, column: str) -> bool:
        return column in self.columns

    def __getitem__(self, column: str) -> np.ndarray:
        return self.columns[column]

    def get(self, column: str, default: Any = None) -> Any:
        return self.columns.get(column, default)

    @property
    def flags(self) -> dict[str, np.ndarray]:
        if self._flags is None:
            self._flags = friche_flags(self)
        return self._flags

    @property
    def tree(self):
        if self._tree is None:
            self._tree = shapely.STRtree(self.geometry)
        return self._tree

    def take(self, idx: np.ndarray) -> "Layer":
        root = np.arange(len(self)) if self._index is None else self._index
        return Layer(self.geometry[idx], {c: v[idx] for c, v in self.columns.items()},
                     flags={k: v[idx] for k, v in self.flags.items()},
                     buffers=self._buffers, index=root[idx])

    def within(self, area: BaseGeometry) -> "Layer":
        """Rows whose geometry meets ``area``, in the layer's order."""
        if len(self) == 0:
            return self
        idx = np.sort(self.tree.query(area, predicate="intersects"))
        return self.take(idx)

    def buffered(self, distance: float) -> np.ndarray:
        """``geometry.buffer(distance)`` of every row (computed once per root row)."""
        root = np.arange(len(self)) if self._index is None else self._index
        cache = self._buffers.setdefault(float(distance), {})
        out = np.empty(len(self), dtype=object)
        for i, (r, g) in enumerate(zip(root, self.geometry)):
            b = cache.get(int(r))
            if b is None:
                b = cache[int(r)] = g.buffer(distance)
            out[i] = b
        return out


def prepare_layers(layers: Mapping[str, Any]) -> dict[str, Layer]:
    """Index every layer once (for a batch of areas: see :func:`environmental_indicators`)."""
    return {cid: Layer.of(gdf) for cid, gdf in layers.items()}


def _within_area(gdf: "gpd.GeoDataFrame | Layer | None", area: BaseGeometry) -> Layer:
    """Rows of ``gdf`` whose geometry meets ``area`` (an empty layer if none)."""
    return Layer.of(gdf).within(area)


def _r(value: float | None, digits: int = 2) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


# --------------------------------------------------------------------------------------------
# R1 — urban overheating (raster; cells read by processes.raster_zones)
# --------------------------------------------------------------------------------------------
def r1_overheating(parts: Sequence[Part], raster_path: "str | Path | Raster", year: int,
                   params: Mapping[str, Any]) -> dict[str, Any]:
    """Share of the area above the overheating threshold and the people living there."""
    threshold = float(params["overheating_threshold_c"])
    all_values, exposed, hot_pixels, n_pixels = [], 0.0, 0, 0
    for p in parts:
        v = raster_values(raster_path, p.geometry)
        if v.size == 0:
            continue
        hot = int((v >= threshold).sum())
        exposed += p.population * p.fraction * hot / v.size
        hot_pixels += hot
        n_pixels += v.size
        all_values.append(v)
    if not n_pixels:
        return {"annee": year, "seuil_surchauffe_c": threshold, "part_surface_surchauffe_pct": None,
                "anomalie_moyenne_c": None, "anomalie_p90_c": None, "population_exposee": None,
                "pixels": 0}
    values = np.concatenate(all_values)
    return {
        "annee": year,
        "seuil_surchauffe_c": threshold,
        "part_surface_surchauffe_pct": _r(100.0 * hot_pixels / n_pixels),
        "anomalie_moyenne_c": _r(values.mean()),
        "anomalie_p90_c": _r(np.percentile(values, 90)),
        "population_exposee": _r(exposed, 0),
        "pixels": int(n_pixels),
    }


# --------------------------------------------------------------------------------------------
# R2 — flooding, R6 — flood-risk culture
# --------------------------------------------------------------------------------------------
def r2_flood(parts: Sequence[Part], flood: gpd.GeoDataFrame,
             params: Mapping[str, Any]) -> dict[str, Any]:
    area = covered(parts)
    zones = _within_area(flood, area)
    any_zone = _union(zones)
    if len(zones):
        lvl = zones["niveau"]
        mf = _union(zones, np.array([v in ("moyen", "fort") for v in lvl], dtype=bool))
        fort = _union(zones, lvl == "fort")
        clipped = zones.take(np.array(
            [shapely.intersection(g, area).area > MIN_PART_M2 for g in zones.geometry], dtype=bool))
    else:
        mf = fort = shapely.Polygon()
        clipped = zones
    years = [int(y) for y in clipped.get("derniere_crue_annee", []) if y is not None
             and not (isinstance(y, float) and math.isnan(y))]
    return {
        "part_zone_inondable_pct": _r(share_pct(parts, any_zone)),
        "part_alea_moyen_fort_pct": _r(share_pct(parts, mf)),
        "part_alea_fort_pct": _r(share_pct(parts, fort)),
        "population_exposee": _r(exposed_population(parts, any_zone), 0),
        "population_exposee_moyen_fort": _r(exposed_population(parts, mf), 0),
        "nb_zones": int(len(clipped)),
        "types_alea": sorted(set(clipped["type_alea"])) if len(clipped) else [],
        "derniere_crue_annee": max(years) if years else None,
    }


def r6_flood_culture(flood_indicators: Mapping[str, Any],
                     params: Mapping[str, Any]) -> dict[str, Any]:
    """Exposure that has not flooded for long: share of the area in flood zones (0..1) times
    the years since the last flood (reference year of the rules, not today: reproducible)."""
    ref = int(params["reference_year"])
    share = flood_indicators["part_zone_inondable_pct"] or 0.0
    last = flood_indicators.get("derniere_crue_annee")
    years = None if last is None else max(ref - int(last), 0)
    index = 0.0 if not share or years is None else share / 100.0 * years
    return {
        "part_zone_inondable_pct": flood_indicators["part_zone_inondable_pct"],
        "derniere_crue_annee": last,
        "annee_reference": ref,
        "annees_depuis_derniere_crue": years,
        "indice_culture_risque": _r(index),
        "population_exposee": flood_indicators["population_exposee"],
    }


# --------------------------------------------------------------------------------------------
# R3 — clay shrink-swell
# --------------------------------------------------------------------------------------------
def r3_clay(parts: Sequence[Part], clay: gpd.GeoDataFrame,
            params: Mapping[str, Any]) -> dict[str, Any]:
    area = covered(parts)
    zones = _within_area(clay, area)
    if len(zones):
        lvl = np.asarray(zones["niveau"])
        faible = _union(zones, lvl == "faible")
        mf = _union(zones, (lvl == "moyen") | (lvl == "fort"))
        fort = _union(zones, lvl == "fort")
    else:
        faible = mf = fort = shapely.Polygon()
    return {
        "part_exposition_faible_pct": _r(share_pct(parts, faible)),
        "part_exposition_moyenne_forte_pct": _r(share_pct(parts, mf)),
        "part_exposition_forte_pct": _r(share_pct(parts, fort)),
        "population_exposee_moyen_fort": _r(exposed_population(parts, mf), 0),
    }


# --------------------------------------------------------------------------------------------
# R4 — industrial and mining, R7 — soil contamination
# --------------------------------------------------------------------------------------------
def _flag(friches: "gpd.GeoDataFrame | Layer", column: str,
          values: Sequence[str] | None = None) -> np.ndarray:
    if column not in friches:
        return np.zeros(len(friches), dtype=bool)
    col = friches[column]
    if not isinstance(col, pd.Series):
        col = pd.Series(col, dtype=object)
    if values is None:  # a non-empty identifier
        return (col.notna() & (col.astype(str).str.strip() != "") &
                (col.astype(str).str.lower() != "none")).to_numpy()
    return col.isin(list(values)).to_numpy()


def friche_flags(friches: "gpd.GeoDataFrame | Layer") -> dict[str, np.ndarray]:
    """Boolean columns used by R4 and R7 (CNIG friches standard fields)."""
    return {
        "basias": _flag(friches, "site_numero_basias"),
        "basol": _flag(friches, "site_numero_basol"),
        "pollution_averee": _flag(friches, "sol_pollution_existe", ["pollution avérée"]),
        "pollution_peu_probable": _flag(friches, "sol_pollution_existe", ["pollution peu probable"]),
        "amiante": _flag(friches, "bati_pollution", ["amiante"]),
        "industrielle": _flag(friches, "site_type", ["friche industrielle"]),
    }


def r4_industrial(parts: Sequence[Part], puits: gpd.GeoDataFrame, terrils: gpd.GeoDataFrame,
                  friches: gpd.GeoDataFrame, params: Mapping[str, Any]) -> dict[str, Any]:
    area = covered(parts)
    buffer_m = float(params["mining_buffer_m"])
    p_in = _within_area(puits, area)
    t_in = _within_area(terrils, area)
    f_in = _within_area(friches, area)
    flags = f_in.flags
    industrial = flags["basias"] | flags["basol"] | flags["pollution_averee"] | flags["industrielle"]
    n_sites = len(p_in) + len(t_in) + int(industrial.sum())
    surface_km2 = area.area / 1e6
    # zone of influence: around every site of the area *and* of its surroundings
    near = area.buffer(buffer_m)
    sources = list(_within_area(puits, near).buffered(buffer_m))
    sources += list(_within_area(terrils, near).buffered(buffer_m))
    f_near = _within_area(friches, near)
    fl = f_near.flags
    ind_near = fl["basias"] | fl["basol"] | fl["pollution_averee"] | fl["industrielle"]
    sources += list(f_near.buffered(buffer_m)[ind_near])
    influence = shapely.union_all(sources) if sources else shapely.Polygon()
    return {
        "nb_puits_miniers": int(len(p_in)),
        "nb_terrils": int(len(t_in)),
        "nb_friches_industrielles_ou_basias_basol": int(industrial.sum()),
        "nb_sites": int(n_sites),
        "surface_km2": _r(surface_km2, 3),
        "densite_sites_km2": _r(n_sites / surface_km2 if surface_km2 else 0.0, 3),
        "tampon_m": buffer_m,
        "part_zone_influence_pct": _r(share_pct(parts, influence)),
        "population_zone_influence": _r(exposed_population(parts, influence), 0),
    }


def r7_contamination(parts: Sequence[Part], friches: gpd.GeoDataFrame,
                     params: Mapping[str, Any]) -> dict[str, Any]:
    """Brownfields with known or suspected soil pollution, and the people living near them."""
    area = covered(parts)
    f_in = _within_area(friches, area)
    flags = f_in.flags
    w = params["pollution_weights"]
    counts = {
        "nb_friches_pollution_averee": int(flags["pollution_averee"].sum()),
        "nb_friches_basol": int(flags["basol"].sum()),
        "nb_friches_basias": int(flags["basias"].sum()),
        "nb_friches_amiante": int(flags["amiante"].sum()),
        "nb_friches_pollution_peu_probable": int(flags["pollution_peu_probable"].sum()),
    }
    index = sum(float(w[k]) * counts[f"nb_friches_{k}"] for k in
                ("pollution_averee", "basol", "basias", "amiante"))
    buffer_m = float(params["pollution_buffer_m"])
    near = _within_area(friches, area.buffer(buffer_m))
    fl = near.flags
    suspect = fl["pollution_averee"] | fl["basol"] | fl["basias"] | fl["amiante"]
    zone = shapely.union_all(list(near.buffered(buffer_m)[suspect])) \
        if suspect.any() else shapely.Polygon()
    return {**counts, "indice_pollution": _r(index), "tampon_m": buffer_m,
            "population_proximite": _r(exposed_population(parts, zone), 0),
            # no drinking-water catchment layer (captages AEP, ARS) is published yet
            "captages_eau_potable": None}


# --------------------------------------------------------------------------------------------
# R5 — noise
# --------------------------------------------------------------------------------------------
def r5_noise(parts: Sequence[Part], bruit: gpd.GeoDataFrame,
             params: Mapping[str, Any]) -> dict[str, Any]:
    area = covered(parts)
    zones = _within_area(bruit, area)
    hi = float(params["noise_high_lden_db"])
    if len(zones):
        lden = np.asarray(zones["lden_min_db"], dtype=float)
        z55 = _union(zones)
        zhi = _union(zones, lden >= hi)
        infra = sorted(set(zones["infrastructure"]))
    else:
        z55 = zhi = shapely.Polygon()
        infra = []
    return {
        "seuil_lden_eleve_db": hi,
        "part_surface_lden_55_pct": _r(share_pct(parts, z55)),
        "part_surface_lden_eleve_pct": _r(share_pct(parts, zhi)),
        "population_exposee_lden_55": _r(exposed_population(parts, z55), 0),
        "population_exposee_lden_eleve": _r(exposed_population(parts, zhi), 0),
        "infrastructures": infra,
    }


# --------------------------------------------------------------------------------------------
# R8 — air quality
# --------------------------------------------------------------------------------------------
def r8_air(parts: Sequence[Part], air: gpd.GeoDataFrame,
           params: Mapping[str, Any]) -> dict[str, Any]:
    area = covered(parts)
    cells = _within_area(air, area)
    lim_no2 = float(params["no2_limit_ugm3"])
    lim_pm = float(params["pm25_limit_ugm3"])
    if len(cells) == 0:
        return {"no2_moyenne_ugm3": None, "pm25_moyenne_ugm3": None, "no2_max_ugm3": None,
                "pm25_max_ugm3": None, "ratio_valeur_limite": None,
                "part_surface_depassement_pct": None, "population_exposee_depassement": None,
                "population": _r(population(parts), 0)}
    weights = np.array([shapely.intersection(g, area).area for g in cells.geometry])
    if weights.sum() <= 0:
        weights = np.ones(len(cells))
    no2 = np.asarray(cells["no2_ugm3"], dtype=float)
    pm = np.asarray(cells["pm25_ugm3"], dtype=float)
    over = (no2 > lim_no2) | (pm > lim_pm)
    over_zone = _union(cells, over) if over.any() else shapely.Polygon()
    no2_mean = float(np.average(no2, weights=weights))
    pm_mean = float(np.average(pm, weights=weights))
    return {
        "no2_moyenne_ugm3": _r(no2_mean),
        "pm25_moyenne_ugm3": _r(pm_mean),
        "no2_max_ugm3": _r(no2.max()),
        "pm25_max_ugm3": _r(pm.max()),
        "valeur_limite_no2_ugm3": lim_no2,
        "valeur_limite_pm25_ugm3": lim_pm,
        "ratio_valeur_limite": _r(max(no2_mean / lim_no2, pm_mean / lim_pm), 3),
        "part_surface_depassement_pct": _r(share_pct(parts, over_zone)),
        "population_exposee_depassement": _r(exposed_population(parts, over_zone), 0),
        "population": _r(population(parts), 0),
    }


# --------------------------------------------------------------------------------------------
# all of them
# --------------------------------------------------------------------------------------------
def environmental_indicators(parts: Sequence[Part], layers: Mapping[str, gpd.GeoDataFrame],
                             raster_path: str | Path | None, year: int | None,
                             params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Indicators of R1..R8 for the area split in ``parts``.

    ``layers`` maps collection ids (:data:`VECTOR_LAYERS`) to GeoDataFrames in EPSG:2154 that
    cover at least the area (plus ``mining_buffer_m`` for R4), or to the :class:`Layer` of
    :func:`prepare_layers`; ``raster_path`` is a file or a :class:`Raster`.  For many areas,
    prepare the layers and open the raster once and pass them to every call (same results).
    """
    layers = prepare_layers(layers)
    flood = r2_flood(parts, layers.get("alea-inondation"), params)
    out = {
        "R1": (r1_overheating(parts, raster_path, year, params) if raster_path else
               {"annee": year, "part_surface_surchauffe_pct": None, "population_exposee": None}),
        "R2": flood,
        "R3": r3_clay(parts, layers.get("alea-argiles"), params),
        "R4": r4_industrial(parts, layers.get("puits-miniers"), layers.get("terrils"),
                            layers.get("friches"), params),
        "R5": r5_noise(parts, layers.get("bruit"), params),
        "R6": r6_flood_culture(flood, params),
        "R7": r7_contamination(parts, layers.get("friches"), params),
        "R8": r8_air(parts, layers.get("qualite-air"), params),
    }
    return out
