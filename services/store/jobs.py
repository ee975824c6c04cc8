"""The job table: the queue, the jobs' states and results, and the live workers.

Two backends with the same verbs: SQLite (`var/jobs/jobs.sqlite`, WAL, busy timeout: the
server processes and the workers of one machine share it) and PostgreSQL (table
`<ARTOIS_DB_SCHEMA>.jobs` in the production database: any number of servers and workers on
any number of machines share it). Every value is a bound parameter; every verb is one
statement or one short transaction.

A job is `accepted` (queued) until a worker claims it (`running`, oldest first: PostgreSQL
`FOR UPDATE SKIP LOCKED`, SQLite under its write lock), which renews its lease (`heartbeat`)
every second. Outcome writes are conditional on the worker and the attempt that claimed the
job: a worker that lost its job (dismissed, or taken over after its lease ran out) can never
write a result, so a job completes once.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from pygeoapi.util import DATETIME_FORMAT, json_serial

ACTIVE = ("accepted", "running")
FINISHED = ("successful", "failed", "dismissed")
MAX_ATTEMPTS = 2

COLUMNS = ("identifier", "type", "process_id", "status", "message", "message_fr", "progress",
           "created", "started", "finished", "updated", "inputs", "requested_outputs",
           "response", "subscriber", "mimetype", "result", "error", "user_id", "token_hash",
           "client_key", "lang", "worker", "worker_pid", "heartbeat", "attempts", "timeout")
TIME_COLUMNS = {"created", "started", "finished", "updated"}
JSON_COLUMNS = {"inputs", "requested_outputs", "subscriber", "error"}
SUMMARY = [c for c in COLUMNS if c not in ("result", "inputs")]

# (column, SQLite type, PostgreSQL type): the table is created, or completed, from this list
SCHEMA = [
    ("identifier", "TEXT PRIMARY KEY", "text PRIMARY KEY"),
    ("type", "TEXT NOT NULL DEFAULT 'process'", "text NOT NULL DEFAULT 'process'"),
    ("process_id", "TEXT NOT NULL", "text NOT NULL"),
    ("status", "TEXT NOT NULL", "text NOT NULL"),
    ("message", "TEXT", "text"), ("message_fr", "TEXT", "text"),
    ("progress", "INTEGER NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"),
    ("created", "TEXT NOT NULL", "timestamptz NOT NULL"),
    ("started", "TEXT", "timestamptz"), ("finished", "TEXT", "timestamptz"),
    ("updated", "TEXT NOT NULL", "timestamptz NOT NULL"),
    ("inputs", "TEXT NOT NULL", "jsonb NOT NULL"),
    ("requested_outputs", "TEXT", "jsonb"),
    ("response", "TEXT NOT NULL DEFAULT 'raw'", "text NOT NULL DEFAULT 'raw'"),
    ("subscriber", "TEXT", "jsonb"), ("mimetype", "TEXT", "text"),
    ("result", "BLOB", "bytea"), ("error", "TEXT", "jsonb"),
    ("user_id", "TEXT", "text"), ("token_hash", "TEXT", "text"),
    ("client_key", "TEXT", "text"), ("lang", "TEXT", "text"),
    ("worker", "TEXT", "text"), ("worker_pid", "INTEGER", "integer"),
    ("heartbeat", "REAL", "double precision"),
    ("attempts", "INTEGER NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"),
    ("timeout", "REAL", "double precision"),
]
INDEXES = [("jobs_created_idx", "created"), ("jobs_status_idx", "status, created"),
           ("jobs_user_idx", "user_id"), ("jobs_client_idx", "client_key")]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fmt_time(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).strftime(DATETIME_FORMAT)


class JobStore:
    """The verbs; a backend provides `_run`, `_claim_one`, `setup` and the value codecs."""
    table = "jobs"
    workers_table = "job_workers"

    def _run(self, sql: str, params=(), fetch: bool = False) -> tuple[int, list[dict]]:
        raise NotImplementedError

    def _enc(self, column: str, value: Any) -> Any:
        return value

    def _dec(self, row: dict) -> dict:
        return row

    def setup(self) -> None:
        raise NotImplementedError

    def claim(self, worker: str, pid: int, now: float,
              processes: Sequence[str] | None = None) -> dict | None:
        """The oldest queued job (of one of `processes`, the ones this worker can run, when
        given: a worker of another version leaves the others to the workers that know them),
        now `running` for `worker` (attempts + 1), or None."""
        raise NotImplementedError

    # -- submissions and reads ----------------------------------------------------------
    def insert(self, job: dict[str, Any]) -> None:
        self._run(*self._insert_sql(job))

    def get(self, job_id: str, *, result: bool = False, inputs: bool = False
            ) -> dict[str, Any] | None:
        cols = SUMMARY + (["result"] if result else []) + (["inputs"] if inputs else [])
        _, rows = self._run(f"SELECT {', '.join(cols)} FROM {self.table} WHERE identifier = ?",
                            [str(job_id)], fetch=True)
        return self._dec(rows[0]) if rows else None

    def page(self, limit: int, offset: int, *, user: str | None, token_hash: str | None = None,
             every: bool = False, status: str | None = None) -> tuple[list[dict], int]:
        """Newest first: every job (`every`, for admins), or those of `user` and the one of
        `token_hash` (neither: none)."""
        where, params = [], []
        if not every:
            mine = [(c, v) for c, v in (("user_id", user), ("token_hash", token_hash)) if v]
            if not mine:
                return [], 0
            where.append("(" + " OR ".join(f"{c} = ?" for c, _ in mine) + ")")
            params += [v for _, v in mine]
        if status:
            where.append("status = ?")
            params.append(status)
        cond = f" WHERE {' AND '.join(where)}" if where else ""
        _, rows = self._run(f"SELECT {', '.join(SUMMARY)}, count(*) OVER () AS total_count "
                            f"FROM {self.table}{cond} ORDER BY created DESC, identifier "
                            f"LIMIT ? OFFSET ?", params + [int(limit), int(offset)], fetch=True)
        if rows:
            total = int(rows[0]["total_count"])
        else:
            _, n = self._run(f"SELECT count(*) AS n FROM {self.table}{cond}", params, fetch=True)
            total = int(n[0]["n"])
        for r in rows:
            r.pop("total_count", None)
        return [self._dec(r) for r in rows], total

    QUEUED_SQL = ("SELECT count(*) FILTER (WHERE status = 'accepted') AS total, "
                  "count(*) FILTER (WHERE client_key = ?) AS mine FROM {t} "
                  "WHERE status IN ('accepted', 'running')")

    def submit(self, job: dict[str, Any], max_queued: int, max_mine: int) -> str | None:
        """Insert `job` unless the queue is full ("queue") or its owner has too many jobs
        ("owner"); counting and inserting are one step (concurrent submissions cannot all
        pass the check)."""
        raise NotImplementedError

    def _insert_sql(self, job: dict[str, Any]) -> tuple[str, list]:
        cols = [c for c in COLUMNS if c in job]
        return (f"INSERT INTO {self.table} ({', '.join(cols)}) VALUES "
                f"({', '.join('?' * len(cols))})", [self._enc(c, job[c]) for c in cols])

    def counts(self) -> dict[str, int]:
        _, rows = self._run(f"SELECT status, count(*) AS n FROM {self.table} GROUP BY status",
                            fetch=True)
        return {r["status"]: int(r["n"]) for r in rows}

    # -- state changes ------------------------------------------------------------------
    def update(self, job_id: str, values: dict[str, Any], *, status_in=None,
               worker: str | None = None, attempts: int | None = None) -> bool:
        """Set `values` if the job (still) matches the conditions; True if it did."""
        cols = list(values)
        assert all(c in COLUMNS for c in cols), cols
        where, params = ["identifier = ?"], [self._enc(c, values[c]) for c in cols]
        params.append(str(job_id))
        if status_in:
            where.append(f"status IN ({', '.join('?' * len(status_in))})")
            params += list(status_in)
        if worker is not None:
            where.append("worker = ?")
            params.append(worker)
        if attempts is not None:
            where.append("attempts = ?")
            params.append(int(attempts))
        n, _ = self._run(f"UPDATE {self.table} SET {', '.join(c + ' = ?' for c in cols)} "
                         f"WHERE {' AND '.join(where)}", params)
        return n == 1

    def renew(self, job_id: str, worker: str, attempt: int, now: float) -> bool:
        """Renew the lease of a running job; False once the job is no longer this worker's."""
        return self.update(job_id, {"heartbeat": now}, status_in=("running",), worker=worker,
                           attempts=attempt)

    def delete(self, job_id: str) -> bool:
        n, _ = self._run(f"DELETE FROM {self.table} WHERE identifier = ? AND status IN "
                         f"(?, ?, ?)", [str(job_id), *FINISHED])
        return n == 1

    def expired(self, now: float, lease: float) -> list[dict[str, Any]]:
        """Running jobs whose lease ran out (their worker is gone)."""
        _, rows = self._run(f"SELECT identifier, process_id, attempts, worker, heartbeat "
                            f"FROM {self.table} WHERE status = 'running' AND "
                            f"(heartbeat IS NULL OR heartbeat < ?)", [now - lease], fetch=True)
        return rows

    def running_on(self, host: str) -> list[dict[str, Any]]:
        _, rows = self._run(f"SELECT identifier, attempts, worker, heartbeat FROM {self.table} "
                            f"WHERE status = 'running' AND worker LIKE ?", [host + ":%"],
                            fetch=True)
        return rows

    def purge(self, before: datetime) -> int:
        n, _ = self._run(f"DELETE FROM {self.table} WHERE status IN (?, ?, ?) AND updated < ?",
                         [*FINISHED, self._enc("updated", before)])
        return n

    # -- the live workers ---------------------------------------------------------------
    def beat(self, worker: str, now: float) -> None:
        n, _ = self._run(f"UPDATE {self.workers_table} SET heartbeat = ? WHERE worker = ?",
                         [now, worker])
        if n == 0:
            self._run(f"INSERT INTO {self.workers_table} (worker, heartbeat) VALUES (?, ?)",
                      [worker, now])

    def leave(self, worker: str) -> None:
        self._run(f"DELETE FROM {self.workers_table} WHERE worker = ?", [worker])

    def forget_workers(self, now: float, lease: float) -> None:
        """Drop the rows of workers gone long ago (run by the workers, not by reads)."""
        self._run(f"DELETE FROM {self.workers_table} WHERE heartbeat < ?", [now - 10 * lease])

    def live_workers(self, now: float, lease: float) -> int:
        _, rows = self._run(f"SELECT count(*) AS n FROM {self.workers_table} "
                            f"WHERE heartbeat >= ?", [now - lease], fetch=True)
        return int(rows[0]["n"])


