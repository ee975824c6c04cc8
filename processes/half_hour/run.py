"""From frames to the indicator: the territory's cells, the facilities open at a date, the
travel times of :mod:`.routing`, :func:`.core.compute`, and the outputs as JSON/GeoJSON.

Shared by the process adapter (:mod:`.processor`, frames read through services.layers) and the
generator of the ``demi-heure`` collection (:func:`generate_sectors`, frames given by the
build). No web import; bad inputs raise :class:`TerritoryError` (a ValueError with a message
key and its parameters, turned into a bilingual 400/404 by the adapter).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import core

LOGGER = logging.getLogger(__name__)

CABBALR = "200072460"
T0 = "2022-01-01"
#: the state the published ``demi-heure`` layer shows (fixed: builds stay deterministic)
PUBLISHED_DATES = (T0, "2026-01-01")
#: facilities this far outside the territory still count (people cross its borders)
FACILITY_MARGIN_M = 60000.0  # 30 min by train
DEFAULT_DEPARTURE = (8 * 3600, 9 * 3600)
_TO_CRS84 = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)


class TerritoryError(ValueError):
    def __init__(self, key: str, status: int = 400, **params):
        super().__init__(key)
        self.key, self.status, self.params = key, status, params


@dataclass
class Territory:
    label: dict[str, Any]
    insee: set[str] | None      # the communes, when the territory is made of communes
    geometry: Any               # shapely, EPSG:2154


def territory_from(spec: dict[str, Any], communes: gpd.GeoDataFrame,
                   geometry=None) -> Territory:
    """{"epci": SIREN} | {"communes": [INSEE...]} | a geometry already checked (EPSG:2154)."""
    com = communes.copy()
    com["insee"] = com["insee"].astype(str)
    com["epci_siren"] = com["epci_siren"].astype(str)
    if "epci" in spec:
        sel = com[com["epci_siren"] == str(spec["epci"])]
        if sel.empty:
            raise TerritoryError("half_hour_epci_unknown", status=404, epci=str(spec["epci"]))
        nom = str(sel["epci_nom"].iloc[0]) if "epci_nom" in sel.columns else str(spec["epci"])
        label = {"epci": str(spec["epci"]), "nom": nom, "communes": len(sel)}
    elif "communes" in spec:
        wanted = [str(c) for c in spec["communes"]]
        sel = com[com["insee"].isin(wanted)]
        missing = sorted(set(wanted) - set(sel["insee"]))
        if missing:
            raise TerritoryError("half_hour_communes_unknown", status=404,
                                 communes=", ".join(missing[:10]))
        label = {"communes": sorted(set(wanted))}
    else:
        return Territory({"bbox_2154": [round(v, 1) for v in geometry.bounds]}, None, geometry)
    geom = shapely.union_all(np.asarray(sel.geometry.values))
    return Territory(label, set(sel["insee"]), geom)


def territory_cells(cells: gpd.GeoDataFrame, territory: Territory) -> gpd.GeoDataFrame:
    """The inhabited cells of the territory: by their commune when the cells carry one and the
    territory is made of communes, else by their centre in the territory's polygon."""
    # Filosofi's own files spell them Idcar_200m, Ind
    cells = cells.rename(columns={c: c.lower() for c in cells.columns
                                  if c.lower() in ("idcar_200m", "ind", "insee")})
    cells = cells[pd.to_numeric(cells["ind"], errors="coerce").fillna(0) > 0]
    if territory.insee is not None and "insee" in cells.columns \
            and cells["insee"].notna().all():
        out = cells[cells["insee"].astype(str).isin(territory.insee)]
    else:
        centres = cells.geometry.centroid
        shapely.prepare(territory.geometry)
        out = cells[shapely.contains_xy(territory.geometry, centres.x.values, centres.y.values)]
    if out.empty:
        raise TerritoryError("half_hour_no_cell")
    return out.sort_values("idcar_200m" if "idcar_200m" in out.columns else out.columns[0],
                           kind="mergesort").reset_index(drop=True)


def open_at(facilities: gpd.GeoDataFrame, date: str) -> gpd.GeoDataFrame:
    """The facilities open at `date` (ISO): opened on or before it (or no date), not closed
    on or before it."""
    opened = facilities.get("date_ouverture", pd.Series(None, index=facilities.index))
    closed = facilities.get("date_fermeture", pd.Series(None, index=facilities.index))
    o = opened.astype("string").str.slice(0, 10)
    c = closed.astype("string").str.slice(0, 10)
    ok = (o.isna() | (o <= date)) & (c.isna() | (c > date))
    return facilities[ok.fillna(False).to_numpy(bool)]


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    pts = gdf.geometry.centroid if (gdf.geom_type != "Point").any() else gdf.geometry
    return np.column_stack([pts.x.values, pts.y.values]) if len(gdf) else np.empty((0, 2))


def _crs84(geom) -> dict[str, Any]:
    g = shapely.transform(geom, lambda xy: np.column_stack(
        _TO_CRS84.transform(xy[:, 0], xy[:, 1])))
    return shapely.geometry.mapping(shapely.set_precision(g, 1e-6))


def routing_reach(date: str, departure: tuple[int, int]) -> Callable:
    """The travel-time function of the routing package for a date (H6b's interface)."""
    from .routing import load_network, reach

    net = load_network(date=dt.date.fromisoformat(date))

    def _reach(origins, targets, mode, minutes):
        return reach(net, origins, targets, mode, minutes, departure=departure)
    return _reach


