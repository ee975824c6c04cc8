"""The embedded store's files: GeoPackage connections, geometry blobs and table introspection.

Python's own sqlite3, nothing else: no SpatiaLite, no system GDAL. Read connections are one
per thread and file (read-only, re-opened when the file changes); the ST_ functions that the
GeoPackage R*Tree triggers call, and the spatial predicates the CQL2 translation uses, are
SQLite user functions over shapely. `read_table_info` is the one introspection of a table
(features, tiles and writes share its cache, keyed by the file's modification time).
"""
from __future__ import annotations

import functools
import os
import sqlite3
import struct
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import shapely
from pygeoapi.provider.base import ProviderGenericError

from services.store.base import STORAGE_SRID, ProviderTimeoutError
from services.store.feature import canonical_wkb

ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
SQLITE_TYPES = {
    "TEXT": {"type": "string"}, "INTEGER": {"type": "integer"}, "INT": {"type": "integer"},
    "MEDIUMINT": {"type": "integer"}, "SMALLINT": {"type": "integer"},
    "TINYINT": {"type": "integer"}, "REAL": {"type": "number"}, "DOUBLE": {"type": "number"},
    "FLOAT": {"type": "number"}, "BOOLEAN": {"type": "boolean"},
    "DATE": {"type": "string", "format": "date"},
    "DATETIME": {"type": "string", "format": "date-time"},
}


def quote(name: str) -> str:
    """A quoted SQLite identifier."""
    return '"' + name.replace('"', '""') + '"'


def column_schema(col_type: str | None) -> dict:
    """JSON schema of a column from its declared SQLite type."""
    base = (col_type or "TEXT").upper().split("(")[0]
    return dict(SQLITE_TYPES.get(base, {"type": "string"}))


def gpkg_blob(geom: shapely.Geometry, srs_id: int = STORAGE_SRID) -> bytes:
    """GeoPackage binary: 'GP', version 0, flags (little-endian, envelope [minx, maxx, miny,
    maxy]), srs_id, envelope, then ISO WKB (little-endian)."""
    if geom is None or geom.is_empty:
        flags = 0b00010001  # empty, no envelope, little-endian
        return b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) + \
            (canonical_wkb(geom) if geom is not None else b"")
    minx, miny, maxx, maxy = geom.bounds
    flags = (1 << 1) | 1
    return (b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) +
            struct.pack("<4d", minx, maxx, miny, maxy) + canonical_wkb(geom))


