"""The OGC API Processes job manager: every job in its own worker process, jobs and results
kept in the store's database, jobs picked up again after a server restart.

pygeoapi loads it by dotted path (`server.manager.name: services.jobs.JobManager`, written by
services/config.py). pygeoapi keeps its routes and its API functions; this module plugs in
where pygeoapi expects a manager, plus four small wrappers of its API functions
(`install_api_extensions`, see the end of this file).

Storage
    Embedded store: SQLite file `var/jobs/jobs.sqlite` (WAL, busy timeout: several server
    processes and their workers share it). PostGIS store (DATABASE_URL set): table
    `<ARTOIS_DB_SCHEMA>.jobs` (default `artois.jobs`), created if missing. Values are always
    bound parameters. A row holds the inputs, the status, the progress, the times, the result
    (bytes + media type) or the error (French and English), and who runs it.

Execution
    Each job (synchronous or not) runs in a separate worker process started with the
    multiprocessing 'forkserver' context (the fork server preloads the process modules, so a
    job starts in milliseconds; `ARTOIS_JOB_START_METHOD=spawn` is the slower alternative).
    The worker leads its own process group: stopping a job kills the whole tree. The server
    process that started it supervises it: time limit (`ARTOIS_JOB_TIMEOUT`, default 300 s;
    per process `ARTOIS_JOB_TIMEOUT_<PROCESS_ID>` or a processor attribute `job_timeout`),
    crash, dismissal. A worker whose server process disappears kills itself.

    Inputs are validated against the JSON Schema of the process description before a job is
    created (400, bilingual, naming the input); a processor may add its own checks with a
    `validate_inputs(inputs)` method. A processor with an `on_progress` attribute gets a
    callable `(percent, message)` to report progress.

Restart
    Every server process heartbeats the jobs it supervises (every second). A job still
    `accepted` or `running` whose supervisor is gone (its process is dead on this host, or no
    heartbeat for `ARTOIS_JOB_LEASE` s, default 15) is claimed by exactly one live server
    process (conditional UPDATE on the previous owner and attempt count) and run again from
    its stored inputs; after 2 interrupted attempts it fails with a clear message.

Callbacks
    subscriber URLs (successUri, inProgressUri, failedUri) must use http(s) and a host listed
    in `ARTOIS_CALLBACK_HOSTS` (comma-separated; default: none, so any subscriber gets a 400).
    They are POSTed with a timeout (`ARTOIS_CALLBACK_TIMEOUT`, default 10 s), no redirects.

Other settings: `ARTOIS_JOB_RETENTION_DAYS` (finished jobs older than this are deleted,
default 30), `ARTOIS_JOB_TEST_DELAY` (tests only: seconds every worker sleeps before running
its job; ignored when unset).
"""
from __future__ import annotations

import atexit
import functools
import importlib
import json
import logging
import multiprocessing
import multiprocessing.util  # imported first: its atexit hook then runs after ours
import os
import re
import signal
import socket
import sqlite3
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from pygeoapi.plugin import load_plugin
from pygeoapi.process.base import (JobNotFoundError, JobResultNotFoundError,
                                   ProcessorExecuteError)
from pygeoapi.process.manager.base import BaseManager
from pygeoapi.util import (DATETIME_FORMAT, JobStatus, ProcessExecutionMode,
                           RequestedProcessExecutionMode, RequestedResponse, Subscriber,
                           json_serial)

from services.i18n import message, pick_language, remember

LOGGER = logging.getLogger("artois_geo.jobs")

ACTIVE = ("accepted", "running")
FINISHED = ("successful", "failed", "dismissed")
MAX_ATTEMPTS = 2
TICK_S = 1.0
DEAD_OWNER_GRACE_S = 6.0  # > uvicorn's graceful shutdown (5 s, services/cli.py)
JSON_TYPES = (None, "", "application/json", "application/ld+json", "application/geo+json")
HOST = socket.gethostname()


# ---------------------------------------------------------------------------- settings
def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        LOGGER.warning("%s is not a number: using %s", name, default)
        return default


def lease_seconds() -> float:
    return _env_float("ARTOIS_JOB_LEASE", 15.0)


def job_timeout(process_id: str, processor: Any = None) -> float:
    """Seconds a job of `process_id` may run: ARTOIS_JOB_TIMEOUT_<ID>, the processor's
    `job_timeout` attribute, ARTOIS_JOB_TIMEOUT, else 300."""
    name = "ARTOIS_JOB_TIMEOUT_" + re.sub(r"[^A-Z0-9]", "_", process_id.upper())
    if os.environ.get(name):
        return _env_float(name, 300.0)
    own = getattr(processor, "job_timeout", None)
    if own:
        return float(own)
    return _env_float("ARTOIS_JOB_TIMEOUT", 300.0)


def callback_hosts() -> set[str]:
    return {h.strip().lower() for h in os.environ.get("ARTOIS_CALLBACK_HOSTS", "").split(",")
            if h.strip()}


# ---------------------------------------------------------------------------- messages
def texts(key: str, **kw: Any) -> dict[str, str]:
    """services.i18n.message, where a value may itself be {"fr": ..., "en": ...}."""
    out = {}
    for lang in ("fr", "en"):
        values = {k: (v[lang] if isinstance(v, dict) and {"fr", "en"} <= set(v) else v)
                  for k, v in kw.items()}
        out[lang] = message(key, **values)[lang]
    return out


def _status_message(key: str, **kw: Any) -> dict[str, str]:
    t = texts(key, **kw)
    return {"message": t["en"], "message_fr": t["fr"]}


class ProcessError(ProcessorExecuteError):
    """A process or job error in French and English, with its HTTP status and OGC code.

    Processors may raise it (from `validate_inputs` or `execute`); pygeoapi turns it into an
    OGC exception and services.app rewrites that in both languages."""

    def __init__(self, texts_: dict[str, str], status: int = 400,
                 code: str = "InvalidParameterValue"):
        super().__init__(user_msg=texts_["en"])
        self.texts = {"fr": texts_["fr"], "en": texts_["en"]}
        self.http_status_code = status
        self.ogc_exception_code = code
        remember(self.texts)

    @classmethod
    def of(cls, key: str, status: int = 400, code: str = "InvalidParameterValue",
           **kw: Any) -> "ProcessError":
        return cls(texts(key, **kw), status, code)

    def to_dict(self) -> dict[str, Any]:
        return {"status": int(self.http_status_code), "code": self.ogc_exception_code,
                **self.texts}


