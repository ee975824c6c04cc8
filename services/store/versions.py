"""Data versions: a key per collection that changes whenever its data changes, whoever writes
(this server, `artois-geo import`, the build, QGIS editing the store directly), read in
microseconds per request. services/caching.py builds its ETags from them before calling the
application, so a matching If-None-Match is answered 304 without running the query.

- **Embedded store** (one GeoPackage per collection, SQLite in rollback-journal mode):
  the identity of the file, read per request (one `fstat` and a 4-byte read): device, inode,
  size, modification time and SQLite's *file change counter* (header offset 24), which every
  committed write transaction increments, from any SQLite client. The build replaces the file
  (another inode). Unknown (None) whenever that is not exact: a database in WAL mode (a
  `-wal` file, or a header saying so: the counter is not kept there), a hot or running
  `-journal` (a writer may have spilled uncommitted pages), or a counter that moved while
  it was read.
- **PostGIS**: the table `<schema>.data_versions(relation, version)`, bumped by a
  statement-level trigger (INSERT, UPDATE, DELETE, TRUNCATE) on each collection table,
  created by the build (`install`, which bumps it too) and by schema changes (`bump`), and
  announced with `pg_notify` on CHANNEL at commit. The trigger function is SECURITY DEFINER:
  a client allowed to edit a table (QGIS) needs no right on the version table. Versions are
  taken from the clock (microseconds) and only grow, even across a recreated version table.
  Each server process keeps them in memory, refreshed by ONE background thread per process
  (`PgVersions`: LISTEN first, then one read of the whole table; reconnects with backoff).
  While that thread is not connected every version is unknown (None): the caller falls back
  to hashing bodies, never a stale ETag. A notification also drops the process's cached
  description of the table (services/store/postgis/tables.py), so a column added by another
  process is seen at once. Notifications are asynchronous: another process's commit is seen
  a few milliseconds later (a request in that window is answered as if it came just before).
  A `postgis_table` source (a table published as it is) gets the trigger when the build's
  user may add one (`install_outside`: it owns the table), its functions in the server's
  schema; otherwise it has no row: unknown.
- **Server digest** (`server_digest`): the runtime pygeoapi configuration and OpenAPI
  document (base URL, collections, extents), the settings, the package versions and every
  file of `services/` (code, templates, translations), hashed once per process: an upgrade
  or a configuration change changes every ETag.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import threading
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger("artois_geo.versions")

CHANNEL = "artois_data_versions"
TABLE = "data_versions"
BUMP_FUNCTION = "artois_bump_data_version"
TRIGGER_FUNCTION = "artois_data_version_trigger"
TRIGGER = "artois_data_version"
MAX_RELATIONS = 10_000      # versions kept in memory per process (one per table)
WAIT_S = 5.0                # the listener's longest wait before it checks its connection
BACKOFF_S = (2.0, 30.0)     # first and longest pause between two connection attempts


# ---------------------------------------------------------------------------- the server
_digest: str | None = None
_digest_lock = threading.Lock()


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"-"


# settings of one process that change nothing in its answers (a replica's port, its
# metrics folder var/run/metrics-<port>, its log and worker counts)
PROCESS_LOCAL_SETTINGS = {"host", "port", "workers", "metrics_dir", "log_level", "log_format",
                          "access_log", "job_workers", "job_nice", "job_poll", "db_pool_size"}


def server_digest() -> str:
    """What every answer of this server process depends on besides the data, computed once
    (services/caching.py asks for it when the application is created): the configuration and
    OpenAPI document pygeoapi loaded, the settings, the package versions, services/ files."""
    global _digest
    if _digest is not None:
        return _digest
    with _digest_lock:
        if _digest is not None:
            return _digest
        import json

        from services.settings import get_settings
        h = hashlib.blake2b(digest_size=16)
        for name in ("artois-geo", "pygeoapi"):
            try:
                h.update(f"{name}={importlib.metadata.version(name)};".encode())
            except importlib.metadata.PackageNotFoundError:
                h.update(f"{name}=?;".encode())
        try:
            from pygeoapi.starlette_app import CONFIG, OPENAPI
            # the address a replica listens on is not part of what it answers (replicas
            # behind a proxy share one public URL and must give one page one ETag)
            # (nor where it wrote its copy of the templates, var/run/templates-<port>: their
            # sources are hashed below with the other files)
            config = {**CONFIG, "server": {k: v for k, v in CONFIG["server"].items()
                                           if k not in ("bind", "templates")}}
            for document in (config, OPENAPI):
                h.update(json.dumps(document, sort_keys=True, default=str).encode())
        except Exception:  # noqa: BLE001 - outside a server (tests of this module)
            h.update(b"no pygeoapi configuration")
        h.update(get_settings().model_dump_json(exclude=PROCESS_LOCAL_SETTINGS).encode())
        root = Path(__file__).resolve().parent.parent  # services/
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(root)).encode())
                h.update(_file_bytes(path))
        _digest = h.hexdigest()
        return _digest


# ---------------------------------------------------------------------------- embedded
def gpkg_version(path: str) -> tuple | None:
    """The identity of a GeoPackage's committed content, or None when it cannot be exact."""
    try:
        if os.path.exists(path + "-wal"):
            return None
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        head = os.pread(fd, 28, 0)
        if len(head) < 28 or head[18:20] != b"\x01\x01":  # not rollback-journal mode
            return None
        try:
            if os.stat(path + "-journal").st_size > 0:  # a writer is (or was) in the middle
                return None
        except FileNotFoundError:
            pass
        if os.pread(fd, 4, 24) != head[24:28]:
            return None
    except OSError:
        return None
    finally:
        os.close(fd)
    return ("gpkg", st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
            int.from_bytes(head[24:28], "big"))