def gpkg_wkb(blob: bytes | None) -> bytes | None:
    """Strip the GeoPackage binary header (magic, flags, envelope) to plain WKB."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b10000:  # empty geometry
        return None
    return blob[8 + ENVELOPE_BYTES[(flags >> 1) & 0b111]:]


@functools.lru_cache(maxsize=256)
def _prepared(wkb: bytes) -> shapely.Geometry:
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    return geom


def _spatial_predicate(op: str, blob: bytes | None, wkb: bytes) -> int:
    """SQLite function st_relate(op, feature_blob, literal_wkb) -> 0/1."""
    feature_wkb = gpkg_wkb(blob)
    if feature_wkb is None:
        return 0
    literal = _prepared(wkb)
    feature = shapely.from_wkb(feature_wkb)
    # `literal` is the prepared side, so phrase the test from its point of view.
    if op == "intersects":
        return int(literal.intersects(feature))
    if op == "disjoint":
        return int(literal.disjoint(feature))
    if op == "within":  # feature within literal
        return int(literal.contains(feature))
    if op == "contains":  # feature contains literal
        return int(literal.within(feature))
    if op == "touches":
        return int(literal.touches(feature))
    if op == "crosses":
        return int(literal.crosses(feature))
    if op == "overlaps":
        return int(literal.overlaps(feature))
    if op == "equals":
        return int(literal.equals(feature))
    return 0


def _dwithin(blob: bytes | None, wkb: bytes, distance: float) -> int:
    feature_wkb = gpkg_wkb(blob)
    if feature_wkb is None:
        return 0
    return int(shapely.dwithin(_prepared(wkb), shapely.from_wkb(feature_wkb), distance))


def _bounds(blob: bytes | None) -> tuple | None:
    wkb = gpkg_wkb(blob)
    return None if wkb is None else shapely.from_wkb(wkb).bounds


def register_gpkg_functions(conn: sqlite3.Connection) -> None:
    """The ST_ functions GeoPackage R*Tree triggers call, so writes work without SpatiaLite."""
    conn.create_function("ST_IsEmpty", 1, lambda b: int(gpkg_wkb(b) is None), deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY")):
        conn.create_function(name, 1, lambda b, i=i: (_bounds(b) or (None,) * 4)[i],
                             deterministic=True)


def _unaccent(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")


@dataclass(frozen=True)
class TableInfo:
    table: str
    geometry_column: str
    geometry_type: str
    srs_id: int
    rtree: str | None
    columns: dict[str, dict]  # name -> JSON schema
    bbox: tuple[float, float, float, float] | None


_local = threading.local()
_table_cache: dict[tuple, TableInfo] = {}


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def connect(path: str) -> sqlite3.Connection:
    """One read-only connection per thread and file, with the spatial functions."""
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    key = (path, os.stat(path).st_mtime_ns)
    conn = conns.get(key)
    if conn is None:
        for old in [k for k in conns if k[0] == path]:
            conns.pop(old).close()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("PRAGMA case_sensitive_like = ON")  # CQL2 LIKE is case-sensitive
        conn.create_function("st_relate", 3, _spatial_predicate, deterministic=True)
        conn.create_function("st_dwithin", 3, _dwithin, deterministic=True)
        conn.create_function("unaccent", 1, _unaccent, deterministic=True)
        conn.create_function("lower", 1, _lower, deterministic=True)  # Unicode-aware
        conns[key] = conn
    return conn


def read_table_info(path: str, table: str | None) -> TableInfo:
    key = (path, table, os.stat(path).st_mtime_ns)
    info = _table_cache.get(key)
    if info is not None:
        return info
    conn = connect(path)
    rows = conn.execute(
        "SELECT c.table_name, g.column_name, g.geometry_type_name, g.srs_id, "
        "c.min_x, c.min_y, c.max_x, c.max_y FROM gpkg_contents c "
        "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
        "WHERE c.data_type = 'features'").fetchall()
    match = [r for r in rows if table is None or r[0] == table]
    if not match:
        raise ProviderGenericError(f"no feature table {table!r} in {os.path.basename(path)}")
    name, geom_col, geom_type, srs_id, *bounds = match[0]
    rtree = f"rtree_{name}_{geom_col}"
    has_rtree = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (rtree,)).fetchone()
    columns = {}
    for _, col, col_type, *_ in conn.execute(f'PRAGMA table_info("{name}")'):
        if col in ("fid", geom_col):
            continue
        columns[col] = column_schema(col_type)
    info = TableInfo(name, geom_col, (geom_type or "GEOMETRY").upper(), srs_id,
                     rtree if has_rtree else None, columns,
                     tuple(bounds) if None not in bounds else None)
    for old in [k for k in _table_cache if k[:2] == key[:2]]:  # an edit changed the file
        _table_cache.pop(old, None)
    _table_cache[key] = info
    return info


@contextmanager
def deadline(conn: sqlite3.Connection, seconds: float) -> Iterator[None]:
    """Abort any statement that runs longer than `seconds`."""
    limit = time.monotonic() + seconds
    conn.set_progress_handler(lambda: int(time.monotonic() > limit), 20_000)
    try:
        yield
    except sqlite3.OperationalError as err:
        if "interrupted" in str(err):
            raise ProviderTimeoutError(user_msg=f"query timeout ({seconds:g} s)") from err
        raise
    finally:
        conn.set_progress_handler(None, 0)
