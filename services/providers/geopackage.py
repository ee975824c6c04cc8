"""pygeoapi feature provider for GeoPackage files, on Python's own sqlite3.

The embedded store needs nothing but pip: no SpatiaLite, no system GDAL. Bounding-box
and spatial CQL2 queries go through the GeoPackage R*Tree index (`rtree_<table>_<geom>`),
exact spatial tests run in shapely through SQLite user functions, and every value is a
bound parameter. pygeoapi loads this class by dotted path:
``services.providers.geopackage.GeoPackageProvider``.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Iterator

import numpy as np
import pyproj
import shapely
from pygeoapi.provider.base import (BaseProvider, ProviderGenericError,
                                    ProviderInvalidQueryError,
                                    ProviderItemNotFoundError, SchemaType)

from services.cql2sql import FilterError, SQLDialect, to_sql
from services.providers import feature_schema, paging
from services.providers.values import typed

LOGGER = logging.getLogger(__name__)

ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
SQLITE_TYPES = {
    "TEXT": {"type": "string"}, "INTEGER": {"type": "integer"}, "INT": {"type": "integer"},
    "MEDIUMINT": {"type": "integer"}, "SMALLINT": {"type": "integer"},
    "TINYINT": {"type": "integer"}, "REAL": {"type": "number"}, "DOUBLE": {"type": "number"},
    "FLOAT": {"type": "number"}, "BOOLEAN": {"type": "boolean"},
    "DATE": {"type": "string", "format": "date"},
    "DATETIME": {"type": "string", "format": "date-time"},
}


class ProviderTimeoutError(ProviderGenericError):
    ogc_exception_code = "Timeout"
    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_msg = "query timeout"


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


class SQLiteDialect(SQLDialect):
    """How CQL2 is written for SQLite + GeoPackage."""

    def __init__(self, rtree: str | None):
        self.rtree = rtree

    def placeholder(self) -> str:
        return "?"

    def geometry_param(self, geom: shapely.Geometry) -> tuple[str, Any]:
        return "?", shapely.to_wkb(geom)

    def _index(self, envelope: tuple | None) -> str:
        if envelope is None or self.rtree is None:
            return ""
        minx, miny, maxx, maxy = (float(v) for v in envelope)
        # Literal floats (not user text) keep the parameter order simple.
        return (f"fid IN (SELECT id FROM {self.quote(self.rtree)} WHERE maxx >= {minx!r} "
                f"AND minx <= {maxx!r} AND maxy >= {miny!r} AND miny <= {maxy!r}) AND ")

    def spatial(self, op: str, column_sql: str, geom_sql: str, envelope: tuple | None) -> str:
        return f"({self._index(envelope)}st_relate('{op}', {column_sql}, {geom_sql}))"

    def dwithin(self, column_sql: str, geom_sql: str, distance_sql: str, envelope: tuple) -> str:
        return f"({self._index(envelope)}st_dwithin({column_sql}, {geom_sql}, {distance_sql}))"


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
_transformers: dict[tuple, pyproj.Transformer] = {}


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
        base = (col_type or "TEXT").upper().split("(")[0]
        columns[col] = dict(SQLITE_TYPES.get(base, {"type": "string"}))
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


def transformer_for(spec: Any) -> pyproj.Transformer:
    key = (spec.source_crs_wkt, spec.target_crs_wkt, spec.always_xy)
    tr = _transformers.get(key)
    if tr is None:
        tr = _transformers[key] = pyproj.Transformer.from_crs(
            pyproj.CRS.from_wkt(spec.source_crs_wkt), pyproj.CRS.from_wkt(spec.target_crs_wkt),
            always_xy=spec.always_xy)
    return tr


def geometries_to_geojson(blobs: list[bytes | None], crs_transform_spec: Any) -> list[dict | None]:
    """Decode a page of GeoPackage blobs, reproject in one vectorised call, emit GeoJSON dicts."""
    wkbs = [gpkg_wkb(b) for b in blobs]
    present = [i for i, w in enumerate(wkbs) if w is not None]
    out: list[dict | None] = [None] * len(blobs)
    if not present:
        return out
    geoms = shapely.from_wkb([wkbs[i] for i in present])
    decimals = 2
    if crs_transform_spec is not None:
        tr = transformer_for(crs_transform_spec)
        decimals = 7 if tr.target_crs.is_geographic else 2

        def project(coords: np.ndarray) -> np.ndarray:
            x, y = tr.transform(coords[:, 0], coords[:, 1])
            return np.round(np.column_stack([x, y]), decimals)
        geoms = shapely.transform(geoms, project)
    else:
        geoms = shapely.transform(geoms, lambda c: np.round(c, decimals))
    for i, text in zip(present, shapely.to_geojson(geoms)):
        out[i] = json.loads(text)
    return out


class GeoPackageProvider(BaseProvider):
    """OGC API Features provider over one GeoPackage feature table."""

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.data = str(provider_def["data"])
        if not os.path.isfile(self.data):
            raise ProviderGenericError(f"store file missing: {os.path.basename(self.data)}; "
                                       "run `artois-geo build`")
        self.table_name = provider_def.get("table")
        self.info = read_table_info(self.data, self.table_name)
        options = provider_def.get("options") or {}
        self.timeout = float(options.get("query_timeout", 10))
        self.dialect = SQLiteDialect(self.info.rtree)
        self.id_field = self.id_field or "fid"
        self._fields = self._build_fields(options.get("fields") or {})
        self.get_fields()

    # -- metadata -----------------------------------------------------------------
    def _build_fields(self, configured: dict) -> dict:
        fields = {}
        for name, schema in self.info.columns.items():
            spec = dict(schema)
            extra = configured.get(name) or {}
            if extra.get("enum"):
                spec["values"] = list(extra["enum"])
            fields[name] = spec
        return fields

    def get_fields(self) -> dict:
        return self._fields

    def get_schema(self, schema_type: SchemaType = SchemaType.item):
        return feature_schema(self._fields, self.info.geometry_type, self.id_field)

    def get_domains(self, properties=[], current=False):
        conn = connect(self.data)
        domains = {}
        names = properties or [n for n, s in self._fields.items() if s["type"] == "string"]
        with deadline(conn, self.timeout):
            for name in names:
                if name not in self._fields:
                    continue
                q = self.dialect.quote(name)
                rows = conn.execute(f"SELECT DISTINCT {q} FROM {self.dialect.quote(self.info.table)} "
                                    f"WHERE {q} IS NOT NULL ORDER BY 1 LIMIT 101").fetchall()
                if len(rows) <= 100:
                    domains[name] = [r[0] for r in rows]
        return domains, True

    # -- queries ------------------------------------------------------------------
    def _where(self, bbox, datetime_, properties, filterq, q) -> tuple[str, list]:
        clauses: list[str] = []
        params: list[Any] = []
        if bbox:
            minx, miny, maxx, maxy = (float(v) for v in (bbox[0], bbox[1], bbox[-2], bbox[-1]))
            box = paging.bbox_shape(bbox)  # a reprojected bbox: the box, not its envelope
            clauses.append(self.dialect.spatial("intersects", self.dialect.quote(
                self.info.geometry_column), "?", (minx, miny, maxx, maxy)))
            params.append(shapely.to_wkb(box))
        if datetime_ and self.time_field:
            clauses.append(self._datetime_clause(datetime_, params))
        for name, value in properties or []:
            spec = self._fields.get(name)
            if spec is None:
                continue
            clauses.append(f"{self.dialect.quote(name)} = ?")
            params.append(self._typed(name, spec, value))
        if q:
            text_cols = [n for n, s in self._fields.items() if s["type"] == "string"]
            terms = [t for t in str(q).split(",") if t.strip()]
            if text_cols and terms:
                ors = []
                for term in terms:
                    for col in text_cols:
                        ors.append(f"unaccent(lower({self.dialect.quote(col)})) LIKE ?")
                        params.append(f"%{_unaccent(term.strip().lower())}%")
                clauses.append("(" + " OR ".join(ors) + ")")
        if filterq is not None:
            try:
                sql, fparams = to_sql(filterq, self.dialect, self._fields, self.info.geometry_column)
            except FilterError as err:
                raise ProviderInvalidQueryError(user_msg=f"Invalid CQL2 filter: {err}") from err
            clauses.append(sql)
            params.extend(fparams)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _typed(self, name: str, spec: dict, value: str) -> Any:
        return typed(name, spec, value, bool_as_int=True)  # SQLite stores booleans as 0/1

    def _datetime_clause(self, datetime_: str, params: list) -> str:
        col = self.dialect.quote(self.time_field)
        is_date = self._fields.get(self.time_field, {}).get("format") == "date"

        def norm(v: str) -> str:
            return v[:10] if is_date else v
        if "/" in datetime_:
            start, end = datetime_.split("/", 1)
            parts = []
            if start not in ("", ".."):
                parts.append(f"{col} >= ?")
                params.append(norm(start))
            if end not in ("", ".."):
                parts.append(f"{col} <= ?")
                params.append(norm(end))
            return "(" + " AND ".join(parts) + ")" if parts else f"{col} IS NOT NULL"
        params.append(norm(datetime_))
        return f"{col} = ?"

    def _order(self, sortby) -> str:
        terms = [f"{self.dialect.quote(s['property'])} {'DESC' if s['order'] == '-' else 'ASC'}"
                 for s in sortby or [] if s["property"] in self._fields]
        return " ORDER BY " + ", ".join(terms + ["fid"])

    def query(self, offset=0, limit=10, resulttype="results", bbox=[], datetime_=None,
              properties=[], sortby=[], select_properties=[], skip_geometry=False, q=None,
              filterq=None, crs_transform_spec=None, **kwargs) -> dict:
        paging.check_parameters(self._fields)
        where, params = self._where(bbox, datetime_, properties, filterq, q)
        table = self.dialect.quote(self.info.table)
        conn = connect(self.data)
        columns = [c for c in self._fields if not select_properties or c in select_properties]
        if self.id_field in self._fields and self.id_field not in columns:
            columns.append(self.id_field)
        keyset = not sortby  # pages in fid order: `next` carries the last fid
        cursor = paging.requested_cursor() if keyset else None
        page_where, page_params = where, list(params)
        if cursor is not None:
            page_where = (where + " AND " if where else " WHERE ") + "fid > ?"
            page_params.append(cursor)
            offset = 0
        with deadline(conn, self.timeout):
            matched = conn.execute(f"SELECT COUNT(*) FROM {table}{where}", params).fetchone()[0]
            if resulttype == "hits":
                return {"type": "FeatureCollection", "features": [],
                        "numberMatched": matched, "numberReturned": 0}
            select = ", ".join(["fid"] + [self.dialect.quote(c) for c in columns] +
                               ([] if skip_geometry else
                                [self.dialect.quote(self.info.geometry_column)]))
            rows = conn.execute(f"SELECT {select} FROM {table}{page_where}{self._order(sortby)} "
                                f"LIMIT ? OFFSET ?",
                                page_params + [int(limit) + keyset, int(offset)]).fetchall()
        more = keyset and len(rows) > int(limit)
        rows = rows[:int(limit)]
        features = self._features(rows, columns, skip_geometry, crs_transform_spec,
                                  select_properties)
        result = {"type": "FeatureCollection", "features": features,
                  "numberMatched": matched, "numberReturned": len(features)}
        if keyset:
            result["links"] = paging.keyset_links(more, rows[-1][0] if rows else None,
                                                  int(offset), int(limit))
        return result

    def _features(self, rows, columns, skip_geometry, crs_transform_spec,
                  select_properties=None) -> list[dict]:
        geometries = ([None] * len(rows) if skip_geometry else
                      geometries_to_geojson([r[-1] for r in rows], crs_transform_spec))
        booleans = {c for c in columns if self._fields[c]["type"] == "boolean"}
        shown = [c for c in columns if not select_properties or c in select_properties]
        features = []
        for row, geometry in zip(rows, geometries):
            values = dict(zip(columns, row[1:1 + len(columns)]))
            for c in booleans:
                if values[c] is not None:
                    values[c] = bool(values[c])
            fid = values.get(self.id_field, row[0]) if self.id_field != "fid" else row[0]
            features.append({"type": "Feature", "id": fid, "geometry": geometry,
                             "properties": {c: values[c] for c in shown}})
        return features

    def get(self, identifier, crs_transform_spec=None, **kwargs) -> dict:
        table = self.dialect.quote(self.info.table)
        columns = list(self._fields)
        key = "fid" if self.id_field == "fid" else self.dialect.quote(self.id_field)
        value: Any = identifier
        if self._fields.get(self.id_field, {"type": "integer"})["type"] == "integer":
            try:
                value = int(identifier)
            except ValueError:
                raise ProviderItemNotFoundError(user_msg=f"item {identifier!r} not found")
        conn = connect(self.data)
        select = ", ".join(["fid"] + [self.dialect.quote(c) for c in columns] +
                           [self.dialect.quote(self.info.geometry_column)])
        with deadline(conn, self.timeout):
            row = conn.execute(f"SELECT {select} FROM {table} WHERE {key} = ? LIMIT 1",
                               (value,)).fetchone()
        if row is None:
            raise ProviderItemNotFoundError(user_msg=f"item {identifier!r} not found")
        return self._features([row], columns, False, crs_transform_spec)[0]

    def __repr__(self) -> str:
        return f"<GeoPackageProvider> {os.path.basename(self.data)}:{self.info.table}"
