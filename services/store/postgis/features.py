"""Reading the PostGIS store as the OGC API Features providers need it (psycopg 3).

PostGIS writes the GeoJSON of a page (ST_AsGeoJSON + row_to_json, aggregated to one text)
and the server passes that text through: rows never become Python objects on the JSON
path (`RawFeatures`). Envelopes arrive in the storage CRS (pygeoapi transforms bbox-crs and
filter-crs), so the GIST index serves any bbox-crs. Values are bound parameters and
identifiers are quoted; counting is exact on small tables and estimated on large ones. A
first page is one statement (count and page together), one item one statement.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import psycopg
import pyproj
import shapely
from psycopg import sql
from pygeoapi.provider.base import ProviderInvalidQueryError, ProviderItemNotFoundError

from services.cql2sql import FilterError, SQLDialect, to_sql
from services.providers import paging
from services.providers.values import typed
from services.settings import get_settings
from services.store.base import FeatureReader, ProviderTimeoutError, ProviderUnavailableError
from services.store.postgis import pool as db
from services.store.postgis.tables import read_table, split


class RawFeatures(list):
    """A page of features held as the GeoJSON text PostGIS wrote.

    The JSON path splices the text into the response unparsed (see services.pygeoapi_compat, patch to-json); HTML,
    CSV and other formatters iterate it, which parses it once on first use.
    """

    def __init__(self, text: str, count: int):
        super().__init__()
        self.raw = text
        self.count = count
        self._parsed = False

    def _parse(self) -> None:
        if not self._parsed:
            self._parsed = True
            super().extend(json.loads(self.raw) if self.raw else [])

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        self._parse()
        return super().__iter__()

    def __getitem__(self, index):
        self._parse()
        return super().__getitem__(index)

    def __bool__(self) -> bool:
        return self.count > 0


class PostGISDialect(SQLDialect):
    """How CQL2 is written for PostGIS."""

    def __init__(self, srid: int):
        self.srid = srid

    def placeholder(self) -> str:
        return "%s"

    def geometry_param(self, geom: shapely.Geometry) -> tuple[str, Any]:
        return f"ST_GeomFromWKB(%s, {int(self.srid)})", shapely.to_wkb(geom)

    def spatial(self, op: str, column_sql: str, geom_sql: str, envelope: tuple | None) -> str:
        fn = {"intersects": "ST_Intersects", "disjoint": "ST_Disjoint", "within": "ST_Within",
              "contains": "ST_Contains", "touches": "ST_Touches", "crosses": "ST_Crosses",
              "overlaps": "ST_Overlaps", "equals": "ST_Equals"}[op]
        return f"{fn}({column_sql}, {geom_sql})"

    def dwithin(self, column_sql: str, geom_sql: str, distance_sql: str, envelope: tuple) -> str:
        return f"ST_DWithin({column_sql}, {geom_sql}, {distance_sql})"


def output_srid(crs_transform_spec: Any, storage_srid: int) -> tuple[int, bool, int]:
    """(srid, flip axes, decimals) for the requested output CRS."""
    if crs_transform_spec is None:
        return storage_srid, False, 2
    return _target_srid(crs_transform_spec.target_crs_wkt, bool(crs_transform_spec.always_xy))


@functools.lru_cache(maxsize=64)
def _target_srid(target_wkt: str, always_xy: bool) -> tuple[int, bool, int]:
    crs = pyproj.CRS.from_wkt(target_wkt)  # to_epsg() costs ~10 ms: once per CRS
    epsg = crs.to_epsg() or 4326
    flip = (not always_xy and crs.axis_info and
            crs.axis_info[0].direction.lower() in ("north", "south"))
    return epsg, bool(flip), 7 if crs.is_geographic else 2


class PostGISFeatures(FeatureReader):
    """One PostGIS table, read."""

    def __init__(self, provider_def: dict, id_field: str | None = None,
                 time_field: str | None = None):
        self.schema, self.table_name = split(provider_def.get("table") or provider_def["data"])
        self.time_field = time_field
        options = provider_def.get("options") or {}
        self.exact_count_limit = int(options.get("exact_count_limit",
                                                 get_settings().exact_count_limit))
        try:
            self.info = read_table(self.schema, self.table_name)
        except psycopg.OperationalError as err:
            if db.unreachable(err):
                raise ProviderUnavailableError() from err
            raise ProviderTimeoutError(user_msg="query timeout") from err
        self.dialect = PostGISDialect(self.info.srid)
        self.id_field = id_field or self.info.key
        self.geometry_type = self.info.geometry_type
        self._fields = self.fields = {}
        for name, spec in self.info.columns.items():
            spec = dict(spec)
            enum = ((options.get("fields") or {}).get(name) or {}).get("enum")
            if enum:
                spec["values"] = list(enum)
            self._fields[name] = spec

    # -- metadata -----------------------------------------------------------------
    def domains(self, names: list[str]) -> dict[str, list]:
        domains = {}
        with self._connection() as conn:
            for name in names:
                if name not in self._fields:
                    continue
                q = sql.SQL("SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY 1 "
                            "LIMIT 101").format(c=sql.Identifier(name), t=self._table())
                rows = conn.execute(q).fetchall()
                if len(rows) <= 100:
                    domains[name] = [r[0] for r in rows]
        return domains

    # -- helpers ------------------------------------------------------------------
    def _table(self) -> sql.Composed:
        return db.qualified(self.schema, self.table_name)

    @functools.cached_property
    def _table_text(self) -> str:
        """The quoted `schema.table` (built once: every statement names it)."""
        return self._table().as_string(None)

    def _connection(self):
        return _GuardedConnection()

    def _where(self, bbox, datetime_, properties, filterq, q) -> tuple[str, list]:
        clauses: list[str] = []
        params: list[Any] = []
        geom = self.dialect.quote(self.info.geometry_column)
        if bbox:
            minx, miny, maxx, maxy = (float(v) for v in (bbox[0], bbox[1], bbox[-2], bbox[-1]))
            clauses.append(f"{geom} && ST_MakeEnvelope(%s, %s, %s, %s, {int(self.info.srid)})")
            params += [minx, miny, maxx, maxy]
            # a reprojected bbox: the box itself (densified), not its envelope
            clauses.append(f"ST_Intersects({geom}, ST_GeomFromWKB(%s, {int(self.info.srid)}))")
            params.append(shapely.to_wkb(paging.bbox_shape(bbox)))
        if datetime_ and self.time_field in self._fields:
            col = self.dialect.quote(self.time_field)
            # a date or timestamp column compares as such; a text column (ISO dates kept as
            # text, e.g. d_service) as text, like the embedded store: never text >= timestamptz
            cast = {"date": "::date", "date-time": "::timestamptz"}.get(
                self._fields[self.time_field].get("format"), "")
            if "/" in datetime_:
                start, end = datetime_.split("/", 1)
                if start not in ("", ".."):
                    clauses.append(f"{col} >= %s{cast}")
                    params.append(start[:10] if cast == "::date" else start)
                if end not in ("", ".."):
                    clauses.append(f"{col} <= %s{cast}")
                    params.append(end[:10] if cast == "::date" else end)
            else:
                clauses.append(f"{col} = %s{cast}")
                params.append(datetime_[:10] if cast == "::date" else datetime_)
        for name, value in properties or []:
            spec = self._fields.get(name)
            if spec is None:
                continue
            clauses.append(f"{self.dialect.quote(name)} = %s")
            params.append(_typed(name, spec, value))
        if q:
            text_cols = [n for n, s in self._fields.items() if s["type"] == "string"]
            ors = []
            for term in (t.strip() for t in str(q).split(",") if t.strip()):
                for col in text_cols:
                    ors.append(f"unaccent(lower({self.dialect.quote(col)})) LIKE "
                               f"unaccent(lower(%s))")
                    params.append(f"%{term}%")
            if ors:
                clauses.append("(" + " OR ".join(ors) + ")")
        if filterq is not None:
            try:
                text, fparams = to_sql(filterq, self.dialect, self._fields,
                                       self.info.geometry_column)
            except FilterError as err:
                raise ProviderInvalidQueryError(user_msg=f"Invalid CQL2 filter: {err}") from err
            clauses.append(text)
            params += fparams
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _feature_sql(self, alias: str, columns: list[str], skip_geometry: bool,
                     crs_transform_spec: Any) -> str:
        """SQL text of one GeoJSON Feature for a row of `alias`."""
        q = self.dialect.quote
        if skip_geometry:
            geometry = "'null'"
        else:
            srid, flip, digits = output_srid(crs_transform_spec, self.info.srid)
            g = f"{alias}.{q(self.info.geometry_column)}"
            if srid != self.info.srid:
                g = f"ST_Transform({g}, {int(srid)})"
            if flip:
                g = f"ST_FlipCoordinates({g})"
            geometry = f"coalesce(ST_AsGeoJSON({g}, {int(digits)}), 'null')"
        if columns:
            props = ", ".join(f"{alias}.{q(c)}" for c in columns)
            properties = f"(SELECT row_to_json(p) FROM (SELECT {props}) p)::text"
        else:
            properties = "'{}'"
        id_col = f"{alias}.{q(self.id_field)}"
        return (f"""'{{"type":"Feature","id":' || to_json({id_col})::text || """
                f"""',"geometry":' || {geometry} || ',"properties":' || {properties} || '}}'""")

    def _order(self, sortby, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        terms = [f"{prefix}{self.dialect.quote(s['property'])} "
                 f"{'DESC' if s['order'] == '-' else 'ASC'}"
                 for s in sortby or [] if s["property"] in self._fields]
        return ", ".join(terms + [f"{prefix}{self.dialect.quote(self.info.key)}"])

    def _count_sql(self, where: str) -> str:
        table = self._table_text
        if self.info.estimated_rows < self.exact_count_limit:
            return f"(SELECT count(*) FROM {table}{where})"
        return ""  # estimated: pg_class.reltuples (cached) or the planner's row estimate

    # -- queries ------------------------------------------------------------------
    # Each read is planned (SQL text and arguments, no I/O), executed, then finished (the
    # result pygeoapi expects): query()/get() run them on a pooled connection in a worker
    # thread; services/hotread.py runs the very same plans on the event loop.
    def page_plan(self, offset=0, limit=10, bbox=(), datetime_=None, properties=(),
                  sortby=(), select_properties=(), skip_geometry=False, q=None, filterq=None,
                  crs_transform_spec=None) -> "PagePlan":
        paging.check_parameters(self._fields)
        where, params = self._where(bbox, datetime_, properties, filterq, q)
        table = self._table_text
        columns = [c for c in self._fields if not select_properties or c in select_properties]
        count_sql = self._count_sql(where)
        # pages in primary-key order: `next` carries the last key, so no page skips rows
        keyset = not sortby and self.info.key_is_integer
        cursor = paging.requested_cursor() if keyset else None
        page_where, page_params = where, list(params)
        if cursor is not None:
            page_where = (where + " AND " if where else " WHERE ") + \
                f"{self.dialect.quote(self.info.key)} > %s"
            page_params.append(cursor)
            offset = 0
        feature = self._feature_sql("page", columns, skip_geometry, crs_transform_spec)
        key = self.dialect.quote(self.info.key)
        inner_cols = ", ".join(self.dialect.quote(c) for c in
                               dict.fromkeys([self.info.key, self.id_field, *columns,
                                              *(s["property"] for s in sortby or []
                                                if s["property"] in self._fields),
                                              self.info.geometry_column]))
        n = int(limit)
        page_sql = (f"SELECT coalesce(string_agg({feature}, ',' ORDER BY "
                    f"{self._order(sortby, 'page')}) FILTER (WHERE page.rn <= {n}), ''), "
                    f"count(*) FILTER (WHERE page.rn <= {n}), count(*) > {n}, "
                    f"max(page.{key}) FILTER (WHERE page.rn <= {n}) "
                    f"FROM (SELECT s.*, row_number() OVER (ORDER BY {self._order(sortby, 's')}) rn "
                    f"FROM (SELECT {inner_cols} FROM {table}{page_where} "
                    f"ORDER BY {self._order(sortby)} LIMIT %s OFFSET %s) s) page")
        page_args = page_params + [n + (1 if keyset else 0), int(offset)]
        if count_sql:  # count and page in one statement
            page_sql = f"SELECT ({count_sql}), page.* FROM ({page_sql}) page"
            page_args = params + page_args
        return PagePlan(page_sql, page_args, bool(count_sql), self._matched_plan(where, params),
                        keyset, int(offset), int(limit))

    def page_result(self, plan: "PagePlan", row: tuple, matched: Any) -> dict:
        """The provider's result from the page statement's row (and the count, when the
        statement does not carry it)."""
        if plan.counted:
            matched, text, returned, more, last_key = row
        else:
            text, returned, more, last_key = row
        features = RawFeatures(f"[{text}]" if text else "[]", int(returned))
        result = {"type": "FeatureCollection", "features": features,
                  "numberMatched": int(matched), "numberReturned": int(returned)}
        if plan.keyset:
            result["links"] = paging.keyset_links(bool(more), last_key, plan.offset, plan.limit)
        return result

    def _matched_plan(self, where: str, params: list) -> tuple[str | None, list, Any]:
        """How numberMatched is found: (statement, arguments, None) to run, the answer being
        an exact count or a plan's estimate; or (None, [], value) known already."""
        count_sql = self._count_sql(where)
        if count_sql:
            return f"SELECT {count_sql}", params, None
        if not where:  # the table's size as of the last ANALYZE, re-read every minute
            return None, [], int(self.info.estimated_rows)
        return (f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {self._table_text}{where}",
                params, None)

    @staticmethod
    def matched_value(statement: str, value: Any) -> int:
        """numberMatched from the result of a _matched_plan statement."""
        if statement.startswith("EXPLAIN"):
            return int(value[0]["Plan"]["Plan Rows"])
        return int(value)

    def query(self, offset=0, limit=10, resulttype="results", bbox=[], datetime_=None,
              properties=[], sortby=[], select_properties=[], skip_geometry=False, q=None,
              filterq=None, crs_transform_spec=None) -> dict:
        plan = self.page_plan(offset, limit, bbox, datetime_, properties, sortby,
                              select_properties, skip_geometry, q, filterq, crs_transform_spec)
        with self._connection() as conn:
            if resulttype == "hits":
                return {"type": "FeatureCollection", "features": [],
                        "numberMatched": self._matched(conn, plan.matched), "numberReturned": 0}
            row = conn.execute(plan.sql, plan.args).fetchone()
            matched = None if plan.counted else self._matched(conn, plan.matched)
        return self.page_result(plan, row, matched)

    def _matched(self, conn, matched_plan: tuple) -> int:
        statement, args, known = matched_plan
        if statement is None:
            return known
        return self.matched_value(statement, conn.execute(statement, args).fetchone()[0])

    def item_plan(self, identifier, crs_transform_spec=None) -> tuple[str, tuple]:
        """The statement of one feature (ProviderItemNotFoundError for an id of the wrong
        type: no such feature)."""
        columns = list(self._fields)
        feature = self._feature_sql("t", columns, False, crs_transform_spec)
        spec = self._fields.get(self.id_field, {"type": "integer"})
        try:
            value = _typed(self.id_field, spec, identifier)
        except ProviderInvalidQueryError:
            raise ProviderItemNotFoundError(user_msg=f"item {identifier!r} not found")
        return (f"SELECT {feature} FROM {self._table_text} t "
                f"WHERE t.{self.dialect.quote(self.id_field)} = %s LIMIT 1", (value,))

    def get(self, identifier, crs_transform_spec=None) -> dict:
        statement, args = self.item_plan(identifier, crs_transform_spec)
        with self._connection() as conn:
            row = conn.execute(statement, args).fetchone()
        if row is None:
            raise ProviderItemNotFoundError(user_msg=f"item {identifier!r} not found")
        return json.loads(row[0])


