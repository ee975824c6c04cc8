"""CPU time per request, by process: where a workload's CPU goes, server against SQL floor.

    .venv/bin/python bench/cpu.py [--workload tile-z14] [--duration 10] [--rows 100000]
                                  [--connections 8] [--workers 2]

Throughput on two shared cores swings with whatever else runs (±15 % between 6 s runs), but
the CPU each request costs does not much: this tool runs the floor (bench/floor.py, its
statements over psycopg in threads) and artois-geo (`serve --workers N`, wrk) on one
workload, and reads the CPU time (user + system, /proc/PID/stat) spent during the run by:

- the client: the floor's own Python process, or wrk;
- the HTTP workers of artois-geo (its job workers are counted apart: idle, they should
  cost nothing);
- the PostgreSQL backends and the other processes of the cluster (children of the
  postmaster), which is where the SQL runs.

On two cores that are saturated, a peer's rate is about 2 s / (its CPU per request): the
ratio of the CPU per request of the floor to that of the server is the ratio of their
rates that the cores allow, whatever the load of the machine. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0 when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children_of(ppid: int) -> list[int]:
    """The children of a process (the kernel's own list, no scan of /proc)."""
    try:
        return [int(x) for x in Path(f"/proc/{ppid}/task/{ppid}/children").read_text().split()]
    except OSError:
        return []


class Meter:
    """CPU of named groups of processes between start() and stop(). A thread reads them
    every 50 ms, so that a process that ends in between (a PostgreSQL backend whose client
    disconnected) keeps its last reading; one that starts in between counts from zero."""

    def __init__(self, groups):
        self.groups = groups  # name -> callable returning the pids of that group now
        self.t0: dict[str, dict[int, float]] = {}
        self.last: dict[str, dict[int, float]] = {}

    def _read(self) -> None:
        for name, pids in self.groups.items():
            for pid in pids():
                value = cpu_seconds(pid)
                if value:
                    self.last[name][pid] = value

    def start(self) -> None:
        import threading
        self.last = {name: {} for name in self.groups}
        self._read()
        self.t0 = {name: dict(v) for name, v in self.last.items()}
        self._stop = threading.Event()

        def poll() -> None:
            while not self._stop.wait(0.05):
                self._read()

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._read()
        return {name: sum(v - self.t0[name].get(pid, 0.0) for pid, v in self.last[name].items())
                for name in self.groups}


def postmaster_pid(url: str) -> int:
    import psycopg
    with psycopg.connect(url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        raw = Path(f"/proc/{backend}/stat").read_text()
    return int(raw[raw.rfind(")") + 2:].split()[1])


def run(args) -> list[dict]:
    import floor
    import loadgen
    from machine import BENCH_VAR, database_url, loadavg, log, tree_pids, _cmd
    from peers import ArtoisGeo, Context

    import mvt
    url = database_url()
    sizes = [args.rows]
    w = mvt.one_workload(url, args.rows, args.workload, log=log)
    pm = postmaster_pid(url)

    def postgres() -> list[int]:
        return children_of(pm)

    rows = []
    log(f"load average before: {loadavg()}")
    # the floor: this process's own threads are the client
    floor.run_load(url, w, args.connections, 1.0, 0.5)  # warm-up (prepares the statements)
    meter = Meter({"postgres": postgres})
    meter.start()
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    res = floor.run_load(url, w, args.connections, args.duration, 0.0)
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    used = meter.stop()
    n = res["requests"]
    client = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)
    rows.append({"peer": "SQL floor", "requests": n, "rate": res["rps"], "client": client,
                 "server": 0.0, "jobs": 0.0, "postgres": used["postgres"]})

    stamp = time.strftime("%Y%m%d-%H%M%S")
    peer = ArtoisGeo(Context(db_url=url, sizes=sizes, workdir=BENCH_VAR / f"cpu-run-{stamp}"))
    peer.workers = args.workers
    try:
        peer.start()
        tree = tree_pids(peer.proc.pid)
        jobs = [p for p in tree if "worker" in _cmd(p)]
        http = [p for p in tree if p not in jobs]
        paths = peer.url_for(w)
        peer.dir.mkdir(parents=True, exist_ok=True)
        paths_file = peer.dir / "paths.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        loadgen.wrk_run(peer.base, paths_file, args.connections, 2, 1)  # warm-up
        meter = Meter({"server": lambda: http, "jobs": lambda: jobs, "postgres": postgres})
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        meter.start()
        out = subprocess.run(
            [shutil.which("wrk"), "-t1", f"-c{args.connections}", f"-d{round(args.duration)}s",
             "--timeout", "30s", "-s", str(loadgen.LUA), peer.base, "--", str(paths_file)],
            capture_output=True, text=True, timeout=args.duration + 60).stdout
        used = meter.stop()
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        line = next(ln for ln in reversed(out.splitlines()) if ln.startswith("{"))
        summary = json.loads(line)
        n = summary["requests"]
        client = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
        rows.append({"peer": f"artois-geo ({args.workers} workers)", "requests": n,
                     "rate": summary["rps"], "client": client, "server": used["server"],
                     "jobs": used["jobs"], "postgres": used["postgres"]})
    finally:
        peer.stop()
    log(f"load average after: {loadavg()}")
    return rows


def render(rows: list[dict], workload: str) -> str:
    lines = [f"CPU per request, {workload} (µs of CPU time; rate: requests per second)", "",
             "| peer | req/s | client | server | job workers | PostgreSQL | total |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        n = max(r["requests"], 1)
        us = {k: r[k] / n * 1e6 for k in ("client", "server", "jobs", "postgres")}
        lines.append(f"| {r['peer']} | {r['rate']:,.0f} | {us['client']:.0f} | "
                     f"{us['server']:.0f} | {us['jobs']:.0f} | {us['postgres']:.0f} | "
                     f"{sum(us.values()):.0f} |")
    if len(rows) == 2:
        a, b = (sum(r[k] for k in ("client", "server", "jobs", "postgres")) / max(r["requests"], 1)
                for r in rows)
        lines += ["", f"CPU-bound ratio (floor CPU per request / server's): {a / b:.2f}×"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import dataset
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="tile-z14", choices=dataset.KINDS)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.connections < 1 or args.workers < 1:
        ap.error("--duration, --connections and --workers must be positive")
    print(render(run(args), args.workload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