def error_of(err: BaseException) -> dict[str, Any]:
    """{status, code, fr, en} describing why a job failed.

    Errors carrying ``fr``/``en`` texts keep them; a ProcessorExecuteError keeps its HTTP
    status and OGC code, except pygeoapi's default (500, NoApplicableCode), which pygeoapi's
    own managers answer as 400 InvalidParameterValue (processors raise it for bad inputs);
    a ValueError is a bad input (400); anything else is a 500."""
    if isinstance(err, ProcessError):
        return err.to_dict()
    status, code = 500, "NoApplicableCode"
    if isinstance(err, ProcessorExecuteError):
        status, code = int(err.http_status_code), err.ogc_exception_code
        if status == 500 and code == "NoApplicableCode":
            status, code = 400, "InvalidParameterValue"
    elif isinstance(err, ValueError):
        status, code = 400, "InvalidParameterValue"
    fr, en = getattr(err, "fr", None), getattr(err, "en", None)
    if isinstance(fr, str) and isinstance(en, str) and fr and en:  # bilingual errors
        return {"status": status, "code": code, "fr": fr, "en": en}
    detail = err.message if isinstance(err, ProcessorExecuteError) else \
        (str(err) if status < 500 else f"{type(err).__name__}: {err}")
    return {"status": status, "code": code, **texts("job_error", detail=detail)}


# ---------------------------------------------------------------------------- input checks
_TYPE_NAMES = {"string": ("texte", "string"), "number": ("nombre", "number"),
               "integer": ("entier", "integer"), "boolean": ("booléen", "boolean"),
               "object": ("objet", "object"), "array": ("liste", "array"),
               "null": ("null", "null")}


def _show(value: Any, width: int = 80) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def _path(name: str, parts) -> str:
    out = name
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _schema_problem(err) -> tuple[list, dict[str, str]]:
    """(path below the input, bilingual problem) of a jsonschema ValidationError."""
    path = list(err.absolute_path)
    v, value, schema = err.validator, err.instance, err.schema
    if "propertyNames" in err.absolute_schema_path:  # an unknown key of an object
        allowed = err.validator_value if v == "enum" else []
        return path, texts("schema_unknown_property", name=_show(value),
                           allowed=", ".join(str(a) for a in allowed) or "-")
    if v == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) \
            else [err.validator_value]
        names = {"fr": " ou ".join(_TYPE_NAMES.get(t, (t, t))[0] for t in expected),
                 "en": " or ".join(_TYPE_NAMES.get(t, (t, t))[1] for t in expected)}
        return path, texts("schema_type", value=_show(value), expected=names)
    if v in ("enum", "const"):
        allowed = err.validator_value if v == "enum" else [err.validator_value]
        return path, texts("schema_enum", value=_show(value),
                           allowed=", ".join(_show(a) for a in allowed))
    if v == "required":
        missing = [p for p in err.validator_value if isinstance(value, dict) and p not in value]
        return path, texts("schema_required", name=", ".join(missing) or err.message)
    if v == "additionalProperties" and isinstance(value, dict):
        known = list((schema.get("properties") or {}).keys())
        extra = [k for k in value if k not in known]
        return path + extra[:1], texts("schema_unknown_property", name=", ".join(extra),
                                       allowed=", ".join(known) or "-")
    if v in ("minimum", "exclusiveMinimum"):
        return path, texts("schema_minimum", value=_show(value), limit=err.validator_value)
    if v in ("maximum", "exclusiveMaximum"):
        return path, texts("schema_maximum", value=_show(value), limit=err.validator_value)
    return path, texts("schema_other", value=_show(value), detail=err.message)


def _unwrap(value: Any) -> Any:
    """An OGC qualified input value {"value": v, "mediaType": ...} gives v."""
    if isinstance(value, dict) and "value" in value and \
            set(value) <= {"value", "mediaType", "encoding", "schema"}:
        return value["value"]
    return value


