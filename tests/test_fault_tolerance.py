"""Fault tolerance (issue 13, point 5): PostgreSQL goes away while the server is under read
and write load, then comes back; the server is never restarted.

PostGIS only: the embedded store has no database server to lose. The database goes away in
two ways:

- a TCP relay between the server and the shared test cluster (scripts/postgis.sh, port
  55432) is cut, then restored: the database is gone for this server only, so the test
  files that pytest-xdist runs beside this one on the same cluster are not disturbed;
- a real restart (`pg_ctl stop -m fast`, a pause, `pg_ctl start`) of a throwaway cluster
  that belongs to this test alone (scripts/postgis.sh with its own ARTOIS_PG_PORT and
  ARTOIS_PG_DATA, loaded with a pg_dump of the shared store): restarting the shared cluster
  would break the tests running beside this one.

Reader and writer threads (bounded in count and time) run through the outage. Asserted:
no 5xx but 503, every 503 with Retry-After and a bilingual OGC exception (code,
description_fr, description_en), answered quickly (no request hangs on the pool); reads
answer 200 again within 5 s of the database coming back; every acknowledged (2xx) write is
in the database (read with psycopg) and no write was applied twice (the audit, written in
the same transaction as the change, holds each write exactly once).

A writer that gets a 503 retries the same request until it gets an answer: a 503 does not say
whether a commit that was cut short went through, and If-Match (or, for a creation, the
feature's identifier) is what makes a retry safe: it answers 412 (or 409, 404) when the first
attempt had in fact been applied.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from conftest import PROJECT, VAR, Server, free_port, start_server

KEYS = "ft-editor-key:editor:eve"
EDITOR = {"Authorization": "Bearer ft-editor-key"}
GEOJSON = {"Content-Type": "application/geo+json"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
BETHUNE = (2.6400, 50.5300)
EDITABLE = ("friches", "zae")
PATCHED = {"friches": "site_nom", "zae": "nom"}   # the text property each writer patches

WARM_UP_S = 2.0         # load before the outage
OUTAGE_S = 4.0          # relay cut this long
RESTART_PAUSE_S = 3.0   # the real cluster stays stopped this long
AFTER_S = 8.0           # load once the database is back
RECOVERY_S = 5.0        # reads must answer 200 again within this
FAIL_FAST_S = 10.0      # a 503 comes within this (the pool's wait is 30 s)
READERS = 3
MAX_READS = 3000        # per reader thread
MAX_FEATURES = 2000     # per writer thread (each: create, two patches, a delete one in three)
RETRY_FOR_S = 45.0      # a writer retries a 503 this long at most
REQUEST_TIMEOUT_S = 40


# ---------------------------------------------------------------------------- outage makers
class TCPRelay:
    """A loopback TCP relay to PostgreSQL that the test cuts and restores."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()  # the server's connection attempt fails at once
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Every open connection is closed, new ones are refused."""
        self.open = False
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def relayed(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{port}"))


def cluster_data(port: int) -> Path:
    return Path(f"/tmp/artois-geo-fault-pg-{port}")


def postgis_sh(command: str, port: int) -> str:
    """scripts/postgis.sh on the throwaway cluster of `port`. Its data directory is always
    given: an ARTOIS_PG_DATA of the environment names the shared cluster's."""
    done = subprocess.run(["bash", str(PROJECT / "scripts" / "postgis.sh"), command],
                          env={**os.environ, "ARTOIS_PG_PORT": str(port),
                               "ARTOIS_PG_DATA": str(cluster_data(port))},
                          check=True, capture_output=True, text=True, timeout=120)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


# ---------------------------------------------------------------------------- a private site
@dataclass
class Site:
    server: Server
    database_url: str     # direct, for the checks (never through the relay)
    schema: str

    @property
    def url(self) -> str:
        return self.server.url

    def sql(self, query: str, params=()) -> list[tuple]:
        import psycopg
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()


