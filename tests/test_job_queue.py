"""The job queue under load and across processes, over real HTTP on 127.0.0.1.

- a flood (both stores): 60 executions sent at once (48 `Prefer: respond-async`, 12
  synchronous) to a server with two HTTP workers and its default job pool; every submission
  is answered (async: 201 within 2 s), /collections keeps answering within 1 s meanwhile,
  /health reports the queue, every job succeeds, and none ran twice (attempts == 1 in the job
  table);
- the queue limits (embedded store): 429 + Retry-After + bilingual OGC exception past
  ARTOIS_JOB_MAX_QUEUED_PER_OWNER, /ready 503 while ARTOIS_JOB_MAX_QUEUED jobs wait and 200
  again once drained;
- two servers without job pool plus one `artois-geo worker` on one PostgreSQL queue
  (PostGIS only): jobs submitted to either server are run by the worker and can be read
  through the other one; a worker killed with SIGKILL while it runs a job (its job process
  and its pool) leaves the job to the next worker, which runs it again at once (attempt 2,
  one success); statuses and results outlive a restart of everything.

Each test has a job table of its own: a private ARTOIS_VAR_DIR (embedded: copies of the
GeoPackages, so var/jobs/jobs.sqlite is private) or a scratch ARTOIS_DB_SCHEMA (PostGIS: the
layers are still read from the shared schema through manifest-postgis.json; only the jobs
table lives in the scratch schema, dropped at the end). The jobs are the `mutability`
process on explicit criteria (a scenario of processes/mutability/data/scenarios/): a pure
computation, nothing is written. ARTOIS_JOB_TEST_DELAY makes each job sleep first, so that
jobs are seen waiting and running. Every subprocess logs to test-artifacts/; a failing test
prints the tail of each log.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from conftest import ARTIFACTS, KEYS, PROJECT, READER, VAR, Server, free_port, start_server

STORES = ["embedded", "postgis"]
EXECUTE = "/processes/mutability/execution"
SCENARIO = json.loads((PROJECT / "processes" / "mutability" / "data" / "scenarios" /
                       "station-service.complete.json").read_text(encoding="utf-8"))
VERSION = "v1.16"
INPUTS = {"criteria": SCENARIO["input"], "algorithm_version": VERSION}
FINISHED = ("successful", "failed", "dismissed")
TIMEOUT = 30  # seconds of one HTTP request


def expected_result(body: dict) -> bool:
    """A mutability answer ({"result": ...}) is the scenario's expected evaluation."""
    result = dict(body["result"])
    return result.pop("algorithm_version") == VERSION and bool(result.pop("criteria")) \
        and result == SCENARIO["expected"]


def submit(url: str, prefer: str | None = None, headers: dict | None = None,
           timeout: float = TIMEOUT, **body) -> requests.Response:
    h = {"Content-Type": "application/json", **({"Prefer": prefer} if prefer else {}),
         **(headers or {})}
    return requests.post(url + EXECUTE, data=json.dumps({"inputs": INPUTS, **body}),
                         headers=h, timeout=timeout)


def job_id_of(r: requests.Response) -> str:
    """The job of an execution answer (201 document, or Location of a 200 result)."""
    if r.status_code == 201:
        return r.json()["jobID"]
    return r.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError as err:
        return f"({err})"


def pid_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