def validate_inputs(process_id: str, metadata: dict, data: Any) -> dict[str, Any]:
    """Check `data` against the process description (names, occurrences, JSON Schema).

    Returns the inputs with qualified values unwrapped; raises ProcessError (400)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProcessError.of("job_inputs_not_object")
    described = metadata.get("inputs") or {}
    for name in data:
        if name not in described:
            raise ProcessError.of("job_input_unknown", input=name, process=process_id,
                                  allowed=", ".join(described) or "-")
    out: dict[str, Any] = {}
    for name, desc in described.items():
        if name not in data:
            if int(desc.get("minOccurs", 1)) > 0:
                raise ProcessError.of("job_input_missing", 400, "MissingParameterValue",
                                      input=name, process=process_id)
            continue
        schema = desc.get("schema") or {}
        max_occurs = desc.get("maxOccurs", 1)
        raw = data[name]
        many = isinstance(raw, list) and schema.get("type") != "array" and max_occurs != 1
        values = [_unwrap(v) for v in raw] if many else [_unwrap(raw)]
        if max_occurs not in ("unbounded", None) and len(values) > int(max_occurs):
            raise ProcessError.of("job_input_too_many", input=name, max=max_occurs,
                                  count=len(values))
        validator = Draft202012Validator(schema)
        for i, value in enumerate(values):
            err = best_match(validator.iter_errors(value))
            if err is not None:
                sub, problem = _schema_problem(err)
                where = _path(name + (f"[{i}]" if many else ""), sub)
                raise ProcessError.of("job_input_invalid", input=where, problem=problem)
        out[name] = values if many else values[0]
    return out


def check_subscriber(subscriber: Subscriber | None) -> dict[str, str] | None:
    """The subscriber URLs as a dict, once each is http(s) on an allowed host (else 400)."""
    if subscriber is None:
        return None
    urls = {"successUri": subscriber.success_uri, "inProgressUri": subscriber.in_progress_uri,
            "failedUri": subscriber.failed_uri}
    allowed = callback_hosts()
    for field, url in urls.items():
        if url is None:
            continue
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProcessError.of("job_callback_invalid", field=field, url=_show(url))
        if parts.hostname.lower() not in allowed:
            raise ProcessError.of("job_callback_refused", field=field, host=parts.hostname,
                                  allowed=", ".join(sorted(allowed)) or
                                  {"fr": "aucun", "en": "none"})
    return {k: v for k, v in urls.items() if v}


def _post_callback(url: str | None, payload: Any) -> None:
    if not url:
        return
    import requests
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() \
            not in callback_hosts():
        LOGGER.warning("callback to %s skipped: host not allowed", url)
        return
    try:
        r = requests.post(url, data=json.dumps(payload, default=json_serial),
                          headers={"Content-Type": "application/json"},
                          timeout=_env_float("ARTOIS_CALLBACK_TIMEOUT", 10.0),
                          allow_redirects=False)
        LOGGER.info("callback %s: %s", url, r.status_code)
    except Exception as err:  # noqa: BLE001 - a subscriber's failure is not the job's
        LOGGER.warning("callback %s failed: %s", url, err)


# ---------------------------------------------------------------------------- stores
COLUMNS = ("identifier", "type", "process_id", "status", "message", "message_fr", "progress",
           "created", "started", "finished", "updated", "inputs", "requested_outputs",
           "response", "subscriber", "mimetype", "result", "error", "owner", "heartbeat",
           "worker_pid", "attempts", "timeout")
TIME_COLUMNS = {"created", "started", "finished", "updated"}
JSON_COLUMNS = {"inputs", "requested_outputs", "subscriber", "error"}
SUMMARY_COLUMNS = [c for c in COLUMNS if c not in ("result", "inputs")]
_ANY = object()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _fmt_time(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).strftime(DATETIME_FORMAT)


class JobStore:
    """Jobs in one table; each method is one statement (atomic on its own)."""
    table = "jobs"
    null_eq = "IS"
    offset_only = " LIMIT -1 OFFSET ?"

    def _run(self, sql: str, params=(), fetch: bool = False) -> tuple[int, list[dict]]:
        raise NotImplementedError

    def _enc(self, column: str, value: Any) -> Any:
        return value

    def _dec(self, row: dict) -> dict:
        return row

    def setup(self) -> None:
        raise NotImplementedError

    # -- verbs ------------------------------------------------------------------
    def insert(self, job: dict[str, Any]) -> None:
        cols = [c for c in COLUMNS if c in job]
        self._run(f"INSERT INTO {self.table} ({', '.join(cols)}) VALUES "
                  f"({', '.join('?' * len(cols))})", [self._enc(c, job[c]) for c in cols])

    def get(self, job_id: str, *, result: bool = False, inputs: bool = False
            ) -> dict[str, Any] | None:
        cols = SUMMARY_COLUMNS + (["result"] if result else []) + (["inputs"] if inputs else [])
        _, rows = self._run(f"SELECT {', '.join(cols)} FROM {self.table} WHERE identifier = ?",
                            [str(job_id)], fetch=True)
        return self._dec(rows[0]) if rows else None

    def page(self, limit: int | None, offset: int) -> tuple[list[dict], int]:
        """Newest first; the count comes from the same statement (a consistent snapshot)."""
        sql = (f"SELECT {', '.join(SUMMARY_COLUMNS)}, count(*) OVER () AS total_count "
               f"FROM {self.table} ORDER BY created DESC, identifier")
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params = [int(limit), int(offset or 0)]
        elif offset:
            sql += self.offset_only
            params = [int(offset)]
        _, rows = self._run(sql, params, fetch=True)
        if rows:
            total = int(rows[0]["total_count"])
        else:
            _, count = self._run(f"SELECT count(*) AS n FROM {self.table}", fetch=True)
            total = int(count[0]["n"])
        for r in rows:
            r.pop("total_count", None)
        return [self._dec(r) for r in rows], total

    def update(self, job_id: str, values: dict[str, Any], *, status_in=None, owner=_ANY,
               attempts: int | None = None) -> bool:
        """Set `values` on the job if it (still) matches the conditions; True if it did."""
        cols = list(values)
        assert all(c in COLUMNS for c in cols), cols
        where, params = ["identifier = ?"], [self._enc(c, values[c]) for c in cols]
        params.append(str(job_id))
        if status_in:
            where.append(f"status IN ({', '.join('?' * len(status_in))})")
            params += list(status_in)
        if owner is not _ANY:
            where.append(f"owner {self.null_eq} ?")
            params.append(owner)
        if attempts is not None:
            where.append("attempts = ?")
            params.append(int(attempts))
        n, _ = self._run(f"UPDATE {self.table} SET {', '.join(c + ' = ?' for c in cols)} "
                         f"WHERE {' AND '.join(where)}", params)
        return n == 1

    def delete(self, job_id: str, status_in=FINISHED) -> bool:
        n, _ = self._run(f"DELETE FROM {self.table} WHERE identifier = ? AND status IN "
                         f"({', '.join('?' * len(status_in))})", [str(job_id), *status_in])
        return n == 1

    def heartbeat(self, owner: str, now: float) -> None:
        self._run(f"UPDATE {self.table} SET heartbeat = ? WHERE owner = ? AND status IN (?, ?)",
                  [now, owner, *ACTIVE])

    def active(self) -> list[dict[str, Any]]:
        _, rows = self._run(f"SELECT identifier, process_id, status, owner, heartbeat, "
                            f"attempts, subscriber, timeout FROM {self.table} "
                            f"WHERE status IN (?, ?) ORDER BY created", list(ACTIVE), fetch=True)
        return [self._dec(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Jobs by status (for /ready and the Prometheus gauges)."""
        _, rows = self._run(f"SELECT status, count(*) AS n FROM {self.table} GROUP BY status",
                            fetch=True)
        return {r["status"]: int(r["n"]) for r in rows}

    def states(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        _, rows = self._run(f"SELECT identifier, status, owner, attempts FROM {self.table} "
                            f"WHERE identifier IN ({', '.join('?' * len(ids))})", ids,
                            fetch=True)
        return {r["identifier"]: r for r in rows}

    def purge(self, before: datetime) -> int:
        n, _ = self._run(f"DELETE FROM {self.table} WHERE status IN (?, ?, ?) AND updated < ?",
                         [*FINISHED, self._enc("updated", before)])
        return n


class SQLiteJobStore(JobStore):
    """var/jobs/jobs.sqlite: WAL, one short connection per statement, busy timeout."""

    def __init__(self, path: str | Path):
        self.path = str(path)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    def setup(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS jobs (identifier TEXT PRIMARY KEY, "
                "type TEXT NOT NULL DEFAULT 'process', process_id TEXT NOT NULL, "
                "status TEXT NOT NULL, message TEXT, message_fr TEXT, "
                "progress INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, started TEXT, "
                "finished TEXT, updated TEXT NOT NULL, inputs TEXT NOT NULL, "
                "requested_outputs TEXT, response TEXT NOT NULL DEFAULT 'raw', subscriber TEXT, "
                "mimetype TEXT, result BLOB, error TEXT, owner TEXT, heartbeat REAL, "
                "worker_pid INTEGER, attempts INTEGER NOT NULL DEFAULT 0, timeout REAL)")
            conn.execute("CREATE INDEX IF NOT EXISTS jobs_created_idx ON jobs (created)")
            conn.execute("CREATE INDEX IF NOT EXISTS jobs_status_idx ON jobs (status)")
        finally:
            conn.close()

    def _run(self, sql, params=(), fetch=False):
        conn = self._connect()
        try:
            conn.execute("PRAGMA synchronous = NORMAL")
            cur = conn.execute(sql, list(params))
            if not fetch:
                return cur.rowcount, []
            names = [d[0] for d in cur.description]
            return cur.rowcount, [dict(zip(names, r)) for r in cur.fetchall()]
        finally:
            conn.close()

    def _enc(self, column, value):
        if value is None:
            return None
        if column in TIME_COLUMNS:
            return _fmt_time(value)
        if column in JSON_COLUMNS:
            return json.dumps(value, ensure_ascii=False, default=json_serial)
        return value

    def _dec(self, row):
        for c in JSON_COLUMNS & set(row):
            if isinstance(row[c], str):
                row[c] = json.loads(row[c])
        return row


class PostgresJobStore(JobStore):
    """<schema>.jobs in the PostGIS database (DATABASE_URL), through services.db's pool."""
    null_eq = "IS NOT DISTINCT FROM"
    offset_only = " OFFSET ?"

    def __init__(self, schema: str):
        self.schema = schema
        self.quoted_schema = '"' + schema.replace('"', '""') + '"'
        self.table = self.quoted_schema + '."jobs"'

    def setup(self) -> None:
        from services import db
        with db.pool().connection() as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (self.table,)).fetchone()[0]
            if exists is None:
                # two server processes start together: one creates, the other waits
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                             (f"artois-jobs-{self.schema}",))
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quoted_schema}")
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} (identifier text PRIMARY KEY, "
                    "type text NOT NULL DEFAULT 'process', process_id text NOT NULL, "
                    "status text NOT NULL, message text, message_fr text, "
                    "progress integer NOT NULL DEFAULT 0, created timestamptz NOT NULL, "
                    "started timestamptz, finished timestamptz, updated timestamptz NOT NULL, "
                    "inputs jsonb NOT NULL, requested_outputs jsonb, "
                    "response text NOT NULL DEFAULT 'raw', subscriber jsonb, mimetype text, "
                    "result bytea, error jsonb, owner text, heartbeat double precision, "
                    "worker_pid integer, attempts integer NOT NULL DEFAULT 0, "
                    "timeout double precision)")
                conn.execute(f"CREATE INDEX IF NOT EXISTS jobs_created_idx ON {self.table} "
                             "(created)")
                conn.execute(f"CREATE INDEX IF NOT EXISTS jobs_status_idx ON {self.table} "
                             "(status)")
            conn.commit()

    def _run(self, sql, params=(), fetch=False):
        from services import db
        with db.pool().connection() as conn:
            cur = conn.execute(sql.replace("?", "%s"), list(params))
            if not fetch:
                return cur.rowcount, []
            names = [d.name for d in cur.description]
            return cur.rowcount, [dict(zip(names, r)) for r in cur.fetchall()]

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
            row[c] = _fmt_time(row[c])
        if isinstance(row.get("result"), memoryview):
            row["result"] = bytes(row["result"])
        return row


