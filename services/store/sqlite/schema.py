"""Schema changes on the embedded store: the build writes each collection's GeoPackage,
processes add their result columns or replace the rows of a generated collection."""
from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from services.catalog import CollectionSpec
from services.store.sqlite.tables import gpkg_blob, quote, register_gpkg_functions


def add_columns(path: str, table: str, columns: dict[str, str]) -> None:
    """Add the missing `columns` ({name: SQLite type}) to a GeoPackage table, under the
    write lock, in one transaction."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        quoted = quote(table)
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({quoted})")}
        for column, sqlite_type in columns.items():
            if column not in have:
                conn.execute(f"ALTER TABLE {quoted} ADD COLUMN {quote(column)} {sqlite_type}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


def write_geopackage(gdf: gpd.GeoDataFrame, spec: CollectionSpec, target: Path,
                     date_columns: list[str] = ()) -> None:
    tmp = target.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    pyogrio.write_dataframe(gdf, tmp, layer=spec.table, driver="GPKG",
                            geometry_type=spec.geometry_type, SPATIAL_INDEX="YES",
                            GEOMETRY_NAME="geom", FID="fid")
    with sqlite3.connect(tmp) as conn:
        register_gpkg_functions(conn)
        # GDAL writes text; GeoPackage readers (QGIS, this server) type a DATE column.
        for col in date_columns:
            conn.execute(f'ALTER TABLE "{spec.table}" RENAME COLUMN "{col}" TO "{col}__text"')
            conn.execute(f'ALTER TABLE "{spec.table}" ADD COLUMN "{col}" DATE')
            conn.execute(f'UPDATE "{spec.table}" SET "{col}" = "{col}__text"')
            conn.execute(f'ALTER TABLE "{spec.table}" DROP COLUMN "{col}__text"')
        if spec.id_field and spec.id_field in gdf:
            conn.execute(f'CREATE UNIQUE INDEX "idx_{spec.table}_id" ON "{spec.table}" '
                         f'("{spec.id_field}")')
        if spec.time_field and spec.time_field in gdf:
            conn.execute(f'CREATE INDEX "idx_{spec.table}_time" ON "{spec.table}" '
                         f'("{spec.time_field}")')
        conn.execute("ANALYZE")
    tmp.replace(target)


def _sqlite_type(series, is_date: bool) -> str:
    if is_date:
        return "DATE"
    kind = series.dtype.kind
    if str(series.dtype) == "boolean" or kind == "b":
        return "BOOLEAN"
    if kind in "iu" or str(series.dtype).startswith(("Int", "UInt")):
        return "INTEGER"
    if kind == "f":
        return "REAL"
    return "TEXT"


def _plain(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def replace_rows(path: str, table: str, gdf: gpd.GeoDataFrame, date_columns=(),
                 newer: tuple[str, str] | None = None) -> dict:
    """Replace every row of a generated collection's table by `gdf` (EPSG:2154), in one
    transaction under the write lock: readers see the old rows or the new ones, never a mix.
    Missing columns are added in the same transaction; the R*Tree follows through GDAL's
    triggers. `newer=(column, value)`: leave the table as it is when it already holds a
    larger value of `column` (a later computation was written first)."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    register_gpkg_functions(conn)
    try:
        conn.execute("BEGIN IMMEDIATE")
        quoted = quote(table)
        geom_col, srs_id = conn.execute(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?",
            (table,)).fetchone()
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({quoted})")}
        if newer and newer[0] in have:
            current = conn.execute(f"SELECT max({quote(newer[0])}) FROM {quoted}").fetchone()[0]
            if current is not None and str(current) > str(newer[1]):
                conn.execute("ROLLBACK")
                return {"replaced": False, "count": None, "newer": str(current)}
        props = [c for c in gdf.columns if c != gdf.geometry.name]
        for col in props:
            if col not in have:
                conn.execute(f"ALTER TABLE {quoted} ADD COLUMN {quote(col)} "
                             f"{_sqlite_type(gdf[col], col in date_columns)}")
        conn.execute(f"DELETE FROM {quoted}")
        names = ", ".join(quote(c) for c in props + [geom_col])
        marks = ", ".join("?" * (len(props) + 1))
        conn.executemany(
            f"INSERT INTO {quoted} ({names}) VALUES ({marks})",
            ([_plain(v) for v in values] + [gpkg_blob(geom, srs_id)]
             for values, geom in zip(gdf[props].itertuples(index=False, name=None),
                                     gdf.geometry)))
        if len(gdf):
            minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
            conn.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
                         "last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                         "WHERE table_name = ?", (minx, miny, maxx, maxy, table))
        count = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    return {"replaced": True, "count": count}
