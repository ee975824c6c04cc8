"""The site photos of features (issue 15): the table `feature_photos`, two backends, the same
verbs (services/photos.py serves them over HTTP).

- embedded store: `<store dir>/photos.sqlite` (WAL, busy timeout), a file of its own so that
  an upload never touches a collection's GeoPackage (whose modification time keys the
  caches of derived data, services.store.base.Backend.version) and a rebuild never loses one;
- PostGIS: `<ARTOIS_DB_SCHEMA>.feature_photos`, the image bytes as `bytea`.

One row per photo: the re-encoded image and its thumbnail, what it is (media type, size,
sha256, pixels), the caption, and its audit: who uploaded it, when, with which role; a
delete is recorded in the same row (`deleted_at`, `deleted_by`, `deleted_role`) and erases
the image and thumbnail bytes (a photo taken down, e.g. because a person can be recognised on
it, must be gone, not hidden), so the table is the photos' audit trail. Every write is one
transaction; an upload counts the feature's photos and inserts under a lock on that feature
(SQLite's write lock, a PostgreSQL advisory transaction lock), so concurrent uploads never go
past `max_per_feature`. Every value is a bound parameter.
"""
from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from services.errors import OGCError

TABLE = "feature_photos"
THUMB_TYPE = "image/jpeg"
LIST_LIMIT = 500  # rows at most in one listing (max_per_feature is far below)
# (column, SQLite type, PostgreSQL type)
SCHEMA = [
    ("id", "TEXT PRIMARY KEY", "text PRIMARY KEY"),
    ("collection", "TEXT NOT NULL", "text NOT NULL"),
    ("feature_id", "TEXT NOT NULL", "text NOT NULL"),
    ("media_type", "TEXT NOT NULL", "text NOT NULL"),
    ("bytes", "INTEGER NOT NULL", "bigint NOT NULL"),
    ("sha256", "TEXT NOT NULL", "text NOT NULL"),
    ("width", "INTEGER NOT NULL", "integer NOT NULL"),
    ("height", "INTEGER NOT NULL", "integer NOT NULL"),
    ("caption", "TEXT", "text"),
    ("uploaded_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
    ("uploaded_by", "TEXT NOT NULL", "text NOT NULL"),
    ("uploaded_role", "TEXT", "text"),
    ("deleted_at", "TEXT", "timestamptz"),
    ("deleted_by", "TEXT", "text"),
    ("deleted_role", "TEXT", "text"),
    ("thumb_bytes", "INTEGER", "integer"),
    ("data", "BLOB", "bytea"),
    ("thumb", "BLOB", "bytea"),
]
COLUMNS = [c for c, _, _ in SCHEMA]
META = [c for c in COLUMNS if c not in ("data", "thumb")]
INDEX = ("feature_photos_feature_idx", "collection, feature_id")
TIME_COLUMNS = ("uploaded_at", "deleted_at")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fmt_time(value: Any) -> str | None:
    """ISO 8601 UTC with a Z (what the JSON answers show)."""
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def too_many(max_per_feature: int) -> OGCError:
    return OGCError("photo_limit_reached", status=409, code="Conflict", max=max_per_feature)


class PhotoStore:
    """The verbs. A backend provides `setup`, `_tx` (one transaction, a DB-API cursor-like
    `execute` with `?` marks), `_lock_feature` and the codecs."""

    mark = "?"

    def setup(self) -> None:
        raise NotImplementedError

    def _tx(self):
        raise NotImplementedError

    def _lock_feature(self, conn, collection: str, feature_id: str) -> None:
        raise NotImplementedError

    def _execute(self, conn, sql: str, params=()):
        return conn.execute(sql.replace("?", self.mark), list(params))

    def _enc_time(self, value: datetime) -> Any:
        return value

    def _row(self, names: list[str], row: tuple) -> dict[str, Any]:
        out = dict(zip(names, row))
        for c in TIME_COLUMNS:
            if c in out:
                out[c] = fmt_time(out[c])
        for c in ("data", "thumb"):
            if isinstance(out.get(c), memoryview):
                out[c] = bytes(out[c])
        return out

    # -- writes -----------------------------------------------------------------------
    def add(self, photo: dict[str, Any], max_per_feature: int) -> dict[str, Any]:
        """Insert `photo` (every column but the deletion ones; `uploaded_at` is set here)
        unless its feature already has `max_per_feature` photos: 409. Returns the metadata."""
        values = {c: photo[c] for c in COLUMNS if c in photo}
        values["uploaded_at"] = utcnow()
        cols = list(values)
        with self._tx() as conn:
            self._lock_feature(conn, values["collection"], values["feature_id"])
            (n,) = self._execute(conn, f"SELECT count(*) FROM {self.table} WHERE collection = ? "
                                       f"AND feature_id = ? AND deleted_at IS NULL",
                                 [values["collection"], values["feature_id"]]).fetchone()
            if int(n) >= max_per_feature:
                raise too_many(max_per_feature)
            params = [self._enc_time(v) if c in TIME_COLUMNS else v for c, v in values.items()]
            self._execute(conn, f"INSERT INTO {self.table} ({', '.join(cols)}) VALUES "
                                f"({', '.join('?' * len(cols))})", params)
        out = {c: values.get(c) for c in META}
        out["uploaded_at"] = fmt_time(values["uploaded_at"])
        return out

    def delete(self, collection: str, feature_id: str, photo_id: str, *, user: str,
               role: str | None) -> bool:
        """Record the deletion and erase the bytes; False if there is no such live photo."""
        with self._tx() as conn:
            cur = self._execute(
                conn, f"UPDATE {self.table} SET deleted_at = ?, deleted_by = ?, deleted_role = ?, "
                      f"data = NULL, thumb = NULL WHERE id = ? AND collection = ? AND "
                      f"feature_id = ? AND deleted_at IS NULL",
                [self._enc_time(utcnow()), user, role, photo_id, collection, feature_id])
            return cur.rowcount == 1

    # -- reads ------------------------------------------------------------------------
    def list(self, collection: str, feature_id: str) -> list[dict[str, Any]]:
        """The live photos of a feature (metadata), oldest first."""
        return self._select(f"SELECT {', '.join(META)} FROM {self.table} WHERE collection = ? "
                            f"AND feature_id = ? AND deleted_at IS NULL "
                            f"ORDER BY uploaded_at, id LIMIT {LIST_LIMIT}",
                            [collection, feature_id], META)

    def history(self, collection: str, feature_id: str) -> list[dict[str, Any]]:
        """Every photo ever uploaded to a feature, deleted ones included (the audit)."""
        return self._select(f"SELECT {', '.join(META)} FROM {self.table} WHERE collection = ? "
                            f"AND feature_id = ? ORDER BY uploaded_at, id",
                            [collection, feature_id], META)

    def get(self, collection: str, feature_id: str, photo_id: str, *, thumb: bool = False
            ) -> dict[str, Any] | None:
        """A live photo's metadata and bytes (`content`: the image or its thumbnail)."""
        names = META + ["thumb" if thumb else "data"]
        rows = self._select(f"SELECT {', '.join(names)} FROM {self.table} WHERE id = ? AND "
                            f"collection = ? AND feature_id = ? AND deleted_at IS NULL",
                            [photo_id, collection, feature_id], names)
        if not rows:
            return None
        row = rows[0]
        row["content"] = row.pop("thumb" if thumb else "data")
        return row if row["content"] is not None else None

    def _select(self, sql: str, params: list, names: list[str]) -> list[dict[str, Any]]:
        with self._tx() as conn:
            rows = self._execute(conn, sql, params).fetchall()
        return [self._row(names, r) for r in rows]


class SQLitePhotoStore(PhotoStore):
    """`<store dir>/photos.sqlite`: WAL, one short connection per transaction."""

    table = TABLE

    def __init__(self, path: str | Path):
        self.path = str(path)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def setup(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} "
                         f"({', '.join(f'{c} {t}' for c, t, _ in SCHEMA)})")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {INDEX[0]} ON {TABLE} ({INDEX[1]})")
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _enc_time(self, value):
        return fmt_time(value)

    @contextlib.contextmanager
    def _tx(self):
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock: count and insert are one step
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    def _lock_feature(self, conn, collection, feature_id) -> None:
        pass  # BEGIN IMMEDIATE already holds the database's write lock

    def _select(self, sql, params, names):
        conn = self._connect()  # reads take no write lock (WAL: they never wait for writers)
        try:
            rows = conn.execute(sql, list(params)).fetchall()
        finally:
            conn.close()
        return [self._row(names, r) for r in rows]