@dataclass
class Run:
    date: str
    result: core.Result
    cells: gpd.GeoDataFrame
    seconds: float


def run(cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, date: str,
        bundles: core.Bundles, reach: Callable, levels: Sequence[str] | None = None,
        functions: Sequence[str] | None = None) -> Run:
    started = time.perf_counter()
    fac = open_at(facilities, date)
    result = core.compute(_xy(cells), pd.to_numeric(cells["ind"]).to_numpy(float), _xy(fac),
                          fac["typequ"].astype(str).to_numpy(), bundles, reach, levels,
                          functions)
    return Run(date, result, cells, round(time.perf_counter() - started, 2))


def nearby_facilities(facilities: gpd.GeoDataFrame, territory: Territory) -> gpd.GeoDataFrame:
    minx, miny, maxx, maxy = territory.geometry.bounds
    m = FACILITY_MARGIN_M
    return facilities.cx[minx - m:maxx + m, miny - m:maxy + m]


def cells_geojson(r: Run, bundles: core.Bundles) -> dict[str, Any]:
    res = r.result
    feats = []
    geoms = r.cells.geometry.values
    ids = r.cells["idcar_200m"].astype(str).tolist() if "idcar_200m" in r.cells.columns \
        else [str(i) for i in range(len(r.cells))]
    for i in range(len(r.cells)):
        props: dict[str, Any] = {"idcar_200m": ids[i], "ind": float(res.cell_pop[i])}
        for lid in res.levels:
            row = res.reached[lid][i]
            props[lid] = [f for f, ok in zip(res.functions, row) if ok]
            props[f"{lid}_toutes"] = bool(row.all())
        feats.append({"type": "Feature", "id": ids[i], "properties": props,
                      "geometry": _crs84(geoms[i])})
    return {"type": "FeatureCollection", "features": feats}


def sectors_frame(r: Run, bundles: core.Bundles) -> gpd.GeoDataFrame:
    """One (Multi)Polygon per level: the union of the cells reaching every function."""
    res = r.result
    rows = []
    for lid in res.levels:
        covered = res.all_reached(lid)
        geom = core.sectors(r.cells.geometry.values, covered)
        level = bundles.levels[lid]
        rows.append({
            "id": f"{lid}-{r.date}", "niveau": lid, "titre": level.title.get("fr", lid),
            "modes": ", ".join(level.modes), "minutes": level.minutes, "date_etat": r.date,
            "population_couverte": int(round(float(res.cell_pop[covered].sum()))),
            "part_population": round(float(res.cell_pop[covered].sum() / res.population), 4)
            if res.population else 0.0,
            "fonctions": ", ".join(res.functions), "geometry": geom})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:2154")


def sectors_geojson(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    feats = []
    for row in frame.itertuples():
        props = {k: getattr(row, k) for k in frame.columns if k not in ("geometry",)}
        props = {k: (v.item() if hasattr(v, "item") else v) for k, v in props.items()}
        feats.append({"type": "Feature", "id": props["id"], "properties": props,
                      "geometry": _crs84(row.geometry) if not row.geometry.is_empty else None})
    return {"type": "FeatureCollection", "features": feats}


# ------------------------------------------------------------------ the published layer
def _digest(cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> str:
    h = hashlib.sha256(core.BUNDLES_PATH.read_bytes())
    h.update(repr(PUBLISHED_DATES).encode())
    h.update(pd.util.hash_pandas_object(cells[["idcar_200m", "ind"]].astype(str),
                                        index=False).values.tobytes())
    cols = [c for c in ("id", "typequ", "date_ouverture", "date_fermeture")
            if c in facilities.columns]
    h.update(pd.util.hash_pandas_object(facilities[cols].astype(str), index=False)
             .values.tobytes())
    h.update(np.round(_xy(facilities), 1).tobytes())
    return h.hexdigest()[:16]


def full_run(communes: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
             facilities: gpd.GeoDataFrame, reach_for: Callable | None = None,
             cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The sectors of the whole CABBALR at each of :data:`PUBLISHED_DATES` (cached under
    `cache_dir` by a digest of the cells, facilities, bundles and dates)."""
    bundles = core.load_bundles()
    territory = territory_from({"epci": CABBALR}, communes)
    tcells = territory_cells(cells, territory)
    fac = nearby_facilities(facilities, territory)
    digest = _digest(tcells, fac)
    cache = cache_dir / f"demi-heure-{digest}.geojson" if cache_dir else None
    if cache is not None and cache.exists():
        LOGGER.info("demi-heure: cached full run %s", cache.name)
        return gpd.read_file(cache).set_crs("EPSG:2154", allow_override=True)
    reach_for = reach_for or (lambda date: routing_reach(date, DEFAULT_DEPARTURE))
    frames = []
    for date in PUBLISHED_DATES:
        r = run(tcells, fac, date, bundles, reach_for(date))
        LOGGER.info("demi-heure: CABBALR at %s in %.1f s", date, r.seconds)
        frames.append(sectors_frame(r, bundles))
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                           crs="EPSG:2154")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob("demi-heure-*.geojson"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(out.to_json(), encoding="utf-8")
        tmp.replace(cache)
    return out


def generate_sectors(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Generator of the ``demi-heure`` collection (collections/demi-heure.yml)."""
    from services.settings import get_settings

    return full_run(layers["communes"], layers["carreaux-200m"], layers["equipements"],
                    cache_dir=get_settings().var_dir / "half_hour" / "results")


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item")
                                 else str(v)))
