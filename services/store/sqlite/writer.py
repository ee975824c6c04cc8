"""Writing the embedded store: sqlite3 on the collection's GeoPackage, BEGIN IMMEDIATE.

Proper GeoPackage geometry blobs; the R*Tree is kept by GDAL's triggers (whose ST_ functions
are registered on the connection); `gpkg_contents` gets the new extent and last change at
commit. The audit is a plain `audit` table in the same GeoPackage, same transaction.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Iterable
from urllib.request import pathname2url

import shapely

from services.catalog import CollectionSpec
from services.store.feature import CollectionNotFound, Feature, FeatureExists
from services.store.sqlite.tables import (column_schema, gpkg_blob, gpkg_wkb, quote as _q,
                                          register_gpkg_functions)
from services.store.writer import AUDIT_COLUMNS, Writer, _audit_row

AUDIT_INSERT = (f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS[1:])}) VALUES "
                f"({', '.join('?' * len(AUDIT_COLUMNS[1:]))})")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _time(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GeoPackageWriter(Writer):
    """sqlite3 on the collection's GeoPackage; BEGIN IMMEDIATE takes the write lock."""

    def __init__(self, spec: CollectionSpec, path: str | Path, table: str, **kwargs):
        super().__init__(spec, **kwargs)
        self.path = str(path)
        self.table = table
        self.conn: sqlite3.Connection | None = None
        self._bounds: list[float] | None = None

    def _begin(self) -> None:
        if not os.path.isfile(self.path):
            raise CollectionNotFound("collection_not_built", status=404,
                                     collection=self.spec.id)
        uri = f"file:{pathname2url(self.path)}" + ("?mode=ro" if self.readonly else "")
        self.conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None,
                                    check_same_thread=False)
        register_gpkg_functions(self.conn)
        self.conn.execute("BEGIN" if self.readonly else "BEGIN IMMEDIATE")
        row = self.conn.execute("SELECT column_name, srs_id FROM gpkg_geometry_columns "
                                "WHERE table_name = ?", (self.table,)).fetchone()
        self.geom_col, self.srs_id = row
        self.columns = {}
        for _, name, col_type, _, _, pk in self.conn.execute(f"PRAGMA table_info({_q(self.table)})"):
            if pk or name == self.geom_col:
                continue
            self.columns[name] = column_schema(col_type)
        self._has_audit = bool(self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'").fetchone())

    def _commit(self) -> None:
        if self._bounds is not None:
            minx, miny, maxx, maxy = self._bounds
            self.conn.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                "min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce(min_y, ?), ?), "
                "max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?) "
                "WHERE table_name = ?",
                (minx, minx, miny, miny, maxx, maxx, maxy, maxy, self.table))
        elif any(self.changes.values()):
            self.conn.execute("UPDATE gpkg_contents SET last_change = "
                              "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = ?",
                              (self.table,))
        self.conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self.conn is not None and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _value(self, name: str, value: Any) -> Any:
        if value is not None and self.columns[name].get("type") == "boolean":
            return int(bool(value))
        return value

    def _select(self, key: Any) -> Feature | None:
        cols = list(self.columns)
        select = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        row = self.conn.execute(f"SELECT {select} FROM {_q(self.table)} WHERE "
                                f"{_q(self.id_field)} = ? LIMIT 1", (key,)).fetchone()
        if row is None:
            return None
        return self._feature(cols, row, key)

    def _select_many(self, keys: list[Any]) -> dict[Any, Feature]:
        cols = list(self.columns)
        select = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        id_pos = cols.index(self.id_field) if self.id_field in cols else None
        out: dict[Any, Feature] = {}
        if id_pos is None:
            return super()._select_many(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.conn.execute(
                f"SELECT {select} FROM {_q(self.table)} WHERE {_q(self.id_field)} IN "
                f"({', '.join('?' * len(chunk))})", chunk).fetchall()
            wanted = set(chunk)
            for row in rows:  # first row per key, like _select's LIMIT 1
                key = row[id_pos]
                if key in wanted and key not in out:
                    out[key] = self._feature(cols, row, key)
        return out

    def _update_rows(self, rows: list[tuple[Any, dict, shapely.Geometry]]) -> None:
        cols = list(self.columns)
        sets = ", ".join(f"{_q(c)} = ?" for c in cols + [self.geom_col])
        self.conn.executemany(
            f"UPDATE {_q(self.table)} SET {sets} WHERE {_q(self.id_field)} = ?",
            [[self._value(c, props.get(c)) for c in cols] + [gpkg_blob(geom, self.srs_id), key]
             for key, props, geom in rows])
        for _, _, geom in rows:
            self._track(geom)

    def _insert_audits(self, records: list[dict]) -> None:
        if not records:
            return
        if not self._has_audit:
            self._insert_audit(records[0])
            records = records[1:]
        self.conn.executemany(AUDIT_INSERT, [self._audit_params(r, _json, _time)
                                             for r in records])

    def _feature(self, cols: list[str], row: tuple, key: Any) -> Feature:
        props = {}
        for name, value in zip(cols, row):
            schema = self.columns[name]
            if value is not None and schema.get("type") == "boolean":
                value = bool(value)
            props[name] = value
        wkb = gpkg_wkb(row[-1])
        geom = shapely.from_wkb(wkb) if wkb is not None else shapely.Point()
        return Feature(props.get(self.id_field, key), props, geom)

    def _track(self, geom: shapely.Geometry) -> None:
        minx, miny, maxx, maxy = geom.bounds
        if self._bounds is None:
            self._bounds = [minx, miny, maxx, maxy]
        else:
            b = self._bounds
            self._bounds = [min(b[0], minx), min(b[1], miny), max(b[2], maxx), max(b[3], maxy)]

    def _insert_row(self, props: dict, geom: shapely.Geometry) -> None:
        cols = list(self.columns)
        names = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        marks = ", ".join("?" * (len(cols) + 1))
        try:
            self.conn.execute(f"INSERT INTO {_q(self.table)} ({names}) VALUES ({marks})",
                              [self._value(c, props.get(c)) for c in cols] +
                              [gpkg_blob(geom, self.srs_id)])
        except sqlite3.IntegrityError as err:  # the unique index on the id field
            raise FeatureExists("feature_exists", id=props.get(self.id_field),
                                collection=self.spec.id) from err
        self._track(geom)

    def _update_row(self, key: Any, props: dict, geom: shapely.Geometry) -> None:
        cols = list(self.columns)
        sets = ", ".join(f"{_q(c)} = ?" for c in cols + [self.geom_col])
        self.conn.execute(f"UPDATE {_q(self.table)} SET {sets} WHERE {_q(self.id_field)} = ?",
                          [self._value(c, props.get(c)) for c in cols] +
                          [gpkg_blob(geom, self.srs_id), key])
        self._track(geom)

    def _delete_row(self, key: Any) -> None:
        self.conn.execute(f"DELETE FROM {_q(self.table)} WHERE {_q(self.id_field)} = ?", (key,))

    def _insert_audit(self, record: dict) -> None:
        if not self._has_audit:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "at TEXT NOT NULL, username TEXT, role TEXT, source TEXT, collection TEXT NOT NULL, "
                "feature_id TEXT NOT NULL, action TEXT NOT NULL, previous TEXT, new TEXT, "
                "etag_before TEXT, etag_after TEXT, detail TEXT)")
            self.conn.execute("CREATE INDEX IF NOT EXISTS audit_feature_idx ON audit "
                              "(collection, feature_id)")
            self._has_audit = True
        self.conn.execute(AUDIT_INSERT, self._audit_params(record, _json, _time))

    def _audit_rows(self, where: str, params: list) -> list[dict]:
        if not self._has_audit:
            return []
        rows = self.conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit WHERE "
                                 f"{where.format(p='?')} ORDER BY id", params).fetchall()
        return [_audit_row(r) for r in rows]


