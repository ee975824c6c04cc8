"""The HTTP peers: each a small class with start() / url_for(workload) / stop().

start() raises Unavailable(reason) when the peer cannot run (missing package, build
failure, server that does not answer); the run goes on with the other peers.
Every server listens on 127.0.0.1 only, on a free port, and runs in its own process
group, which stop() ends (SIGTERM, then SIGKILL after 10 s).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from dataset import BBOX_LIMIT, OFFSET, PAGE_LIMIT, SCHEMA, Workload, size_label, table_name

HERE = Path(__file__).resolve().parent
PROJECT_DIR = HERE.parent
BENCH_VAR = PROJECT_DIR / "var" / "bench"
HOST = "127.0.0.1"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"


class Unavailable(Exception):
    """The peer cannot be run here; the message says why."""


@dataclass
class Context:
    db_url: str
    sizes: list[int]
    workdir: Path          # this run's scratch folder (var/bench/run-<timestamp>)

    @property
    def db(self) -> dict:
        u = urlsplit(self.db_url)
        return {"host": u.hostname, "port": u.port or 5432, "dbname": u.path.lstrip("/"),
                "user": u.username, "password": u.password}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 15) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def _last_error_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "Error" in ln or "error" in ln or "Exception" in ln:
            return ln[:300]
    return lines[-1][:300] if lines else "no output"


class Peer:
    name = "peer"
    description = ""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.dir = ctx.workdir / self.name
        self.log_path = self.dir / "server.log"
        self.version = ""

    # -- to implement
    def start(self) -> None:
        raise NotImplementedError

    def url_for(self, w: Workload) -> list[str]:
        raise NotImplementedError

    def not_served(self, w: Workload) -> str | None:
        """Why this peer cannot serve workload w at all (shown as "—" with the reason), or None."""
        return None

    def memory(self) -> dict | None:
        """RSS of the running server's whole process tree (server, workers, FastCGI children)."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        from machine import tree_memory
        return tree_memory(self.proc.pid)

    # -- helpers
    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _spawn(self, cmd: list[str], env: dict, cwd: Path | None = None) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd or self.dir, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()

    def _wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise Unavailable(f"server exited ({self.proc.returncode}): "
                                  f"{_last_error_line(_tail(self.log_path, 40))}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=10) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code} on {path}"
            except OSError as e:
                last = str(e)
            time.sleep(0.3)
        raise Unavailable(f"no answer on {path} after {timeout:.0f} s ({last}); "
                          f"log: {_last_error_line(_tail(self.log_path, 40))}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        self.proc = None


def _bbox(p) -> str:
    return ",".join(f"{v:.6f}" for v in p)


# --------------------------------------------------------------------------- artois-geo

class ArtoisGeo(Peer):
    name = "artois-geo"
    description = "this project: `artois-geo serve --workers 2` (PostGIS provider)"
    workers = 2  # HTTP workers (bench/profile.py runs 1, the process py-spy records)

    def collection_id(self, rows: int) -> str:
        return f"parcels-{size_label(rows)}"

    def start(self) -> None:
        exe = PROJECT_DIR / ".venv" / "bin" / "artois-geo"
        if not exe.exists():
            raise Unavailable(f"{exe} not found")
        coll_dir = self.dir / "collections"
        var_dir = self.dir / "var"
        shutil.rmtree(coll_dir, ignore_errors=True)
        coll_dir.mkdir(parents=True)
        var_dir.mkdir(parents=True, exist_ok=True)
        for n in self.ctx.sizes:
            label = size_label(n)
            doc = {
                "id": self.collection_id(n),
                "title": {"fr": f"Parcelles {label}", "en": f"Parcels {label}"},
                "description": {"fr": "Table de banc d'essai synthétique",
                                "en": "Synthetic benchmark table"},
                "keywords": {"fr": ["bench"], "en": ["bench"]},
                "licence": {"title": "none", "href": "https://example.org"},
                "source": {"postgis_table": f"{SCHEMA}.{table_name(n)}"},
                "geometry_type": "Polygon",
                "id_field": "id",
            }
            (coll_dir / f"{doc['id']}.yml").write_text(
                yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
        env = dict(os.environ, ARTOIS_COLLECTIONS_DIR=str(coll_dir), ARTOIS_VAR_DIR=str(var_dir),
                   DATABASE_URL=self.ctx.db_url)
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "build.log", "wb") as log:
            try:
                r = subprocess.run([str(exe), "build"], env=env, cwd=PROJECT_DIR, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=900)
            except subprocess.TimeoutExpired:
                raise Unavailable("`artois-geo build` took more than 900 s")
        if r.returncode != 0:
            raise Unavailable(f"`artois-geo build` failed: "
                              f"{_last_error_line(_tail(self.dir / 'build.log', 40))}")
        self.port = free_port()
        self._spawn([str(exe), "serve", "--host", HOST, "--port", str(self.port),
                     "--workers", str(self.workers)], env, cwd=PROJECT_DIR)
        self._wait_ready(f"/collections/{self.collection_id(min(self.ctx.sizes))}?f=json")
        try:
            from importlib.metadata import version
            self.version = f"artois-geo {version('artois-geo')}, pygeoapi {version('pygeoapi')}"
        except Exception:  # noqa: BLE001
            pass

    def memory(self) -> dict | None:
        """The whole tree, and apart the job workers (`artois-geo worker`, started by `serve`;
        the other peers have no job queue)."""
        mem = super().memory()
        if mem:
            jobs = [p for p in mem["detail"] if "services.cli worker" in p["cmd"]]
            mem["job_worker_processes"] = len(jobs)
            mem["job_workers_rss_mb"] = round(sum(p["rss_mb"] for p in jobs), 1)
        return mem

    def url_for(self, w: Workload) -> list[str]:
        if w.is_tile:  # OGC API Tiles, {tileRow}/{tileCol}
            return [f"/collections/{self.collection_id(w.rows)}/tiles/WebMercatorQuad/{z}/{y}/{x}"
                    for z, x, y in w.params]
        return _pygeoapi_paths(self.collection_id(w.rows), w)


def _pygeoapi_paths(cid: str, w: Workload) -> list[str]:
    items = f"/collections/{cid}/items"
    if w.kind == "first-page":
        return [f"{items}?f=json&limit={PAGE_LIMIT}"]
    if w.kind == "offset":
        return [f"{items}?f=json&limit={PAGE_LIMIT}&offset={OFFSET}"]
    if w.kind == "bbox":
        return [f"{items}?f=json&limit={BBOX_LIMIT}&bbox={_bbox(p)}" for p in w.params]
    if w.kind == "item":
        return [f"{items}/{i}?f=json" for i in w.params]
    raise ValueError(w.kind)


# --------------------------------------------------------------------------- stock pygeoapi

class PygeoapiStock(Peer):
    name = "pygeoapi"
    description = ("stock pygeoapi PostgreSQLProvider and MVT-postgresql tile provider "
                   "(SQLAlchemy/GeoAlchemy2), uvicorn --workers 2")
    venv = BENCH_VAR / "venv-pygeoapi"

    def start(self) -> None:
        py = ensure_venv(self.venv, HERE / "requirements-pygeoapi.txt")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        db = self.ctx.db
        resources = {}
        for n in self.ctx.sizes:
            t = table_name(n)
            resources[t] = {
                "type": "collection",
                "title": f"Parcels {size_label(n)}",
                "description": "Synthetic benchmark table",
                "keywords": ["bench"],
                "extents": {"spatial": {"bbox": [1.8, 50.1, 3.1, 50.8], "crs": CRS84}},
                "providers": [{
                    "type": "feature",
                    "name": "PostgreSQL",
                    "data": {**db, "search_path": [SCHEMA, "public"]},
                    "id_field": "id",
                    "table": t,
                    "geom_field": "geom",
                    "storage_crs": L93,
                    "crs": [CRS84, L93],
                }, {  # stock pygeoapi's vector tiles from PostGIS (ST_AsMVT, SQLAlchemy)
                    "type": "tile",
                    "name": "MVT-postgresql",
                    "data": {**db, "search_path": [SCHEMA, "public"]},
                    "id_field": "id",
                    "table": t,
                    "geom_field": "geom",
                    "storage_crs": L93,
                    # no `schemes` list: pygeoapi 0.24 hands the provider's options to its
                    # cached SQLAlchemy engine, and a list is unhashable (TypeError); the
                    # provider serves WebMercatorQuad and WorldCRS84Quad anyway
                    "options": {"zoom": {"min": 0, "max": 20}},
                    "format": {"name": "pbf", "mimetype": "application/vnd.mapbox-vector-tile"},
                }],
            }
        config = {
            "server": {
                "bind": {"host": HOST, "port": self.port},
                "url": self.base,
                "mimetype": "application/json; charset=UTF-8",
                "encoding": "utf-8",
                "languages": ["en-US"],
                "pretty_print": False,
                "limits": {"default_items": 10, "max_items": 10000},
                "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                        "attribution": "OpenStreetMap"},
            },
            "logging": {"level": "ERROR"},
            "metadata": {
                "identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                                   "keywords_type": "theme", "terms_of_service": "https://example.org",
                                   "url": "https://example.org"},
                "license": {"name": "none", "url": "https://example.org"},
                "provider": {"name": "bench", "url": "https://example.org"},
                "contact": {"name": "bench", "email": "bench@example.org", "url": "https://example.org"},
            },
            "resources": resources,
        }
        cfg = self.dir / "pygeoapi-config.yml"
        oapi = self.dir / "pygeoapi-openapi.yml"
        cfg.write_text(yaml.safe_dump(config, sort_keys=False))
        env = {**_clean_env(), "PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(oapi)}
        r = subprocess.run([str(self.venv / "bin" / "pygeoapi"), "openapi", "generate", str(cfg),
                            "--output-file", str(oapi)], env=env, capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise Unavailable(f"pygeoapi openapi generate failed: "
                              f"{_last_error_line(r.stderr or r.stdout)}")
        self._spawn([str(self.venv / "bin" / "uvicorn"), "pygeoapi.starlette_app:APP",
                     "--host", HOST, "--port", str(self.port), "--workers", "2",
                     "--loop", "uvloop", "--http", "httptools",
                     "--log-level", "warning", "--no-access-log"], env)
        self._wait_ready(f"/collections/{table_name(min(self.ctx.sizes))}?f=json")
        self.version = _pip_versions(py, ["pygeoapi", "SQLAlchemy", "GeoAlchemy2", "psycopg2-binary"])

    def url_for(self, w: Workload) -> list[str]:
        if w.is_tile:  # the MVT-postgresql tile provider, {tileRow}/{tileCol}
            return [f"/collections/{w.table}/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt"
                    for z, x, y in w.params]
        return _pygeoapi_paths(w.table, w)


# --------------------------------------------------------------------------- tipg

class Tipg(Peer):
    name = "tipg"
    description = "tipg (asyncpg, SQL-built GeoJSON), uvicorn --workers 2"
    venv = BENCH_VAR / "venv-tipg"

    def start(self) -> None:
        py = ensure_venv(self.venv, HERE / "requirements-tipg.txt")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = {**_clean_env(),
               "DATABASE_URL": self.ctx.db_url,
               "TIPG_DB_SCHEMAS": json.dumps([SCHEMA]),
               "TIPG_DB_TABLES": json.dumps([f"{SCHEMA}.{table_name(n)}" for n in self.ctx.sizes]),
               "TIPG_MAX_FEATURES_PER_QUERY": "10000",
               "TIPG_DEBUG": "FALSE"}
        self._spawn([str(self.venv / "bin" / "uvicorn"), "tipg.main:app",
                     "--host", HOST, "--port", str(self.port), "--workers", "2",
                     "--loop", "uvloop", "--http", "httptools",
                     "--log-level", "warning", "--no-access-log"], env)
        self._wait_ready(f"/collections/{SCHEMA}.{table_name(min(self.ctx.sizes))}?f=json")
        self.version = _pip_versions(py, ["tipg", "asyncpg"])

    def url_for(self, w: Workload) -> list[str]:
        if w.is_tile:  # tipg: {z}/{x}/{y}
            return [f"/collections/{SCHEMA}.{w.table}/tiles/WebMercatorQuad/{z}/{x}/{y}"
                    for z, x, y in w.params]
        items = f"/collections/{SCHEMA}.{w.table}/items"
        if w.kind == "first-page":
            return [f"{items}?f=geojson&limit={PAGE_LIMIT}"]
        if w.kind == "offset":
            return [f"{items}?f=geojson&limit={PAGE_LIMIT}&offset={OFFSET}"]
        if w.kind == "bbox":
            return [f"{items}?f=geojson&limit={BBOX_LIMIT}&bbox={_bbox(p)}" for p in w.params]
        if w.kind == "item":
            return [f"{items}/{i}?f=geojson" for i in w.params]
        raise ValueError(w.kind)


# --------------------------------------------------------------------------- QGIS Server

class QgisServer(Peer):
    name = "qgis-server"
    description = "QGIS Server OAPIF (/wfs3), lighttpd mod_fastcgi with 2 qgis_mapserv.fcgi"
    fcgi = Path("/usr/lib/cgi-bin/qgis_mapserv.fcgi")

    def start(self) -> None:
        lighttpd = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
        if not self.fcgi.exists() or not Path(lighttpd).exists():
            raise Unavailable("qgis-server or lighttpd not installed (bash bench/setup.sh, or "
                              "apt-get install --no-install-recommends qgis-server lighttpd python3-qgis)")
        if not Path("/usr/bin/python3").exists():
            raise Unavailable("/usr/bin/python3 missing (apt-get install python3-qgis)")
        self.dir.mkdir(parents=True, exist_ok=True)
        home = self.dir / "home"
        home.mkdir(exist_ok=True)
        home.chmod(0o700)  # Qt wants a private XDG_RUNTIME_DIR
        qgs = self.dir / "bench.qgs"
        db = self.ctx.db
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
               "XDG_RUNTIME_DIR": str(home), "LANG": "C.UTF-8"}
        r = subprocess.run(["/usr/bin/python3", str(Path(__file__).parent / "qgs_project.py"), str(qgs),
                            db["host"], str(db["port"]), db["dbname"], db["user"], db["password"],
                            *[f"{SCHEMA}.{table_name(n)}" for n in self.ctx.sizes]],
                           env=env, capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or not qgs.exists():
            raise Unavailable(f"cannot write the QGIS project: {_last_error_line(r.stderr + r.stdout)}")
        self.port = free_port()
        sock = self.dir / "qgis.sock"
        conf = self.dir / "lighttpd.conf"
        conf.write_text(f'''
server.document-root = "{self.dir}"
server.bind = "{HOST}"
server.port = {self.port}
server.errorlog = "{self.dir / 'lighttpd-error.log'}"
server.modules += ("mod_fastcgi")
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
server.max-connections = 1024
fastcgi.server = ( "/" => ((
  "bin-path" => "{self.fcgi}",
  "socket" => "{sock}",
  "max-procs" => 2,
  "check-local" => "disable",
  "bin-environment" => (
    "QGIS_PROJECT_FILE" => "{qgs}",
    "QGIS_SERVER_LOG_LEVEL" => "2",
    "QGIS_SERVER_LOG_STDERR" => "1",
    "QGIS_SERVER_API_WFS3_MAX_LIMIT" => "10000",
    "QT_QPA_PLATFORM" => "offscreen",
    "XDG_RUNTIME_DIR" => "{home}",
    "HOME" => "{home}",
  ),
)))
''')
        self._spawn([lighttpd, "-D", "-f", str(conf)], env)
        self._wait_ready(f"/wfs3/collections/{table_name(min(self.ctx.sizes))}.json")
        v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "qgis-server"],
                           capture_output=True, text=True)
        lv = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "lighttpd"],
                            capture_output=True, text=True)
        self.version = f"qgis-server {v.stdout.strip()}, lighttpd {lv.stdout.strip()}"

    def not_served(self, w: Workload) -> str | None:
        if w.is_tile:
            return ("QGIS Server 3.22 serves no vector tiles (its OGC API is Features only; its "
                    "WMTS serves raster tiles)")
        return None

    def url_for(self, w: Workload) -> list[str]:
        items = f"/wfs3/collections/{w.table}/items"
        if w.kind == "first-page":
            return [f"{items}.json?limit={PAGE_LIMIT}"]
        if w.kind == "offset":
            return [f"{items}.json?limit={PAGE_LIMIT}&offset={OFFSET}"]
        if w.kind == "bbox":
            return [f"{items}.json?limit={BBOX_LIMIT}&bbox={_bbox(p)}" for p in w.params]
        if w.kind == "item":
            return [f"{items}/{i}.json" for i in w.params]
        raise ValueError(w.kind)


