"""Vector tiles from PostGIS: one ST_AsMVT statement per tile.

The buffered tile's envelope, already in the storage CRS (EPSG:2154), is a bound parameter
of a `geom && envelope` test, so the GiST index picks the rows; each geometry is transformed
into the tile matrix set's CRS, simplified at the zoom's tolerance and clipped/quantized by
ST_AsMVTGeom. The dataset tile concatenates one ST_AsMVT per layer (||) in one statement.
Identifiers are quoted with psycopg.sql.

Tiles are a hot path (a map view asks for dozens at once), so they use the process's asyncio
pool (services/store/postgis/pool.py `apool`, shared with the hot reads): no thread hop per
tile, and autocommit, so a tile is one round trip (no BEGIN/COMMIT around a read-only
SELECT); while the database is known to be away, a tile is a 503 at once. The statement is
prepared on each connection at its first use and run through libpq's API, its bytea read in
binary form (services/store/postgis/wire.py: ~100 µs of Python less per tile than psycopg's
cursor).
"""
from __future__ import annotations

from functools import lru_cache

import psycopg
from psycopg import sql

from services.store.base import STORAGE_SRID
from services.store.postgis import pool as db
from services.store.postgis import wire
from services.store.postgis.tables import split
from services.tiles.mvt_source import BUFFER, EXTENT, Layer, TileBox, max_features

MVT_GEOM = "__mvt_geom"
MVT_ID = "__mvt_id"


@lru_cache(maxsize=256)
def _layer_sql(layer: Layer, srid: int) -> sql.Composed:
    """ST_AsMVT of one layer; parameters: name, envelope (4), tolerance, tile bounds (4), cap."""
    schema, table = split(layer.table)
    geom = sql.Identifier(layer.geometry_column)
    shape: sql.Composable = geom
    if srid != STORAGE_SRID:
        shape = sql.SQL("ST_Transform({}, {})").format(shape, sql.Literal(srid))
    if not layer.is_point:  # collapsed rings are kept: ST_AsMVTGeom drops what is too small
        shape = sql.SQL("ST_Simplify({}, %(tol)s, true)").format(shape)
    items = [sql.Identifier(c) for c in layer.columns]
    fid_name: sql.Composable = sql.SQL("")
    if layer.key_is_integer:  # the MVT feature id (ST_AsMVT leaves it out of the properties)
        items.append(sql.SQL("{} AS {}").format(sql.Identifier(layer.key), sql.Identifier(MVT_ID)))
        fid_name = sql.SQL(", {}").format(sql.Literal(MVT_ID))
    items.append(sql.SQL(
        "ST_AsMVTGeom({shape}, ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, {srid}), "
        "{extent}, {buffer}, true) AS {gcol}").format(
        shape=shape, srid=sql.Literal(srid), extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER), gcol=sql.Identifier(MVT_GEOM)))
    return sql.SQL(
        "(SELECT coalesce(ST_AsMVT(t, {name}, {extent}, {gname}{fid_name}), ''::bytea) FROM "
        "(SELECT {items} FROM {table} WHERE {geom} && "
        "ST_MakeEnvelope(%(qx0)s, %(qy0)s, %(qx1)s, %(qy1)s, {storage}) LIMIT %(cap)s) t "
        "WHERE t.{gcol} IS NOT NULL)").format(
        name=sql.Literal(layer.id), extent=sql.Literal(EXTENT), gname=sql.Literal(MVT_GEOM),
        fid_name=fid_name, items=sql.SQL(", ").join(items), gcol=sql.Identifier(MVT_GEOM),
        table=db.qualified(schema, table), geom=geom,
        storage=sql.Literal(STORAGE_SRID))


@lru_cache(maxsize=64)
def _statement(layers: tuple[Layer, ...], srid: int) -> bytes:
    body = sql.SQL(" || ").join(_layer_sql(layer, srid) for layer in layers)
    return sql.SQL("SELECT {}").format(body).as_bytes(None)


def _params(box: TileBox) -> dict:
    x0, y0, x1, y1 = box.bounds
    qx0, qy0, qx1, qy1 = box.query
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "qx0": qx0, "qy0": qy0, "qx1": qx1,
            "qy1": qy1, "tol": box.tolerance, "cap": max_features()}


class TileQueryError(Exception):
    """The database did not answer in time, or could not be reached."""


async def render(layers: tuple[Layer, ...], box: TileBox) -> bytes:
    """The MVT bytes of `layers` in one tile (b'' when no feature falls in it)."""
    try:
        pool = await db.apool()  # the process's asyncio pool (hot reads share it)
        if pool is None:  # the database is known to be away
            raise TileQueryError("database unavailable")
        async with db.borrowed(pool) as conn:
            data = await wire.fetch_value(conn, _statement(layers, box.srid), _params(box))
    except (psycopg.errors.QueryCanceled, psycopg.OperationalError) as err:
        raise TileQueryError(str(err)) from err
    return data or b""