# ---------------------------------------------------------------------------- a private site
@dataclass
class Worker:
    """An `artois-geo worker` subprocess (its pid is the pool's)."""
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Site:
    """A private job table (var dir or scratch schema), its servers and workers."""
    kind: str
    env: dict
    var: Path
    database_url: str | None = None
    schema: str | None = None
    servers: list = field(default_factory=list)
    workers: list = field(default_factory=list)

    def server(self, name: str, **env: str) -> Server:
        srv = start_server({**self.env, **env}, f"queue-{self.kind}-{name}")
        self.servers.append(srv)
        return srv

    def worker(self, name: str, count: int = 1, **env: str) -> Worker:
        ARTIFACTS.mkdir(exist_ok=True)
        xdist = os.environ.get("PYTEST_XDIST_WORKER")
        log = ARTIFACTS / f"worker-queue-{self.kind}-{name}{'-' + xdist if xdist else ''}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker", "--workers", str(count),
             "--log-level", "info"],
            cwd=PROJECT, env={**os.environ, **self.env, **env}, stdout=log.open("w"),
            stderr=subprocess.STDOUT)
        w = Worker(process, log)
        self.workers.append(w)
        return w

    def sql(self, query: str, params=()) -> list[tuple]:
        """A statement on the job table ({t}), straight to the database."""
        if self.kind == "embedded":
            with contextlib.closing(sqlite3.connect(self.var / "jobs" / "jobs.sqlite",
                                                    timeout=30)) as conn:
                return conn.execute(query.format(t="jobs"), params).fetchall()
        import psycopg
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query.format(t=f'"{self.schema}".jobs').replace("?", "%s"),
                               params)
            return cur.fetchall() if cur.description else []

    def row(self, job_id: str) -> dict:
        cols = ("status", "attempts", "worker", "worker_pid", "message")
        rows = self.sql(f"SELECT {', '.join(cols)} FROM {{t}} WHERE identifier = ?", (job_id,))
        return dict(zip(cols, rows[0])) if rows else {}

    def logs(self) -> str:
        out = []
        for p in [s.log for s in self.servers] + [w.log for w in self.workers]:
            out.append(f"----- {p.name} (tail)\n{tail(p)}")
        return "\n".join(out)

    def close(self) -> None:
        for w in self.workers:
            w.stop()
        for s in self.servers:
            with contextlib.suppress(Exception):
                s.stop()


