"""Reading the embedded store as the OGC API Features providers need it (sqlite3).

Bounding-box and spatial CQL2 queries go through the GeoPackage R*Tree index
(`rtree_<table>_<geom>`), exact spatial tests run in shapely through SQLite user functions
(services.store.sqlite.tables), and every value is a bound parameter. Pages are in `fid`
order: `next` carries the last fid (keyset), so walking a table never re-scans it.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pyproj
import shapely
from pygeoapi.provider.base import (ProviderGenericError, ProviderInvalidQueryError,
                                    ProviderItemNotFoundError)

from services.cql2sql import FilterError, SQLDialect, to_sql
from services.providers import paging
from services.providers.values import typed
from services.store.base import FeatureReader
from services.store.sqlite.tables import _unaccent, connect, deadline, gpkg_wkb, read_table_info

_transformers: dict[tuple, pyproj.Transformer] = {}


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


class GeoPackageFeatures(FeatureReader):
    """One GeoPackage feature table, read."""

    def __init__(self, provider_def: dict, id_field: str | None = None,
                 time_field: str | None = None):
        self.data = str(provider_def["data"])
        self.time_field = time_field
        if not os.path.isfile(self.data):
            raise ProviderGenericError(f"store file missing: {os.path.basename(self.data)}; "
                                       "run `artois-geo build`")
        self.table_name = provider_def.get("table")
        self.info = read_table_info(self.data, self.table_name)
        options = provider_def.get("options") or {}
        self.timeout = float(options.get("query_timeout", 10))
        self.dialect = SQLiteDialect(self.info.rtree)
        self.id_field = id_field or "fid"
        self.geometry_type = self.info.geometry_type
        self._fields = self.fields = self._build_fields(options.get("fields") or {})

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

    def domains(self, names: list[str]) -> dict[str, list]:
        conn = connect(self.data)
        domains = {}
        with deadline(conn, self.timeout):
            for name in names:
                if name not in self._fields:
                    continue
                q = self.dialect.quote(name)
                rows = conn.execute(f"SELECT DISTINCT {q} FROM {self.dialect.quote(self.info.table)} "
                                    f"WHERE {q} IS NOT NULL ORDER BY 1 LIMIT 101").fetchall()
                if len(rows) <= 100:
                    domains[name] = [r[0] for r in rows]
        return domains

    # -- queries ------------------------------------------------------------------
    def where(self, bbox, datetime_, properties, filterq, q) -> tuple[str, list]:
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
              filterq=None, crs_transform_spec=None) -> dict:
        paging.check_parameters(self._fields)
        where, params = self.where(bbox, datetime_, properties, filterq, q)
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

    def get(self, identifier, crs_transform_spec=None) -> dict:
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