def add_missing_rows(spec: CollectionSpec, path: Path, gdf, date_columns: Iterable[str] = ()
                     ) -> dict[str, int]:
    """`artois-geo build` on an editable collection whose GeoPackage exists: insert only the
    source rows whose identifier is missing, so edits made since are never lost."""
    writer = GeoPackageWriter(spec, path, spec.table, audit=False)
    geom_name = gdf.geometry.name
    props = [c for c in gdf.columns if c != geom_name]
    added = 0
    with writer:
        existing = {r[0] for r in writer.conn.execute(
            f"SELECT {_q(writer.id_field)} FROM {_q(writer.table)}")}
        if writer._has_audit:  # a feature deleted through the API stays deleted
            existing |= {writer.key(r[0]) for r in writer.conn.execute(
                "SELECT feature_id FROM audit a WHERE collection = ? AND action = 'delete' "
                "AND id = (SELECT max(id) FROM audit b WHERE b.collection = a.collection "
                "AND b.feature_id = a.feature_id)", (spec.id,))}
        for values, geom in zip(gdf[props].itertuples(index=False, name=None), gdf.geometry):
            row = dict(zip(props, values))
            key = writer.key(row.get(writer.id_field))
            if key is None or key in existing:
                continue
            writer.insert({k: v for k, v in row.items() if k in writer.columns}, geom,
                          check=False, action="build")
            existing.add(key)
            added += 1
        count = writer.conn.execute(f"SELECT count(*) FROM {_q(writer.table)}").fetchone()[0]
    return {"added": added, "count": count}
