"""`artois-geo build`: turn the collection files into the embedded store.

Vector layers become one GeoPackage each (EPSG:2154, R*Tree spatial index, an index on
the id field), rasters become Cloud-Optimized GeoTIFFs, and a manifest records extents
and fields for the configuration. Only pip packages are used (pyogrio bundles GDAL).
Each file is written under a temporary name and renamed, so a failed build never
leaves a half-written layer in place. The fields of a collection file with a `type` that the
source lacks become empty columns of that type (on an editable collection already built too:
its rows are kept). After a build, the processes declaring a `recompute` on a collection it
changed get a job (services/jobs/triggers.py).
"""
from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from services.catalog import CollectionSpec
from services.settings import Settings
from services.store import STORAGE_SRID, get_catalog
from services.store.base import CRS84, outward_bbox
from services.store.sqlite.schema import write_geopackage

LOGGER = logging.getLogger(__name__)
MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}


def _load_callable(dotted: str):
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def read_source(spec: CollectionSpec) -> gpd.GeoDataFrame:
    """Read a file source (GeoJSON, GeoPackage, Shapefile...) with its row filter."""
    src = spec.source
    path = spec.source_path()
    parts = src.get("parts") or [{"layer": src.get("layer")}]
    frames = []
    for part in parts:
        kwargs = {"layer": part["layer"]} if part.get("layer") else {}
        gdf = gpd.read_file(path, engine="pyogrio", **kwargs)
        for col, value in (part.get("set") or {}).items():
            gdf[col] = value
        frames.append(gdf)
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    for col, value in (src.get("where") or {}).items():
        gdf = gdf[gdf[col] == value].drop(columns=col)
    # Integer fields with nulls come back as floats: restore the source's integer type.
    info = pyogrio.read_info(path, **({"layer": parts[0]["layer"]} if parts[0].get("layer") else {}))
    for name, dtype in zip(info["fields"], info["dtypes"]):
        if name in gdf and str(dtype).startswith("int") and gdf[name].dtype.kind == "f":
            gdf[name] = gdf[name].astype("Int64")
    columns = src.get("columns")
    if columns:
        gdf = gdf[[c for c in columns] + ["geometry"]]
    rename = src.get("rename") or {}
    return gdf.rename(columns=rename)


def normalise(gdf: gpd.GeoDataFrame, spec: CollectionSpec) -> gpd.GeoDataFrame:
    """Storage CRS, valid geometries of the one declared type, no empty rows."""
    if gdf.crs is None:
        raise ValueError(f"{spec.id}: source has no CRS")
    gdf = gdf.to_crs(STORAGE_SRID)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    geoms = shapely.make_valid(gdf.geometry.values)
    target = spec.geometry_type
    if target.startswith("Multi"):
        single = target[len("Multi"):]
        geoms = [_as_multi(g, single) for g in geoms]
    gdf = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=list(geoms), crs=STORAGE_SRID)
    wrong = gdf.geometry.geom_type != target
    if wrong.any():
        raise ValueError(f"{spec.id}: {int(wrong.sum())} geometries are not {target}: "
                         f"{sorted(set(gdf.geometry.geom_type[wrong]))}")
    if spec.id_field and spec.id_field in gdf:
        dup = gdf[spec.id_field].duplicated()
        if dup.any() or gdf[spec.id_field].isna().any():
            raise ValueError(f"{spec.id}: id field {spec.id_field} is not unique and non-null")
    return gdf.reset_index(drop=True)


def _as_multi(geom: shapely.Geometry, single: str) -> shapely.Geometry:
    """Promote to Multi*, dropping parts of other dimensions that make_valid may add."""
    if geom.geom_type == single:
        parts = [geom]
    elif geom.geom_type in ("Multi" + single, "GeometryCollection"):
        parts = [p for p in getattr(geom, "geoms", []) if p.geom_type == single
                 or p.geom_type == "Multi" + single]
        flat = []
        for p in parts:
            flat.extend(getattr(p, "geoms", [p]))
        parts = flat
    else:
        return geom
    return getattr(shapely, "Multi" + single)(parts) if parts else geom


DATE_RE = r"^\d{4}-\d{2}-\d{2}$"


