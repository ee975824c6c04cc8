"""Whole GeoPackage collections for the processes: data frames, one feature, the geometries."""
from __future__ import annotations

import sqlite3
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from services.store.sqlite.tables import gpkg_wkb, quote


def read_frame(path: str, table: str, bbox=None) -> gpd.GeoDataFrame:
    """All features of a table (or those whose envelope meets `bbox`), EPSG:2154."""
    gdf = gpd.read_file(path, layer=table, bbox=bbox, engine="pyogrio")
    return gdf.rename_geometry("geometry") if gdf.geometry.name != "geometry" else gdf


def get_feature(path: str, table: str, key: str, feature_id: Any) -> dict[str, Any] | None:
    """One feature as {"properties": {...}, "geometry": shapely geometry (EPSG:2154)}."""
    gdf = read_frame(path, table)
    gdf = gdf[gdf[key].astype(str) == str(feature_id)]  # no SQL text built from the id
    if gdf.empty:
        return None
    row = gdf.iloc[0]
    props = {k: (None if pd.isna(v) else v) for k, v in row.drop(labels=[gdf.geometry.name]).items()}
    return {"properties": props, "geometry": row[gdf.geometry.name]}


def geometries(path: str, table: str) -> list[shapely.Geometry]:
    """Every geometry of a table."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        col = conn.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                           (table,)).fetchone()[0]
        blobs = [r[0] for r in conn.execute(f"SELECT {quote(col)} FROM {quote(table)}")]
    return [shapely.from_wkb(w) for w in map(gpkg_wkb, blobs) if w is not None]
