"""Read the published collections as GeoDataFrames (EPSG:2154), from whichever store is set.

For processes and other server-side computations: they read the same data the API serves,
through one small interface, whether the store is the embedded GeoPackage one or PostGIS.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from psycopg import sql

from services.catalog import load_catalog
from services.settings import Settings, get_settings

STORAGE_EPSG = 2154


class UnknownCollection(KeyError):
    pass


def _manifest(settings: Settings) -> dict[str, Any]:
    name = "manifest-postgis.json" if settings.database_url else "manifest.json"
    path = settings.store_dir / name
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `artois-geo build`")
    return json.loads(path.read_text())


def entry(collection_id: str, settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    manifest = _manifest(settings)
    if collection_id not in manifest:
        raise UnknownCollection(collection_id)
    return manifest[collection_id]


@lru_cache(maxsize=None)
def id_field(collection_id: str) -> str:
    specs = {s.id: s for s in load_catalog(get_settings().collections_dir)}
    return specs[collection_id].id_field or "fid"


def read_collection(collection_id: str, bbox: tuple[float, float, float, float] | None = None,
                    settings: Settings | None = None) -> gpd.GeoDataFrame:
    """All features of a collection (or those whose envelope meets `bbox`, EPSG:2154)."""
    settings = settings or get_settings()
    e = entry(collection_id, settings)
    if e.get("store") == "postgis":
        return _read_postgis(e["table"], bbox, settings)
    gdf = gpd.read_file(e["data"], layer=e["table"], bbox=bbox, engine="pyogrio")
    return gdf.rename_geometry("geometry") if gdf.geometry.name != "geometry" else gdf


def get_feature(collection_id: str, feature_id: str,
                settings: Settings | None = None) -> dict[str, Any] | None:
    """One feature as {"properties": {...}, "geometry": shapely geometry (EPSG:2154)}."""
    settings = settings or get_settings()
    e = entry(collection_id, settings)
    key = id_field(collection_id)
    if e.get("store") == "postgis":
        from services import db
        schema, _, table = e["table"].rpartition(".")
        q = sql.SQL("SELECT *, ST_AsBinary(geom) AS __wkb FROM {} WHERE {}::text = %s").format(
            db.qualified(schema, table), sql.Identifier(key))
        with db.pool(settings.database_url).connection() as conn:
            cur = conn.execute(q, (str(feature_id),))
            row = cur.fetchone()
            if row is None:
                return None
            names = [d.name for d in cur.description]
        values = dict(zip(names, row))
        geom = shapely.from_wkb(bytes(values.pop("__wkb")))
        values.pop("geom", None)
        values.pop("fid", None)
        return {"properties": values, "geometry": geom}
    gdf = read_collection(collection_id, settings=settings)
    gdf = gdf[gdf[key].astype(str) == str(feature_id)]  # no SQL text built from the id
    if gdf.empty:
        return None
    row = gdf.iloc[0]
    props = {k: (None if pd.isna(v) else v) for k, v in row.drop(labels=[gdf.geometry.name]).items()}
    return {"properties": props, "geometry": row[gdf.geometry.name]}


def _read_postgis(qualified_table: str, bbox, settings: Settings) -> gpd.GeoDataFrame:
    from services import db
    schema, _, table = qualified_table.rpartition(".")
    q = sql.SQL("SELECT *, ST_AsBinary(geom) AS __wkb FROM {}").format(db.qualified(schema, table))
    params: list[Any] = []
    if bbox:
        q = q + sql.SQL(" WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 2154)")
        params = [float(v) for v in bbox]
    with db.pool(settings.database_url).connection() as conn:
        cur = conn.execute(q, params)
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    df = pd.DataFrame(rows, columns=names)
    geoms = shapely.from_wkb([bytes(b) for b in df.pop("__wkb")]) if len(df) else []
    df = df.drop(columns=[c for c in ("geom", "fid") if c in df])
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs=STORAGE_EPSG)