def serve(tmp: Path, server_url: str, schema: str, name: str) -> Server:
    """A server on `schema` of `server_url` (the relay, or the private cluster)."""
    return start_server({"ARTOIS_VAR_DIR": str(tmp / "var"), "ARTOIS_API_KEYS": KEYS,
                         "DATABASE_URL": server_url, "ARTOIS_DB_SCHEMA": schema,
                         "ARTOIS_QUERY_TIMEOUT": "5"}, f"fault-{name}")


def private_store(tmp: Path) -> None:
    store = tmp / "var" / "store"
    store.mkdir(parents=True)
    shutil.copy(VAR / "store" / "manifest-postgis.json", store / "manifest-postgis.json")


def build_editable(tmp: Path, database_url: str, schema: str) -> None:
    """The editable collections (and what they need) in `schema`; the others stay the
    shared read-only tables (as tests/test_transactions.py does)."""
    env = {"ARTOIS_VAR_DIR": str(tmp / "var"), "DATABASE_URL": database_url,
           "ARTOIS_DB_SCHEMA": schema}
    built = subprocess.run([sys.executable, "-m", "services.cli", "build", *EDITABLE],
                           cwd=PROJECT, env={**os.environ, **env}, capture_output=True,
                           text=True, timeout=600)
    assert built.returncode == 0, f"build failed: {built.stderr[-3000:]}"


