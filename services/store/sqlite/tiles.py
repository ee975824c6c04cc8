"""Vector tiles from the embedded GeoPackage store, with shapely 2 and mapbox_vector_tile.

Rows come through the GeoPackage R*Tree (the buffered tile's envelope in EPSG:2154); the
geometries are transformed into the tile matrix set's CRS by a cached pyproj Transformer,
simplified at the zoom's tolerance, clipped to the buffered tile and quantized to MVT units,
all as vectorised shapely calls. mapbox_vector_tile encodes the result. The properties are
the same attribute columns as the PostGIS tiles (booleans stored as 0/1 become booleans).
"""
from __future__ import annotations

from functools import lru_cache

import mapbox_vector_tile
import numpy as np
import pyproj
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

from services.store.base import STORAGE_SRID
from services.store.sqlite.tables import connect, deadline, gpkg_wkb, quote
from services.tiles.mvt_source import EXTENT, Layer, TileBox, max_features

QUERY_TIMEOUT = 10.0
# polygons arrive valid and oriented (vectorised below): the encoder's per-feature winding
# check, its costliest step, is not needed
ENCODE_OPTIONS = {"extents": EXTENT, "on_invalid_geometry": on_invalid_geometry_make_valid,
                  "check_winding_order": False}
DIMENSION = {"point": 0, "line": 1, "polygon": 2}


@lru_cache(maxsize=8)
def _from_storage(srid: int) -> pyproj.Transformer | None:
    if srid == STORAGE_SRID:
        return None
    return pyproj.Transformer.from_crs(STORAGE_SRID, srid, always_xy=True)


def _rows(layer: Layer, box: TileBox) -> list[tuple]:
    q = quote(layer.table)
    cols = ", ".join(quote(c) for c in layer.columns)
    geom = quote(layer.geometry_column)
    rtree = quote(f"rtree_{layer.table}_{layer.geometry_column}")
    select = f"SELECT fid, {geom}{', ' + cols if cols else ''} FROM {q}"
    qx0, qy0, qx1, qy1 = box.query
    conn = connect(layer.data)
    with deadline(conn, QUERY_TIMEOUT):
        return conn.execute(
            f"{select} WHERE fid IN (SELECT id FROM {rtree} WHERE maxx >= ? AND minx <= ? "
            f"AND maxy >= ? AND miny <= ?) LIMIT ?", (qx0, qx1, qy0, qy1, max_features())
        ).fetchall()


def _dimension(layer: Layer) -> int:
    kind = layer.geometry_type.lower()
    return next((d for name, d in DIMENSION.items() if name in kind), 2)


def _keep_dimension(geom: shapely.Geometry, dim: int) -> shapely.Geometry | None:
    """Clipping can leave a collection (a polygon touching the edge gives a line too)."""
    if geom.geom_type != "GeometryCollection":
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == dim]
    if not parts:
        return None
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def _polygons_only(geoms: np.ndarray) -> np.ndarray:
    return np.array([_keep_dimension(g, 2) if g is not None and not g.is_empty else None
                     for g in geoms], dtype=object)


def _features(layer: Layer, box: TileBox) -> list[dict]:
    rows = _rows(layer, box)
    if not rows:
        return []
    wkbs = [gpkg_wkb(r[1]) for r in rows]
    keep = [i for i, w in enumerate(wkbs) if w is not None]
    geoms = shapely.from_wkb([wkbs[i] for i in keep])
    tr = _from_storage(box.srid)
    if tr is not None:
        geoms = shapely.transform(
            geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    if not layer.is_point:
        geoms = shapely.simplify(geoms, box.tolerance, preserve_topology=True)
    geoms = shapely.clip_by_rect(geoms, *box.buffered)
    x0, y0 = box.bounds[0], box.bounds[1]
    scale = EXTENT / box.span
    # MVT units, y up (the encoder flips y into the tile's y-down space)
    geoms = shapely.transform(geoms, lambda c: np.round((c - (x0, y0)) * scale))
    dim = _dimension(layer)
    if dim == 2:
        # as ST_AsMVT: valid polygons, exterior rings clockwise once y points down (MVT),
        # those that collapse to nothing at this zoom dropped
        geoms = _polygons_only(geoms)
        invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
        if invalid.any():
            geoms[invalid] = _polygons_only(shapely.make_valid(geoms[invalid],
                                                               method="structure"))
        geoms = shapely.orient_polygons(geoms, exterior_cw=True)
        geoms[shapely.area(geoms) <= 0] = None
    elif dim == 1:
        geoms[shapely.length(geoms) <= 0] = None
    booleans = [i for i, c in enumerate(layer.columns) if layer.columns[c]["type"] == "boolean"]
    names = list(layer.columns)
    features = []
    for i, geom in zip(keep, geoms):
        if geom is None or geom.is_empty:
            continue
        geom = _keep_dimension(geom, dim)
        if geom is None or geom.is_empty:
            continue
        values = list(rows[i][2:])
        for b in booleans:
            if values[b] is not None:
                values[b] = bool(values[b])
        features.append({"geometry": geom, "id": rows[i][0],
                         "properties": {k: v for k, v in zip(names, values) if v is not None}})
    return features


def render(layers: tuple[Layer, ...], box: TileBox) -> bytes:
    """The MVT bytes of `layers` in one tile (b'' when no feature falls in it)."""
    encoded = []
    for layer in layers:
        features = _features(layer, box)
        if features:
            encoded.append({"name": layer.id, "features": features})
    if not encoded:
        return b""
    return mapbox_vector_tile.encode(encoded, default_options=ENCODE_OPTIONS)