def dates_as_text(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Date-only columns (datetimes at midnight, or ISO date strings) as 'YYYY-MM-DD' text."""
    out = gdf.copy()
    dates = []
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        values = gdf[col].dropna()
        if str(gdf[col].dtype).startswith("datetime64"):
            if len(values) and (values == values.dt.normalize()).all():
                out[col] = gdf[col].dt.strftime("%Y-%m-%d").where(gdf[col].notna(), None)
                dates.append(col)
            else:
                out[col] = gdf[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(gdf[col].notna(), None)
        elif gdf[col].dtype == object and len(values) and \
                values.map(lambda v: isinstance(v, str)).all() and values.str.match(DATE_RE).all():
            dates.append(col)
    return out, dates


# a field of a collection file (JSON type, format) -> (SQLite type, PostgreSQL type)
FIELD_TYPES = {
    ("string", None): ("TEXT", "text"),
    ("string", "date"): ("DATE", "date"),
    ("string", "date-time"): ("DATETIME", "timestamp with time zone"),
    ("integer", None): ("INTEGER", "bigint"),
    ("number", None): ("REAL", "double precision"),
    ("boolean", None): ("BOOLEAN", "boolean"),
}


def declared_columns(spec: CollectionSpec, present) -> dict[str, tuple[str, str]]:
    """The fields of the collection file with a `type` that the source lacks (e.g. the
    observatory's fields of friches, filled by editors): {name: (SQLite type, PostgreSQL
    type)}. The build adds them as empty columns; a rebuild never empties them."""
    out = {}
    for name, conf in (spec.fields or {}).items():
        if name in present or not isinstance(conf, dict) or "type" not in conf:
            continue
        kind, fmt = conf["type"], conf.get("format")
        types = FIELD_TYPES.get((kind, fmt)) or FIELD_TYPES.get((kind, None))
        if types is None:
            raise ValueError(f"{spec.id}: field {name} has an unknown type {kind!r}")
        out[name] = types
    return out


def extents(gdf: gpd.GeoDataFrame, spec: CollectionSpec) -> dict[str, Any]:
    bbox = outward_bbox(*gdf.to_crs(4326).total_bounds)
    out: dict[str, Any] = {"spatial": {"bbox": bbox, "crs": CRS84}}
    if spec.time_field and spec.time_field in gdf:
        times = pd.to_datetime(gdf[spec.time_field], errors="coerce").dropna()
        if len(times):
            out["temporal"] = {"begin": times.min().strftime("%Y-%m-%dT00:00:00Z"),
                               "end": times.max().strftime("%Y-%m-%dT23:59:59Z")}
    return out


def build_vector(spec: CollectionSpec, layers: dict[str, gpd.GeoDataFrame],
                 store: Path, database_url: str | None = None) -> dict[str, Any]:
    if "postgis_table" in spec.source:  # an existing table, published as it is
        from services.store.postgis.schema import describe_table
        if not database_url:
            raise ValueError(f"{spec.id}: a postgis_table source needs DATABASE_URL")
        return {"kind": "features", "store": "postgis", **describe_table(spec.source["postgis_table"])}
    if "generator" in spec.source:
        generate = _load_callable(spec.source["generator"])
        # the vector frames it requires (a required coverage is built before it, but is no
        # frame: a generator reading it finds its files, e.g. processes/chiffres_cles/build.py)
        gdf = generate({k: layers[k] for k in spec.requires if k in layers},
                       int(spec.source.get("seed", 0)))
    else:
        gdf = read_source(spec)
    gdf = normalise(gdf, spec)
    layers[spec.id] = gdf
    out, date_columns = dates_as_text(gdf)
    declared = declared_columns(spec, out.columns)  # empty columns for the editors
    if database_url:
        from services.store.postgis.schema import load_collection
        for name in declared:
            out[name] = pd.Series([None] * len(out), index=out.index, dtype=object)
        loaded = load_collection(spec, out, date_columns,
                                 types={name: t[1] for name, t in declared.items()})
        return {"kind": "features", "store": "postgis", "table": loaded["table"],
                "count": loaded["count"], "changed": loaded["changed"],
                "removed": loaded["removed"], "extents": extents(gdf, spec)}
    from services.store.sqlite.schema import add_columns
    target = store / f"{spec.id}.gpkg"
    if spec.editable and target.exists():  # never replace what editors changed since
        from services.store.sqlite.writer import add_missing_rows
        add_columns(str(target), spec.table, {name: t[0] for name, t in declared.items()})
        added = add_missing_rows(spec, target, out, date_columns)
        return {"kind": "features", "store": "geopackage", "data": str(target),
                "table": spec.table, "count": added["count"], "changed": added["added"],
                "extents": extents(gdf, spec)}
    write_geopackage(out, spec, target, date_columns)
    if declared:
        add_columns(str(target), spec.table, {name: t[0] for name, t in declared.items()})
    return {"kind": "features", "store": "geopackage", "data": str(target), "table": spec.table,
            "count": len(gdf), "extents": extents(gdf, spec)}


def build_coverage(spec: CollectionSpec, layers: dict[str, gpd.GeoDataFrame],
                   store: Path) -> dict[str, Any]:
    generate = _load_callable(spec.source["raster_generator"])
    years = spec.source.get("years") or [None]
    files = {}
    for year in years:
        target = store / (f"{spec.id}_{year}.tif" if year else f"{spec.id}.tif")
        tmp = target.with_suffix(".tmp.tif")
        kwargs = {"year": year} if year else {}
        generate({k: layers[k] for k in spec.requires}, int(spec.source.get("seed", 0)),
                 tmp, **kwargs)
        tmp.replace(target)
        files[str(year)] = str(target)
    import rasterio
    from rasterio.warp import transform_bounds
    latest = files[str(years[-1])]
    with rasterio.open(latest) as ds:
        bbox = outward_bbox(*transform_bounds(ds.crs, "OGC:CRS84", *ds.bounds, densify_pts=21))
    ext: dict[str, Any] = {"spatial": {"bbox": bbox, "crs": CRS84}}
    if years[0]:
        ext["temporal"] = {"begin": f"{min(years)}-06-01T00:00:00Z",
                           "end": f"{max(years)}-08-31T23:59:59Z"}
    return {"kind": "coverage", "data": latest, "files": files, "extents": ext}


def build(settings: Settings, only: list[str] | None = None) -> dict[str, Any]:
    """Build every collection (or `only` these and what they require). Returns the manifest."""
    store = settings.store_dir
    store.mkdir(parents=True, exist_ok=True)
    catalog = get_catalog(settings)
    specs = list(catalog.specs.values())
    manifest = dict(catalog.manifest)
    layers: dict[str, gpd.GeoDataFrame] = {}
    wanted = set(only or [s.id for s in specs])
    # specs come after what they require: walked backwards, what a wanted collection requires
    # is met later in the walk, so its own requirements are added too (the closure)
    for spec in reversed(specs):
        if spec.id in wanted:
            wanted.update(spec.requires)
    for spec in specs:
        if spec.id not in wanted:
            continue
        started = time.perf_counter()
        if spec.kind == "coverage":
            entry = build_coverage(spec, layers, store)
        else:
            entry = build_vector(spec, layers, store, settings.database_url)
        entry["seconds"] = round(time.perf_counter() - started, 2)
        manifest[spec.id] = entry
        LOGGER.info("built %s: %s in %.1f s", spec.id,
                    entry.get("count", "raster"), entry["seconds"])
        print(f"  {spec.id:<24} {str(entry.get('count', 'raster')):>6}  {entry['seconds']:.1f} s",
              flush=True)
    catalog.save_manifest(manifest)
    # derived figures kept by a write hook (e.g. the parks' figures from their lots,
    # services/zae.py): `after_build: "module:function"` of a built collection, once each
    from services.store.writer import load_hook, write_hooks
    for dotted in dict.fromkeys(write_hooks(s).get("after_build") for s in specs
                                if s.id in wanted and s.kind == "features"):
        if dotted:
            load_hook(dotted)(settings)
    # the processes that read what changed are recomputed (services/jobs/triggers.py); a
    # collection the store reports unchanged (PostGIS upserts, editable GeoPackages) is not
    changed = [cid for cid in wanted if cid in manifest and
               (manifest[cid].get("changed", 1) or manifest[cid].get("removed"))]
    if changed:
        # figures of other collections that read these (`refresh_after`, e.g. the parks'
        # friches count when friches are rebuilt), then the processes that read them
        from services.jobs.triggers import data_changed
        data_changed(sorted(changed), settings, cause="build", user="build")
    return manifest
