"""Schema changes on the embedded store: the build writes each collection's GeoPackage,
processes add their result columns."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pyogrio

from services.catalog import CollectionSpec
from services.store.sqlite.tables import quote, register_gpkg_functions


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