@dataclass(frozen=True)
class PagePlan:
    sql: str
    args: list
    counted: bool           # the statement's first column is numberMatched
    matched: tuple          # else how to find it (PostGISFeatures._matched_plan)
    keyset: bool
    offset: int
    limit: int


def _typed(name: str, spec: dict, value: Any) -> Any:
    return typed(name, spec, value)


class _GuardedConnection:
    """A pooled connection whose database errors become OGC-friendly provider errors: an
    unreachable database or a lost connection is a 503 (the pool reconnects by itself)."""

    def __enter__(self):
        if db.HOT_READ_TIMED_OUT.get():  # the same statement timed out on the hot path
            raise ProviderTimeoutError(user_msg="query timeout")
        try:
            self._cm = db.pool().connection()
            self._conn = db.reading(self._cm.__enter__())  # no transaction, no COMMIT trip
            return self._conn
        except psycopg.OperationalError as err:
            raise ProviderUnavailableError() from err

    def __exit__(self, exc_type, exc, tb):
        try:
            db.done_reading(self._conn)
            self._cm.__exit__(exc_type, exc, tb)
        except psycopg.OperationalError:
            if exc is not None:
                raise
            # lost while returning the connection, after the rows had all arrived: the
            # answer stands (only reads come here); the pool replaces the connection
        finally:
            if isinstance(exc, psycopg.errors.QueryCanceled):
                raise ProviderTimeoutError(user_msg="query timeout") from exc
            if db.unreachable(exc):
                raise ProviderUnavailableError() from exc
            if isinstance(exc, (psycopg.errors.DataError, psycopg.errors.InvalidParameterValue,
                                psycopg.errors.UndefinedFunction)):
                raise ProviderInvalidQueryError(user_msg=f"Invalid query: {exc}") from exc
        return False
