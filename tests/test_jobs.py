"""Jobs on private servers, both stores: batch mode writing the friches (editor role, audited
under the editor's name; a rebuild keeps what it wrote), allowed callbacks, DELETE of a running
job, a server restart during a job, jobs given up after two interrupted attempts, the time
limit.

Each store gets its own copy (embedded: a temp var dir with copies of the GeoPackages;
PostGIS: a scratch schema holding the friches table and the jobs table) and its own server.
Tests that must catch a job running restart it with ARTOIS_JOB_TEST_DELAY (its workers sleep
that long before each job); each test asks for the settings it needs (`Stack.configure`).
Requests carry an editor's key (EDITOR_KEY): batch mode needs it and the jobs are then the
editor's. The shared servers of conftest.py are never written to.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests

from conftest import PROJECT, VAR, Server, free_port, start_server

STORES = ["embedded", "postgis"]
DELAY = 6.0
# every configuration names the settings that some test changes, so that `configure`
# restarts a server left with another test's value
RESET = {"ARTOIS_JOB_TIMEOUT_MUTABILITY": "", "ARTOIS_JOB_SYNC_WAIT": "",
         "ARTOIS_PROCESS_ACCESS": ""}
FAST = {**RESET, "ARTOIS_JOB_TEST_DELAY": "0"}
SLOW = {**RESET, "ARTOIS_JOB_TEST_DELAY": str(DELAY)}
EXECUTE = "/processes/mutability/execution"
EDITOR_KEY = "jobs-editor-key"
SCENARIO = json.loads((PROJECT / "processes" / "mutability" / "data" / "scenarios" /
                       "station-service.complete.json").read_text(encoding="utf-8"))


@dataclass
class Stack:
    kind: str
    env: dict
    var: Path
    server: Server
    schema: str | None = None
    database_url: str | None = None
    names: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def execute(self, inputs: dict, prefer: str | None = None, **body) -> requests.Response:
        headers = {"Content-Type": "application/json", "X-API-Key": EDITOR_KEY,
                   **({"Prefer": prefer} if prefer else {})}
        return self.server.http.post(self.url + EXECUTE, data=json.dumps({"inputs": inputs,
                                                                           **body}),
                                     headers=headers, timeout=180)

    def job(self, job_id: str) -> dict:
        return self.server.json(f"/jobs/{job_id}", headers={"X-API-Key": EDITOR_KEY})

    def get(self, path: str, **params) -> requests.Response:
        return self.server.get(path, params=params, headers={"X-API-Key": EDITOR_KEY})

    def delete(self, job_id: str) -> requests.Response:
        return self.server.http.delete(f"{self.url}/jobs/{job_id}", timeout=60,
                                       headers={"X-API-Key": EDITOR_KEY})

    def wait(self, job_id: str, statuses=("successful", "failed", "dismissed"),
             timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.2)

    def stop(self) -> None:
        self.server.process.terminate()
        try:
            self.server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.process.kill()
            self.server.process.wait(timeout=10)

    def configure(self, **env: str) -> None:
        """Restart the server if it does not run with these settings."""
        if any(self.env.get(k) != v for k, v in env.items()):
            self.restart(**env)

    def restart(self, **env: str) -> None:
        self.stop()
        self.env.update(env)
        name = f"jobs-{self.kind}-{len(self.names)}"
        self.names.append(name)
        self.server = start_server(self.env, name)

    # -- the jobs table, read and written directly ------------------------------------
    def sql(self, query: str, params=()) -> list[tuple]:
        if self.kind == "embedded":
            with contextlib.closing(sqlite3.connect(self.var / "jobs" / "jobs.sqlite",
                                                    timeout=30)) as conn:
                rows = conn.execute(query.format(t="jobs"), params).fetchall()
                conn.commit()
                return rows
        import psycopg
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query.format(t=f'"{self.schema}".jobs').replace("?", "%s"),
                               params)
            return cur.fetchall() if cur.description else []

    def row(self, job_id: str) -> dict:
        cols = ("status", "worker_pid", "attempts", "worker", "message")
        rows = self.sql(f"SELECT {', '.join(cols)} FROM {{t}} WHERE identifier = ?", (job_id,))
        return dict(zip(cols, rows[0])) if rows else {}

    def inject(self, attempts: int, status: str = "running") -> str:
        """A job of the editor left by a worker that died long ago (another host, no
        heartbeat)."""
        job_id = f"injected-{uuid.uuid4().hex[:10]}"
        now = datetime.now(timezone.utc)
        inputs = json.dumps({"criteria": SCENARIO["input"], "algorithm_version": "v1.16"})
        created = now if self.kind == "postgis" else now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.sql("INSERT INTO {t} (identifier, type, process_id, status, message, progress, "
                 "created, started, updated, inputs, response, user_id, worker, heartbeat, "
                 "attempts, timeout) VALUES (?, 'process', 'mutability', ?, 'Job running', 10, "
                 "?, ?, ?, " + ("?::jsonb" if self.kind == "postgis" else "?") +
                 ", 'raw', 'eddie', 'gone-host:1:dead', 0, ?, 300)",
                 (job_id, status, created, created, created, inputs, attempts))
        return job_id


def pid_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.2)
    return False


@contextlib.contextmanager
def open_stack(kind: str, request, tmp_path_factory):
    var = tmp_path_factory.mktemp(f"jobs-{kind}") / "var"
    store = var / "store"
    store.mkdir(parents=True)
    env = {"ARTOIS_VAR_DIR": str(var), "DATABASE_URL": "", "ARTOIS_CALLBACK_HOSTS": "127.0.0.1",
           "ARTOIS_CALLBACK_PRIVATE_NETWORKS": "127.0.0.0/8",
           "ARTOIS_API_KEYS": f"{EDITOR_KEY}:editor:eddie", **FAST}
    schema = url = None
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
        schema = f"test_jobs_{uuid.uuid4().hex[:8]}"
        env.update(DATABASE_URL=url, ARTOIS_DB_SCHEMA=schema)
        # friches (written by batch mode) and the jobs go to the scratch schema; the other
        # layers are read from the shared schema
        shutil.copy(VAR / "store" / "manifest-postgis.json", store / "manifest-postgis.json")
        subprocess.run([sys.executable, "-m", "services.cli", "build", "friches"], cwd=PROJECT,
                       env={**os.environ, **env}, check=True, capture_output=True)
    stack = Stack(kind, env, var, start_server(env, f"jobs-{kind}"), schema, url)
    try:
        yield stack
    finally:
        stack.stop()
        if schema:
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request.param, request, tmp_path_factory) as s:
        yield s


def items(stack: Stack, **params) -> dict:
    return stack.server.json("/collections/friches/items", params={"limit": 1000, **params})


# ---------------------------------------------------------------------------- batch mode
def test_batch_stores_the_best_use_on_every_friche(stack):
    stack.configure(**FAST)
    r = stack.execute({"batch": True})
    assert r.status_code == 200, r.text[:800]
    batch = r.json()["batch"]
    assert batch["scored"] == 246 and batch["updated"] == 246, batch
    assert batch["algorithm_version"] == "v1.19"
    assert sum(batch["best_uses"].values()) == 246
    queryables = stack.server.json("/collections/friches/queryables")["properties"]
    assert {"mutabilite_usage", "mutabilite_indice", "mutabilite_version",
            "mutabilite_fiabilite"} <= set(queryables)
    for use, count in batch["best_uses"].items():
        got = items(stack, filter=f"mutabilite_usage = '{use}' AND mutabilite_version = 'v1.19'")
        assert got["numberMatched"] == count, use
    high = items(stack, filter="mutabilite_indice >= 80", **{"filter-lang": "cql2-text"})
    assert all(f["properties"]["mutabilite_indice"] >= 80 for f in high["features"])
    # the stored best use is the friche-mode evaluation's first use
    feature = items(stack, limit=1)["features"][0]
    one = stack.execute({"friche": feature["properties"]["site_id"]}).json()["result"]
    assert feature["properties"]["mutabilite_usage"] == one["results"][0]["use"]
    assert feature["properties"]["mutabilite_indice"] == one["results"][0]["index"]
    assert feature["properties"]["mutabilite_fiabilite"] == one["reliability"]["score"]
    # audited under the name of the editor who ran the batch
    history = subprocess.run([sys.executable, "-m", "services.cli", "history", "friches",
                              feature["id"], "--json"], cwd=PROJECT, check=True, text=True,
                             capture_output=True, env={**os.environ, **stack.env}).stdout
    entries = json.loads(history)
    assert entries and entries[0]["username"] == "eddie" and entries[0]["source"] == "process"


def test_batch_mode_is_refused_to_anonymous_callers_and_readers(stack):
    r = stack.server.post(EXECUTE, data=json.dumps({"inputs": {"batch": True}}),
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == "Unauthorized", r.text[:300]
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_batch_again_changes_nothing_and_a_rebuild_keeps_the_scores(stack):
    stack.configure(**FAST)
    before = {f["id"]: f["properties"]["mutabilite_usage"] for f in items(stack)["features"]}
    assert len(before) == 246 and all(before.values())
    r = stack.execute({"batch": True}, prefer="respond-async")
    assert r.status_code == 201, r.text[:500]
    job = stack.wait(r.json()["jobID"])
    assert job["status"] == "successful", job
    result = stack.get(f"/jobs/{job['jobID']}/results").json()["batch"]
    assert result["updated"] == 0 and result["unchanged"] == 246
    subprocess.run([sys.executable, "-m", "services.cli", "build", "friches"], cwd=PROJECT,
                   env={**os.environ, **stack.env}, check=True, capture_output=True)
    after = {f["id"]: f["properties"]["mutabilite_usage"] for f in items(stack)["features"]}
    assert after == before


# ---------------------------------------------------------------------------- callbacks
class _Receiver(BaseHTTPRequestHandler):
    calls: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).calls.append((self.path, json.loads(body or b"null")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_callbacks_reach_an_allowed_host(stack):
    stack.configure(**FAST)
    _Receiver.calls = []
    port = free_port()
    httpd = HTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{port}"
        r = stack.execute({"criteria": SCENARIO["input"], "algorithm_version": "v1.16"},
                          prefer="respond-async",
                          subscriber={"successUri": f"{base}/done",
                                      "inProgressUri": f"{base}/progress",
                                      "failedUri": f"{base}/failed"})
        assert r.status_code == 201, r.text[:500]
        stack.wait(r.json()["jobID"])
        deadline = time.monotonic() + 20
        while len(_Receiver.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        calls = dict(_Receiver.calls)
        assert calls["/progress"]["jobID"] == r.json()["jobID"]
        result = dict(calls["/done"]["result"])
        assert result.pop("algorithm_version") == "v1.16" \
            and result.pop("criteria") and result == SCENARIO["expected"]
        assert "/failed" not in calls
    finally:
        httpd.shutdown()


# ---------------------------------------------------------------------------- dismissal
def test_delete_of_a_running_job_kills_its_worker(stack):
    stack.configure(**SLOW)
    r = stack.execute({"friche": "62846_8397"}, prefer="respond-async")
    job_id = r.json()["jobID"]
    stack.wait(job_id, statuses=("running",))
    deadline = time.monotonic() + 10
    while not stack.row(job_id).get("worker_pid"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    pid = stack.row(job_id)["worker_pid"]
    assert not pid_gone(pid, timeout=0.1)
    d = stack.delete(job_id)
    assert d.status_code == 200 and d.json()["status"] == "dismissed", d.text[:300]
    assert pid_gone(pid), f"worker {pid} still alive"
    job = stack.job(job_id)
    assert job["status"] == "dismissed", job
    assert "DELETE" in job["message"]
    r = stack.get(f"/jobs/{job_id}/results")
    assert r.status_code == 404 and r.json()["description_fr"] != r.json()["description_en"]
    # a second DELETE removes the dismissed job
    assert stack.delete(job_id).status_code == 200
    assert stack.get(f"/jobs/{job_id}").status_code == 404


# ---------------------------------------------------------------------------- settings
def test_a_long_synchronous_run_becomes_a_job_and_access_is_set_per_deployment(stack):
    """ARTOIS_JOB_SYNC_WAIT: past it, a synchronous request gets a 201 pointing at its job
    (which goes on); ARTOIS_PROCESS_ACCESS raises the role a process needs."""
    stack.configure(**{**SLOW, "ARTOIS_JOB_SYNC_WAIT": "1",
                       "ARTOIS_PROCESS_ACCESS": "risk-matrix=reader"})
    started = time.monotonic()
    r = stack.execute({"criteria": SCENARIO["input"], "algorithm_version": "v1.16"})
    assert r.status_code == 201, r.text[:300]
    assert time.monotonic() - started < DELAY - 1
    assert r.headers["Preference-Applied"] == "respond-async"
    job_id = r.json()["jobID"]
    assert r.headers["Location"].endswith(f"/jobs/{job_id}")
    assert stack.wait(job_id)["status"] == "successful"
    result = dict(stack.get(f"/jobs/{job_id}/results").json()["result"])
    assert result.pop("algorithm_version") == "v1.16" \
            and result.pop("criteria") and result == SCENARIO["expected"]
    risk = {"inputs": {"commune": "62119"}}
    r = stack.server.post("/processes/risk-matrix/execution", data=json.dumps(risk),
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["description_fr"], r.text[:300]
    r = stack.server.post("/processes/risk-matrix/execution", data=json.dumps(risk),
                          headers={"Content-Type": "application/json",
                                   "Prefer": "respond-async", "X-API-Key": EDITOR_KEY})
    assert r.status_code == 201, r.text[:300]
    stack.delete(r.json()["jobID"])


# ---------------------------------------------------------------------------- restarts
def test_a_job_interrupted_by_a_restart_runs_again(stack):
    stack.configure(**SLOW)
    r = stack.execute({"friche": "62846_8397"}, prefer="respond-async")
    job_id = r.json()["jobID"]
    stack.wait(job_id, statuses=("running",))
    old_pid = stack.row(job_id)["worker_pid"]
    stack.restart()
    assert pid_gone(old_pid, timeout=5), "the worker outlived its server"
    deadline = time.monotonic() + 60
    while True:  # picked up again: the status document says so while it runs (the new
        # server's job workers start before its HTTP workers: on a busy machine the job may
        # be over by the time the server answers; its attempts are checked below)
        job = stack.get(f"/jobs/{job_id}", lang="en").json()
        if "attempt 2 of 2" in job["message"] or job["status"] == "successful":
            break
        assert job["status"] in ("accepted", "running") and time.monotonic() < deadline, job
        time.sleep(0.2)
    job = stack.wait(job_id)
    assert job["status"] == "successful", job
    row = stack.row(job_id)
    assert row["attempts"] == 2 and row["worker_pid"] != old_pid
    results = stack.get(f"/jobs/{job_id}/results").json()
    assert results["derivation"]["friche"] == "62846_8397"


def test_orphaned_jobs_are_picked_up_once_then_given_up(stack):
    stack.configure(**{k: v for k, v in SLOW.items() if k != "ARTOIS_JOB_TEST_DELAY"})
    again = stack.inject(attempts=1)
    give_up = stack.inject(attempts=2)
    waiting = stack.inject(attempts=1, status="accepted")
    failed = stack.wait(give_up, timeout=30)
    assert failed["status"] == "failed", failed
    en = stack.get(f"/jobs/{give_up}", lang="en").json()["message"]
    assert "2 attempts" in en and "Submit it again" in en
    r = stack.get(f"/jobs/{give_up}/results")
    assert r.status_code == 500 and r.json()["code"] == "JobInterrupted"
    assert "2 tentatives" in r.json()["description_fr"]
    for job_id in (again, waiting):
        job = stack.wait(job_id)
        assert job["status"] == "successful", job
        assert stack.row(job_id)["attempts"] == 2
        result = dict(stack.get(f"/jobs/{job_id}/results").json()["result"])
        assert result.pop("algorithm_version") == "v1.16" \
            and result.pop("criteria") and result == SCENARIO["expected"]


def test_time_limit_stops_the_worker(stack):
    stack.configure(**{**SLOW, "ARTOIS_JOB_TIMEOUT_MUTABILITY": "2"})
    r = stack.execute({"criteria": SCENARIO["input"]})
    assert r.status_code == 500, r.text[:500]
    body = r.json()
    assert body["code"] == "JobTimeout"
    assert "2 s" in body["description_en"] and "2 s" in body["description_fr"]
    assert body["description_fr"] != body["description_en"]
    rows = stack.sql("SELECT identifier, worker_pid FROM {t} WHERE status = 'failed' "
                     "ORDER BY created DESC LIMIT 1")
    job_id, pid = rows[0]
    assert pid_gone(pid)
    job = stack.job(job_id)
    ran = (datetime.fromisoformat(job["finished"].replace("Z", "+00:00")) -
           datetime.fromisoformat(job["started"].replace("Z", "+00:00"))).total_seconds()
    assert job["status"] == "failed" and ran < DELAY - 1, job  # stopped, not finished
    r = stack.execute({"criteria": SCENARIO["input"]}, prefer="respond-async")
    job = stack.wait(r.json()["jobID"])
    assert job["status"] == "failed" and "2 s" in job["message"]
