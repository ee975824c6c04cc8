"""The usage statistics of the solar cadastre (issue 18 point 3): the table `cadastre_usage`,
two backends, two verbs (services/usage.py counts and serves them).

- embedded store: `<store dir>/usage.sqlite` (WAL, busy timeout), a file of its own, as the
  photos: a count never touches a collection's GeoPackage and a rebuild never loses one;
- PostGIS: `<ARTOIS_DB_SCHEMA>.cadastre_usage`.

One row per (month, EPCI, kind of request) with its count: no address, no key, no user,
nothing about who asked. `add` adds a batch of counts in one transaction (an upsert per row,
bound parameters); `rows` reads them, optionally for one month.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Iterable

TABLE = "cadastre_usage"
# (column, SQLite type, PostgreSQL type); epci_siren '' = outside every EPCI / unknown
SCHEMA = [
    ("mois", "TEXT NOT NULL", "text NOT NULL"),
    ("epci_siren", "TEXT NOT NULL", "text NOT NULL"),
    ("requete", "TEXT NOT NULL", "text NOT NULL"),
    ("nombre", "INTEGER NOT NULL", "bigint NOT NULL"),
]
KEY = "mois, epci_siren, requete"
MAX_ROWS = 100_000  # rows at most in one reading (4 EPCI x 4 kinds x months: far below)


class UsageStore:
    mark = "?"
    table = TABLE

    def setup(self) -> None:
        raise NotImplementedError

    def _tx(self):
        raise NotImplementedError

    def add(self, counts: dict[tuple[str, str, str], int]) -> None:
        """Add `counts` {(month, epci siren or '', kind): n} in one transaction."""
        if not counts:
            return
        sql = (f"INSERT INTO {self.table} (mois, epci_siren, requete, nombre) "
               f"VALUES (?, ?, ?, ?) ON CONFLICT ({KEY}) DO UPDATE SET "
               f"nombre = {self.table}.nombre + excluded.nombre").replace("?", self.mark)
        with self._tx() as conn:
            for (month, epci, kind), n in sorted(counts.items()):
                conn.execute(sql, (month, epci or "", kind, int(n)))

    def rows(self, month: str | None = None) -> list[dict]:
        sql = f"SELECT mois, epci_siren, requete, nombre FROM {self.table}"
        params: list = []
        if month:
            sql += " WHERE mois = ?"
            params.append(month)
        sql += f" ORDER BY {KEY} LIMIT {MAX_ROWS}"
        return [dict(zip(("mois", "epci_siren", "requete", "nombre"), r))
                for r in self._select(sql.replace("?", self.mark), params)]

    def _select(self, sql: str, params: list) -> Iterable[tuple]:
        with self._tx() as conn:
            return conn.execute(sql, params).fetchall()


class SQLiteUsageStore(UsageStore):
    """`<store dir>/usage.sqlite`: WAL, one short connection per transaction."""

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
            conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} "
                         f"({', '.join(f'{c} {t}' for c, t, _ in SCHEMA)}, PRIMARY KEY ({KEY}))")
        finally:
            conn.close()

    @contextlib.contextmanager
    def _tx(self):
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    def _select(self, sql, params):
        conn = self._connect()  # WAL: reads never wait for the writer
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


class PostgresUsageStore(UsageStore):
    """`<schema>.cadastre_usage` through the pool of services.store.postgis.pool."""

    mark = "%s"

    def __init__(self, schema: str, url: str):
        self.schema = schema
        self.url = url
        self.table = '"' + schema.replace('"', '""') + '".' + TABLE

    def setup(self) -> None:
        from services.store.postgis import pool as db
        with db.pool(self.url).connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         (f"artois-usage-{self.schema}",))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.table.rsplit('.', 1)[0]}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} "
                         f"({', '.join(f'{c} {t}' for c, _, t in SCHEMA)}, PRIMARY KEY ({KEY}))")
            conn.commit()

    @contextlib.contextmanager
    def _tx(self):
        from services.store.postgis import pool as db
        with db.pool(self.url).connection() as conn:
            with conn.transaction():
                yield conn


def open_usage_store(settings=None) -> UsageStore:
    """The usage store of the settings' store (set up once per process)."""
    from services.store.base import open_side_store
    return open_side_store("usage", SQLiteUsageStore, PostgresUsageStore, settings)
