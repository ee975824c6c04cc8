"""The frames the key figures are computed from, and the date of each one's data.

One function for the build and the recompute process: :func:`collect` takes a reader
(collection id -> GeoDataFrame in EPSG:2154), the overheating raster's files and the build
date, and gives the frame of every source of the definitions file:

* `collection:` sources are the collection as read;
* `derived:` sources are tables the server derives from its layers with the other processes'
  own code, so that a figure here is what that process answers:
    - ``overheating_zones``: per commune, the 25 m cells of the latest summer whose centre lies
      in it (processes.raster_zones, the rule of zonal-statistics and risk-matrix R1) and their
      statistics (processes.zonal_statistics.core): ``cellules``, ``anomalie_moyenne_c``,
      ``cellules_chaudes`` (>= the ramp's hot threshold, 4 °C), ``cellules_fraiches``
      (<= the source's ``cool_threshold_c``);
    - ``solar_roofs``: every building of ``batiments`` through the solar-potential model
      (processes.solar_potential, no surface model: no shading): ``classe`` 1-5,
      ``production_kwh_an``, ``puissance_kwc``. The process computes roofs on request only;
      here every roof is computed at each recompute (about a second for 6 000 roofs), at one
      site for the whole territory (the centre of all roofs: the process takes the centre of
      the roofs it is given, so a commune's run differs by less than 0.5 %; one run per commune
      would cost a typical year of sun positions each, about 40 s);
    - ``environmental_risks``: the risks of the risk-matrix environmental matrix of every
      commune (its indicators and rules): one row per commune and risk, ``criticite``.

No web import here; the rasters are read with rasterio.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from .definitions import Definitions, Source

Reader = Callable[[str], gpd.GeoDataFrame]


class SourceError(ValueError):
    """A source cannot be read (a collection or the overheating raster is missing)."""


def latest_raster(files: Mapping[str, str] | None) -> tuple[int | None, str]:
    """(year, path) of the latest summer of the overheating raster's files {year: path}."""
    if not files:
        raise SourceError("the overheating raster (surchauffe) is not built")
    years = sorted(files, key=lambda y: int(y) if str(y).isdigit() else -1)
    year = years[-1]
    return (int(year) if str(year).isdigit() else None), files[year]


def hot_threshold() -> float:
    """The ramp's overheating threshold (styles/surchauffe.ramp.json): the one of the map,
    the legend and zonal-statistics."""
    from services.settings import PROJECT_DIR
    ramp = json.loads((PROJECT_DIR / "styles" / "surchauffe.ramp.json").read_text("utf-8"))
    return float(ramp["hot_threshold"])


# ---------------------------------------------------------------------------- derived tables
def overheating_zones(communes: gpd.GeoDataFrame, raster: Any, cool: float,
                      hot: float) -> pd.DataFrame:
    from processes.raster_zones import raster_values
    from processes.zonal_statistics import core as zonal

    rows = []
    for insee, geom in zip(communes["insee"].astype(str), communes.geometry):
        values = raster_values(raster, geom)
        row = {"insee": insee, "cellules": 0, "anomalie_moyenne_c": None,
               "cellules_chaudes": 0, "cellules_fraiches": 0}
        try:
            stats = zonal.zonal_statistics(values, np.ones(values.shape, dtype=bool), hot, 1.0)
        except zonal.EmptyZone:
            rows.append(row)
            continue
        cells = values[np.isfinite(values)]
        row.update(cellules=stats.pixel_count, anomalie_moyenne_c=stats.mean,
                   cellules_chaudes=int(round(stats.hot_share * stats.pixel_count)),
                   cellules_fraiches=int((cells <= cool).sum()))
        rows.append(row)
    return pd.DataFrame(rows)


