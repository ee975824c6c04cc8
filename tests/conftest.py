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


@pytest.fixture(scope="session", params=STORES)
def server(request, manifest) -> Server:
    env = {"ARTOIS_API_KEYS": KEYS}
    if request.param == "postgis":
        env["DATABASE_URL"] = request.getfixturevalue("database_url")
    srv = start_server(env, request.param)
    yield srv
    srv.stop()
