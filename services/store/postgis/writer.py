"""Writing the PostGIS store: psycopg on a pooled connection, one transaction, every row
read for a change locked first (SELECT ... FOR UPDATE). The audit is `<schema>.audit`,
created once outside the writers' transactions, written in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from psycopg import errors, sql
from psycopg.types.json import Jsonb
from pygeoapi.provider.base import ProviderGenericError

from services.catalog import CollectionSpec
from services.store.base import STORAGE_SRID
from services.store.feature import CollectionNotFound, Feature, FeatureExists, canonical_wkb
from services.store.postgis import pool as db
from services.store.postgis.tables import read_table, split
from services.store.writer import AUDIT_COLUMNS, Writer, _audit_row

_pg_audit_ready: set[tuple] = set()


class PostGISWriter(Writer):
    """psycopg on a pooled connection: one transaction, rows locked with FOR UPDATE."""

    def __init__(self, spec: CollectionSpec, qualified: str, *,
                 parent: "PostGISWriter | None" = None, **kwargs):
        super().__init__(spec, **kwargs)
        self.schema, self.table_name = split(qualified)
        self.conn = None
        self._cm = None
        self.parent = parent  # a related collection's writer shares its parent's connection

    def _t(self):
        return db.qualified(self.schema, self.table_name)

    def _audit_t(self):
        return db.qualified(self.schema, "audit")

    def _begin(self) -> None:
        self._ensure_audit_table()
        if self.parent is not None:  # before any work: _schema() ends the catalogue read
            self.conn = self.parent.conn
            self.geom_col, self.columns = self._schema()
            return
        self._cm = db.pool().connection()
        self.conn = self._cm.__enter__()
        try:
            self.geom_col, self.columns = self._schema()
            if self.readonly:
                self.conn.execute("SET TRANSACTION READ ONLY")
            for cid, (spec, entry) in self.related_entries.items():
                sibling = PostGISWriter(spec, entry["table"], parent=self,
                                        **self._sibling_kwargs())
                sibling._begin()
                self.siblings[cid] = sibling
        except BaseException:
            self._rollback()
            self._close()
            raise

    def _schema(self) -> tuple[str, dict]:
        """(geometry column, {column: JSON schema}) without the key: the table's one
        description (services.store.postgis.tables), read on this connection if needed."""
        try:
            info = read_table(self.schema, self.table_name, self.conn)
        except ProviderGenericError as err:  # no such geometry table
            raise CollectionNotFound("collection_not_built", status=404,
                                     collection=self.spec.id) from err
        self.conn.rollback()  # end the catalogue read; the work starts a fresh transaction
        return info.geometry_column, {name: dict(schema) for name, schema in info.columns.items()
                                      if name != info.key}

    def _ensure_audit_table(self) -> None:
        """Create <schema>.audit once, outside the writers' transactions (no lock held)."""
        if not self.audit_enabled:
            return
        key = (db.database_url(), self.schema)
        if key in _pg_audit_ready:
            return
        with db.pool().connection() as conn:
            exists = conn.execute("SELECT to_regclass(%s)",
                                  (f'"{self.schema}".audit',)).fetchone()[0]
            if exists is None:
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                             (f"artois-audit-{self.schema}",))
                conn.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id bigint GENERATED ALWAYS AS IDENTITY "
                    "PRIMARY KEY, at timestamptz NOT NULL, username text, role text, source text, "
                    "collection text NOT NULL, feature_id text NOT NULL, action text NOT NULL, "
                    "previous jsonb, new jsonb, etag_before text, etag_after text, detail text)"
                ).format(self._audit_t()))
                conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (collection, feature_id)")
                             .format(sql.Identifier("audit_feature_idx"), self._audit_t()))
            conn.commit()
        _pg_audit_ready.add(key)

    def _commit(self) -> None:
        if self.parent is None:
            self.conn.commit()

    def _rollback(self) -> None:
        # a connection lost with the database has nothing to roll back: the server ends the
        # transaction itself; raising here would hide the error that lost it
        if self.parent is None and self.conn is not None and not self.conn.broken:
            self.conn.rollback()

    def _close(self) -> None:
        if self.parent is not None:
            self.conn = None
            return
        if self._cm is not None:
            self._cm.__exit__(None, None, None)
            self._cm = None
            self.conn = None

    def _param(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        fmt = self.columns[name].get("format")
        if fmt == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if fmt == "date-time" and isinstance(value, str):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value

    @staticmethod
    def _canonical(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
            return float(value)  # Decimal
        return value

    def _select(self, key: Any) -> Feature | None:
        cols = list(self.columns)
        query = sql.SQL("SELECT {}, ST_AsBinary({}, 'NDR') FROM {} WHERE {} = %s LIMIT 1{}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(self.geom_col),
            self._t(), sql.Identifier(self.id_field),
            sql.SQL("" if self.readonly else " FOR UPDATE"))
        row = self.conn.execute(query, (key,)).fetchone()
        if row is None:
            return None
        return self._feature(cols, row, key)

    def _feature(self, cols: list[str], row: tuple, key: Any) -> Feature:
        props = {name: self._canonical(value) for name, value in zip(cols, row)}
        geom = shapely.from_wkb(bytes(row[-1]))
        return Feature(props.get(self.id_field, key), props, geom)

    def _select_many(self, keys: list[Any]) -> dict[Any, Feature]:
        cols = list(self.columns)
        if self.id_field not in cols or not keys:
            return super()._select_many(keys)
        id_pos = cols.index(self.id_field)
        query = sql.SQL("SELECT {}, ST_AsBinary({}, 'NDR') FROM {} WHERE {} = ANY(%s){}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(self.geom_col),
            self._t(), sql.Identifier(self.id_field),
            sql.SQL("" if self.readonly else " FOR UPDATE"))
        out: dict[Any, Feature] = {}
        wanted = set(keys)
        for row in self.conn.execute(query, (list(keys),)).fetchall():
            key = row[id_pos]
            if key in wanted and key not in out:
                out[key] = self._feature(cols, row, key)
        return out

    def _select_where(self, field: str | None, value: Any) -> list[Feature]:
        cols = list(self.columns)
        where, params = sql.SQL(""), []
        if field is not None:
            where, params = sql.SQL(" WHERE {} = %s").format(sql.Identifier(field)), [value]
        query = sql.SQL("SELECT {}, ST_AsBinary({}, 'NDR') FROM {}{}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(self.geom_col),
            self._t(), where)
        id_pos = cols.index(self.id_field) if self.id_field in cols else None
        return [self._feature(cols, row, row[id_pos] if id_pos is not None else None)
                for row in self.conn.execute(query, params).fetchall()]

    def _update_sql(self) -> sql.Composed:
        """UPDATE of every column and the geometry of one row; parameters: the columns'
        values, the WKB, the key (`_update_params`)."""
        sets = [sql.SQL("{} = %s").format(sql.Identifier(c)) for c in self.columns]
        sets.append(sql.SQL("{} = ST_GeomFromWKB(%s, {})").format(
            sql.Identifier(self.geom_col), sql.Literal(STORAGE_SRID)))
        return sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(
            self._t(), sql.SQL(", ").join(sets), sql.Identifier(self.id_field))

    def _update_params(self, key: Any, props: dict, geom: shapely.Geometry) -> list[Any]:
        return [self._param(c, props.get(c)) for c in self.columns] + [canonical_wkb(geom), key]

    def _update_rows(self, rows: list[tuple[Any, dict, shapely.Geometry]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self._update_sql(), [self._update_params(*row) for row in rows])

    def _audit_sql(self) -> sql.Composed:
        cols = AUDIT_COLUMNS[1:]
        return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self._audit_t(), sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            sql.SQL(", ").join(sql.Placeholder() * len(cols)))

    def _insert_audits(self, records: list[dict]) -> None:
        if not records:
            return
        with self.conn.cursor() as cur:
            cur.executemany(self._audit_sql(), [self._audit_params(r, Jsonb) for r in records])

    def _insert_row(self, props: dict, geom: shapely.Geometry) -> None:
        cols = list(self.columns)
        query = sql.SQL("INSERT INTO {} ({}, {}) VALUES ({}, ST_GeomFromWKB(%s, {}))").format(
            self._t(), sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            sql.Identifier(self.geom_col), sql.SQL(", ").join(sql.Placeholder() * len(cols)),
            sql.Literal(STORAGE_SRID))
        try:
            self.conn.execute(query, [self._param(c, props.get(c)) for c in cols] +
                              [canonical_wkb(geom)])
        except errors.UniqueViolation as err:  # inserted meanwhile by another transaction
            raise FeatureExists("feature_exists", id=props.get(self.id_field),
                                collection=self.spec.id) from err

    def _update_row(self, key: Any, props: dict, geom: shapely.Geometry) -> None:
        self.conn.execute(self._update_sql(), self._update_params(key, props, geom))

    def _delete_row(self, key: Any) -> None:
        self.conn.execute(sql.SQL("DELETE FROM {} WHERE {} = %s").format(
            self._t(), sql.Identifier(self.id_field)), (key,))

    def _insert_audit(self, record: dict) -> None:
        self.conn.execute(self._audit_sql(), self._audit_params(record, Jsonb))

    def _audit_rows(self, where: str, params: list) -> list[dict]:
        exists = self.conn.execute("SELECT to_regclass(%s)",
                                   (f'"{self.schema}".audit',)).fetchone()[0]
        if exists is None:
            return []
        query = sql.SQL("SELECT {} FROM {} WHERE " + where.format(p="%s") + " ORDER BY id").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in AUDIT_COLUMNS), self._audit_t())
        return [_audit_row(r) for r in self.conn.execute(query, params).fetchall()]