def solar_roofs(batiments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import processes.solar_potential.processor as solar
    from processes.solar_potential import core, shading
    from processes.solar_potential.roofs import _building_roofs

    keep = ["id", "date_maj"] if "date_maj" in batiments else ["id"]
    out = gpd.GeoDataFrame(batiments[keep].copy(), geometry=batiments.geometry.to_numpy(),
                           crs=batiments.crs).reset_index(drop=True)
    out["classe"] = pd.Series([None] * len(out), dtype="Int64")
    out["production_kwh_an"] = np.nan
    out["puissance_kwc"] = np.nan
    if not len(out):
        return out
    result = solar._compute(_building_roofs(batiments), None, None, None,
                            core.load_parameters(), gpd, shading)
    by_id = {str(f["id"]): f["properties"] for f in result["features"]}
    props = [by_id.get(str(i), {}) for i in out["id"]]
    out["classe"] = pd.array([p.get("class") for p in props], dtype="Int64")
    out["production_kwh_an"] = [p.get("production_kwh_yr", np.nan) for p in props]
    out["puissance_kwc"] = [p.get("peak_power_kwc", np.nan) for p in props]
    return out


def environmental_risks(layers: Mapping[str, gpd.GeoDataFrame], raster: Any,
                        year: int | None) -> pd.DataFrame:
    from processes.risk_matrix import core as rules_core
    from processes.risk_matrix import indicators

    rules = rules_core.load_rules()
    params = rules["parameters"]
    prepared = indicators.prepare_layers({cid: layers[cid] for cid in indicators.VECTOR_LAYERS})
    parts_of = indicators.commune_parts_by_insee(layers["communes"])
    rows = []
    for insee in layers["communes"]["insee"].astype(str):
        values = indicators.environmental_indicators(parts_of[insee], prepared, raster, year,
                                                     params)
        for risk in rules["environmental"]:
            entry = rules_core.assess(risk, values.get(risk["id"], {}), [], rules)
            rows.append({"insee": insee, "risque": risk["id"], "criticite": entry["criticity"]})
    return pd.DataFrame(rows, columns=["insee", "risque", "criticite"])


# ---------------------------------------------------------------------------- collect
def needed_collections(defs: Definitions) -> list[str]:
    """Every collection the sources read, the communes first, and the EPCI (names)."""
    out = ["communes", "epci"]
    for src in defs.sources.values():
        reads = src.collections
        if src.derived == "environmental_risks":
            from processes.risk_matrix import indicators
            reads = tuple(reads) + tuple(indicators.VECTOR_LAYERS)
        out.extend(c for c in reads if c not in out)
    return out


def collect(defs: Definitions, read: Reader, raster_files: Mapping[str, str] | None,
            time_fields: Mapping[str, str | None], build_date: str
            ) -> tuple[dict[str, pd.DataFrame], dict[str, str | None], dict[str, Any]]:
    """(frames by source id, data date by source id, context) for :func:`core.compute`.

    ``read`` gives a collection (each is read once), ``raster_files`` the overheating
    raster's {year: path}, ``time_fields`` the time field of each collection (its data date),
    ``build_date`` the date of layers that have none (YYYY-MM-DD). ``context`` holds the
    communes, the EPCI and the summer used."""
    cache: dict[str, gpd.GeoDataFrame] = {}

    def layer(cid: str) -> gpd.GeoDataFrame:
        if cid not in cache:
            cache[cid] = read(cid)
        return cache[cid]

    raster_state: dict[str, Any] = {}

    def raster() -> tuple[Any, int | None]:
        if "raster" not in raster_state:
            from processes.raster_zones import Raster
            year, path = latest_raster(raster_files)
            raster_state["raster"], raster_state["year"] = Raster(path), year
        return raster_state["raster"], raster_state["year"]

    frames: dict[str, pd.DataFrame] = {}
    dates: dict[str, str | None] = {}
    for sid, src in defs.sources.items():
        derived_date = None
        if src.collection:
            frames[sid] = layer(src.collection)
        elif src.derived == "overheating_zones":
            data, year = raster()
            cool = float(src.options.get("cool_threshold_c", -2.0))
            frames[sid] = overheating_zones(layer("communes"), data, cool, hot_threshold())
            derived_date = f"{year}-08-31" if year else None
        elif src.derived == "solar_roofs":
            frames[sid] = solar_roofs(layer(src.collections[0]))
        elif src.derived == "environmental_risks":
            from processes.risk_matrix import indicators
            data, year = raster()
            frames[sid] = environmental_risks({c: layer(c) for c in indicators.VECTOR_LAYERS},
                                              data, year)
        dates[sid] = data_date(src, frames[sid], time_fields, build_date, derived_date)
    context = {"communes": layer("communes"), "epci": layer("epci"),
               "summer": raster_state.get("year")}
    return frames, dates, context


def data_date(src: Source, frame: pd.DataFrame, time_fields: Mapping[str, str | None],
              build_date: str, derived_date: str | None = None) -> str | None:
    """The date of a source's data (see the definitions file: `date`)."""
    rule = src.date
    if isinstance(rule, dict):
        return latest(frame, rule["field"]) or build_date
    if rule == "build":
        return build_date
    if rule == "derived":
        return derived_date or build_date
    if rule == "time_field":
        field = time_fields.get(src.collection) if src.collection else None
        return (latest(frame, field) if field else None) or build_date
    return str(rule)


def latest(frame: pd.DataFrame, column: str | None) -> str | None:
    if not column or column not in frame:
        return None
    values = pd.to_datetime(frame[column].astype("string").str.slice(0, 10), errors="coerce",
                            format="%Y-%m-%d").dropna()
    return values.max().strftime("%Y-%m-%d") if len(values) else None


def today() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