# --------------------------------------------------------------------------- helpers

def _clean_env() -> dict:
    """The environment without this project's virtualenv and settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("ARTOIS_")
           and k not in ("DATABASE_URL", "PYGEOAPI_CONFIG", "PYGEOAPI_OPENAPI")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if ".venv" not in p) or "/usr/bin:/bin"
    return env


def ensure_venv(venv: Path, requirements: Path, log=print) -> Path:
    """Create (or refresh, when the requirements file changed) a virtualenv of its own for a
    peer, from this interpreter's base Python, with pip from the package index."""
    import hashlib
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    stamp = venv / ".bench-requirements"
    py = venv / "bin" / "python"
    if py.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return py
    log(f"  installing {requirements.name} into {venv} (once)…")
    base = Path(sys.base_prefix) / "bin" / "python3"
    if not py.exists():
        r = subprocess.run([str(base if base.exists() else sys.executable), "-m", "venv", str(venv)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise Unavailable(f"cannot create {venv}: {_last_error_line(r.stderr)}")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "-r", str(requirements)], capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise Unavailable(f"pip install -r {requirements.name} failed: {_last_error_line(r.stderr)}")
    stamp.write_text(digest + "\n")
    return py


def _pip_versions(py: Path, names: list[str]) -> str:
    code = ("import importlib.metadata as m, sys\n"
            "out=[]\n"
            "for n in sys.argv[1:]:\n"
            "    try: out.append(f'{n} {m.version(n)}')\n"
            "    except Exception: pass\n"
            "print(', '.join(out))")
    r = subprocess.run([str(py), "-c", code, *names], capture_output=True, text=True)
    return r.stdout.strip()


PEERS = {p.name: p for p in (ArtoisGeo, PygeoapiStock, Tipg, QgisServer)}
FLOOR = "sql-floor"
ALL_NAMES = [FLOOR, "artois-geo", "pygeoapi", "tipg", "qgis-server"]


def fetch_json(url: str, timeout: float = 60) -> tuple[int, object | None, int]:
    """(status, parsed JSON or None, bytes)."""
    req = urllib.request.Request(url, headers={"Accept": "application/geo+json, application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        return e.code, None, 0
    except OSError:
        return 0, None, 0
    try:
        return status, json.loads(body), len(body)
    except ValueError:
        return status, None, len(body)


if __name__ == "__main__":  # pragma: no cover
    print(list(PEERS), file=sys.stderr)
