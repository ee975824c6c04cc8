"""One server replica alone against two behind the caching reverse proxy, on loopback.

    .venv/bin/python bench/replicas.py [--seconds 3] [--connections 8] [--workers 2]
                                       [--database-url postgresql://…] [--json out.json]

Starts two `artois-geo serve` replicas (ARTOIS_JOB_WORKERS=0, each with --workers) on the
chosen store (embedded by default, PostGIS with --database-url) and nginx rendered from
deploy/proxy/nginx.conf.in in front of them, then runs the same wrk workloads
- `page`: the first page of a collection (limit 100): `no-cache`, every request reaches a
  replica (the proxy balances, caches nothing);
- `tile z14`: vector tiles at zoom 14 around the collection's features (one list of distinct
  tiles, cycled): `public, max-age`, the proxy serves them from its cache after the first
  request of each;
against replica A directly, against the proxy with its cache bypassed (each request carries
an If-None-Match that no answer matches: balancing only) and against the proxy, and prints
requests/s, errors (HTTP >= 400 and socket errors) and the share of answers the proxy served
from its cache (X-Cache-Status: HIT). Every figure is measured in this run; the machine's load is printed before and after
(2 cores shared by the replicas, nginx and wrk: compare rows of one run, never runs).
Needs nginx and wrk (scripts/setup.sh --test-tools, bench/setup.sh).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import morecantile
import requests
from shapely.geometry import shape

PROJECT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("proxy_render",
                                               PROJECT / "deploy" / "proxy" / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)

# wrk: cycle over a list of paths; count HTTP errors and the proxy's cache hits per thread
LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do table.insert(paths, line) end
  counter, hits, http_errors, responses = math.random(#paths), 0, 0, 0
  -- "bypass": a condition no answer matches, so the proxy passes every request on
  if args[2] == "bypass" then wrk.headers["If-None-Match"] = '"bench-no-match"' end
end
function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
function response(status, headers, body)
  responses = responses + 1
  if status >= 400 then http_errors = http_errors + 1 end
  if headers["X-Cache-Status"] == "HIT" then hits = hits + 1 end
end
function done(summary, latency, requests)
  local h, e, r = 0, 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits"); e = e + t:get("http_errors"); r = r + t:get("responses")
  end
  local s = summary.errors
  io.write(string.format('{"requests": %d, "seconds": %.3f, "http_errors": %d, ' ..
    '"socket_errors": %d, "hits": %d, "responses": %d, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, e, s.connect + s.read + s.write + s.timeout,
    h, r, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_replica(port: int, env: dict, workers: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port), "--workers",
         str(workers)], cwd=PROJECT, env={**os.environ, **env}, stdout=log.open("w"),
        stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"http://127.0.0.1:{port}/ready", timeout=10).status_code == 200:
                return process
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"replica on {port} did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def tiles_around(base: str, collection: str, count: int) -> list[str]:
    """Distinct z14 tiles holding the collection's first features (computed from them)."""
    page = requests.get(f"{base}/collections/{collection}/items",
                        params={"limit": max(count * 4, 50)}, timeout=60).json()
    tms = morecantile.tms.get("WebMercatorQuad")
    found: list[str] = []
    for feature in page["features"]:
        if not feature.get("geometry"):
            continue
        p = shape(feature["geometry"]).representative_point()
        t = tms.tile(p.x, p.y, 14)
        path = f"/collections/{collection}/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
        if path not in found:
            found.append(path)
        if len(found) == count:
            break
    return found


def wrk(base: str, paths: list[str], seconds: float, connections: int, folder: Path,
        bypass: bool = False) -> dict:
    exe = shutil.which("wrk")
    if not exe:
        raise SystemExit("wrk is not installed: bash bench/setup.sh")
    script, listing = folder / "replicas.lua", folder / f"paths-{abs(hash(tuple(paths)))}.txt"
    script.write_text(LUA)
    listing.write_text("\n".join(paths) + "\n")
    threads = max(1, min(2, connections))
    r = subprocess.run([exe, f"-t{threads}", f"-c{connections}",
                        f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
                        base, "--", str(listing), "bypass" if bypass else "-"],
                       capture_output=True, text=True,
                       timeout=seconds + 120)
    line = next((ln for ln in reversed(r.stdout.splitlines()) if ln.startswith("{")), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {r.stdout[-1000:]} {r.stderr[-1000:]}")
    result = json.loads(line)
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per replica")
    parser.add_argument("--collection", default="batiments")
    parser.add_argument("--tiles", type=int, default=32, help="distinct z14 tiles cycled")
    parser.add_argument("--database-url", default=None, help="PostGIS (default: embedded)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results")
    args = parser.parse_args(argv)
    if not shutil.which("nginx"):
        raise SystemExit("nginx is not installed: bash scripts/setup.sh --test-tools")

    folder = Path(tempfile.mkdtemp(prefix="artois-replicas-"))
    proxy_port, port_a, port_b = free_port(), free_port(), free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    env = {"ARTOIS_PUBLIC_URL": proxy_url, "ARTOIS_JOB_WORKERS": "0",
           "DATABASE_URL": args.database_url or ""}
    before = load()
    processes: list[subprocess.Popen] = []
    results: list[dict] = []
    try:
        for port in (port_a, port_b):
            processes.append(start_replica(port, env, args.workers,
                                           folder / f"replica-{port}.log"))
        render.write(folder / "proxy", [f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"],
                     f"127.0.0.1:{proxy_port}", cache_size="256m", worker_processes="1",
                     access_log="off")
        nginx = subprocess.Popen(render.command(folder / "proxy"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(nginx)
        deadline = time.monotonic() + 30
        while True:
            if nginx.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start: "
                                   f"{(folder / 'proxy' / 'logs' / 'error.log').read_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(proxy_url + "/ready", timeout=5).status_code == 200:
                    break
            time.sleep(0.1)
        direct = f"http://127.0.0.1:{port_a}"
        workloads = {
            "page (limit 100)": [f"/collections/{args.collection}/items?limit=100"],
            "tile z14": tiles_around(direct, args.collection, args.tiles),
        }
        for name, paths in workloads.items():
            for target, base, bypass in (
                    ("1 replica, direct", direct, False),
                    ("2 replicas + proxy, cache bypassed", proxy_url, True),
                    ("2 replicas + proxy", proxy_url, False)):
                r = wrk(base, paths, args.seconds, args.connections, folder, bypass)
                r.update(workload=name, target=target, paths=len(paths))
                results.append(r)
    finally:
        for process in reversed(processes):
            stop(process)
    after = load()
    print(f"store: {'PostGIS' if args.database_url else 'embedded'}, collection "
          f"{args.collection}, {args.connections} connections, {args.seconds:g} s per cell, "
          f"{args.workers} uvicorn workers per replica, 2 cores shared with nginx and wrk")
    print(f"load average before {before}, after {after}")
    print("| workload | target | req/s | errors | served by the proxy's cache | p50 ms | "
          "p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        errors = r["http_errors"] + r["socket_errors"]
        hits = (f"{100 * r['hits'] / r['responses']:.1f} %" if "proxy" in r["target"]
                and r["responses"] else "–")
        print(f"| {r['workload']} | {r['target']} | {r['rps']:,.0f} | {errors} | {hits} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps({"load_before": before, "load_after": after,
                                         "results": results}, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    return 0 if all(r["http_errors"] + r["socket_errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
