"""Benchmark: the same synthetic PostGIS parcels served by artois-geo, stock pygeoapi,
tipg and QGIS Server, against the SQL floor (one SQL statement per page or tile, no HTTP).

    .venv/bin/python bench/run.py [--rows 1000,10000,100000] [--duration 10] [--warmup 2]
                                  [--connections 8] [--only NAME,...] [--workloads KIND,...]
                                  [--wait-quiet SECONDS] [--tiles 100]

Peers: sql-floor, artois-geo, pygeoapi, tipg, qgis-server. Workloads: first-page, bbox,
offset, item, tile-z14 (vector tiles: artois-geo, tipg, stock pygeoapi; not QGIS Server). After
each peer's cells, the RSS of its whole process tree; the issue's targets at 100k rows.
See bench/README.md. Not part of the test suite.
Results: var/bench/results-<timestamp>.{json,md}.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402

import dataset  # noqa: E402
import floor  # noqa: E402
import loadgen  # noqa: E402
import mvt  # noqa: E402
import report as rpt  # noqa: E402
from machine import (BENCH_VAR, busy_warning, database_url, loadavg, log,  # noqa: E402,F401
                     machine_info, wait_quiet)
from peers import ALL_NAMES, FLOOR, PEERS, PROJECT_DIR, Context, Unavailable  # noqa: E402

# kept for scripts that imported them from here
build_table, render_console, render_markdown = rpt.build_table, rpt.render_console, rpt.render_markdown


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="1000,10000,100000", help="table sizes (default 1000,10000,100000)")
    ap.add_argument("--duration", type=float, default=10, help="measured seconds per cell (default 10)")
    ap.add_argument("--warmup", type=float, default=2, help="warm-up seconds per cell (default 2)")
    ap.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    ap.add_argument("--only", default="", help=f"comma-separated peers among {','.join(ALL_NAMES)}")
    ap.add_argument("--workloads", default="", help=f"comma-separated among {','.join(dataset.KINDS)}")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="wait up to SECONDS for the 1-minute load average to drop to 1.0 or below "
                         "before the first peer (default 0: do not wait, warn only)")
    ap.add_argument("--tiles", type=int, default=mvt.N_TILES,
                    help=f"non-empty z{dataset.TILE_ZOOM} tiles per table (default {mvt.N_TILES})")
    args = ap.parse_args(argv)
    try:  # 1000, 100_000 or 100k
        args.sizes = sorted({int(x.strip().lower().replace("_", "").replace("k", "000"))
                             for x in args.rows.split(",") if x.strip()})
    except ValueError:
        ap.error(f"--rows: comma-separated row counts (e.g. 1000,10000,100000), not {args.rows!r}")
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(ALL_NAMES)
    unknown = [n for n in names if n not in ALL_NAMES]
    if unknown:
        ap.error(f"unknown peer(s) {unknown}; choose among {ALL_NAMES}")
    args.names = [n for n in ALL_NAMES if n in names]
    args.kinds = [k.strip() for k in args.workloads.split(",") if k.strip()] or list(dataset.KINDS)
    if any(k not in dataset.KINDS for k in args.kinds):
        ap.error(f"workloads among {dataset.KINDS}")
    if not args.sizes or min(args.sizes) < 1 or args.duration <= 0 or args.connections < 1 \
            or args.tiles < 1 or args.wait_quiet < 0:
        ap.error("--rows, --duration, --connections and --tiles must be positive")
    return args


def prepare_workloads(url: str, args, notes: list[str]) -> list[dataset.Workload]:
    """The workload cells with their reference counts; a tile workload that cannot be prepared
    (the project's tile code cannot be imported, no tile found) is left out with a note."""
    out = []
    for w in dataset.workloads(url, args.sizes, args.kinds):
        if w.is_tile:
            try:
                mvt.prepare(url, w, args.tiles)
            except Exception as e:  # noqa: BLE001
                notes.append(f"{w.key} left out: the tile floor could not be prepared "
                             f"({type(e).__name__}: {str(e)[:200]})")
                log(f"  {w.key} left out: {type(e).__name__}: {e}")
                continue
            if not w.params:
                notes.append(f"{w.key} left out: no non-empty z{w.zoom} tile")
                continue
        else:
            w.expected = floor.reference_counts(url, w)
        out.append(w)
    return out


def run_floor(url: str, wls, args, results: dict) -> None:
    for w in wls:
        try:
            res = floor.run_load(url, w, args.connections, args.duration, args.warmup)
        except Exception as e:  # noqa: BLE001
            res = {"load_error": f"{type(e).__name__}: {e}"}
        res["loadavg_1m_after"] = loadavg()
        results[w.key] = res
        log(f"  {w.key:<18} {res.get('rps') or 0:>9.1f} st/s  p50 {res.get('p50_ms')} ms  "
            f"p95 {res.get('p95_ms')} ms")


def run_peer(peer, wls, args, results: dict) -> None:
    for w in wls:
        reason = peer.not_served(w)
        if reason:
            results[w.key] = {"not_served": reason}
            log(f"  {w.key:<18} — {reason}")
            continue
        paths = peer.url_for(w)
        try:
            chk = mvt.check(peer.base, paths, w) if w.is_tile else loadgen.check(peer.base, paths, w)
        except Exception as e:  # noqa: BLE001
            chk = {"ok": False, "approx": False, "checked": 0, "failures": 1,
                   "detail": [f"{type(e).__name__}: {str(e)[:200]}"]}
        try:
            res = loadgen.http_load(peer.base, paths, peer.dir, w.key, args.connections,
                                    args.duration, args.warmup, args.wrk_threads)
        except Exception as e:  # noqa: BLE001
            res = {"load_error": str(e)}
        res["check"] = chk
        res["example_url"] = peer.base + paths[0]
        res["loadavg_1m_after"] = loadavg()
        results[w.key] = res
        mark = ("✓" if chk["ok"] else "≈ tile feature counts differ" if chk.get("tile_counts_differ")
                else "≈ " + ", ".join(chk.get("readings_matched") or [])
                if chk.get("approx") else f"✗ {chk['detail'][:1]}")
        log(f"  {w.key:<18} {res.get('rps') or 0:>9.1f} req/s  p50 {res.get('p50_ms')} ms  "
            f"p95 {res.get('p95_ms')} ms  non-2xx {res.get('non2xx')}  {mark}")


def _frame(text: str) -> None:
    log("\n" + "!" * 78 + f"\n{text}\n" + "!" * 78)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = BENCH_VAR / f"run-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    busy: list[str] = []
    la_start = loadavg()
    log(f"1-minute load average at start: {la_start}")
    warning = busy_warning(la_start, "at the start of the run")
    if warning:
        _frame(warning)
        busy.append(warning)
    url = database_url()
    log(f"database: {url}")
    dataset.ensure_tables(url, args.sizes, log=log)
    workload_notes: list[str] = []
    wls = prepare_workloads(url, args, workload_notes)
    log(f"{len(wls)} workload cells: " + ", ".join(w.key for w in wls))

    quiet = None
    if args.wait_quiet > 0:  # the wait also lets the set-up's own load (tables, tiles) decay
        quiet = wait_quiet(args.wait_quiet, log=log)
        busy.clear()
        warning = busy_warning(quiet["loadavg_1m"], f"before the first peer, after waiting "
                                                    f"{quiet['waited_s']:.0f} s")
        if warning:
            _frame(warning)
            busy.append(warning)
    la = loadavg()

    report = {
        "meta": {"timestamp": stamp,
                 "command": " ".join([".venv/bin/python", "bench/run.py", *map(shlex.quote, sys.argv[1:])]),
                 "rows": args.sizes, "duration": args.duration, "warmup": args.warmup,
                 "connections": args.connections, "wrk_threads": args.wrk_threads,
                 "machine": machine_info(url), "workdir": str(workdir),
                 "loadavg_1m_start": la_start, "loadavg_1m_before": la, "wait_quiet": quiet,
                 "busy": bool(busy), "busy_warnings": busy, "workload_notes": workload_notes},
        "peer_order": args.names,
        "peers": {},
        "workloads": [{"key": w.key, "kind": w.kind, "rows": w.rows, "label": w.label,
                       "table": f"{dataset.SCHEMA}.{w.table}", "pages": len(w.params),
                       "features_expected_total": sum(w.expected),
                       **({"tiles": [list(t) for t in w.params]} if w.is_tile else {}),
                       **({"bbox_readings_total": {k: sum(v) for k, v in w.readings.items()}}
                          if w.readings else {})} for w in wls],
        "results": {},
    }
    ctx = Context(db_url=url, sizes=args.sizes, workdir=workdir)
    t_start = time.perf_counter()

    for name in args.names:
        la = loadavg()
        log(f"\n== {name} (1-minute load average {la})")
        info = report["peers"].setdefault(name, {})
        info["loadavg_1m_before"] = la  # includes this run's own previous cells (1-min decay)
        results = report["results"].setdefault(name, {})
        if name == FLOOR:
            info.update(description=floor.__doc__.strip().splitlines()[0],
                        version=f"psycopg {psycopg.__version__}, {args.connections} threads × 1 connection")
            run_floor(url, wls, args, results)
            continue
        peer = PEERS[name](ctx)
        info["description"] = peer.description
        try:
            t0 = time.perf_counter()
            peer.start()
            info["version"] = peer.version
            log(f"  started in {time.perf_counter() - t0:.1f} s on {peer.base} ({peer.version})")
            run_peer(peer, wls, args, results)
            info["memory"] = peer.memory()
            if info["memory"]:
                log(f"  RSS of the server tree: {info['memory']['rss_mb']:,.0f} MB in "
                    f"{info['memory']['processes']} processes")
        except Unavailable as e:
            info["unavailable"] = str(e)
            log(f"  unavailable: {e}")
        except Exception as e:  # noqa: BLE001
            info["unavailable"] = f"{type(e).__name__}: {e}"
            log(f"  unavailable: {type(e).__name__}: {e}")
            traceback.print_exc()
        finally:
            peer.stop()

    report["meta"]["elapsed_s"] = round(time.perf_counter() - t_start, 1)
    report["meta"]["loadavg_1m_after"] = loadavg()
    report["targets"] = rpt.targets(report)
    header, rows = rpt.build_table(report)
    log("\n" + rpt.render_console(header, rows))
    for line in rpt.render_targets(report):
        log(line)
    for note in rpt.notes_of(report):
        log(f"  note: {note}")
    out_json = BENCH_VAR / f"results-{stamp}.json"
    out_md = BENCH_VAR / f"results-{stamp}.md"
    out_json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    out_md.write_text(rpt.render_markdown(report, header, rows))
    log(f"\nwrote {out_json.relative_to(PROJECT_DIR)} and {out_md.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
