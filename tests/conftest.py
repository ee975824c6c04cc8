"""Fixtures: a real server over real HTTP, on each store.

The server is started once per session with `artois-geo serve` on a free port, exactly as a
user runs it. The store must have been built (`artois-geo build`); if it was not, it is
built here first.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

PROJECT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("ARTOIS_VAR_DIR", PROJECT / "var"))
ARTIFACTS = PROJECT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def artois_geo(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=PROJECT,
                          env={**os.environ, **(env or {})}, check=True, **kwargs)


@contextlib.contextmanager
def exclusive(name: str):
    """One pytest process at a time (pytest-xdist runs several): builds share var/ and PostGIS."""
    VAR.mkdir(parents=True, exist_ok=True)
    with open(VAR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def manifest() -> dict:
    path = VAR / "store" / "manifest.json"
    with exclusive("build-embedded"):
        if not path.exists():
            artois_geo("build")
    return json.loads(path.read_text())


class Server:
    def __init__(self, url: str, process: subprocess.Popen, log: Path):
        self.url = url
        self.process = process
        self.log = log
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url + path, timeout=60, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.http.post(self.url + path, timeout=60, **kwargs)

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL if the server is still there after 30 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def json(self, path: str, **kwargs) -> dict:
        r = self.get(path, **kwargs)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        return r.json()


def start_server(env: dict, name: str) -> Server:
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # pytest-xdist: one log per process
    log = ARTIFACTS / (f"server-{name}-{worker}.log" if worker else f"server-{name}.log")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port), "--workers", "2",
         "--access-log", "--log-level", "info"],
        cwd=PROJECT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # patient with a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(url + "/conformance", timeout=10).status_code == 200:
                return Server(url, process, log)
        except requests.RequestException:  # refused, or slow under load
            pass
        time.sleep(0.3)
    process.terminate()  # never left behind when it gives up
    process.wait(timeout=30)
    raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")


STORES = ["embedded", "postgis"]
# API keys of the shared servers (services/auth.py): token:role:user
READER, EDITOR, ADMIN = "test-reader-key", "test-editor-key", "test-admin-key"
KEYS = f"{READER}:reader:rita,{EDITOR}:editor:eddie,{ADMIN}:admin:ada"


@pytest.fixture(scope="session")
def database_url() -> str:
    """The private PostGIS cluster of scripts/postgis.sh, loaded with every collection."""
    with exclusive("build-postgis"):
        url = subprocess.run(["bash", str(PROJECT / "scripts" / "postgis.sh"), "start"],
                             check=True, capture_output=True, text=True
                             ).stdout.strip().splitlines()[-1]
        # built once per test run, whichever pytest-xdist worker comes first
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
        marker = VAR / ".postgis-built"
        if not marker.exists() or marker.read_text() != run:
            artois_geo("build", env={"DATABASE_URL": url}, capture_output=True)
            marker.write_text(run)
    return url


@pytest.fixture(scope="session")
def shared_servers():
    """The shared server of each store, started on first use and kept until the session ends.

    pytest keeps one value per fixture: a parametrised session fixture asked for another
    parameter tears the previous one down. With `--dist loadfile` each process runs a file's
    embedded tests, then its PostGIS ones, then the next file's embedded ones..., so a
    `server` fixture holding the server itself stopped and restarted both servers for every
    file (two starts of ~10-30 s per file). The servers live here instead; `server` only
    picks one."""
    started: dict[str, Server] = {}
    yield started
    for srv in started.values():
        srv.stop()


@pytest.fixture(scope="session", params=STORES)
def server(request, manifest, shared_servers) -> Server:
    kind = request.param
    if kind not in shared_servers:
        env = {"ARTOIS_API_KEYS": KEYS}
        if kind == "postgis":
            env["DATABASE_URL"] = request.getfixturevalue("database_url")
        shared_servers[kind] = start_server(env, kind)
    return shared_servers[kind]


# ---------------------------------------------------------------------------- scheduling
# `pytest -n 2 --dist loadfile` (scripts/test.sh) hands whole files to the two processes in
# the order of its work queue. pytest-xdist sorts that queue by the number of tests of each
# file by default, which puts files of few but long tests (the OGC suites, the half-hour
# runs, QGIS) last: one process then works alone for minutes at the end. Longest first
# instead (longest-processing-time scheduling): the files measured as the longest (minutes
# each in a CI run), then the others by their number of tests.
LONGEST_FIRST = [
    "test_conformance.py", "test_half_hour.py", "test_friche_observatory.py",
    "test_jobs.py", "test_job_queue.py", "test_cors_and_if_match.py", "test_qgis_project.py",
    "test_fault_tolerance.py", "test_import.py", "test_access_tiers.py",
    "test_cadastre_solaire.py", "test_gdal.py", "test_webmap.py", "test_styles.py",
    "test_chiffres_cles.py", "test_transactions.py", "test_zae_sales.py", "test_usage.py",
    "test_history.py", "test_zae_dataviz.py", "test_qgis.py", "test_half_hour_routing.py",
]


def pytest_configure(config) -> None:
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist: keep the order below
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    """Files longest first (see LONGEST_FIRST); the order of the tests within a file is
    kept (a stable sort, after pytest's own grouping by fixture parameters)."""
    count: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        count[path] = count.get(path, 0) + 1

    def rank(item) -> tuple:
        path = item.nodeid.split("::")[0]
        name = Path(path).name
        known = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
        return known, -count[path], path
    items.sort(key=rank)
