"""Benchmark: raster map tiles (PNG, WebMercatorQuad) of a 10,000 x 10,000 COG, served by
artois-geo, by stock titiler and rendered in process by rio-tiler.

    .venv/bin/python bench/tiles_raster.py [--duration 10] [--warmup 2] [--connections 8]
                                           [--workers 2] [--tiles 150]

- the COG: synthetic, seeded (smooth anomaly field, -4..8 °C, float32, nodata -9999 in one
  corner), 10 m cells in EPSG:2154 over 100 x 100 km of the Artois, DEFLATE, 512 blocks,
  overviews; written once to var/bench/tiles-raster/ (not committed);
- artois-geo: `artois-geo serve --workers N` on a private var dir whose only collection is that
  COG published as `surchauffe` (so the ramp file colours it), tiles from
  /collections/surchauffe/map/tiles/WebMercatorQuad/{z}/{y}/{x}?f=png;
- stock titiler: titiler.core's TilerFactory in a minimal FastAPI app (titiler.application is
  not installed) under uvicorn with the same worker count, /tiles/WebMercatorQuad/{z}/{x}/{y}.png
  ?url=<cog>&rescale=-4,8&colormap_name=ramp (the same ramp registered as a named colormap, so
  both servers make the same images: checked pixel by pixel);
- in-process rio-tiler: N processes render the same tile lists in a loop (Reader.tile, rescale,
  ramp colormap, PNG at rio-tiler's default zlib level 6), no HTTP: the rendering work alone;
- z12, z13, z14: tiles over the COG (seeded sample of --tiles per zoom), wrk round-robin over
  them (bench/urls.lua); "repeated z14": one tile again and again with its ETag in
  If-None-Match (304 when the caching middleware answers it) and without.
Results: var/bench/tiles-raster-<timestamp>.{json,md}. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import morecantile  # noqa: E402
import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402
from rasterio.windows import Window  # noqa: E402

import loadgen  # noqa: E402
from machine import BENCH_VAR, loadavg, log  # noqa: E402
from tiles_vector import etag_of, status_with, wrk_header  # noqa: E402

PROJECT = HERE.parent
WORK = BENCH_VAR / "tiles-raster"
SIZE = 10_000
CELL = 10.0
ORIGIN = (600_000.0, 7_090_000.0)  # upper left, EPSG:2154
SEED = 20260104
ZOOMS = (12, 13, 14)
WMQ = morecantile.tms.get("WebMercatorQuad")
HOST = "127.0.0.1"


# --------------------------------------------------------------------------- the COG
def build_cog(path: Path) -> None:
    """A smooth seeded anomaly field (a few hundred warm and cool spots), block by block."""
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    spots = np.column_stack([rng.uniform(0, SIZE, 400), rng.uniform(0, SIZE, 400),
                             rng.uniform(20, 300, 400), rng.uniform(-5, 7, 400)])
    tmp = path.with_suffix(".raw.tif")
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "width": SIZE, "height": SIZE,
               "crs": "EPSG:2154", "transform": from_origin(*ORIGIN, CELL, CELL),
               "nodata": -9999.0, "tiled": True, "blockxsize": 512, "blockysize": 512}
    block = 1000
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, SIZE, block):
            rows = np.arange(r0, r0 + block, dtype="float32")[:, None]
            cols = np.arange(SIZE, dtype="float32")[None, :]
            field = 0.8 * np.sin(cols / 700) * np.cos(rows / 900) + \
                rng.normal(0, 0.4, (block, SIZE)).astype("float32")
            for x, y, radius, amp in spots:  # each spot only where it matters (3 sigma)
                r_lo, r_hi = max(r0, int(y - 3 * radius)), min(r0 + block, int(y + 3 * radius))
                c_lo, c_hi = max(0, int(x - 3 * radius)), min(SIZE, int(x + 3 * radius))
                if r_lo >= r_hi or c_lo >= c_hi:
                    continue
                rr = np.arange(r_lo, r_hi, dtype="float32")[:, None]
                cc = np.arange(c_lo, c_hi, dtype="float32")[None, :]
                field[r_lo - r0:r_hi - r0, c_lo:c_hi] += amp * np.exp(
                    -((cc - x) ** 2 + (rr - y) ** 2) / (2 * radius ** 2))
            field = np.clip(field, -4.5, 8.5)
            field[(rows + cols) < 1500] = -9999  # a corner without data
            dst.write(field.astype("float32"), 1, window=Window(0, r0, SIZE, block))
    cog_translate(str(tmp), str(path), {**cog_profiles.get("deflate"), "blockxsize": 512,
                                        "blockysize": 512}, overview_level=5, quiet=True)
    tmp.unlink()


def sample_tiles(path: Path, z: int, n: int) -> list[tuple[int, int, int]]:
    with rasterio.open(path) as src:
        from rasterio.warp import transform_bounds
        w, s, e, n_ = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    tiles = [(t.x, t.y, t.z) for t in WMQ.tiles(w + 0.02, s + 0.02, e - 0.02, n_ - 0.02, [z])]
    random.Random(SEED + z).shuffle(tiles)
    return tiles[:n]


# --------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict, ready: str):
        self.name, self.port = name, free_port()
        self.base = f"http://{HOST}:{self.port}"
        cmd = [c.replace("{port}", str(self.port)) for c in cmd]
        self.log = WORK / f"{name}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, env=env, cwd=PROJECT, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log.read_text()[-1500:]}")
            try:
                with urllib.request.urlopen(self.base + ready, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{name} did not start: {self.log.read_text()[-1500:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def artois_geo(cog: Path, workers: int) -> Server:
    """`artois-geo serve` on a private var dir publishing the bench COG as `surchauffe`."""
    coll_dir, var_dir = WORK / "collections", WORK / "var"
    coll_dir.mkdir(parents=True, exist_ok=True)
    (coll_dir / "surchauffe.yml").write_text(textwrap.dedent("""\
        id: surchauffe
        kind: coverage
        title: {fr: Banc d'essai raster, en: Raster benchmark}
        description: {fr: COG synthétique du banc d'essai, en: Synthetic benchmark COG}
        keywords: {fr: [bench], en: [bench]}
        demo: true
        source: {raster_generator: none}
        licence: {title: none, href: "https://example.org"}
        """))
    with rasterio.open(cog) as src:
        from rasterio.warp import transform_bounds
        bbox = [round(v, 6) for v in transform_bounds(src.crs, "OGC:CRS84", *src.bounds)]
    store = var_dir / "store"
    store.mkdir(parents=True, exist_ok=True)
    (store / "manifest.json").write_text(json.dumps({"surchauffe": {
        "kind": "coverage", "data": str(cog), "files": {"2024": str(cog)},
        "extents": {"spatial": {"bbox": bbox,
                                "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}}}))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ARTOIS_COLLECTIONS_DIR=str(coll_dir), ARTOIS_VAR_DIR=str(var_dir))
    return Server("artois-geo", [str(PROJECT / ".venv" / "bin" / "artois-geo"), "serve",
                                 "--port", "{port}", "--workers", str(workers)],
                  env, "/collections/surchauffe")


STOCK_APP = '''\
"""Stock titiler: titiler.core's TilerFactory in a minimal FastAPI app (the bench ramp is
registered as the named colormap `ramp`)."""
import json, os
from fastapi import FastAPI
from rio_tiler.colormap import cmap
from titiler.core.dependencies import create_colormap_dependency
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import TilerFactory

ramp = {int(k): tuple(v) for k, v in json.loads(os.environ["BENCH_RAMP"]).items()}
app = FastAPI()
cog = TilerFactory(colormap_dependency=create_colormap_dependency(cmap.register({"ramp": ramp})))
app.include_router(cog.router)
add_exception_handlers(app, DEFAULT_STATUS_CODES)
'''


def stock_titiler(cog: Path, workers: int, ramp: dict) -> Server:
    (WORK / "stock_titiler_app.py").write_text(STOCK_APP)
    env = dict(os.environ, BENCH_RAMP=json.dumps(ramp), PYTHONPATH=str(WORK))
    return Server("stock-titiler", [sys.executable, "-m", "uvicorn", "stock_titiler_app:app",
                                    "--host", HOST, "--port", "{port}", "--workers",
                                    str(workers), "--no-access-log", "--loop", "uvloop",
                                    "--http", "httptools"],
                  env, f"/info?url={quote(str(cog))}")


def artois_path(t) -> str:
    x, y, z = t
    return f"/collections/surchauffe/map/tiles/WebMercatorQuad/{z}/{y}/{x}?f=png"


def stock_path(cog: Path, t) -> str:
    x, y, z = t
    return f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={quote(str(cog))}&rescale=-4,8" \
           f"&colormap_name=ramp"


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def same_image(a: tuple[int, bytes], b: tuple[int, bytes]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] != 200:
        return True  # both outside the data
    from rasterio.io import MemoryFile
    with MemoryFile(a[1]) as ma, ma.open() as da, MemoryFile(b[1]) as mb, mb.open() as db:
        return np.array_equal(da.read(), db.read())


# --------------------------------------------------------------------------- in process
def _render_loop(args) -> int:
    cog, tiles, seconds, ramp = args
    from rio_tiler.io import Reader
    cmap = {int(k): tuple(v) for k, v in ramp.items()}
    done, i, end = 0, 0, time.monotonic() + seconds
    while time.monotonic() < end:
        x, y, z = tiles[i % len(tiles)]
        i += 1
        try:
            with Reader(str(cog)) as src:
                img = src.tile(x, y, z)
        except Exception:  # noqa: BLE001 - a tile outside the data, as the servers' 404
            continue
        img.rescale(((-4, 8),))
        img.render(img_format="PNG", colormap=cmap)
        done += 1
    return done


def in_process(cog: Path, tiles, seconds: float, workers: int, ramp: dict) -> dict:
    with mp.get_context("spawn").Pool(workers) as pool:
        pool.map(_render_loop, [(cog, tiles, 1.0, ramp)] * workers)  # warm (imports, caches)
        started = time.monotonic()
        counts = pool.map(_render_loop, [(cog, tiles[k::workers] or tiles, seconds, ramp)
                                         for k in range(workers)])
        elapsed = time.monotonic() - started
    return {"tiles": sum(counts), "rps": round(sum(counts) / max(elapsed, seconds), 1)}


# --------------------------------------------------------------------------- report
def machine() -> dict:
    from importlib.metadata import version
    cpu = next((ln.split(":", 1)[1].strip() for ln in
                Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")), "")
    return {"cpu": cpu, "cores": os.cpu_count(), "titiler.core": version("titiler.core"),
            "rio-tiler": version("rio-tiler"), "rasterio": version("rasterio"),
            "gdal": rasterio.__gdal_version__}


def ratio(v, ref) -> str:
    return f"{v / ref:.2f}×" if v and ref else "—"


def render(report: dict) -> str:
    lines = [f"# Raster tiles benchmark ({report['started']})", "",
             f"COG {SIZE} x {SIZE} float32, {CELL:g} m, EPSG:2154 (synthetic, seed {SEED}); "
             f"PNG WebMercatorQuad tiles; {report['workers']} workers/processes each; wrk "
             f"{report['connections']} connections, {report['duration']} s per cell after "
             f"{report['warmup']} s warm-up; load average before: {report['loadavg']}.", "",
             "| cell | artois-geo tiles/s | stock titiler tiles/s | in-process rio-tiler "
             "tiles/s | artois / titiler | artois / rio-tiler | artois p50 / p95 ms |",
             "|---|---|---|---|---|---|---|"]
    for z in ZOOMS:
        c = report["cells"][f"z{z}"]
        a, s, f = c["artois-geo"], c["stock-titiler"], c["rio-tiler"]
        lines.append(f"| z{z} | {a['rps']} | {s['rps']} | {f['rps']} | {ratio(a['rps'], s['rps'])} "
                     f"| {ratio(a['rps'], f['rps'])} | {a['p50_ms']} / {a['p95_ms']} |")
    rep = report["repeated"]
    lines += ["", "Repeated z14 tile (one tile again and again):", "",
              "| server | without If-None-Match req/s | with If-None-Match req/s | status with "
              "If-None-Match |", "|---|---|---|---|"]
    for name, r in rep.items():
        lines.append(f"| {name} | {r['plain']['rps']} | {r['if_none_match']['rps']} | "
                     f"{r['status_with_etag']} |")
    lines += ["", "Checks: " + "; ".join(report["checks"]), "",
              f"Machine: {report['machine'].get('cpu', '')}, {report['machine'].get('cores', '')} "
              "cores, shared with other work (figures vary between runs)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--tiles", type=int, default=150)
    args = p.parse_args(argv)
    from services.tiles.raster import ramp_colormap

    WORK.mkdir(parents=True, exist_ok=True)
    cog = WORK / "var" / "store" / "bench_cog.tif"
    log(f"COG {cog} ...")
    t0 = time.monotonic()
    build_cog(cog)
    log(f"  ready ({time.monotonic() - t0:.0f} s)")
    ramp = {str(k): list(v) for k, v in ramp_colormap("surchauffe").items()}
    tiles = {z: sample_tiles(cog, z, args.tiles) for z in ZOOMS}
    report = {"started": dt.datetime.now().isoformat(timespec="seconds"),
              "workers": args.workers, "connections": args.connections,
              "duration": args.duration, "warmup": args.warmup, "loadavg": loadavg(),
              "machine": machine(), "cells": {f"z{z}": {} for z in ZOOMS},
              "repeated": {}, "checks": []}
    servers = []
    try:
        servers = [artois_geo(cog, args.workers), stock_titiler(cog, args.workers, ramp)]
        artois, stock = servers
        # the two servers make the same images (artois-geo encodes PNG at zlib level 1)
        same = sum(same_image(fetch(artois.base + artois_path(t)),
                              fetch(stock.base + stock_path(cog, t))) for t in tiles[13][:20])
        report["checks"].append(f"{same}/20 z13 tiles pixel-identical between artois-geo and "
                                f"stock titiler")
        log(report["checks"][-1])
        for z in ZOOMS:
            for server, paths in ((artois, [artois_path(t) for t in tiles[z]]),
                                  (stock, [stock_path(cog, t) for t in tiles[z]])):
                res = loadgen.http_load(server.base, paths, WORK, f"{server.name}-z{z}",
                                        args.connections, args.duration, args.warmup, 1)
                report["cells"][f"z{z}"][server.name] = res
                log(f"z{z} {server.name}: {res['rps']} tiles/s (p50 {res['p50_ms']} ms, "
                    f"non-2xx {res['non2xx']})")
        for server, path in ((artois, artois_path(tiles[14][0])),
                             (stock, stock_path(cog, tiles[14][0]))):
            status, etag = etag_of(server.base + path)
            plain = wrk_header(server.base, path, "X-Bench: plain", args.connections,
                               args.duration)
            with_etag = wrk_header(server.base, path, f"If-None-Match: {etag}" if etag else
                                   "X-Bench: no-etag", args.connections, args.duration)
            report["repeated"][server.name] = {
                "etag": etag, "status_with_etag": status_with(server.base + path, etag)
                if etag else "no ETag", "plain": plain, "if_none_match": with_etag}
            log(f"repeated {server.name}: {plain['rps']} / {with_etag['rps']} req/s "
                f"({report['repeated'][server.name]['status_with_etag']})")
    finally:
        for server in servers:
            server.stop()
    for z in ZOOMS:
        res = in_process(cog, tiles[z], args.duration, args.workers, ramp)
        report["cells"][f"z{z}"]["rio-tiler"] = res
        log(f"z{z} in-process rio-tiler: {res['rps']} tiles/s")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (BENCH_VAR / f"tiles-raster-{stamp}.json").write_text(json.dumps(report, indent=1))
    md = render(report)
    (BENCH_VAR / f"tiles-raster-{stamp}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