def copy_store_schema(source_url: str, target_url: str) -> None:
    """The shared store's tables (schema artois, without jobs and audit) into another
    cluster: pg_dump | psql, about a second (a build would take a minute)."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                    key=lambda p: int(p.parent.name))[-1]
    dump = subprocess.run([str(pg_bin / "pg_dump"), "--no-owner", "--no-privileges",
                           "-n", "artois", "-T", "artois.jobs", "-T", "artois.job_workers",
                           "-T", "artois.audit", "-d", source_url],
                          capture_output=True, check=True, timeout=300)
    subprocess.run([str(pg_bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", target_url],
                   input=dump.stdout, capture_output=True, check=True, timeout=300)


@pytest.fixture(scope="module")
def relay_site(database_url, manifest, tmp_path_factory):
    """A scratch schema of the shared cluster, and a server that reaches it through a relay."""
    schema = f"test_ft_{uuid.uuid4().hex[:8]}"
    relay = TCPRelay(urlsplit(database_url).port)
    tmp = tmp_path_factory.mktemp("fault-relay")
    site = None
    try:
        private_store(tmp)
        build_editable(tmp, database_url, schema)
        site = Site(serve(tmp, relayed(database_url, relay.port), schema, "relay"),
                    database_url, schema)
        yield site, relay
    finally:
        if site:
            site.server.stop()
        relay.close()
        import psycopg
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def own_cluster(database_url, manifest, tmp_path):
    """A throwaway PostgreSQL cluster of this test alone (own port and data directory) with a
    copy of the shared store's tables, and a server on it: restarting it cannot disturb any
    other test."""
    site = port = None
    try:
        for attempt in range(3):  # a free port may be taken meanwhile
            port = free_port()
            shutil.rmtree(cluster_data(port), ignore_errors=True)
            try:
                url = postgis_sh("start", port)
                break
            except subprocess.CalledProcessError:
                postgis_sh("stop", port)
                shutil.rmtree(cluster_data(port), ignore_errors=True)
                if attempt == 2:
                    raise
        assert url.endswith(f":{port}/artois"), url
        copy_store_schema(database_url, url)
        private_store(tmp_path)
        site = Site(serve(tmp_path, url, "artois", "restart"), url, "artois")
        yield site, port
    finally:
        if site:
            site.server.stop()
        if port is not None:
            postgis_sh("stop", port)
            shutil.rmtree(cluster_data(port), ignore_errors=True)


# ---------------------------------------------------------------------------- the load
@dataclass
class Call:
    kind: str            # read | write
    method: str
    path: str
    started: float
    ended: float
    status: int | None   # None: no HTTP answer at all
    retry_after: str | None
    body: dict | None    # the JSON of an error answer
    retry: bool = False  # a writer's retry after a 503


@dataclass
class Tracked:
    """What one writer did to one feature, once every 503 was resolved by retrying."""
    cid: str
    fid: str
    ops: list[tuple[str, str | None]] = field(default_factory=list)  # (action, patched value)
    exists: bool = False
    value: str | None = None


class Load:
    """Reader and writer threads on one server, recording every answer."""

    def __init__(self, url: str, read_paths: list[str], templates: dict[str, dict]):
        self.url = url
        self.read_paths = read_paths
        self.templates = templates
        self.calls: list[Call] = []
        self.tracked: list[Tracked] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    # -- recording ----------------------------------------------------------------
    def call(self, http: requests.Session, kind: str, method: str, path: str,
             retry: bool = False, **kwargs) -> requests.Response | None:
        started = time.monotonic()
        try:
            r = http.request(method, self.url + path, timeout=REQUEST_TIMEOUT_S, **kwargs)
        except requests.RequestException as err:
            self._record(Call(kind, method, path, started, time.monotonic(), None, None,
                              {"error": repr(err)}, retry))
            return None
        body = None
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"text": r.text[:300]}
        self._record(Call(kind, method, path, started, time.monotonic(), r.status_code,
                          r.headers.get("Retry-After"), body, retry))
        return r

    def _record(self, c: Call) -> None:
        with self.lock:
            self.calls.append(c)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    # -- threads ------------------------------------------------------------------
    def start(self) -> None:
        for i in range(READERS):
            self.threads.append(threading.Thread(target=self._reader, args=(i,), daemon=True))
        for cid in EDITABLE:
            self.threads.append(threading.Thread(target=self._writer, args=(cid,), daemon=True))
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=RETRY_FOR_S + 2 * REQUEST_TIMEOUT_S)
        assert not any(t.is_alive() for t in self.threads), "a load thread did not finish"

    def _reader(self, i: int) -> None:
        with requests.Session() as http:
            for n in range(MAX_READS):
                if self.stop.is_set():
                    return
                self.call(http, "read", "GET", self.read_paths[(i + n) % len(self.read_paths)])
                time.sleep(0.01)

    def _writer(self, cid: str) -> None:
        with requests.Session() as http:
            for n in range(MAX_FEATURES):
                if self.stop.is_set():
                    return
                try:
                    self._one_feature(http, cid, n)
                except _GaveUp as err:
                    self.problem(f"{cid}: {err}")
                    return

    def _resolved(self, http, method: str, path: str, ok: int, applied: int,
                  **kwargs) -> requests.Response:
        """Send until the answer is not a 503. `ok` is the success; `applied` the answer of a
        retry whose first attempt had been applied (allowed only after a 503)."""
        deadline = time.monotonic() + RETRY_FOR_S
        retry = False
        while True:
            r = self.call(http, "write", method, path, retry=retry, **kwargs)
            if r is not None and r.status_code == ok:
                return r
            if r is not None and r.status_code == applied and retry:
                return r
            if r is None or r.status_code != 503:
                raise _GaveUp(f"{method} {path}: {r.status_code if r is not None else 'no answer'}"
                              f" {r.text[:300] if r is not None else ''}")
            if time.monotonic() > deadline:
                raise _GaveUp(f"{method} {path}: still 503 after {RETRY_FOR_S:g} s")
            retry = True
            time.sleep(0.2)

    def _read_until_answered(self, http, path: str) -> requests.Response:
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            r = self.call(http, "write", "GET", path)  # part of a write: not counted as a read
            if r is not None and r.status_code == 200:
                return r
            if time.monotonic() > deadline or (r is not None and r.status_code != 503):
                raise _GaveUp(f"GET {path}: {r.status_code if r is not None else 'no answer'}")
            time.sleep(0.2)

    def _one_feature(self, http, cid: str, n: int) -> None:
        fid = f"FT-{uuid.uuid4().hex[:12]}"
        props = dict(self.templates[cid]["properties"])
        props[{"friches": "site_id", "zae": "id"}[cid]] = fid
        feature = {"type": "Feature", "properties": props,
                   "geometry": self.templates[cid]["geometry"]}
        item = f"/collections/{cid}/items/{fid}"
        t = Tracked(cid, fid)
        with self.lock:
            self.tracked.append(t)
        r = self._resolved(http, "POST", f"/collections/{cid}/items", 201, 409,
                           data=json.dumps(feature), headers={**GEOJSON, **EDITOR})
        t.ops.append(("insert", props[PATCHED[cid]]))
        t.exists, t.value = True, props[PATCHED[cid]]
        etag = r.headers["ETag"] if r.status_code == 201 else \
            self._read_until_answered(http, item).headers["ETag"]
        for k in range(2):
            value = f"ft {fid} {k}"
            r = self._resolved(http, "PATCH", item, 200, 412,
                               data=json.dumps({"properties": {PATCHED[cid]: value}}),
                               headers={**MERGE_PATCH, **EDITOR, "If-Match": etag})
            t.ops.append(("patch", value))
            t.value = value
            if r.status_code == 200:
                etag = r.headers["ETag"]
            else:  # 412 after a 503: the first attempt was applied; check it and go on
                again = self._read_until_answered(http, item)
                if again.json()["properties"][PATCHED[cid]] != value:
                    raise _GaveUp(f"412 on {item} but its value is not the patched one")
                etag = again.headers["ETag"]
        if n % 3 == 2:
            self._resolved(http, "DELETE", item, 204, 404,
                           headers={**EDITOR, "If-Match": etag})
            t.ops.append(("delete", None))
            t.exists = False


class _GaveUp(Exception):
    pass


def start_load(site: Site) -> Load:
    http = site.server.http
    templates = {}
    for cid in EDITABLE:
        base = site.server.json(f"/collections/{cid}/items", params={"limit": 1})["features"][0]
        templates[cid] = {"properties": base["properties"], "geometry": base["geometry"]}
    templates["zae"]["geometry"] = {"type": "Polygon", "coordinates": [[
        [BETHUNE[0] - 0.0007, BETHUNE[1] - 0.0007], [BETHUNE[0] + 0.0007, BETHUNE[1] - 0.0007],
        [BETHUNE[0] + 0.0007, BETHUNE[1] + 0.0007], [BETHUNE[0] - 0.0007, BETHUNE[1] + 0.0007],
        [BETHUNE[0] - 0.0007, BETHUNE[1] - 0.0007]]]}
    # outside the parks' square: a friche inside a park changes the park's friches count (a
    # derived figure, services/zae.py), hence its ETag, and the park writer's If-Match
    templates["friches"]["geometry"] = {"type": "Point",
                                        "coordinates": [BETHUNE[0] + 0.005, BETHUNE[1] + 0.005]}
    friche = templates["friches"]["properties"]["site_id"]
    zae = templates["zae"]["properties"]["id"]
    assert http.get(site.url + "/ready", timeout=10).status_code == 200
    load = Load(site.url, [
        "/collections/friches/items?limit=5",
        f"/collections/friches/items/{friche}",
        "/collections/zae/items?limit=3",
        f"/collections/zae/items/{zae}",
        "/collections/communes/items?limit=2&resulttype=hits",
    ], templates)
    load.start()
    return load


# ---------------------------------------------------------------------------- the checks
@dataclass
class Figures:
    outage_s: float
    recovery_s: float
    reads: int
    reads_503: int
    writes: int
    writes_503: int
    features: int
    retries_found_applied: int   # a retry answered 409/412/404: the 503'd attempt had committed
    slowest_503_s: float

    def __str__(self) -> str:
        return (f"outage {self.outage_s:.1f} s, reads {self.reads} ({self.reads_503} x 503), "
                f"writes {self.writes} ({self.writes_503} x 503) on {self.features} features, "
                f"{self.retries_found_applied} retries found their write already applied, "
                f"reads 200 again {self.recovery_s:.2f} s after the database came back, "
                f"slowest 503 {self.slowest_503_s:.2f} s")


def check_run(site: Site, load: Load, down_at: float, back_at: float) -> Figures:
    calls = sorted(load.calls, key=lambda c: c.started)
    assert not load.problems, load.problems[:5]
    # the server answered every request, and never with a 5xx other than 503
    no_answer = [c for c in calls if c.status is None]
    assert not no_answer, no_answer[:3]
    bad = [c for c in calls if c.status >= 500 and c.status != 503]
    assert not bad, [(c.method, c.path, c.status, c.body) for c in bad[:5]]
    # reads are 200 or 503; writes are their success, a 503, or after a 503 the answer that
    # says the first attempt was applied (see Load._resolved, which raises on anything else)
    reads = [c for c in calls if c.kind == "read"]
    assert {c.status for c in reads} <= {200, 503}, \
        [(c.path, c.status, c.body) for c in reads if c.status not in (200, 503)][:5]
    # before the outage, all is well
    before = [c for c in calls if c.ended < down_at]
    assert before and all(c.status < 300 for c in before), \
        [(c.method, c.path, c.status) for c in before if c.status >= 300][:5]
    # every 503: Retry-After, a bilingual OGC exception, and no long wait on the pool
    unavailable = [c for c in calls if c.status == 503]
    assert [c for c in unavailable if c.kind == "read"], "no read saw the outage"
    assert [c for c in unavailable if c.kind == "write"], "no write saw the outage"
    for c in unavailable:
        assert c.retry_after and c.retry_after.isdigit() and int(c.retry_after) > 0, c
        assert c.body and c.body.get("code") and c.body.get("description_fr") and \
            c.body.get("description_en") and c.body["description_fr"] != c.body["description_en"], c
        assert c.ended - c.started < FAIL_FAST_S, c
        # in flight while the database was away: a request slowed by a loaded machine may
        # have started well before the stop, it still met the outage (it ended after it)
        assert c.ended >= down_at and c.started <= back_at + RECOVERY_S + FAIL_FAST_S, \
            ("a 503 outside the outage", c)
    # reads answer 200 again within RECOVERY_S of the database coming back, and stay 200
    after = [c for c in reads if c.started >= back_at]
    last_failure = max((c.ended for c in after if c.status != 200), default=back_at)
    recovery = last_failure - back_at
    assert recovery <= RECOVERY_S, \
        f"reads failed until {recovery:.1f} s after the database came back"
    settled = [c for c in after if c.started > last_failure]
    assert len(settled) >= 20 and all(c.status == 200 for c in settled)
    # writes are acknowledged again too, as soon as reads are
    writes = [c for c in calls if c.kind == "write" and c.method != "GET"]
    write_back = min((c.ended for c in writes if c.started >= back_at and 200 <= c.status < 300),
                     default=None)
    assert write_back is not None and write_back - back_at <= RECOVERY_S, \
        "no acknowledged write after the database came back"
    # the database holds every acknowledged write, each applied once
    check_database(site, load)
    return Figures(back_at - down_at, recovery, len(reads),
                   sum(c.status == 503 for c in reads), len(writes),
                   sum(c.status == 503 for c in writes), len(load.tracked),
                   sum(c.retry and c.status in (404, 409, 412) for c in writes),
                   max(c.ended - c.started for c in unavailable))


def check_database(site: Site, load: Load) -> None:
    """Rows and audit read directly with psycopg: each tracked feature is as its writer left
    it, and its audit lists each of its writes once, in order."""
    assert load.tracked
    id_field = {"friches": "site_id", "zae": "id"}
    for cid in EDITABLE:
        tracked = {t.fid: t for t in load.tracked if t.cid == cid and t.ops}
        if not tracked:
            continue
        table = f'"{site.schema}"."{cid}"'
        rows = site.sql(f'SELECT "{id_field[cid]}", "{PATCHED[cid]}" FROM {table} '
                        f'WHERE "{id_field[cid]}" = ANY(%s)', (list(tracked),))
        found: dict[str, list[str]] = {}
        for fid, value in rows:
            found.setdefault(fid, []).append(value)
        for fid, t in tracked.items():
            if t.exists:
                assert found.get(fid) == [t.value], (cid, fid, found.get(fid), t.value)
            else:
                assert fid not in found, (cid, fid, "deleted but still there")
        audit = site.sql(f'SELECT feature_id, action, new -> \'properties\' ->> %s '
                         f'FROM "{site.schema}".audit WHERE collection = %s '
                         f'AND feature_id = ANY(%s) ORDER BY id',
                         (PATCHED[cid], cid, list(tracked)))
        history: dict[str, list[tuple]] = {}
        for fid, action, value in audit:
            history.setdefault(fid, []).append((action, value))
        for fid, t in tracked.items():
            assert history.get(fid, []) == t.ops, (cid, fid, history.get(fid), t.ops)


def wait_ready(site: Site, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while site.server.http.get(site.url + "/ready", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "not ready"
        time.sleep(0.2)


# ---------------------------------------------------------------------------- tests
def test_relay_cut_under_load(relay_site):
    """The network to PostgreSQL is cut for OUTAGE_S under load, then restored."""
    site, relay = relay_site
    wait_ready(site)
    load = start_load(site)
    try:
        time.sleep(WARM_UP_S)
        down_at = time.monotonic()
        relay.cut()
        time.sleep(OUTAGE_S)
        relay.restore()
        back_at = time.monotonic()
        time.sleep(AFTER_S)
    finally:
        relay.restore()
        load.finish()
    figures = check_run(site, load, down_at, back_at)
    print(f"relay: {figures}")


def test_real_restart_under_load(own_cluster):
    """`pg_ctl stop -m fast`, RESTART_PAUSE_S, `pg_ctl start` of the server's own cluster."""
    site, port = own_cluster
    wait_ready(site)
    load = start_load(site)
    try:
        time.sleep(WARM_UP_S)
        down_at = time.monotonic()
        postgis_sh("stop", port)
        time.sleep(RESTART_PAUSE_S)
        postgis_sh("start", port)  # pg_ctl -w: accepting connections when it returns
        back_at = time.monotonic()
        time.sleep(AFTER_S)
    finally:
        postgis_sh("start", port)
        load.finish()
    figures = check_run(site, load, down_at, back_at)
    print(f"restart: {figures}")