class PostgresPhotoStore(PhotoStore):
    """`<schema>.feature_photos` in the PostGIS database, through the pool of
    services.store.postgis.pool."""

    mark = "%s"

    def __init__(self, schema: str, url: str):
        self.schema = schema
        self.url = url
        self.table = '"' + schema.replace('"', '""') + '".' + TABLE

    def setup(self) -> None:
        from services.store.postgis import pool as db
        with db.pool(self.url).connection() as conn:
            # several servers start together: one at a time here
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         (f"artois-photos-{self.schema}",))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.table.rsplit('.', 1)[0]}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} "
                         f"({', '.join(f'{c} {t}' for c, _, t in SCHEMA)})")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {INDEX[0]} ON {self.table} ({INDEX[1]})")
            conn.commit()

    @contextlib.contextmanager
    def _tx(self):
        from services.store.postgis import pool as db
        with db.pool(self.url).connection() as conn:  # commits at the end, rolls back on an error
            with conn.transaction():
                yield conn

    def _lock_feature(self, conn, collection, feature_id) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                      (f"artois-photos/{self.schema}/{collection}/{feature_id}",))


def open_photo_store(settings=None) -> PhotoStore:
    """The photos store of the settings' store (set up once per process)."""
    from services.store.base import open_side_store
    return open_side_store("photos", SQLitePhotoStore, PostgresPhotoStore, settings)
