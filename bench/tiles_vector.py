"""Benchmark: vector tiles (MVT, WebMercatorQuad) of the 100k synthetic parcels, served by
artois-geo (PostGIS store) and tipg, against the ST_AsMVT floor.

    .venv/bin/python bench/tiles_vector.py [--duration 10] [--warmup 2] [--connections 8]
                                           [--tiles 100]

- floor: artois-geo's own tile statement (services.store.postgis.tiles, one ST_AsMVT per tile,
  the same SQL text and parameters) run by 8 threads with one psycopg connection each, no
  HTTP (bench/floor.py's loop);
- artois-geo and tipg: bench/peers.py starts them as bench/run.py does (`--workers 2`), wrk
  loads them round-robin over the same tile list (bench/urls.lua);
- z10 and z14: tiles over the populated area (only non-empty ones, at most --tiles per zoom,
  seeded sample); "repeated z14" asks one tile again and again, with its ETag in
  If-None-Match (304 once the caching middleware answers it) and without.
Results: var/bench/tiles-vector-<timestamp>.{json,md}. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import dataset  # noqa: E402
import floor  # noqa: E402
import loadgen  # noqa: E402
import mvt  # noqa: E402
from machine import BENCH_VAR, database_url, loadavg, log, machine_info  # noqa: E402
from peers import ArtoisGeo, Context, Tipg, Unavailable  # noqa: E402

ROWS = 100_000
ZOOMS = (10, 14)
LUA = HERE / "urls.lua"


# --------------------------------------------------------------------------- tiles and SQL
# (the tile list, the floor statements and the check live in bench/mvt.py, shared with run.py)

def tile_layer(url: str):
    return mvt.tile_layer(url, ROWS)


def populated_tiles(url: str, layer, z: int, limit: int) -> list[tuple[int, int, int, int]]:
    return mvt.populated_tiles(url, layer, z, limit)


def sql_floor(url: str, layer, tiles, connections: int, duration: float, warmup: float) -> dict:
    w = dataset.Workload(kind=f"tile-z{tiles[0][0] if tiles else 14}", rows=ROWS,
                         params=[t[:3] for t in tiles],
                         statements=[mvt.tile_statement(layer, z, x, y) for z, x, y, _ in tiles])
    return floor.run_load(url, w, connections, duration, warmup)


# --------------------------------------------------------------------------- HTTP

def check_tiles(base: str, paths: list[str], tiles) -> dict:
    """Every tile answers 200 with the floor's feature count."""
    w = dataset.Workload(kind="tile-z14", rows=ROWS, params=[t[:3] for t in tiles],
                         expected=[t[3] for t in tiles])
    res = mvt.check(base, paths, w, most=len(paths))
    return {"ok": res["ok"], "checked": res["checked"], "detail": res["detail"]}


def wrk_header(base: str, path: str, header: str, connections: int, seconds: float) -> dict:
    """wrk on one path with one request header (urls.lua sends wrk's -H headers)."""
    paths_file = BENCH_VAR / "tiles-vector-repeat.txt"
    paths_file.write_text(path + "\n")
    cmd = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", "30s", "-H", header, "-s", str(LUA), base, "--", str(paths_file)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in reversed(r.stdout.splitlines()) if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {(r.stderr or r.stdout)[-300:]}")
    s = json.loads(line)
    n, secs = s["requests"], s["duration_us"] / 1e6
    return {"requests": n, "rps": round(n / secs, 1), "p50_ms": round(s["latency_us"]["p50"] / 1000, 3),
            "p95_ms": round(s["latency_us"]["p95"] / 1000, 3), "non2xx": s["errors"]["status"],
            "bytes_per_response": round(s["bytes"] / n) if n else None}


def etag_of(url: str) -> tuple[int, str | None]:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, r.headers.get("ETag")


def status_with(url: str, etag: str) -> int:
    req = urllib.request.Request(url, headers={"If-None-Match": etag})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