@pytest.fixture
def site(request, tmp_path):
    """A private job table; `kind` (embedded, postgis) given by indirect parametrisation."""
    kind = getattr(request, "param", "embedded")
    var = tmp_path / "var"
    store = var / "store"
    store.mkdir(parents=True)
    env = {"ARTOIS_VAR_DIR": str(var), "DATABASE_URL": "", "ARTOIS_API_KEYS": KEYS,
           "ARTOIS_JOB_TEST_DELAY": "0", "ARTOIS_JOB_TIMEOUT_MUTABILITY": ""}
    url = schema = None
    if kind == "embedded":
        request.getfixturevalue("manifest")
        manifest = json.loads((VAR / "store" / "manifest.json").read_text())
        for entry in manifest.values():
            if str(entry.get("data", "")).endswith(".gpkg"):
                shutil.copy(entry["data"], store / Path(entry["data"]).name)
                entry["data"] = str(store / Path(entry["data"]).name)
        (store / "manifest.json").write_text(json.dumps(manifest))
    else:
        url = request.getfixturevalue("database_url")
        schema = f"test_queue_{uuid.uuid4().hex[:8]}"
        env.update(DATABASE_URL=url, ARTOIS_DB_SCHEMA=schema)
        shutil.copy(VAR / "store" / "manifest-postgis.json", store / "manifest-postgis.json")
    s = Site(kind, env, var, url, schema)
    try:
        yield s
    finally:
        s.close()
        if schema:
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def shows_logs(test):
    """On failure, print the tail of the site's logs (pytest shows it with the failure)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except BaseException:
            for value in kwargs.values():
                if isinstance(value, Site):
                    print(value.logs())
            raise
    return run


def wait_finished(url: str, jobs: dict[str, str], timeout: float) -> dict[str, dict]:
    """Poll every job (id -> token) until each is finished; their last status documents."""
    done: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    with requests.Session() as http:
        while len(done) < len(jobs):
            for job_id, token in jobs.items():
                if job_id in done:
                    continue
                r = http.get(f"{url}/jobs/{job_id}", headers={"X-Job-Token": token},
                             timeout=TIMEOUT)
                assert r.status_code == 200, (job_id, r.status_code, r.text[:300])
                if r.json()["status"] in FINISHED:
                    done[job_id] = r.json()
            pending = {j: jobs[j] for j in jobs if j not in done}
            assert time.monotonic() < deadline, f"jobs not finished: {list(pending)[:5]}…"
            if pending:
                time.sleep(0.3)
    return done


def wait_status(url: str, job_id: str, token: str, statuses, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(f"{url}/jobs/{job_id}", headers={"X-Job-Token": token},
                         params={"lang": "en"}, timeout=TIMEOUT)
        assert r.status_code == 200, r.text[:300]
        if r.json()["status"] in statuses:
            return r.json()
        assert time.monotonic() < deadline, r.json()
        time.sleep(0.1)


# ---------------------------------------------------------------------------- 1. the flood
class Probe(threading.Thread):
    """GET `path` every 100 ms (latencies), and /health every 5th time, until stopped."""

    def __init__(self, url: str, path: str = "/collections"):
        super().__init__(daemon=True)
        self.url, self.path = url, path
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.health: list[tuple[int, dict | None]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with requests.Session() as http:
            n = 0
            while not self.stopping.is_set():
                started = time.perf_counter()
                try:
                    r = http.get(self.url + self.path, timeout=10)
                    elapsed = time.perf_counter() - started
                    if r.status_code == 200:
                        self.latencies.append(elapsed)
                    else:
                        self.failures.append(f"{r.status_code} {r.text[:200]}")
                    if n % 5 == 0:
                        h = http.get(self.url + "/health", timeout=10)
                        self.health.append((h.status_code, h.json().get("queue")
                                            if h.status_code == 200 else None))
                except requests.RequestException as err:
                    self.failures.append(repr(err))
                n += 1
                self.stopping.wait(max(0.0, 0.1 - (time.perf_counter() - started)))


def warm_up(url: str) -> None:
    """Have each HTTP worker answer once before the flood, without queueing a job.

    The servers load their processes at start (services/jobs/api.py `preload`); this first
    request also opens the store's connections of each worker and loads the collections'
    providers (the probe's /collections), which is not what the flood measures. Concurrent
    requests on new connections reach both workers (a busy worker accepts no connection)."""
    def one() -> None:
        r = requests.post(url + EXECUTE, data="x", headers={"Content-Type": "text/plain"},
                          timeout=TIMEOUT)
        assert r.status_code == 415, r.text[:300]
        assert requests.get(url + "/jobs", timeout=TIMEOUT).status_code == 200
        assert requests.get(url + "/collections", timeout=TIMEOUT).status_code == 200
    for _ in range(2):
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)


def most_at_once(docs) -> int:
    """The largest number of jobs running at the same time (status documents' times)."""
    events = []
    for d in docs:
        events += [(d["started"], 1), (d["finished"], -1)]
    most = now = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts
        now += step
        most = max(most, now)
    return most


@pytest.mark.parametrize("site", STORES, indirect=True)
@shows_logs
def test_a_flood_of_executions_is_queued_and_the_api_keeps_answering(site):
    n_async, n_sync = 48, 12
    srv = site.server("flood", ARTOIS_JOB_TEST_DELAY="0.3",
                      ARTOIS_JOB_MAX_QUEUED_PER_OWNER="100", ARTOIS_JOB_SYNC_WAIT="120")
    assert srv.json("/health")["queue"]["queued"] == 0
    warm_up(srv.url)
    answers: list[tuple[str, float, requests.Response | Exception]] = []
    start = threading.Barrier(n_async + n_sync + 1)

    def one(mode: str) -> None:
        start.wait()
        began = time.perf_counter()
        try:
            r = submit(srv.url, "respond-async" if mode == "async" else None, timeout=150)
        except requests.RequestException as err:
            r = err
        answers.append((mode, time.perf_counter() - began, r))

    probe = Probe(srv.url)
    threads = [threading.Thread(target=one, args=(m,), daemon=True)
               for m in ["async"] * n_async + ["sync"] * n_sync]
    # the sync ones in the middle of the async ones: they are not simply served first
    threads = threads[:n_async // 2] + threads[n_async:] + threads[n_async // 2:n_async]
    probe.start()
    time.sleep(0.5)  # a few probes before the flood
    for t in threads:
        t.start()
    flood = time.monotonic()
    start.wait()
    try:
        for t in threads:
            t.join(timeout=max(1.0, 160 - (time.monotonic() - flood)))
        assert len(answers) == n_async + n_sync, f"{len(answers)} submissions answered"
        errors = [(m, a) for m, _, a in answers if isinstance(a, Exception)]
        assert not errors, errors[:3]
        jobs: dict[str, str] = {}
        for mode, elapsed, r in answers:
            assert "X-Job-Token" in r.headers, (mode, r.status_code, r.headers)
            if mode == "async":
                assert r.status_code == 201, (r.status_code, r.text[:300])
                assert elapsed < 2.0, f"async submission answered in {elapsed:.2f} s"
                assert r.json()["status"] in ("accepted", "running", "successful")
            else:
                assert r.status_code in (200, 201), (r.status_code, r.text[:300])
                if r.status_code == 200:
                    assert expected_result(r.json())
            assert r.headers["Location"].endswith("/jobs/" + job_id_of(r))
            jobs[job_id_of(r)] = r.headers["X-Job-Token"]
        assert len(jobs) == n_async + n_sync
        done = wait_finished(srv.url, jobs, timeout=150)
        drained = time.monotonic() - flood
    finally:
        probe.stopping.set()
        probe.join(timeout=15)
    statuses = {d["status"] for d in done.values()}
    assert statuses == {"successful"}, [d for d in done.values()
                                        if d["status"] != "successful"][:3]
    # the default pool: one job worker per CPU, never more jobs at once
    assert most_at_once(done.values()) <= (os.cpu_count() or 1)
    # the API answered during the flood
    assert not probe.failures, probe.failures[:5]
    assert len(probe.latencies) >= 10, probe.latencies
    # an API frozen by the flood would wait for the jobs: 60 x 0.3 s on two job workers, 9 s.
    # A request takes about 30 ms here; 2 s leaves room for the pauses of a loaded CI machine
    # (the other test worker may be running QGIS or schemathesis meanwhile).
    assert max(probe.latencies) < 2.0, (
        f"/collections: max {max(probe.latencies):.3f} s, "
        f"median {statistics.median(probe.latencies):.3f} s over {len(probe.latencies)}")
    health = [q for status, q in probe.health if status == 200]
    assert health and len(health) == len(probe.health), probe.health[:5]
    assert all(q and {"queued", "running", "workers"} <= set(q) for q in health), health[:3]
    assert max(q["queued"] + q["running"] for q in health) > 0, health  # the flood was seen
    assert max(q["workers"] for q in health) >= 1, health
    # every result, read with its token; one without it is somebody else's (404)
    with requests.Session() as http:
        for job_id, token in jobs.items():
            r = http.get(f"{srv.url}/jobs/{job_id}/results", headers={"X-Job-Token": token},
                         timeout=TIMEOUT)
            assert r.status_code == 200 and expected_result(r.json()), r.text[:300]
        assert http.get(f"{srv.url}/jobs/{job_id}", timeout=TIMEOUT).status_code == 404
    # no job ran twice
    rows = site.sql("SELECT identifier, status, attempts FROM {t}")
    assert len(rows) == len(jobs) and {r[0] for r in rows} == set(jobs)
    assert all(r[1] == "successful" and r[2] == 1 for r in rows), \
        [r for r in rows if r[2] != 1][:5]
    print(f"flood on {site.kind}: drained in {drained:.1f} s, /collections max "
          f"{max(probe.latencies) * 1000:.0f} ms, {len(probe.latencies)} probes")


# ---------------------------------------------------------------------------- 2. limits
# One store is enough here: the limits are decided by services/jobs/api.py from
# JobStore.queued() and JobStore.counts(), whose SQL is the same for both backends (and the
# flood and the worker tests run the PostgreSQL queue). The embedded store starts fastest.
def bilingual_429(r: requests.Response, limit: int) -> None:
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert r.headers["Retry-After"].isdigit() and int(r.headers["Retry-After"]) > 0
    body = r.json()
    assert body["code"] == "TooManyRequests" and body["status"] == 429, body
    fr, en = body["description_fr"], body["description_en"]
    assert fr and en and fr != en and str(limit) in fr and str(limit) in en, body


@shows_logs
def test_the_limit_per_owner_answers_429(site):
    srv = site.server("owner-limit", ARTOIS_JOB_WORKERS="1", ARTOIS_JOB_TEST_DELAY="3",
                      ARTOIS_JOB_MAX_QUEUED_PER_OWNER="3")
    mine = []
    for _ in range(3):
        r = submit(srv.url, "respond-async")
        assert r.status_code == 201, r.text[:300]
        mine.append((r.json()["jobID"], r.headers["X-Job-Token"]))
    r = submit(srv.url, "respond-async")
    bilingual_429(r, 3)
    assert "X-Job-Token" not in r.headers
    assert submit(srv.url).status_code == 429  # synchronous ones count the same
    # another owner (a user of an API key) has a count of their own
    r = submit(srv.url, "respond-async", headers={"X-API-Key": READER})
    assert r.status_code == 201, r.text[:300]
    other = r.json()["jobID"]
    # 3 jobs of the anonymous client, still waiting or running; one dismissed frees a place
    job_id, token = mine[-1]
    assert srv.get(f"/jobs/{job_id}", headers={"X-Job-Token": token}).json()["status"] in \
        ("accepted", "running")
    d = srv.http.delete(f"{srv.url}/jobs/{job_id}", headers={"X-Job-Token": token},
                        timeout=TIMEOUT)
    assert d.status_code == 200 and d.json()["status"] == "dismissed", d.text[:300]
    r = submit(srv.url, "respond-async")
    assert r.status_code == 201, r.text[:300]
    # nothing was queued by the refused submissions
    rows = site.sql("SELECT identifier FROM {t}")
    assert {x[0] for x in rows} == {j for j, _ in mine} | {other, r.json()["jobID"]}


@shows_logs
def test_concurrent_submissions_respect_the_limit_per_owner(site):
    srv = site.server("owner-race", ARTOIS_JOB_WORKERS="1", ARTOIS_JOB_TEST_DELAY="3",
                      ARTOIS_JOB_MAX_QUEUED_PER_OWNER="3")
    warm_up(srv.url)
    answers: list[int] = []
    start = threading.Barrier(20)

    def one() -> None:
        start.wait()
        answers.append(submit(srv.url, "respond-async").status_code)
    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(answers) == [201] * 3 + [429] * 17, sorted(answers)


@shows_logs
def test_ready_answers_503_while_the_queue_is_full(site):
    srv = site.server("max-queued", ARTOIS_JOB_WORKERS="1", ARTOIS_JOB_TEST_DELAY="1.5",
                      ARTOIS_JOB_MAX_QUEUED="2", ARTOIS_JOB_MAX_QUEUED_PER_OWNER="100")
    ready = srv.get("/ready")
    assert ready.status_code == 200, ready.text[:300]
    assert ready.json()["queue"]["queued"] == 0
    jobs = {}
    r = submit(srv.url, "respond-async")
    assert r.status_code == 201, r.text[:300]
    first = r.json()["jobID"]
    jobs[first] = r.headers["X-Job-Token"]
    wait_status(srv.url, first, jobs[first], ("running",), timeout=30)
    for _ in range(2):  # the only worker is busy: these two wait
        r = submit(srv.url, "respond-async")
        assert r.status_code == 201, r.text[:300]
        jobs[r.json()["jobID"]] = r.headers["X-Job-Token"]
    ready = srv.get("/ready")
    assert ready.status_code == 503, ready.text[:300]
    body = ready.json()
    assert body["checks"]["jobs"]["status"] == "saturated", body
    assert body["queue"]["queued"] == 2 and body["queue"]["running"] == 1, body
    health = srv.get("/health")  # alive all the same
    assert health.status_code == 200 and health.json()["queue"]["queued"] == 2
    bilingual_429(submit(srv.url, "respond-async"), 2)  # the queue is full: for everybody
    bilingual_429(submit(srv.url, "respond-async", headers={"X-API-Key": READER}), 2)
    # drained: ready again as soon as fewer than 2 wait
    deadline = time.monotonic() + 30
    while (ready := srv.get("/ready")).status_code != 200:
        assert ready.status_code == 503, ready.text[:300]
        assert time.monotonic() < deadline, ready.json()
        time.sleep(0.2)
    assert ready.json()["queue"]["queued"] < 2
    done = wait_finished(srv.url, jobs, timeout=30)
    assert {d["status"] for d in done.values()} == {"successful"}, done
    ready = srv.get("/ready")
    assert ready.status_code == 200 and ready.json()["queue"]["queued"] == 0
    assert len(site.sql("SELECT identifier FROM {t}")) == 3


# ---------------------------------------------------------------------------- 3. workers
class _Receiver(BaseHTTPRequestHandler):
    """Job callbacks: (path, payload) of every POST."""
    calls: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).calls.append((self.path, json.loads(body or b"null")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("site", ["postgis"], indirect=True)
@shows_logs
def test_two_servers_and_a_separate_worker_share_the_queue(site):
    delay = 3.0
    site.env.update(ARTOIS_JOB_WORKERS="0", ARTOIS_JOB_LEASE="60",
                    ARTOIS_CALLBACK_HOSTS="127.0.0.1",
                    ARTOIS_CALLBACK_PRIVATE_NETWORKS="127.0.0.0/8")
    a, b = site.server("a"), site.server("b")
    assert a.url != b.url
    # no job pool beside the servers: a job waits until a worker comes
    r = submit(a.url, "respond-async")
    assert r.status_code == 201, r.text[:300]
    jobs = {r.json()["jobID"]: r.headers["X-Job-Token"]}
    time.sleep(1.5)
    first = next(iter(jobs))
    assert b.get(f"/jobs/{first}", headers={"X-Job-Token": jobs[first]}).json()["status"] \
        == "accepted"
    queue = b.json("/health")["queue"]
    assert queue["queued"] == 1 and queue["running"] == 0 and queue["workers"] == 0, queue
    w1 = site.worker("w1")
    for srv in (a, b, b):
        r = submit(srv.url, "respond-async")
        assert r.status_code == 201, r.text[:300]
        jobs[r.json()["jobID"]] = r.headers["X-Job-Token"]
    r = submit(b.url)  # synchronous: answered by B once the worker ran it
    assert r.status_code == 200 and expected_result(r.json()), r.text[:300]
    jobs[job_id_of(r)] = r.headers["X-Job-Token"]
    done = wait_finished(a.url, jobs, timeout=60)
    assert {d["status"] for d in done.values()} == {"successful"}, done
    for i, (job_id, token) in enumerate(jobs.items()):
        other = (a, b)[i % 2]  # each job read through both servers
        for srv in (a, b):
            r = srv.get(f"/jobs/{job_id}/results", headers={"X-Job-Token": token})
            assert r.status_code == 200 and expected_result(r.json()), r.text[:300]
        assert other.get(f"/jobs/{job_id}").status_code == 404  # no token: not yours
        row = site.row(job_id)
        assert row["attempts"] == 1, row
        assert parent_of(row["worker_pid"]) == w1.process.pid, row  # run by the worker
    assert 1 <= a.json("/health")["queue"]["workers"] <= 2  # w1 (and a stale entry at most)
    w1.stop()

    # a worker killed (SIGKILL: pool and job process) while it runs a job
    calls = _Receiver.calls = []
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{port}"
        w2 = site.worker("w2", ARTOIS_JOB_TEST_DELAY=str(delay))
        r = submit(b.url, "respond-async",
                   subscriber={"successUri": f"{hook}/done", "failedUri": f"{hook}/failed",
                               "inProgressUri": f"{hook}/progress"})
        assert r.status_code == 201, r.text[:300]
        killed, token = r.json()["jobID"], r.headers["X-Job-Token"]
        jobs[killed] = token
        wait_status(a.url, killed, token, ("running",), timeout=60)
        row = site.row(killed)
        job_pid = row["worker_pid"]
        assert row["attempts"] == 1 and parent_of(job_pid) == w2.process.pid, row
        deadline = time.monotonic() + 10  # the job has begun: its first callback came
        while not calls:
            assert time.monotonic() < deadline, "no inProgressUri callback"
            time.sleep(0.05)
        assert site.row(killed)["status"] == "running"
        os.kill(w2.process.pid, signal.SIGKILL)  # the pool first: it would fork a new one
        os.kill(job_pid, signal.SIGKILL)
        w2.process.wait(timeout=10)
        assert pid_gone(job_pid), f"job process {job_pid} still alive"
        time.sleep(0.5)
        assert site.row(killed)["status"] == "running"  # nobody knows yet
        started = time.monotonic()
        w3 = site.worker("w3", ARTOIS_JOB_TEST_DELAY=str(delay))
        while True:  # taken again at once (a dead process on this host), no 60 s lease
            job = a.json(f"/jobs/{killed}", headers={"X-Job-Token": token},
                         params={"lang": "en"})
            if job["status"] == "running" and "attempt 2 of 2" in job["message"]:
                break
            assert job["status"] in ("accepted", "running"), job
            assert time.monotonic() - started < 30, job
            time.sleep(0.1)
        job = wait_status(b.url, killed, token, FINISHED, timeout=60)
        assert job["status"] == "successful", job
        row = site.row(killed)
        assert row["attempts"] == 2 and row["worker_pid"] != job_pid, row
        assert parent_of(row["worker_pid"]) == w3.process.pid, row
        r = b.get(f"/jobs/{killed}/results", headers={"X-Job-Token": token})
        assert r.status_code == 200 and expected_result(r.json()), r.text[:300]
        deadline = time.monotonic() + 10
        while not any(p == "/done" for p, _ in calls) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # a second outcome would come now
        paths = [p for p, _ in calls]
        assert paths.count("/done") == 1 and "/failed" not in paths, paths
        assert paths.count("/progress") == 2, paths  # one per attempt
        progress = [payload["message"] for p, payload in calls if p == "/progress"]
        assert "attempt 2 of 2" in progress[1] and "attempt" not in progress[0], progress
        assert dict(calls)["/done"]["result"]["reliability"] == \
            SCENARIO["expected"]["reliability"]
    finally:
        httpd.shutdown()

    # everything stops; one server comes back: statuses and results are intact
    before = {j: site.row(j)["status"] for j in jobs}
    for w in site.workers:
        w.stop()
    for srv in (a, b):
        srv.stop()
    c = site.server("c")
    for job_id, token in jobs.items():
        job = c.get(f"/jobs/{job_id}", headers={"X-Job-Token": token})
        assert job.status_code == 200 and job.json()["status"] == before[job_id] == \
            "successful", job.text[:300]
        r = c.get(f"/jobs/{job_id}/results", headers={"X-Job-Token": token})
        assert r.status_code == 200 and expected_result(r.json()), r.text[:300]
    queue = c.json("/health")["queue"]
    assert queue["queued"] == 0 and queue["running"] == 0, queue
    rows = site.sql("SELECT identifier, attempts FROM {t}")
    assert {j: n for j, n in rows} == {j: (2 if j == killed else 1) for j in jobs}


CLAIM_SCRIPT = r"""
import json, sys, time, uuid
from services.store.jobs import open_store, utcnow
store = open_store()
ids = {}
for process in ("ancien-processus", "nouveau-processus"):
    ids[process] = f"claim-{uuid.uuid4().hex}"
    now = utcnow()
    store.insert({"identifier": ids[process], "type": "process", "process_id": process,
                  "status": "accepted", "created": now, "updated": now, "attempts": 0,
                  "inputs": {}, "progress": 0})
    time.sleep(0.01)
old_worker = store.claim("w-old", 1, time.time(), ["ancien-processus"])
none = store.claim("w-none", 2, time.time(), ["inconnu"])
new_worker = store.claim("w-new", 3, time.time(), ["nouveau-processus"])
print(json.dumps({"ids": ids, "old": old_worker and old_worker["identifier"],
                  "none": none, "new": new_worker and new_worker["identifier"],
                  "new_status": new_worker and new_worker["status"]}))
for ident in ids.values():
    store.update(ident, {"status": "dismissed"})
"""


@pytest.mark.parametrize("kind", STORES)
def test_a_worker_claims_only_the_processes_it_can_run(kind, request, tmp_path):
    """Workers of two versions share the queue (replicas during an upgrade): each claims only
    the jobs of processes it publishes, so a job is never failed as 'process no longer
    published' by a worker that does not know it."""
    env = {**os.environ, "ARTOIS_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}
    if kind == "postgis":
        env.update(DATABASE_URL=request.getfixturevalue("database_url"),
                   ARTOIS_DB_SCHEMA=f"test_claim_{uuid.uuid4().hex[:8]}")
    out = subprocess.run([sys.executable, "-c", CLAIM_SCRIPT], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=120)
    try:
        assert out.returncode == 0, out.stderr[-2000:]
        got = json.loads(out.stdout.strip().splitlines()[-1])
        assert got["old"] == got["ids"]["ancien-processus"]
        assert got["none"] is None
        assert got["new"] == got["ids"]["nouveau-processus"] and got["new_status"] == "running"
    finally:
        if kind == "postgis":
            import psycopg
            with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{env["ARTOIS_DB_SCHEMA"]}" CASCADE')


def _children_of(pid: int) -> list[int]:
    return [p for p in map(int, filter(str.isdigit, os.listdir("/proc"))) if parent_of(p) == pid]


def _pools_of(parent: int) -> list[int]:
    """Job pools started for `parent` (`artois-geo worker ... --parent PID`), still running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in argv and b"--parent" in argv and \
                argv[argv.index(b"--parent") + 1:][:1] == [str(parent).encode()]:
            found.append(int(entry.name))
    return found


def test_a_pool_whose_server_died_while_it_started_ends(site):
    """The pool `serve` starts watches the server's pid: had the server died before the pool
    read its parent (the pool imports for seconds), the pool, adopted by init, used to run
    on for ever. A pool given a pid already gone ends by itself, its workers with it."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    pool = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "worker", "--workers", "2", "--parent",
         str(gone.pid)], cwd=PROJECT, env={**os.environ, **site.env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert pool.wait(90) == 0
    finally:
        if pool.poll() is None:
            pool.kill()
    assert not _pools_of(gone.pid)
    deadline = time.monotonic() + 10
    while _children_of(pool.pid) and time.monotonic() < deadline:
        time.sleep(0.2)  # its workers, stopped with it
    assert not _children_of(pool.pid)


def test_a_server_that_cannot_start_stops_its_pool(site):
    """`serve` on a port already taken: uvicorn gives up, and the job pool `serve` started
    is stopped with it instead of being left behind."""
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "--port", str(port), "--workers",
             "1"], cwd=PROJECT, env={**os.environ, **site.env, "ARTOIS_JOB_WORKERS": "1"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert serve.wait(120) != 0
        finally:
            if serve.poll() is None:
                serve.kill()
    deadline = time.monotonic() + 30
    while _pools_of(serve.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _pools_of(serve.pid)