def _known(processes: Sequence[str] | None) -> tuple[str, list[str]]:
    """The claim's condition on the process ids a worker can run (bound parameters)."""
    if processes is None:
        return "", []
    names = sorted(set(processes)) or [""]
    return f" AND process_id IN ({', '.join('?' * len(names))})", names


_CLAIM_SET = ("status = 'running', worker = ?, worker_pid = ?, heartbeat = ?, "
              "attempts = attempts + 1, started = ?, updated = ?, progress = 10")


class SQLiteJobStore(JobStore):
    """var/jobs/jobs.sqlite: WAL, one short connection per statement, busy timeout."""

    def __init__(self, path: str | Path):
        self.path = str(path)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def setup(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            with self._write_lock(conn):
                conn.execute(f"CREATE TABLE IF NOT EXISTS jobs "
                             f"({', '.join(f'{c} {t}' for c, t, _ in SCHEMA)})")
                have = {r[1] for r in conn.execute("PRAGMA table_info(jobs)")}
                for column, sqlite_type, _ in SCHEMA:  # a table of an earlier version
                    if column not in have:
                        conn.execute(f"ALTER TABLE jobs ADD COLUMN {column} "
                                     f"{sqlite_type.replace(' NOT NULL', '')}")
                for name, cols in INDEXES:
                    conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON jobs ({cols})")
                conn.execute("CREATE TABLE IF NOT EXISTS job_workers (worker TEXT PRIMARY "
                             "KEY, heartbeat REAL NOT NULL)")
        finally:
            conn.close()

    def _run(self, sql, params=(), fetch=False):
        conn = self._connect()
        try:
            cur = conn.execute(sql, list(params))
            if not fetch:
                return cur.rowcount, []
            names = [d[0] for d in cur.description]
            return cur.rowcount, [dict(zip(names, r)) for r in cur.fetchall()]
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write_lock(self, conn: sqlite3.Connection):
        """One transaction under SQLite's write lock (BEGIN IMMEDIATE): committed at the end
        of the block, rolled back on any error."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def submit(self, job, max_queued, max_mine):
        conn = self._connect()
        try:
            with self._write_lock(conn):  # one submission at a time: count, then insert
                total, mine = conn.execute(self.QUEUED_SQL.format(t="jobs"),
                                           [job.get("client_key")]).fetchone()
                refused = "queue" if (total or 0) >= max_queued else \
                    "owner" if (mine or 0) >= max_mine else None
                if refused is None:
                    conn.execute(*self._insert_sql(job))
            return refused
        finally:
            conn.close()

    def claim(self, worker, pid, now, processes=None):
        cond, params = _known(processes)
        conn = self._connect()
        try:
            # a cheap read first: idle workers do not take the write lock for nothing
            if conn.execute(f"SELECT 1 FROM jobs WHERE status = 'accepted'{cond} LIMIT 1",
                            params).fetchone() is None:
                return None
            with self._write_lock(conn):
                row = conn.execute(f"SELECT identifier FROM jobs WHERE status = 'accepted'"
                                   f"{cond} ORDER BY created, identifier LIMIT 1",
                                   params).fetchone()
                if row is not None:
                    stamp = fmt_time(utcnow())
                    conn.execute(f"UPDATE jobs SET {_CLAIM_SET} WHERE identifier = ?",
                                 [worker, pid, now, stamp, stamp, row[0]])
        finally:
            conn.close()
        return self.get(row[0], inputs=True) if row is not None else None

    def _enc(self, column, value):
        if value is None:
            return None
        if column in TIME_COLUMNS:
            return fmt_time(value)
        if column in JSON_COLUMNS:
            return json.dumps(value, ensure_ascii=False, default=json_serial)
        return value

    def _dec(self, row):
        for c in JSON_COLUMNS & set(row):
            if isinstance(row[c], str):
                row[c] = json.loads(row[c])
        return row


class PostgresJobStore(JobStore):
    """<schema>.jobs in the PostGIS database (DATABASE_URL), through services.store.postgis.pool."""

    def __init__(self, schema: str):
        self.schema = schema
        self.quoted_schema = '"' + schema.replace('"', '""') + '"'
        self.table = self.quoted_schema + '."jobs"'
        self.workers_table = self.quoted_schema + '."job_workers"'

    def setup(self) -> None:
        from services.store.postgis import pool as db
        with db.pool().connection() as conn:
            # several servers and workers start together: one at a time here
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         (f"artois-jobs-{self.schema}",))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quoted_schema}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} "
                         f"({', '.join(f'{c} {t}' for c, _, t in SCHEMA)})")
            for column, _, pg_type in SCHEMA[1:]:  # a table of an earlier version
                conn.execute(f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {column} "
                             f"{pg_type.replace(' NOT NULL', '')}")
            for name, cols in INDEXES:
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {self.table} ({cols})")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.workers_table} "
                         f"(worker text PRIMARY KEY, heartbeat double precision NOT NULL)")
            conn.commit()

    def _run(self, sql, params=(), fetch=False):
        from services.store.postgis import pool as db
        with db.pool().connection() as conn:
            cur = conn.execute(sql.replace("?", "%s"), list(params))
            if not fetch:
                return cur.rowcount, []
            names = [d.name for d in cur.description]
            return cur.rowcount, [dict(zip(names, r)) for r in cur.fetchall()]

    def submit(self, job, max_queued, max_mine):
        from services.store.postgis import pool as db
        with db.pool().connection() as conn:
            with conn.transaction():
                # submissions one at a time (every server of the cluster): count, then insert
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                             (f"artois-jobs-submit-{self.schema}",))
                total, mine = conn.execute(
                    self.QUEUED_SQL.format(t=self.table).replace("?", "%s"),
                    [job.get("client_key")]).fetchone()
                if (total or 0) >= max_queued:
                    return "queue"
                if (mine or 0) >= max_mine:
                    return "owner"
                sql, params = self._insert_sql(job)
                conn.execute(sql.replace("?", "%s"), params)
        return None

    def claim(self, worker, pid, now, processes=None):
        stamp = utcnow()
        cond, params = _known(processes)
        n, rows = self._run(
            f"UPDATE {self.table} SET {_CLAIM_SET} WHERE identifier = ("
            f"SELECT identifier FROM {self.table} WHERE status = 'accepted'{cond} "
            f"ORDER BY created, identifier LIMIT 1 FOR UPDATE SKIP LOCKED) "
            f"RETURNING identifier", [worker, pid, now, stamp, stamp, *params], fetch=True)
        return self.get(rows[0]["identifier"], inputs=True) if rows else None

    def _enc(self, column, value):
        if value is None:
            return None
        if column in JSON_COLUMNS:
            from psycopg.types.json import Jsonb
            return Jsonb(value)
        if column == "result" and isinstance(value, memoryview):
            return bytes(value)
        return value

    def _dec(self, row):
        for c in TIME_COLUMNS & set(row):
            row[c] = fmt_time(row[c])
        if isinstance(row.get("result"), memoryview):
            row["result"] = bytes(row["result"])
        return row


_STORES: dict[tuple, JobStore] = {}
_LOCK = threading.Lock()


def open_store(settings=None) -> JobStore:
    """The job store of the settings' store (set up once per process)."""
    from services.settings import get_settings
    settings = settings or get_settings()
    if settings.database_url:
        from services.store.postgis import pool as db
        key = ("postgres", db.schema_name())
    else:
        key = ("sqlite", str(settings.var_dir / "jobs" / "jobs.sqlite"))
    with _LOCK:
        store = _STORES.get(key)
        if store is None:
            store = PostgresJobStore(key[1]) if key[0] == "postgres" else SQLiteJobStore(key[1])
            store.setup()
            _STORES[key] = store
        return store
