"""The PostGIS store's tables: the one introspection of a table (geometry column, key,
columns, estimated size), shared by the features, the writers and the tiles.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pygeoapi.provider.base import ProviderGenericError

from services.store.postgis import pool as db

PG_TYPES = {
    "text": {"type": "string"}, "character varying": {"type": "string"},
    "integer": {"type": "integer"}, "bigint": {"type": "integer"},
    "smallint": {"type": "integer"}, "double precision": {"type": "number"},
    "real": {"type": "number"}, "numeric": {"type": "number"}, "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamp with time zone": {"type": "string", "format": "date-time"},
    "timestamp without time zone": {"type": "string", "format": "date-time"},
}
TABLE_INFO_TTL = 60.0  # seconds: a rebuild or a schema change is seen within a minute


def split(qualified_name: str) -> tuple[str, str]:
    """(schema, table) of `schema.table` (the configured schema when there is none)."""
    schema, _, table = str(qualified_name).rpartition(".")
    return schema or db.schema_name(), table


@dataclass(frozen=True)
class PgTable:
    schema: str
    table: str
    geometry_column: str
    geometry_type: str
    srid: int
    key: str              # primary key column (fid)
    key_is_integer: bool
    columns: dict[str, dict]
    estimated_rows: float
    loaded_at: float


_tables: dict[tuple, PgTable] = {}


def read_table(schema: str, table: str, conn: Any = None) -> PgTable:
    """The table's description, cached for TABLE_INFO_TTL; read on `conn` if given (the
    caller's transaction), else on a pooled connection."""
    key = (db.database_url(), schema, table)
    info = _tables.get(key)
    if info is not None and time.monotonic() - info.loaded_at < TABLE_INFO_TTL:
        return info
    if conn is None:
        with db.pool().connection() as own:
            return read_table(schema, table, own)
    geo = conn.execute(
        "SELECT f_geometry_column, type, srid FROM geometry_columns "
        "WHERE f_table_schema = %s AND f_table_name = %s", (schema, table)).fetchone()
    if geo is None:
        raise ProviderGenericError(f"no geometry table {schema}.{table}")
    pk = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
        (f'"{schema}"."{table}"',)).fetchone()
    cols = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table)).fetchall()
    est = conn.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                       (f'"{schema}"."{table}"',)).fetchone()[0]
    key_col = pk[0] if pk else "fid"
    columns = {name: dict(PG_TYPES.get(dtype, {"type": "string"}))
               for name, dtype in cols if name not in (geo[0], key_col) or
               (name == key_col and key_col != "fid")}
    columns = {k: v for k, v in columns.items() if k != geo[0]}
    key_type = dict(cols).get(key_col, "bigint")
    info = PgTable(schema, table, geo[0], geo[1].upper(), geo[2], key_col,
                   key_type in ("integer", "bigint", "smallint"), columns, float(est),
                   time.monotonic())
    _tables[key] = info
    return info


def is_current(info: PgTable) -> bool:
    """Whether `info` is still the cached description of its table (not expired, not
    forgotten by a writer): what read_table would return now."""
    return _tables.get((db.database_url(), info.schema, info.table)) is info and \
        time.monotonic() - info.loaded_at < TABLE_INFO_TTL


def forget_table(schema: str, table: str) -> None:
    """Drop the cached description of a table whose columns just changed."""
    _tables.pop((db.database_url(), schema, table), None)