EXECUTE = "/processes/mutability/execution"


def _job_body() -> str:
    scenario = json.loads((PROJECT / "processes" / "mutability" / "data" / "scenarios" /
                           "station-service.complete.json").read_text(encoding="utf-8"))
    return json.dumps({"inputs": {"criteria": scenario["input"], "algorithm_version": "v1.16"}})


JOB_HEADERS = {"Content-Type": "application/json", "Prefer": "respond-async"}


def test_job_store_recovers_after_the_outage(relay_site):
    """Jobs are submitted before and again after the database was away (no restart)."""
    site, relay = relay_site
    wait_ready(site)
    http = site.server.http
    first = http.post(site.url + EXECUTE, data=_job_body(), headers=JOB_HEADERS, timeout=60)
    assert first.status_code == 201, first.text[:300]
    relay.cut()
    try:
        deadline = time.monotonic() + 30
        while http.get(site.url + "/ready", timeout=10).status_code != 503:
            assert time.monotonic() < deadline, "/ready did not see the database go"
            time.sleep(0.2)
    finally:
        relay.restore()
    back_at = time.monotonic()
    wait_ready(site)
    while True:
        again = http.post(site.url + EXECUTE, data=_job_body(), headers=JOB_HEADERS, timeout=60)
        if again.status_code == 201 or time.monotonic() > back_at + RECOVERY_S:
            break
        time.sleep(0.2)
    assert again.status_code == 201, again.text[:300]
    job = http.get(again.headers["Location"], headers={"X-Job-Token": again.headers.get(
        "X-Job-Token", "")}, timeout=30)
    assert job.status_code == 200, job.text[:300]


def test_job_submission_during_the_outage_is_503(relay_site):
    site, relay = relay_site
    wait_ready(site)
    http = site.server.http
    first = http.post(site.url + EXECUTE, data=_job_body(), headers=JOB_HEADERS, timeout=60)
    assert first.status_code == 201, first.text[:300]  # the job store is set up
    relay.cut()
    try:
        started = time.monotonic()
        r = http.post(site.url + EXECUTE, data=_job_body(), headers=JOB_HEADERS, timeout=60)
        assert time.monotonic() - started < FAIL_FAST_S
        assert r.status_code == 503, (r.status_code, r.text[:300])
        assert r.headers.get("Retry-After", "").isdigit()
        body = r.json()
        assert body["code"] and body["description_fr"] and body["description_en"]
    finally:
        relay.restore()
        wait_ready(site)