# ---------------------------------------------------------------------------- PostGIS SQL
def _ident(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


# the clock in microseconds: versions only grow, even if the version table is recreated
_CLOCK = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"


def setup_sql(schema: str) -> list[str]:
    """The version table and its two functions in `schema` (idempotent)."""
    table = _ident(schema, TABLE)
    bump = _ident(schema, BUMP_FUNCTION)
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (relation text PRIMARY KEY, "
        "version bigint NOT NULL, changed_at timestamptz NOT NULL DEFAULT now())",
        f"CREATE OR REPLACE FUNCTION {bump}(key text, create_row boolean DEFAULT true) "
        "RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp AS $body$\n"
        "DECLARE v bigint;\nBEGIN\n"
        f"  UPDATE {table} d SET version = GREATEST(d.version + 1, {_CLOCK}), "
        "changed_at = now() WHERE d.relation = key RETURNING d.version INTO v;\n"
        "  IF v IS NULL AND create_row THEN\n"
        f"    INSERT INTO {table} AS d (relation, version) VALUES (key, {_CLOCK})\n"
        f"    ON CONFLICT (relation) DO UPDATE SET version = GREATEST(d.version + 1, {_CLOCK}),"
        " changed_at = now() RETURNING d.version INTO v;\n"
        "  END IF;\n"
        f"  IF v IS NOT NULL THEN PERFORM pg_notify('{CHANNEL}', key || ' ' || v); END IF;\n"
        "  RETURN v;\nEND $body$",
        f"CREATE OR REPLACE FUNCTION {_ident(schema, TRIGGER_FUNCTION)}() RETURNS trigger "
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$\n"
        f"BEGIN PERFORM {bump}(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME); RETURN NULL; "
        "END $body$",
    ]


SETUP_MARK = "artois-geo data versions 1"  # changed with the functions' text


def install(conn: Any, schema: str, table: str, home: str | None = None) -> None:
    """The version table and functions in `home` (default: `schema`; once: concurrent builds
    and replacements queue behind an advisory lock), the trigger of `schema.table`, then a
    bump (the build's own change): in the caller's transaction."""
    home = home or schema
    marked = conn.execute("SELECT obj_description(to_regprocedure(%s), 'pg_proc')",
                          (f"{_ident(home, TRIGGER_FUNCTION)}()",)).fetchone()[0]
    if marked != SETUP_MARK:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"versions:{home}",))
        for statement in setup_sql(home):
            conn.execute(statement)
        conn.execute(f"COMMENT ON FUNCTION {_ident(home, TRIGGER_FUNCTION)}() IS "
                     f"'{SETUP_MARK}'")
    present = conn.execute("SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND "
                           "tgname = %s", (_ident(schema, table), TRIGGER)).fetchone()
    if not present:
        conn.execute(
            f"CREATE TRIGGER {_ident(TRIGGER)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {_ident(schema, table)} FOR EACH STATEMENT EXECUTE FUNCTION "
            f"{_ident(home, TRIGGER_FUNCTION)}()")
    conn.execute(f"SELECT {_ident(home, BUMP_FUNCTION)}(%s, true)", (f"{schema}.{table}",))


def install_outside(conn: Any, schema: str, table: str, home: str) -> bool:
    """The trigger on a table published as it is (a `postgis_table` source), when this user
    may add one (it owns the table); else its version stays unknown (bodies hashed)."""
    try:
        with conn.transaction():  # a savepoint: a refusal leaves the caller's work intact
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(home)}")
            install(conn, schema, table, home)
        return True
    except Exception as err:  # noqa: BLE001 - no right on the table: no version
        LOGGER.warning("data versions: no trigger on %s.%s (%s): its ETags hash bodies",
                       schema, table, err)
        return False


def bump(conn: Any, schema: str, table: str, home: str | None = None) -> None:
    """A new version of `schema.table` (a schema change: no trigger fires), when it has one
    (its functions in `home`, default `schema`)."""
    function = _ident(home or schema, BUMP_FUNCTION)
    present = conn.execute("SELECT to_regprocedure(%s)",
                           (f"{function}(text, boolean)",)).fetchone()[0]
    if present:
        conn.execute(f"SELECT {function}(%s, false)", (f"{schema}.{table}",))