def open_store(conf: dict[str, str]) -> JobStore:
    store = (PostgresJobStore(conf["schema"]) if conf["kind"] == "postgres"
             else SQLiteJobStore(conf["path"]))
    return store


def store_conf(connection: str | None) -> dict[str, str]:
    """The store of the manager's `connection`: a SQLite path, or 'postgresql'."""
    if connection and str(connection).startswith("postgres"):
        from services import db
        return {"kind": "postgres", "schema": db.schema_name()}
    if not connection:
        from services.settings import get_settings
        connection = str(get_settings().var_dir / "jobs" / "jobs.sqlite")
    return {"kind": "sqlite", "path": str(connection)}


# ---------------------------------------------------------------------------- worker process
def _kill_tree(pid: int | None) -> None:
    """SIGKILL the process group led by `pid` (the worker and what it started), then pid."""
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _kill_own_group(*_args) -> None:
    try:
        if os.getpgid(0) == os.getpid():  # we lead our group: take our children with us
            os.killpg(0, signal.SIGKILL)
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


def _watch_server(server_pid: int) -> None:
    """End this worker (and its process group) when the server process that started it
    ends. Its direct parent may be the fork server, which outlives the server process as
    long as workers run, and uvicorn ends its processes by re-raising SIGTERM, so neither
    multiprocessing's exit hook nor a parent-death check can be relied upon."""
    try:
        fd = os.pidfd_open(server_pid)
    except ProcessLookupError:
        _kill_own_group()
    except (AttributeError, OSError):  # no pidfd (not Linux >= 5.3): poll the pid
        while True:
            time.sleep(0.5)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                _kill_own_group()
            except PermissionError:
                pass
    import select
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while not poller.poll():  # readable once the process has ended
        pass
    _kill_own_group()


def _encode(mimetype: str | None, outputs: Any) -> tuple[bytes, str]:
    if isinstance(outputs, (bytes, bytearray)):
        return bytes(outputs), mimetype or "application/octet-stream"
    if isinstance(outputs, str):
        return outputs.encode("utf-8"), mimetype or "text/plain"
    return (json.dumps(outputs, ensure_ascii=False, default=json_serial).encode("utf-8"),
            mimetype or "application/json")


