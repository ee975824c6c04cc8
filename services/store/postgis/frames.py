"""Whole PostGIS collections for the processes: data frames, one feature, the geometries."""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from psycopg import sql

from services.store.base import STORAGE_SRID
from services.store.postgis import pool as db
from services.store.postgis.pool import qualified
from services.store.postgis.tables import split


def read_frame(qualified_table: str, bbox=None) -> gpd.GeoDataFrame:
    """All features of a table (or those whose envelope meets `bbox`), EPSG:2154."""
    schema, table = split(qualified_table)
    q = sql.SQL("SELECT *, ST_AsBinary(geom) AS __wkb FROM {}").format(qualified(schema, table))
    params: list[Any] = []
    if bbox:
        q = q + sql.SQL(" WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, {})").format(
            sql.Literal(STORAGE_SRID))
        params = [float(v) for v in bbox]
    with db.pool().connection() as conn:
        cur = conn.execute(q, params)
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    df = pd.DataFrame(rows, columns=names)
    geoms = shapely.from_wkb([bytes(b) for b in df.pop("__wkb")]) if len(df) else []
    df = df.drop(columns=[c for c in ("geom", "fid") if c in df])
    return gpd.GeoDataFrame(df, geometry=list(geoms), crs=STORAGE_SRID)


def get_feature(qualified_table: str, key: str, feature_id: Any) -> dict[str, Any] | None:
    """One feature as {"properties": {...}, "geometry": shapely geometry (EPSG:2154)}."""
    schema, table = split(qualified_table)
    q = sql.SQL("SELECT *, ST_AsBinary(geom) AS __wkb FROM {} WHERE {}::text = %s").format(
        qualified(schema, table), sql.Identifier(key))
    with db.pool().connection() as conn:
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


def geometries(qualified_table: str) -> list[shapely.Geometry]:
    """Every geometry of a table."""
    schema, table = split(qualified_table)
    with db.pool().connection() as conn:
        col = conn.execute("SELECT f_geometry_column FROM geometry_columns WHERE "
                           "f_table_schema = %s AND f_table_name = %s",
                           (schema, table)).fetchone()[0]
        rows = conn.execute(sql.SQL("SELECT ST_AsBinary({}) FROM {}").format(
            sql.Identifier(col), qualified(schema, table))).fetchall()
    return [shapely.from_wkb(bytes(r[0])) for r in rows if r[0] is not None]