# ---------------------------------------------------------------------------- PostGIS listener
# the schemas holding a version table of ours (its trigger function beside it), readable
SCHEMAS_SQL = ("SELECT n.nspname FROM pg_namespace n WHERE EXISTS (SELECT 1 FROM pg_proc p "
               "WHERE p.pronamespace = n.oid AND p.proname = %s) AND EXISTS (SELECT 1 FROM "
               "pg_class c WHERE c.relnamespace = n.oid AND c.relname = %s AND c.relkind = 'r' "
               "AND has_table_privilege(c.oid, 'SELECT')) ORDER BY 1 LIMIT 100")


class PgVersions:
    """The versions of one database in this process (every schema holding a version table:
    relations are `schema.table`), kept by one LISTEN thread."""

    def __init__(self, url: str):
        self.url = url
        self._versions: dict[str, int] = {}
        self._connected = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connections = 0  # successful connections so far (tests, logs)

    def get(self, relation: str) -> int | None:
        """The version of `schema.table`, or None (not listening, or no version kept)."""
        if self._thread is None:
            self.start()
        if not self._connected:
            return None
        return self._versions.get(relation)

    @property
    def connected(self) -> bool:
        return self._connected

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="artois-data-versions",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        delay = BACKOFF_S[0]
        failing = False
        while not self._stop.is_set():
            try:
                self._listen()
                delay = BACKOFF_S[0]
            except Exception as err:  # noqa: BLE001 - any failure: unknown, then reconnect
                if not failing:
                    LOGGER.warning("data versions: listener disconnected (%s); ETags from "
                                   "bodies until it reconnects", err)
                failing = True
            else:
                failing = False
            finally:
                with self._lock:
                    self._connected = False
                    self._versions = {}
            self._stop.wait(delay)
            delay = min(delay * 2, BACKOFF_S[1])

    def _listen(self) -> None:
        import psycopg
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                             application_name=f"artois-geo data versions {os.getpid()}",
                             keepalives=1,
                             keepalives_idle=10, keepalives_interval=3,
                             keepalives_count=3) as conn:
            conn.execute(f"LISTEN {CHANNEL}")  # first: no change between the read and it
            rows: list = []
            for (schema,) in conn.execute(SCHEMAS_SQL, (TRIGGER_FUNCTION, TABLE)).fetchall():
                rows += conn.execute(f"SELECT relation, version FROM {_ident(schema, TABLE)} "
                                     f"LIMIT {MAX_RELATIONS}").fetchall()
            with self._lock:
                self._versions = {r: int(v) for r, v in rows}
                self._connected = True
            self.connections += 1
            LOGGER.info("data versions: listening (%d relations)", len(rows))
            while not self._stop.is_set():
                for note in conn.notifies(timeout=WAIT_S):
                    self._note(note.payload)
                conn.execute("SELECT 1")  # a dead connection raises here

    def _note(self, payload: str) -> None:
        relation, _, text = payload.rpartition(" ")
        try:
            version = int(text)
        except ValueError:
            return
        with self._lock:
            current = self._versions.get(relation)
            if current is None and len(self._versions) >= MAX_RELATIONS:
                return
            if current is None or version > current:
                self._versions[relation] = version
        schema, _, table = relation.rpartition(".")
        try:  # its description may have changed (a column added by another process)
            from services.store.postgis.tables import forget_table
            forget_table(schema, table)
        except Exception:  # noqa: BLE001 - a cache to drop, never a failure
            pass


_listeners: dict[str, PgVersions] = {}
_listeners_lock = threading.Lock()


def pg_versions(url: str) -> PgVersions:
    """The one listener of this process for the database `url` (started on first use)."""
    found = _listeners.get(url)
    if found is None:
        with _listeners_lock:
            found = _listeners.setdefault(url, PgVersions(url))
    return found


# ---------------------------------------------------------------------------- collections
def collection_version(collection_id: str) -> tuple | None:
    """The data version of a vector collection as built in the manifest, or None (unknown:
    a coverage, a collection not built, a table without trigger, the listener away)."""
    from services.store import get_catalog
    entry = get_catalog().entry(collection_id)
    if not entry or entry.get("kind") != "features":
        return None
    if entry.get("store") == "postgis":
        from services.settings import get_settings
        settings = get_settings()
        relation = str(entry.get("table") or "")
        if not settings.database_url or "." not in relation:
            return None
        version = pg_versions(settings.database_url).get(relation)
        return None if version is None else ("pg", relation, version)
    data = entry.get("data")
    return gpkg_version(str(data)) if data else None


def collection_file_stamp(collection_id: str) -> tuple:
    """The collection file's identity (its tiers and fields are re-read when it changes);
    the specs as services/access.py keeps them (looked at again every few seconds, not a
    glob of the folder per request)."""
    from services.access import known_specs
    spec = known_specs().get(collection_id)
    if spec is None:
        return ()
    try:
        st = os.stat(spec.path)
    except OSError:
        return ()
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def editable(collection_id: str) -> bool | None:
    """Whether the collection takes Part 4 writes (None: unknown collection)."""
    from services.access import known_specs
    spec = known_specs().get(collection_id)
    return None if spec is None else bool(spec.editable)