def _progress_reporter(store: JobStore, job_id: str, attempt: int) -> Callable:
    last = [0.0]

    def report(percent: float, text: str | dict | None = None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and percent < 95:
            return
        last[0] = now
        values: dict[str, Any] = {"progress": max(10, min(95, int(percent))),
                                  "updated": utcnow()}
        if isinstance(text, dict):
            values.update(message=text.get("en"), message_fr=text.get("fr"))
        elif text:
            values.update(message=str(text), message_fr=str(text))
        try:
            store.update(job_id, values, status_in=("running",), attempts=attempt)
        except Exception as err:  # noqa: BLE001 - progress is best effort
            LOGGER.warning("progress of job %s: %s", job_id, err)
    return report


def run_job(job_id: str, attempt: int, conf: dict[str, str], processor_def: dict,
            server_pid: int) -> None:
    """Body of a worker process: run one job and write its outcome."""
    try:
        os.setsid()
    except OSError:
        pass
    signal.signal(signal.SIGTERM, _kill_own_group)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops us
    threading.Thread(target=_watch_server, args=(server_pid,), daemon=True).start()
    store = open_store(conf)
    started = utcnow()
    running = _status_message("job_running") if attempt == 1 else \
        _status_message("job_restarted", attempt=attempt, max=MAX_ATTEMPTS)
    if not store.update(job_id, {"status": "running", "started": started, "updated": started,
                                 "progress": 10, "worker_pid": os.getpid(), **running},
                        status_in=ACTIVE, attempts=attempt):
        return  # dismissed, or another server process took it over
    row = store.get(job_id, inputs=True)
    try:
        processor = load_plugin("process", processor_def)
        processor.set_job_id(job_id)
        if hasattr(processor, "on_progress"):
            processor.on_progress = _progress_reporter(store, job_id, attempt)
        delay = _env_float("ARTOIS_JOB_TEST_DELAY", 0.0)
        if delay > 0:
            time.sleep(delay)
        kwargs = {"outputs": row["requested_outputs"]} if processor.supports_outputs else {}
        mimetype, outputs = processor.execute(row["inputs"] or {}, **kwargs)
        blob, mimetype = _encode(mimetype, outputs)
        finished = utcnow()
        values = {"status": "successful", "result": blob, "mimetype": mimetype,
                  "progress": 100, "finished": finished, "updated": finished,
                  **_status_message("job_complete")}
    except Exception as err:  # noqa: BLE001 - every failure is recorded on the job
        error = error_of(err)
        if error["status"] >= 500:
            LOGGER.exception("job %s failed", job_id)
        finished = utcnow()
        values = {"status": "failed", "error": error, "finished": finished, "updated": finished,
                  "message": error["en"], "message_fr": error["fr"]}
    store.update(job_id, values, status_in=("running",), attempts=attempt)


# ---------------------------------------------------------------------------- supervision
@dataclass
class _Child:
    process: Any
    attempt: int


class Runtime:
    """The jobs of one server process: starts workers, supervises them, heartbeats, and
    picks up the jobs of server processes that are gone."""

    def __init__(self, conf: dict[str, str], processes: dict[str, dict], start_loop: bool):
        self.conf = conf
        self.store = open_store(conf)
        self.processes = processes
        self.owner = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.children: dict[str, _Child] = {}
        self.lock = threading.Lock()
        self.stopping = False
        self.ready = threading.Event()
        method = os.environ.get("ARTOIS_JOB_START_METHOD", "forkserver")
        if method not in multiprocessing.get_all_start_methods():
            method = "spawn"
        self.ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            # (each worker re-runs the body of the server's main module, services.cli, whose
            # imports are then already loaded)
            modules = ["services.jobs", "services.settings", "services.layers"]
            for conf_ in processes.values():
                module = conf_.get("processor", {}).get("name", "").rpartition(".")[0]
                if not module or module in modules:
                    continue
                try:  # the fork server dies on a module that fails otherwise than ImportError
                    importlib.import_module(module)
                    modules.append(module)
                except Exception as err:  # noqa: BLE001
                    LOGGER.warning("process module %s not preloaded: %s", module, err)
            self.ctx.set_forkserver_preload(modules)
        self._setup()
        # When this process ends normally, mark the stop before multiprocessing's exit hook
        # terminates our (daemonic) workers, so that their jobs stay accepted/running for the
        # next start (atexit in a main process, a finalizer in a multiprocessing child). A
        # uvicorn process ends by re-raising SIGTERM, where neither runs: its workers see it
        # go (_watch_server) and kill themselves, and their jobs stay running likewise.
        multiprocessing.util.Finalize(None, self._at_exit, exitpriority=100)
        atexit.register(self._at_exit)
        if start_loop:
            threading.Thread(target=self._loop, name="artois-jobs", daemon=True).start()

    def _setup(self) -> None:
        try:
            self.store.setup()
            self.ready.set()
        except Exception as err:  # noqa: BLE001 - retried by the loop (database down...)
            LOGGER.error("job store not ready: %s", err)

    def _at_exit(self) -> None:
        self.stopping = True

    # -- start ------------------------------------------------------------------
    def start(self, job_id: str, attempt: int, process_id: str, timeout: float,
              subscriber: dict | None, wait: bool) -> None:
        processor_def = self.processes[process_id]["processor"]
        try:
            proc = self.ctx.Process(target=run_job, name=f"artois-job-{job_id[:8]}",
                                    args=(job_id, attempt, self.conf, processor_def,
                                          os.getpid()),
                                    daemon=True)
            proc.start()
        except Exception as err:  # noqa: BLE001
            LOGGER.exception("cannot start the worker of job %s", job_id)
            self._fail(job_id, attempt, texts("job_error", detail=str(err)), 500)
            return
        with self.lock:
            self.children[job_id] = _Child(proc, attempt)
        self.store.update(job_id, {"worker_pid": proc.pid}, attempts=attempt)
        args = (job_id, proc, attempt, timeout, subscriber)
        if wait:
            self._supervise(*args)
        else:
            threading.Thread(target=self._supervise, args=args, daemon=True,
                             name=f"artois-job-{job_id[:8]}").start()

    def _fail(self, job_id: str, attempt: int, t: dict[str, str], status: int = 500,
              code: str = "NoApplicableCode") -> bool:
        now = utcnow()
        return self.store.update(
            job_id, {"status": "failed", "finished": now, "updated": now,
                     "error": {"status": status, "code": code, **t},
                     "message": t["en"], "message_fr": t["fr"]},
            status_in=ACTIVE, attempts=attempt)

    def _supervise(self, job_id: str, proc, attempt: int, timeout: float,
                   subscriber: dict | None) -> None:
        subscriber = subscriber or {}
        if subscriber.get("inProgressUri"):
            threading.Thread(target=_post_callback, daemon=True, args=(
                subscriber["inProgressUri"], self._status_payload(job_id))).start()
        deadline = time.monotonic() + timeout
        timed_out = False
        while True:
            proc.join(max(0.0, min(0.5, deadline - time.monotonic())))
            if not proc.is_alive():
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
        if timed_out:
            self._fail(job_id, attempt, texts("job_timeout", seconds=f"{timeout:g}"), 500,
                       "JobTimeout")
            _kill_tree(proc.pid)
            proc.join(10)
        elif not self.stopping:
            row = self.store.get(job_id)
            if row and row["status"] in ACTIVE and row["attempts"] == attempt:
                self._fail(job_id, attempt, texts("job_crashed", code=proc.exitcode))
        with self.lock:
            if self.children.get(job_id, _Child(None, 0)).process is proc:
                self.children.pop(job_id, None)
        if self.stopping:
            return
        row = self.store.get(job_id, result=True)
        if not row:
            return
        if row["status"] == "successful" and subscriber.get("successUri"):
            payload = _decode_result(row["mimetype"], row["result"])
            threading.Thread(target=_post_callback, daemon=True,
                             args=(subscriber["successUri"], payload)).start()
        elif row["status"] == "failed" and subscriber.get("failedUri"):
            threading.Thread(target=_post_callback, daemon=True, args=(
                subscriber["failedUri"], self._status_payload(job_id))).start()

    def _status_payload(self, job_id: str) -> dict[str, Any]:
        row = self.store.get(job_id) or {}
        return {"jobID": job_id, "type": "process", "processID": row.get("process_id"),
                "status": row.get("status"), "message": row.get("message"),
                "progress": row.get("progress"), "error": row.get("error")}

    def kill(self, job_id: str) -> bool:
        with self.lock:
            child = self.children.get(job_id)
        if child is None:
            return False
        _kill_tree(child.process.pid)
        return True

    # -- the loop ---------------------------------------------------------------
    def _loop(self) -> None:
        if self.ctx.get_start_method() == "forkserver":
            try:  # start the fork server now, not on the first request
                from multiprocessing import forkserver
                forkserver.ensure_running()
            except Exception as err:  # noqa: BLE001
                LOGGER.warning("fork server not started: %s", err)
        last_purge = 0.0
        while True:
            try:
                if not self.ready.is_set():
                    self._setup()
                if self.ready.is_set() and not self.stopping:
                    now = time.time()
                    if self.children:
                        self.store.heartbeat(self.owner, now)
                    self._stop_dismissed()
                    self._recover(now)
                    if now - last_purge > 600:
                        last_purge = now
                        days = _env_float("ARTOIS_JOB_RETENTION_DAYS", 30.0)
                        self.store.purge(utcnow() - timedelta(days=days))
            except Exception:  # noqa: BLE001 - keep supervising
                LOGGER.exception("job loop")
            time.sleep(TICK_S)

    def _stop_dismissed(self) -> None:
        """Kill our workers whose job was dismissed (DELETE served by another server process)
        or taken over by another server process."""
        with self.lock:
            mine = {k: c.attempt for k, c in self.children.items()}
        if not mine:
            return
        for job_id, state in self.store.states(list(mine)).items():
            if state["status"] not in ACTIVE or state["owner"] != self.owner or \
                    state["attempts"] != mine[job_id]:
                self.kill(job_id)

    def _orphaned(self, row: dict[str, Any], now: float) -> bool:
        if row["owner"] == self.owner:
            return False
        if row["heartbeat"] is None or now - float(row["heartbeat"]) > lease_seconds():
            return True
        host, _, rest = str(row["owner"] or "").partition(":")
        pid = rest.partition(":")[0]
        if host == HOST and pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                # Dead, but wait out a server stop first: the owner's sibling workers are
                # stopping too (uvicorn gives them 5 s) and must not claim the job only to die
                # with it, which would burn the job's last attempt.
                return now - float(row["heartbeat"]) > DEAD_OWNER_GRACE_S
            except PermissionError:
                return False
        return False

    def _recover(self, now: float) -> None:
        for row in self.store.active():
            if not self._orphaned(row, now):
                continue
            job_id, attempts = row["identifier"], int(row["attempts"])
            cond = dict(status_in=ACTIVE, owner=row["owner"], attempts=attempts)
            if row["process_id"] not in self.processes:
                t = texts("job_unknown_process", process=row["process_id"])
                self.store.update(job_id, {"status": "failed", "finished": utcnow(),
                                           "updated": utcnow(), "message": t["en"],
                                           "message_fr": t["fr"],
                                           "error": {"status": 500, "code": "NoApplicableCode",
                                                     **t}}, **cond)
                continue
            if attempts >= MAX_ATTEMPTS:
                t = texts("job_gave_up", attempts=attempts)
                if self.store.update(job_id, {"status": "failed", "finished": utcnow(),
                                              "updated": utcnow(), "message": t["en"],
                                              "message_fr": t["fr"], "owner": self.owner,
                                              "error": {"status": 500, "code": "JobInterrupted",
                                                        **t}}, **cond):
                    LOGGER.warning("job %s given up after %s attempts", job_id, attempts)
                continue
            claimed = self.store.update(job_id, {
                "owner": self.owner, "heartbeat": now, "attempts": attempts + 1,
                "status": "accepted", "worker_pid": None, "started": None, "progress": 0,
                "updated": utcnow(),
                **_status_message("job_restarted", attempt=attempts + 1, max=MAX_ATTEMPTS)},
                **cond)
            if claimed:
                LOGGER.warning("job %s picked up again (attempt %s)", job_id, attempts + 1)
                timeout = float(row["timeout"] or job_timeout(row["process_id"]))
                self.start(job_id, attempts + 1, row["process_id"], timeout,
                           row["subscriber"], wait=False)


_RUNTIMES: dict[tuple, Runtime] = {}
_RUNTIME_LOCK = threading.Lock()


def _runtime(conf: dict[str, str], processes: dict[str, dict], start_loop: bool) -> Runtime:
    key = (os.getpid(), tuple(sorted(conf.items())))
    with _RUNTIME_LOCK:
        rt = _RUNTIMES.get(key)
        if rt is None:
            rt = _RUNTIMES[key] = Runtime(conf, processes, start_loop)
        return rt


def _decode_result(mimetype: str | None, data: Any) -> Any:
    if data is None:
        return None
    data = bytes(data)
    if mimetype in JSON_TYPES:
        return json.loads(data.decode("utf-8"))
    if mimetype and mimetype.startswith("text/"):
        return data.decode("utf-8")
    return data


def _describing_only() -> bool:
    """True when pygeoapi builds the OpenAPI document (no jobs run in that process)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "get_oas_30":
            return True
        frame = frame.f_back
    return False


# ---------------------------------------------------------------------------- the manager
_REQUEST = threading.local()  # language and paging of the API call being served


class JobManager(BaseManager):
    """pygeoapi process manager: see the module documentation."""

    def __init__(self, manager_def: dict):
        super().__init__(manager_def)
        self.is_async = True
        self.supports_subscribing = True
        self.conf = store_conf(manager_def.get("connection"))
        self._describing = _describing_only()
        self._rt: Runtime | None = None
        install_api_extensions()
        if not self._describing:
            self._rt = _runtime(self.conf, dict(self.processes), start_loop=True)

    @property
    def runtime(self) -> Runtime:
        if self._rt is None:
            self._rt = _runtime(self.conf, dict(self.processes), start_loop=False)
        return self._rt

    @property
    def store(self) -> JobStore:
        rt = self.runtime
        if not rt.ready.is_set():
            rt._setup()
        return rt.store

    # -- pygeoapi's manager interface ---------------------------------------------
    def _job(self, row: dict[str, Any]) -> dict[str, Any]:
        lang = getattr(_REQUEST, "lang", None) or "fr"
        msg = (row.get("message_fr") if lang == "fr" else None) or row.get("message") or ""
        return {
            "type": "process", "identifier": row["identifier"],
            "process_id": row["process_id"], "status": row["status"], "message": msg,
            "progress": int(row["progress"] or 0), "created": _fmt_time(row["created"]),
            "started": _fmt_time(row["started"]), "finished": _fmt_time(row["finished"]),
            "updated": _fmt_time(row["updated"]),
            "mimetype": row.get("mimetype") or "application/json", "location": None,
            "attempts": row.get("attempts"), "error": row.get("error"),
        }

    def get_jobs(self, status: JobStatus = None, limit: int | None = None,
                 offset: int | None = None) -> dict:
        rows, total = self.store.page(limit, offset or 0)
        if status is not None:
            rows = [r for r in rows if r["status"] == JobStatus(status).value]
        jobs = [self._job(r) for r in rows]
        for job in jobs:  # pygeoapi sorts the page by `started`: never None
            job["started"] = job["started"] or job["created"]
        _REQUEST.paging = (total, limit, offset or 0)
        return {"jobs": jobs, "numberMatched": total}

    def get_job(self, job_id: str) -> dict:
        row = self.store.get(job_id)
        if row is None:
            raise JobNotFoundError(job_id)
        return self._job(row)

    def add_job(self, job_metadata: dict) -> str:
        job = {k: v for k, v in job_metadata.items() if k in COLUMNS}
        now = utcnow()
        job.setdefault("created", now)
        job.setdefault("updated", now)
        job.setdefault("inputs", {})
        job.setdefault("status", JobStatus.accepted.value)
        self.store.insert(job)
        return job["identifier"]

    def update_job(self, job_id: str, update_dict: dict) -> bool:
        values = {k: v for k, v in update_dict.items() if k in COLUMNS}
        return self.store.update(job_id, values) if values else True

    def get_job_result(self, job_id: str) -> tuple[str, Any]:
        row = self.store.get(job_id, result=True)
        if row is None:
            raise JobNotFoundError(job_id)
        if row["status"] != JobStatus.successful.value or row.get("result") is None:
            raise JobResultNotFoundError(job_id)
        return row["mimetype"], _decode_result(row["mimetype"], row["result"])

    def delete_job(self, job_id: str) -> bool:
        """Running (or waiting) job: stop its worker, mark it dismissed. Finished job: delete
        it with its result."""
        for _ in range(3):
            row = self.store.get(job_id)
            if row is None:
                raise JobNotFoundError(job_id)
            if row["status"] in ACTIVE:
                now = utcnow()
                if self.store.update(job_id, {"status": "dismissed", "finished": now,
                                              "updated": now, "progress": 100,
                                              **_status_message("job_dismissed")},
                                     status_in=ACTIVE):
                    if row["owner"] == self.runtime.owner:
                        self.runtime.kill(job_id)
                    # else: the owning server process sees it within a second and kills it
                    return True
                continue  # it just finished: delete it below on the next turn
            if self.store.delete(job_id, FINISHED):
                return True
        return False

    def execute_process(self, process_id: str, data_dict: dict,
                        execution_mode: RequestedProcessExecutionMode | None = None,
                        requested_outputs: dict | None = None,
                        subscriber: Subscriber | None = None,
                        requested_response: str | None = RequestedResponse.raw.value):
        processor = self.get_processor(process_id)
        inputs = validate_inputs(process_id, processor.metadata, data_dict)
        hook = getattr(processor, "validate_inputs", None)
        if callable(hook):
            try:
                hook(inputs)
            except ProcessError:
                raise
            except (ProcessorExecuteError, ValueError) as err:
                e = error_of(err)
                raise ProcessError({"fr": e["fr"], "en": e["en"]}, e["status"],
                                   e["code"]) from err
        outputs_described = processor.metadata.get("outputs") or {}
        if requested_outputs is not None:
            if not isinstance(requested_outputs, dict):
                raise ProcessError.of("job_outputs_invalid", outputs=_show(requested_outputs),
                                      allowed=", ".join(outputs_described))
            unknown = [k for k in requested_outputs if k not in outputs_described]
            if unknown:
                raise ProcessError.of("job_outputs_invalid", outputs=", ".join(unknown),
                                      allowed=", ".join(outputs_described))
        response = requested_response or RequestedResponse.raw.value
        if response not in (RequestedResponse.raw.value, RequestedResponse.document.value):
            raise ProcessError.of("job_response_invalid", value=_show(response))
        subscriber_urls = check_subscriber(subscriber)

        jco = processor.metadata.get("jobControlOptions", ["sync-execute"])
        sync_ok = ProcessExecutionMode.sync_execute.value in jco
        if execution_mode == RequestedProcessExecutionMode.respond_async or not sync_ok:
            run_async = True
            headers = {"Preference-Applied": RequestedProcessExecutionMode.respond_async.value}
        else:
            run_async = False
            headers = None if execution_mode == RequestedProcessExecutionMode.wait else \
                {"Preference-Applied": RequestedProcessExecutionMode.wait.value}

        rt = self.runtime
        timeout = job_timeout(process_id, processor)
        job_id = str(uuid.uuid4())
        now = utcnow()
        self.store.insert({
            "identifier": job_id, "type": "process", "process_id": process_id,
            "status": JobStatus.accepted.value, "progress": 0, "created": now,
            "updated": now, "inputs": inputs, "requested_outputs": requested_outputs,
            "response": response, "subscriber": subscriber_urls, "owner": rt.owner,
            "heartbeat": time.time(), "attempts": 1, "timeout": timeout,
            **_status_message("job_accepted")})
        rt.start(job_id, 1, process_id, timeout, subscriber_urls, wait=not run_async)
        if run_async:
            return job_id, "application/json", None, JobStatus.accepted, headers

        row = self.store.get(job_id, result=True)
        if row["status"] == JobStatus.successful.value:
            outputs = _decode_result(row["mimetype"], row["result"])
            return job_id, row["mimetype"], outputs, JobStatus.successful, headers
        if row["status"] == JobStatus.dismissed.value:
            raise ProcessError.of("job_result_dismissed", 409, "Conflict", id=job_id)
        error = row.get("error") or {"status": 500, "code": "NoApplicableCode",
                                     **texts("job_crashed", code="?")}
        raise ProcessError({"fr": error["fr"], "en": error["en"]}, int(error["status"]),
                           error["code"])

    def __repr__(self):
        return f"<JobManager> {self.conf}"


# ---------------------------------------------------------------------------- API wrappers
def _lang(request) -> str:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    return pick_language(headers.get("accept-language"), request.params.get("lang"))


def _exception(api, request, status: int, code: str, t: dict[str, str]):
    headers = request.get_response_headers(**api.api_headers)
    remember(t)
    return api.get_exception(status, headers, request.format, code, t["en"])


def _json_body(content) -> dict | None:
    try:
        return json.loads(content)
    except (TypeError, ValueError):
        return None


def _job_links(api, job: dict, single: bool) -> list[dict]:
    base = f"{api.base_url}/jobs/{job['jobID']}"
    links = [{"href": base, "rel": "status", "type": "application/json",
              "title": "Job status"}]
    if single:
        links.insert(0, {"href": f"{base}?f=json", "rel": "self", "type": "application/json",
                         "title": "This document"})
        links.append({"href": f"{base}?f=html", "rel": "alternate", "type": "text/html",
                      "title": "This document as HTML"})
        links.append({"href": f"{api.base_url}/jobs", "rel": "up",
                      "type": "application/json", "title": "The job list"})
    if job.get("status") == JobStatus.successful.value:
        links.append({"href": f"{base}/results?f=json",
                      "rel": "http://www.opengis.net/def/rel/ogc/1.0/results",
                      "type": "application/json", "title": "Job results"})
    return links


def _fix_job(api, job: dict, single: bool) -> dict:
    if job.get("status") == JobStatus.accepted.value:
        job["started"] = None
    job.pop("parameters", None)
    job["links"] = _job_links(api, job, single)
    return job


def _serving(fn):
    @functools.wraps(fn)
    def wrapper(api, request, *args, **kwargs):
        _REQUEST.lang = _lang(request)
        _REQUEST.paging = None
        try:
            return fn(api, request, *args, **kwargs)
        finally:
            _REQUEST.lang = None
            _REQUEST.paging = None
    return wrapper


def install_api_extensions() -> None:
    """Wrap four functions of pygeoapi.api.processes (the Starlette routes call them through
    the module, so the routes stay pygeoapi's):

    - execute_process: a body that is not a JSON object gets a 400 (not a 500); a 201
      (asynchronous) answer gets the job's status document with `monitor`/`status` links;
    - get_jobs: job documents get `status`/`self`/`results` links, `numberMatched` on the
      list, no `next` link after the last page, messages in the request's language, and an
      unknown job a bilingual 404;
    - get_job_result: JSON unless the client asks for HTML (OWSLib sends no Accept header);
      a failed job answers with its own error (status and both languages), a dismissed one
      with a 404;
    - delete_job: bilingual 404 for an unknown job, and a Content-Type (pygeoapi 0.24 answers
      a DELETE with no headers, which its Starlette adapter turns into a 500).
    """
    import pygeoapi.api.processes as processes_api

    if getattr(processes_api, "_artois_jobs", False):
        return
    original_execute = processes_api.execute_process
    original_get_jobs = processes_api.get_jobs
    original_result = processes_api.get_job_result
    original_delete = processes_api.delete_job

    @_serving
    def execute_process(api, request, process_id):
        body = _json_body(request.data) if request.data else None
        if request.data and body is not None and not isinstance(body, dict):
            return _exception(api, request, 400, "InvalidParameterValue",
                              message("job_body_not_object"))
        headers, status, content = original_execute(api, request, process_id)
        if int(status) == 201 and isinstance(api.manager, JobManager):
            doc = _json_body(content)
            if isinstance(doc, dict) and doc.get("jobID"):
                try:
                    job = api.manager.get_job(doc["jobID"])
                except JobNotFoundError:
                    job = None
                if job:
                    doc.update(processID=job["process_id"], status=job["status"],
                               message=job["message"], progress=job["progress"],
                               created=job["created"], updated=job["updated"])
                href = f"{api.base_url}/jobs/{doc['jobID']}"
                doc["links"] = [{"href": href, "rel": "monitor", "type": "application/json",
                                 "title": "Job status"},
                                {"href": href, "rel": "status", "type": "application/json",
                                 "title": "Job status"}]
                content = json.dumps(doc, ensure_ascii=False)
        return headers, status, content

    @_serving
    def get_jobs(api, request, job_id=None):
        manager = api.manager
        ours = isinstance(manager, JobManager)
        if ours and job_id is not None and manager.store.get(job_id) is None:
            return _exception(api, request, 404, "NoSuchJob",
                              message("job_not_found", id=job_id))
        headers, status, content = original_get_jobs(api, request, job_id)
        if not ours or int(status) != 200 or request.format == "html":
            return headers, status, content
        doc = _json_body(content)
        if not isinstance(doc, dict):
            return headers, status, content
        if job_id is not None:
            doc = _fix_job(api, doc, single=True)
        else:
            for job in doc.get("jobs", []):
                _fix_job(api, job, single=False)
            paging = getattr(_REQUEST, "paging", None)
            if paging:
                total, limit, offset = paging
                doc["numberMatched"] = total
                doc["numberReturned"] = len(doc.get("jobs", []))
                if limit is not None and offset + limit >= total:
                    doc["links"] = [lk for lk in doc.get("links", []) if lk.get("rel") != "next"]
        return headers, status, json.dumps(doc, ensure_ascii=False, default=json_serial)

    @_serving
    def get_job_result(api, request, job_id):
        if request.format is None:  # no f=, no Accept naming a known type: JSON
            request._format = "json"
        manager = api.manager
        if isinstance(manager, JobManager):
            row = manager.store.get(job_id)
            if row is None:
                return _exception(api, request, 404, "NoSuchJob",
                                  message("job_not_found", id=job_id))
            if row["status"] == JobStatus.failed.value and row.get("error"):
                error = row["error"]
                return _exception(api, request, int(error.get("status") or 500),
                                  error.get("code") or "NoApplicableCode",
                                  {"fr": error["fr"], "en": error["en"]})
            if row["status"] == JobStatus.dismissed.value:
                return _exception(api, request, 404, "NoSuchJob",
                                  message("job_result_dismissed", id=job_id))
        return original_result(api, request, job_id)

    @_serving
    def delete_job(api, request, job_id):
        manager = api.manager
        if isinstance(manager, JobManager) and manager.store.get(job_id) is None:
            return _exception(api, request, 404, "NoSuchJob",
                              message("job_not_found", id=job_id))
        headers, status, content = original_delete(api, request, job_id)
        if "Content-Type" not in (headers or {}):  # pygeoapi answers {} (a 500 on Starlette)
            headers = {**request.get_response_headers(**api.api_headers),
                       "Content-Type": "application/json"}
        return headers, status, content

    processes_api.execute_process = execute_process
    processes_api.get_jobs = get_jobs
    processes_api.get_job_result = get_job_result
    processes_api.delete_job = delete_job
    processes_api._artois_jobs = True
