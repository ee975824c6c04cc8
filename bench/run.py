"""Benchmark: the same synthetic PostGIS parcels served by artois-geo, stock pygeoapi,
tipg and QGIS Server, against the SQL floor (one SQL statement per page, no HTTP).

    .venv/bin/python bench/run.py [--rows 1000,10000,100000] [--duration 10]
                                  [--connections 8] [--only NAME,...]

Peers: sql-floor, artois-geo, pygeoapi, tipg, qgis-server. See bench/README.md.
Not part of the test suite. Results: var/bench/results-<timestamp>.{json,md}.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
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
from peers import ALL_NAMES, FLOOR, PEERS, PROJECT_DIR, Context, Unavailable  # noqa: E402

BENCH_VAR = PROJECT_DIR / "var" / "bench"


def log(msg: str = "") -> None:
    print(msg, flush=True)


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    r = subprocess.run(["bash", str(PROJECT_DIR / "scripts" / "postgis.sh"), "start"],
                       capture_output=True, text=True, cwd=PROJECT_DIR)
    urls = [ln.strip() for ln in r.stdout.splitlines() if ln.strip().startswith("postgresql://")]
    if r.returncode != 0 or not urls:
        sys.exit(f"cannot start PostgreSQL (scripts/postgis.sh start): {r.stderr.strip()}")
    return urls[-1]


def loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def machine_info(url: str) -> dict:
    cpu = ""
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    with psycopg.connect(url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "postgresql": pg, "postgis": postgis,
            "wrk": (wrk.stdout or wrk.stderr).split("\n")[0].strip()}


# --------------------------------------------------------------------------- report

def _num(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def _ratio(v, ref) -> str:
    if v is None or not ref:
        return ""
    r = v / ref
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def cells(res: dict | None, ref: dict | None, is_floor: bool) -> tuple[str, str]:
    if res is None:
        return "—", "—"
    if res.get("unavailable"):
        return "unavailable", "—"
    if res.get("load_error"):
        return "load error", "—"
    rps = res.get("rps")
    a = _num(rps)
    b = f"{_num(res.get('p50_ms'))} / {_num(res.get('p95_ms'))}"
    if not is_floor and ref and not ref.get("unavailable") and ref.get("rps"):
        a += f" ({_ratio(rps, ref['rps'])})"
        b += f" ({_ratio(res.get('p50_ms'), ref.get('p50_ms'))} / {_ratio(res.get('p95_ms'), ref.get('p95_ms'))})"
    chk = res.get("check")
    if chk is not None:
        a += " ✓" if chk["ok"] else " ≈" if chk.get("approx") else " ✗"
    if res.get("non2xx"):
        a += f" ⚠{res['non2xx']} non-2xx"
    if res.get("errors"):
        a += f" ⚠{res['errors']} err"
    return a, b


def build_table(report: dict) -> tuple[list[str], list[list[str]]]:
    names = [n for n in report["peer_order"]]
    header = ["workload", "rows"]
    for n in names:
        header += [f"{n} req/s", f"{n} p50 / p95 ms"]
    rows = []
    for w in report["workloads"]:
        row = [w["label"], f"{w['rows']:,}"]
        ref = report["results"].get(FLOOR, {}).get(w["key"])
        for n in names:
            res = report["results"].get(n, {}).get(w["key"])
            if report["peers"][n].get("unavailable") and res is None:
                res = {"unavailable": True}
            row += list(cells(res, ref, n == FLOOR))
        rows.append(row)
    return header, rows


def render_console(header, rows) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    sep = "  "
    out = [sep.join(h.ljust(widths[i]) for i, h in enumerate(header)),
           sep.join("-" * w for w in widths)]
    for r in rows:
        out.append(sep.join(c.ljust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(out)


def render_markdown(report: dict, header, rows) -> str:
    m = report["meta"]
    lines = [f"# Benchmark results — {m['timestamp']}", "",
             f"Command: `{m['command']}`", "",
             f"Machine: {m['machine']['cpus']} CPU ({m['machine']['cpu']}), {m['machine']['memory']}, "
             f"{m['machine']['os']}; PostgreSQL {m['machine']['postgresql']}, PostGIS "
             f"{m['machine']['postgis']}; {m['machine']['wrk']}.", "",
             f"Load: {m['connections']} keep-alive connections, {m['warmup']} s warm-up then "
             f"{m['duration']} s measured per cell, one peer running at a time; server, database and "
             "load generator share the same cores (noisy: compare ratios, not absolute figures). "
             f"1-min load average before the run {m.get('loadavg_1m_before')}, after "
             f"{m.get('loadavg_1m_after')}; per cell in the JSON (loadavg_1m_after).", "",
             "Each peer cell: requests/s (ratio to the SQL floor) and check (✓ = same feature counts "
             "as the SQL floor on the checked pages; ≈ = bbox pages whose counts differ only because "
             "the CRS84 box is read differently in Lambert-93, see Notes; ✗ = wrong counts or HTTP "
             "errors); latency p50 / p95 in ms (ratio to the floor). ⚠ marks non-2xx responses or "
             "socket errors during the load.", "",
             "| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    lines += ["", "## Peers", ""]
    for n in report["peer_order"]:
        p = report["peers"][n]
        status = f"unavailable: {p['unavailable']}" if p.get("unavailable") else "ran"
        lines.append(f"- **{n}** — {p.get('description', '')}; {p.get('version') or ''} — {status}")
    notes = _notes(report)
    if notes:
        lines += ["", "## Notes", ""] + [f"- {x}" for x in notes]
    lines += ["", "Mean response size (bytes, HTTP headers included for the HTTP peers):", "",
              "| workload | rows | " + " | ".join(report["peer_order"]) + " |",
              "|---|---|" + "|".join("---" for _ in report["peer_order"]) + "|"]
    for w in report["workloads"]:
        vals = []
        for n in report["peer_order"]:
            res = report["results"].get(n, {}).get(w["key"]) or {}
            vals.append(_num(res.get("bytes_per_response"), 0) if res.get("bytes_per_response") else "—")
        lines.append(f"| {w['label']} | {w['rows']:,} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def _notes(report: dict) -> list[str]:
    notes = []
    for n in report["peer_order"]:
        if report["peers"][n].get("unavailable"):
            notes.append(f"{n} unavailable: {report['peers'][n]['unavailable']}")
        for key, res in report["results"].get(n, {}).items():
            chk = res.get("check")
            if chk and chk.get("approx"):
                notes.append(f"{n} {key}: ≈ bbox read differently from the floor on {chk['failures']}/"
                             f"{chk['checked']} boxes (counts within the readings' bounds); matches: "
                             + (", ".join(chk.get("readings_matched") or []) or "none exactly"))
            elif chk and not chk["ok"]:
                notes.append(f"{n} {key}: check failed on {chk['failures']}/{chk['checked']} pages, e.g. "
                             + "; ".join(chk["detail"]))
            if res.get("non2xx") or res.get("errors"):
                notes.append(f"{n} {key}: {res.get('non2xx', 0)} non-2xx responses, "
                             f"socket errors {res.get('error_detail')}")
            if res.get("load_error"):
                notes.append(f"{n} {key}: {res['load_error']}")
    return notes


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="1000,10000,100000", help="table sizes (default 1000,10000,100000)")
    ap.add_argument("--duration", type=float, default=10, help="measured seconds per cell (default 10)")
    ap.add_argument("--warmup", type=float, default=2, help="warm-up seconds per cell (default 2)")
    ap.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    ap.add_argument("--only", default="", help=f"comma-separated peers among {','.join(ALL_NAMES)}")
    ap.add_argument("--workloads", default="", help=f"comma-separated among {','.join(dataset.KINDS)}")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    args = ap.parse_args(argv)

    sizes = sorted({int(x.replace("_", "")) for x in args.rows.split(",") if x.strip()})
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(ALL_NAMES)
    unknown = [n for n in names if n not in ALL_NAMES]
    if unknown:
        ap.error(f"unknown peer(s) {unknown}; choose among {ALL_NAMES}")
    names = [n for n in ALL_NAMES if n in names]
    kinds = [k.strip() for k in args.workloads.split(",") if k.strip()] or list(dataset.KINDS)
    if any(k not in dataset.KINDS for k in kinds):
        ap.error(f"workloads among {dataset.KINDS}")

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = BENCH_VAR / f"run-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url()
    log(f"database: {url}")
    la = loadavg()
    if la is not None and la > 1.0:
        log(f"warning: load average {la:.2f} before the run: other processes are busy on this "
            f"machine ({os.cpu_count()} CPUs), figures will be noisier than usual")
    dataset.ensure_tables(url, sizes, log=log)
    wls = dataset.workloads(url, sizes, kinds)
    for w in wls:
        w.expected = floor.reference_counts(url, w)
    log(f"{len(wls)} workload cells: " + ", ".join(w.key for w in wls))

    report = {
        "meta": {"timestamp": stamp,
                 "command": " ".join([".venv/bin/python", "bench/run.py", *map(shlex.quote, sys.argv[1:])]),
                 "rows": sizes, "duration": args.duration, "warmup": args.warmup,
                 "connections": args.connections, "wrk_threads": args.wrk_threads,
                 "machine": machine_info(url), "workdir": str(workdir),
                 "loadavg_1m_before": la},
        "peer_order": names,
        "peers": {},
        "workloads": [{"key": w.key, "kind": w.kind, "rows": w.rows, "label": w.label,
                       "table": f"{dataset.SCHEMA}.{w.table}", "pages": len(w.params),
                       "features_expected_total": sum(w.expected),
                       **({"bbox_readings_total": {k: sum(v) for k, v in w.readings.items()}}
                          if w.readings else {})} for w in wls],
        "results": {},
    }
    ctx = Context(db_url=url, sizes=sizes, workdir=workdir)
    t_start = time.perf_counter()

    for name in names:
        log(f"\n== {name}")
        results = report["results"].setdefault(name, {})
        if name == FLOOR:
            report["peers"][name] = {"description": floor.__doc__.strip().splitlines()[0],
                                     "version": f"psycopg {psycopg.__version__}, "
                                                f"{args.connections} threads × 1 connection"}
            for w in wls:
                res = floor.run_load(url, w, args.connections, args.duration, args.warmup)
                res["loadavg_1m_after"] = loadavg()
                results[w.key] = res
                log(f"  {w.key:<18} {res['rps']:>9.1f} st/s  p50 {res['p50_ms']} ms  p95 {res['p95_ms']} ms")
            continue
        peer = PEERS[name](ctx)
        report["peers"][name] = {"description": peer.description}
        try:
            t0 = time.perf_counter()
            peer.start()
            report["peers"][name]["version"] = peer.version
            log(f"  started in {time.perf_counter() - t0:.1f} s on {peer.base} ({peer.version})")
            for w in wls:
                paths = peer.url_for(w)
                chk = loadgen.check(peer.base, paths, w)
                try:
                    res = loadgen.http_load(peer.base, paths, peer.dir, w.key, args.connections,
                                            args.duration, args.warmup, args.wrk_threads)
                except Exception as e:  # noqa: BLE001
                    res = {"load_error": str(e)}
                res["check"] = chk
                res["example_url"] = peer.base + paths[0]
                res["loadavg_1m_after"] = loadavg()
                results[w.key] = res
                mark = ("✓" if chk["ok"] else "≈ " + ", ".join(chk.get("readings_matched") or [])
                        if chk.get("approx") else f"✗ {chk['detail'][:1]}")
                log(f"  {w.key:<18} {res.get('rps') or 0:>9.1f} req/s  p50 {res.get('p50_ms')} ms  "
                    f"p95 {res.get('p95_ms')} ms  non-2xx {res.get('non2xx')}  {mark}")
        except Unavailable as e:
            report["peers"][name]["unavailable"] = str(e)
            log(f"  unavailable: {e}")
        except Exception as e:  # noqa: BLE001
            report["peers"][name]["unavailable"] = f"{type(e).__name__}: {e}"
            log(f"  unavailable: {type(e).__name__}: {e}")
            traceback.print_exc()
        finally:
            peer.stop()

    report["meta"]["elapsed_s"] = round(time.perf_counter() - t_start, 1)
    report["meta"]["loadavg_1m_after"] = loadavg()
    header, rows = build_table(report)
    log("\n" + render_console(header, rows))
    for note in _notes(report):
        log(f"  note: {note}")
    out_json = BENCH_VAR / f"results-{stamp}.json"
    out_md = BENCH_VAR / f"results-{stamp}.md"
    out_json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    out_md.write_text(render_markdown(report, header, rows))
    log(f"\nwrote {out_json.relative_to(PROJECT_DIR)} and {out_md.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