# --------------------------------------------------------------------------- report

def ratio(v, ref) -> str:
    return f"{v / ref:.2f}×" if v and ref else "—"


def render(report: dict) -> str:
    m = report["meta"]
    res = report["results"]
    lines = [f"# Vector tile benchmark — {m['timestamp']}", "",
             f"Command: `{m['command']}`", "",
             f"Machine: {m['machine']['cpus']} CPU ({m['machine']['cpu']}), PostgreSQL "
             f"{m['machine']['postgresql']}, PostGIS {m['machine']['postgis']}; {m['machine']['wrk']}. "
             f"Load: {m['connections']} connections, {m['warmup']} s warm-up + {m['duration']} s per "
             f"cell; server, database and wrk share the cores (load average before "
             f"{m['loadavg_before']}, after {m['loadavg_after']}): compare ratios.", "",
             f"Table `{dataset.SCHEMA}.{dataset.table_name(ROWS)}` ({ROWS:,} synthetic parcels); "
             "WebMercatorQuad tiles over the populated area (non-empty only): "
             + ", ".join(f"z{z}: {len(report['tiles'][str(z)])} tiles, "
                         f"{report['mean_features'][str(z)]:.0f} features per tile" for z in ZOOMS), "",
             "| cell | ST_AsMVT floor tiles/s | artois-geo tiles/s (÷ floor) | tipg tiles/s (÷ floor) "
             "| artois-geo ÷ tipg | artois-geo p50 / p95 ms | tipg p50 / p95 ms |",
             "|---|---|---|---|---|---|---|"]
    for z in ZOOMS:
        key = f"z{z}"
        f, a, t = (res.get(n, {}).get(key) or {} for n in ("floor", "artois-geo", "tipg"))
        lines.append(
            f"| {key} | {f.get('rps', '—')} | {a.get('rps', '—')} ({ratio(a.get('rps'), f.get('rps'))})"
            f"{'' if a.get('check', {}).get('ok', True) else ' ✗'} | {t.get('rps', '—')} "
            f"({ratio(t.get('rps'), f.get('rps'))}){'' if t.get('check', {}).get('ok', True) else ' ✗'} "
            f"| {ratio(a.get('rps'), t.get('rps'))} | {a.get('p50_ms', '—')} / {a.get('p95_ms', '—')} "
            f"| {t.get('p50_ms', '—')} / {t.get('p95_ms', '—')} |")
    rep = res.get("artois-geo", {})
    for key, label in (("repeat-200", "repeated z14 tile, no If-None-Match"),
                       ("repeat-304", "repeated z14 tile, If-None-Match: its ETag")):
        c = rep.get(key) or {}
        lines.append(f"| {label} | — | {c.get('rps', '—')} (status {c.get('status', '—')}, "
                     f"non-2xx {c.get('non2xx', '—')}) | — | — | {c.get('p50_ms', '—')} / "
                     f"{c.get('p95_ms', '—')} | — |")
    lines += ["", "Targets (issue): z14 at least tipg's rate, and at least half the ST_AsMVT floor.", ""]
    lines += [f"- {n}" for n in report.get("notes", [])]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--tiles", type=int, default=100, help="most tiles per zoom (default 100)")
    ap.add_argument("--only", default="floor,artois-geo,tipg")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = BENCH_VAR / f"tiles-run-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url()
    before = loadavg()
    dataset.ensure_tables(url, [ROWS], log=log)
    layer = tile_layer(url)
    tiles = {z: populated_tiles(url, layer, z, args.tiles) for z in ZOOMS}
    for z in ZOOMS:
        log(f"z{z}: {len(tiles[z])} tiles, {sum(t[3] for t in tiles[z])} features")
    report = {"meta": {"timestamp": stamp, "command": " ".join([".venv/bin/python", "bench/tiles_vector.py",
                                                                 *sys.argv[1:]]),
                       "machine": machine_info(url), "connections": args.connections,
                       "duration": args.duration, "warmup": args.warmup, "loadavg_before": before},
              "tiles": {str(z): [list(t) for t in tiles[z]] for z in ZOOMS},
              "mean_features": {str(z): sum(t[3] for t in tiles[z]) / max(1, len(tiles[z])) for z in ZOOMS},
              "results": {}, "notes": []}

    ctx = Context(db_url=url, sizes=[ROWS], workdir=workdir)
    peers = {"artois-geo": (ArtoisGeo(ctx), lambda z, x, y:
                            f"/collections/parcels-100k/tiles/WebMercatorQuad/{z}/{y}/{x}"),
             "tipg": (Tipg(ctx), lambda z, x, y: f"/collections/{dataset.SCHEMA}."
                      f"{dataset.table_name(ROWS)}/tiles/WebMercatorQuad/{z}/{x}/{y}")}
    running = {}
    try:
        for name, (peer, path_of) in peers.items():
            if name not in only:
                continue
            try:  # both servers up at once (idle when not loaded): each zoom's cells run
                peer.start()  # back to back, so the ratios share the machine's load
                running[name] = (peer, path_of)
            except Unavailable as e:
                report["notes"].append(f"{name} unavailable: {e}")
                log(f"{name} unavailable: {e}")
        for z in ZOOMS:
            if "floor" in only:
                res = sql_floor(url, layer, tiles[z], args.connections, args.duration, args.warmup)
                report["results"].setdefault("floor", {})[f"z{z}"] = res
                log(f"floor z{z}: {res['rps']} tiles/s")
            for name, (peer, path_of) in running.items():
                paths = [path_of(tz, tx, ty) for tz, tx, ty, _ in tiles[z]]
                res = loadgen.http_load(peer.base, paths, peer.dir, f"z{z}", args.connections,
                                        args.duration, args.warmup, 1)
                res["check"] = check_tiles(peer.base, paths, tiles[z])
                report["results"].setdefault(name, {})[f"z{z}"] = res
                log(f"{name} z{z}: {res['rps']} tiles/s, check {res['check']}")
        if "artois-geo" in running:
            peer, path_of = running["artois-geo"]
            out = report["results"].setdefault("artois-geo", {})
            z, x, y, _ = tiles[14][0]
            path = path_of(z, x, y)
            status, etag = etag_of(peer.base + path)
            out["repeat-200"] = {**wrk_header(peer.base, path, "Accept: */*", args.connections,
                                              args.duration), "status": status}
            if etag:
                out["repeat-304"] = {**wrk_header(peer.base, path, f"If-None-Match: {etag}",
                                                  args.connections, args.duration),
                                     "status": status_with(peer.base + path, etag)}
            else:
                report["notes"].append("artois-geo sent no ETag on tiles: the caching "
                                       "middleware (services/caching.py) is not in the app")
            log(f"artois-geo repeated tile: {out.get('repeat-200')} / {out.get('repeat-304')}")
    finally:
        for peer, _ in running.values():
            peer.stop()
    CAP = mvt.max_features()
    capped = [f"{z}/{x}/{y}" for zz in ZOOMS for z, x, y, n in tiles[zz] if n >= 0.9 * CAP]
    if capped:
        report["notes"].append(
            f"tiles {', '.join(capped)} have more candidate rows than the feature cap "
            f"({CAP}, ARTOIS_TILE_MAX_FEATURES): LIMIT takes any {CAP} of them, so their count "
            "may differ by a few features between two executions (✗ there is not an error)")
    report["notes"].append("tipg counts differ from the floor's: it clips with its own buffer "
                           "and keeps no feature id; the check only reports it")

    report["meta"]["loadavg_after"] = loadavg()
    md = render(report)
    (BENCH_VAR / f"tiles-vector-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    (BENCH_VAR / f"tiles-vector-{stamp}.md").write_text(md)
    log("\n" + md)
    log(f"wrote var/bench/tiles-vector-{stamp}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
