"""Writing the embedded store: sqlite3 on the collection's GeoPackage, BEGIN IMMEDIATE.

Proper GeoPackage geometry blobs; the R*Tree is kept by GDAL's triggers (whose ST_ functions
are registered on the connection); `gpkg_contents` gets the new extent and last change at
commit. The audit is a plain `audit` table in the same GeoPackage, same transaction.
The related collections of a write hook (services/store/writer.py) are ATTACHed before
BEGIN IMMEDIATE: one transaction over several GeoPackages (atomic across them in the
rollback-journal mode of the store), their writers (`parent` set) using the schema `r<n>`;
a lock file per group of related collections serialises such writers (no lock-order
deadlock between two GeoPackages).
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable
from urllib.request import pathname2url

import shapely

from services.catalog import CollectionSpec
from services.store.feature import CollectionNotFound, Feature, FeatureExists
from services.store.sqlite.tables import (column_schema, gpkg_blob, gpkg_wkb, quote as _q,
                                          register_gpkg_functions)
from services.store.writer import AUDIT_COLUMNS, Writer, _audit_row

AUDIT_INSERT = (f"INSERT INTO {{db}}audit ({', '.join(AUDIT_COLUMNS[1:])}) VALUES "
                f"({', '.join('?' * len(AUDIT_COLUMNS[1:]))})")
GROUP_LOCK_TIMEOUT_S = 30.0


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _time(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GeoPackageWriter(Writer):
    """sqlite3 on the collection's GeoPackage; BEGIN IMMEDIATE takes the write lock."""

    def __init__(self, spec: CollectionSpec, path: str | Path, table: str, *,
                 parent: "GeoPackageWriter | None" = None, schema: str = "main", **kwargs):
        super().__init__(spec, **kwargs)
        self.path = str(path)
        self.table = table
        self.conn: sqlite3.Connection | None = None
        self._bounds: list[float] | None = None
        self.parent = parent
        self.db = f"{_q(schema)}."
        self._lock_file = None

    @property
    def _tq(self) -> str:
        return f"{self.db}{_q(self.table)}"

    def _begin(self) -> None:
        if not os.path.isfile(self.path):
            raise CollectionNotFound("collection_not_built", status=404,
                                     collection=self.spec.id)
        if self.parent is not None:  # a related collection: the parent's connection
            self.conn = self.parent.conn
            self._read_schema()
            return
        uri = f"file:{pathname2url(self.path)}" + ("?mode=ro" if self.readonly else "")
        self.conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None,
                                    check_same_thread=False)
        try:
            register_gpkg_functions(self.conn)
            related = list(self.related_entries.items())
            if related:
                self._lock_group()
            for n, (_, (_, entry)) in enumerate(related):
                self.conn.execute("ATTACH DATABASE ? AS ?", (entry["data"], f"r{n}"))
            self.conn.execute("BEGIN" if self.readonly else "BEGIN IMMEDIATE")
            self._read_schema()
            for n, (cid, (spec, entry)) in enumerate(related):
                sibling = GeoPackageWriter(spec, entry["data"], entry.get("table") or spec.table,
                                           parent=self, schema=f"r{n}", **self._sibling_kwargs())
                sibling._begin()
                self.siblings[cid] = sibling
        except BaseException:
            self._rollback()
            self._close()
            raise

    def _lock_group(self) -> None:
        """An exclusive lock file for this group of related collections (bounded wait)."""
        group = "-".join(sorted([self.spec.id, *self.related_entries]))
        path = os.path.join(os.path.dirname(self.path) or ".", f".write-{group}.lock")
        self._lock_file = open(path, "a+b")  # noqa: SIM115 - closed by _close
        deadline = time.monotonic() + GROUP_LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked (group lock)") from None
                time.sleep(0.02)

    def _read_schema(self) -> None:
        row = self.conn.execute(f"SELECT column_name, srs_id FROM {self.db}gpkg_geometry_columns "
                                "WHERE table_name = ?", (self.table,)).fetchone()
        self.geom_col, self.srs_id = row
        self.columns = {}
        for _, name, col_type, _, _, pk in self.conn.execute(
                f"PRAGMA {self.db}table_info({_q(self.table)})"):
            if pk or name == self.geom_col:
                continue
            self.columns[name] = column_schema(col_type)
        self._has_audit = bool(self.conn.execute(
            f"SELECT 1 FROM {self.db}sqlite_master WHERE type = 'table' AND name = 'audit'"
        ).fetchone())

    def _commit(self) -> None:
        if self.parent is not None:
            return
        for sibling in self.siblings.values():
            sibling._touch_contents()
        self._touch_contents()
        self.conn.execute("COMMIT")

    def _touch_contents(self) -> None:
        if self._bounds is not None:
            minx, miny, maxx, maxy = self._bounds
            self.conn.execute(
                f"UPDATE {self.db}gpkg_contents SET last_change = "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                "min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce(min_y, ?), ?), "
                "max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?) "
                "WHERE table_name = ?",
                (minx, minx, miny, miny, maxx, maxx, maxy, maxy, self.table))
        elif any(self.changes.values()):
            self.conn.execute(f"UPDATE {self.db}gpkg_contents SET last_change = "
                              "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = ?",
                              (self.table,))

    def _rollback(self) -> None:
        if self.parent is None and self.conn is not None and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _close(self) -> None:
        if self.parent is not None:
            self.conn = None
            return
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the group lock
            self._lock_file = None

    def _value(self, name: str, value: Any) -> Any:
        if value is not None and self.columns[name].get("type") == "boolean":
            return int(bool(value))
        return value

    def _select(self, key: Any) -> Feature | None:
        cols = list(self.columns)
        select = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        row = self.conn.execute(f"SELECT {select} FROM {self._tq} WHERE "
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
                f"SELECT {select} FROM {self._tq} WHERE {_q(self.id_field)} IN "
                f"({', '.join('?' * len(chunk))})", chunk).fetchall()
            wanted = set(chunk)
            for row in rows:  # first row per key, like _select's LIMIT 1
                key = row[id_pos]
                if key in wanted and key not in out:
                    out[key] = self._feature(cols, row, key)
        return out

    def _select_where(self, field: str | None, value: Any) -> list[Feature]:
        cols = list(self.columns)
        select = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        where, params = (f" WHERE {_q(field)} = ?", [value]) if field is not None else ("", [])
        rows = self.conn.execute(f"SELECT {select} FROM {self._tq}{where}", params).fetchall()
        id_pos = cols.index(self.id_field) if self.id_field in cols else None
        return [self._feature(cols, row, row[id_pos] if id_pos is not None else None)
                for row in rows]

    def _update_rows(self, rows: list[tuple[Any, dict, shapely.Geometry]]) -> None:
        cols = list(self.columns)
        sets = ", ".join(f"{_q(c)} = ?" for c in cols + [self.geom_col])
        self.conn.executemany(
            f"UPDATE {self._tq} SET {sets} WHERE {_q(self.id_field)} = ?",
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
        self.conn.executemany(AUDIT_INSERT.format(db=self.db), [self._audit_params(r, _json, _time)
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
            self.conn.execute(f"INSERT INTO {self._tq} ({names}) VALUES ({marks})",
                              [self._value(c, props.get(c)) for c in cols] +
                              [gpkg_blob(geom, self.srs_id)])
        except sqlite3.IntegrityError as err:  # the unique index on the id field
            raise FeatureExists("feature_exists", id=props.get(self.id_field),
                                collection=self.spec.id) from err
        self._track(geom)

    def _update_row(self, key: Any, props: dict, geom: shapely.Geometry) -> None:
        cols = list(self.columns)
        sets = ", ".join(f"{_q(c)} = ?" for c in cols + [self.geom_col])
        self.conn.execute(f"UPDATE {self._tq} SET {sets} WHERE {_q(self.id_field)} = ?",
                          [self._value(c, props.get(c)) for c in cols] +
                          [gpkg_blob(geom, self.srs_id), key])
        self._track(geom)

    def _delete_row(self, key: Any) -> None:
        self.conn.execute(f"DELETE FROM {self._tq} WHERE {_q(self.id_field)} = ?", (key,))

    def _insert_audit(self, record: dict) -> None:
        if not self._has_audit:
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.db}audit (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "at TEXT NOT NULL, username TEXT, role TEXT, source TEXT, collection TEXT NOT NULL, "
                "feature_id TEXT NOT NULL, action TEXT NOT NULL, previous TEXT, new TEXT, "
                "etag_before TEXT, etag_after TEXT, detail TEXT)")
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS {self.db}audit_feature_idx ON audit "
                              "(collection, feature_id)")
            self._has_audit = True
        self.conn.execute(AUDIT_INSERT.format(db=self.db), self._audit_params(record, _json, _time))

    def _audit_rows(self, where: str, params: list) -> list[dict]:
        if not self._has_audit:
            return []
        rows = self.conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM {self.db}audit WHERE "
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
