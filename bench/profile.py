"""Where the time of a request goes in artois-geo: py-spy on one HTTP worker under wrk.

    .venv/bin/python bench/profile.py [--workload first-page] [--duration 10] [--rows 100000]
                                      [--connections 8] [--rate 100] [--idle] [--gil] [--nonblocking]
    .venv/bin/python bench/profile.py --raw FILE [--raw FILE2 ...]     # aggregate only

It starts artois-geo as bench/run.py does (bench/peers.py ArtoisGeo: a temporary collections
folder over the bench tables, `artois-geo build`, PostGIS) but with `serve --workers 1`, so
that the serving process is the one HTTP worker; drives wrk on one workload (round-robin over
the same paths as run.py: first-page, item, bbox, offset or tile-z14), and records that
process with py-spy (`py-spy record --format raw`) for --duration seconds after a 1 s
warm-up. py-spy comes from bench/requirements-profile.txt, installed into
var/bench/venv-profile (like the peers' virtualenvs; bench/setup.sh installs it too).

The raw profile (one line per distinct stack: `frame;frame;... count`, root first, each
frame `function (file:line)`) is kept in var/bench/profile-<timestamp>-<workload>.txt, and
aggregated by layer (CATEGORIES): each sample goes to the layer of its innermost frame that
names one (a frame of the standard library or of a third-party helper counts for the layer
that called it). --raw aggregates existing raw files instead (for example the profile taken
before a change and the one after: one column each). Not part of the test suite.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# --------------------------------------------------------------------------- aggregation (pure)

MIDDLEWARE = "ASGI middleware (ours and Starlette's)"
PYGEOAPI = "pygeoapi request handling (or services/hotread.py's, which replaces it)"
PROVIDER = "provider / SQL assembly"
DATABASE = "psycopg / database wait"
JSON = "JSON / encoding"
LOGGING = "logging"
SERVER = "uvicorn, Starlette routing, thread hop"
OTHER = "other"
IDLE_LOOP = "event loop: uvloop/httptools C code or waiting"
IDLE_POOL = "idle threads (pool workers waiting for work)"
CATEGORIES = [MIDDLEWARE, PYGEOAPI, PROVIDER, DATABASE, JSON, LOGGING, SERVER, OTHER,
              IDLE_LOOP, IDLE_POOL]
IDLE = {IDLE_LOOP, IDLE_POOL}

# our ASGI layers (services/app.py: gzip, metrics, CORS, access, caching, edge, transactions,
# OGC exceptions, request guard, the front router and route table)
_OUR_MIDDLEWARE = ("services/app.py", "services/caching.py", "services/cors.py", "services/ops.py",
                   "services/access.py", "services/edge.py", "services/usage.py",
                   "services/error_handler.py", "services/transactions.py", "services/routes.py",
                   "services/front.py", "services/i18n.py")
# (substring of the file, category), tried in order on each frame
_FILE_RULES = [
    ("logging/", LOGGING),
    ("json/", JSON), ("orjson", JSON), ("ujson", JSON), ("msgspec", JSON), ("simplejson", JSON),
    ("psycopg", DATABASE), ("asyncpg", DATABASE), ("services/store/postgis/pool.py", DATABASE),
    ("services/store/", PROVIDER), ("services/providers/", PROVIDER), ("services/tiles/", PROVIDER),
    ("pygeoapi/provider/", PROVIDER), ("services/cql2sql.py", PROVIDER),
    ("starlette/middleware/", MIDDLEWARE), ("uvicorn/middleware/", MIDDLEWARE),
    ("prometheus_client/", MIDDLEWARE), *((f, MIDDLEWARE) for f in _OUR_MIDDLEWARE),
    ("pygeoapi/", PYGEOAPI), ("services/pygeoapi_compat.py", PYGEOAPI),
    ("services/fastread.py", PYGEOAPI), ("services/access_api", PYGEOAPI),
    ("services/hotread.py", PYGEOAPI),
    ("uvicorn/", SERVER), ("starlette/", SERVER), ("anyio/", SERVER),
    ("concurrent/futures/", SERVER), ("asyncio/", SERVER), ("uvloop", SERVER),
]
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse_raw(path: Path) -> list[tuple[list[tuple[str, str]], int]]:
    """py-spy's raw format: `frame;frame;... count`, root first; frame = `func (file:line)`."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rstrip().rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = []
        for f in stack.split(";"):
            m = _FRAME.match(f.strip())
            frames.append((m["func"], m["file"]) if m else (f.strip(), ""))
        out.append((frames, int(n)))
    return out


_WORK = ("services/", "pygeoapi/", "psycopg/", "starlette/", "uvicorn/")  # a request's frames


def _waiting(func: str, file: str) -> bool:
    """The innermost frame blocks on a lock, condition or queue (C code under it)."""
    return ((file.startswith(("threading.py", "queue.py")) or "psycopg_pool/" in file)
            and func.split(".")[-1] in ("wait", "get", "acquire", "join")) or \
        ("concurrent/futures/thread.py" in file and func == "_worker")


def _socket_wait(func: str, file: str) -> bool:
    """psycopg blocked on the database's socket (the statement runs in PostgreSQL meanwhile)."""
    return ("psycopg" in file and func.split(".")[-1] in ("wait", "wait_conn", "wait_c", "wait_select",
                                                          "wait_epoll", "wait_poll")) or \
        ("asyncpg" in file and "wait" in func)


def _is_json_func(func: str) -> bool:
    low = func.lower()
    return ("json" in low and "jsonld" not in low) or low.endswith(".render") or "dumps" in low


def classify(frames: list[tuple[str, str]]) -> str:
    """The layer of one stack: its innermost frame that names a layer."""
    if not frames:
        return OTHER
    func, file = frames[-1]
    if _waiting(func, file) and not any(f.startswith(_WORK) for _, f in frames):
        return IDLE_POOL  # a pool thread (anyio, executor, psycopg_pool's) blocked on its queue
    if ("asyncio/runners.py" in file or "asyncio/base_events.py" in file) and \
            func.split(".")[-1] in ("run", "run_forever", "run_until_complete", "_run_once", "select"):
        return IDLE_LOOP  # uvloop runs in C under this frame: HTTP parsing, sockets, or epoll
    for func, file in reversed(frames):
        if (file.startswith("services/") or file.startswith("pygeoapi/")) and _is_json_func(func):
            return JSON
        if "starlette/responses.py" in file and func.endswith(".render"):
            return JSON
        for needle, cat in _FILE_RULES:
            if needle in file:
                return cat
        if file.startswith("services/") and (func.endswith(".__call__") or "send" in func):
            return MIDDLEWARE  # an ASGI layer of a module not listed above
    return OTHER


def aggregate(path: Path) -> dict:
    """{total, busy, by_category: {cat: samples}, by_thread: {main|pool: {cat: samples}},
    top_self: [(frame, samples)], other: [(frame, samples)]}."""
    by_cat = collections.Counter()
    by_thread: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    top_self = collections.Counter()
    other = collections.Counter()
    total = socket_wait = 0
    for frames, n in parse_raw(path):
        total += n
        cat = classify(frames)
        by_cat[cat] += n
        if cat == DATABASE and _socket_wait(*frames[-1]):
            socket_wait += n
        thread = "pool" if frames and frames[0][0].startswith("Thread._bootstrap") else "main"
        by_thread[thread][cat] += n
        leaf = f"{frames[-1][0]} ({frames[-1][1]})" if frames else "?"
        if cat not in IDLE:
            top_self[leaf] += n
        if cat == OTHER:
            other[leaf] += n
    busy = total - sum(by_cat[c] for c in IDLE)
    return {"file": str(path), "total": total, "busy": busy, "by_category": dict(by_cat),
            "socket_wait": socket_wait,
            "by_thread": {k: dict(v) for k, v in by_thread.items()},
            "top_self": top_self.most_common(15), "other": other.most_common(8)}


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f} %" if d else "—"


def render(aggs: list[dict]) -> str:
    """Markdown: one column per profile, share of the busy samples (idle rows: of all)."""
    names = [Path(a["file"]).name for a in aggs]
    lines = ["| layer | " + " | ".join(names) + " |", "|---|" + "---|" * len(aggs)]
    for cat in CATEGORIES:
        if cat in IDLE:
            continue
        lines.append(f"| {cat} | " + " | ".join(_pct(a["by_category"].get(cat, 0), a["busy"])
                                               for a in aggs) + " |")
    lines.append(f"| (of which {DATABASE.split(' / ')[0]} blocked on the socket) | "
                 + " | ".join(_pct(a["socket_wait"], a["busy"]) for a in aggs) + " |")
    lines.append("| **busy samples** (100 %) | " + " | ".join(f"{a['busy']:,}" for a in aggs) + " |")
    for cat in sorted(IDLE):
        lines.append(f"| *{cat}* (of all samples) | "
                     + " | ".join(_pct(a["by_category"].get(cat, 0), a["total"]) for a in aggs) + " |")
    lines.append("| all samples | " + " | ".join(f"{a['total']:,}" for a in aggs) + " |")
    lines += ["", "Python work only (busy samples less the database socket wait), by layer:", "",
              "| layer | " + " | ".join(names) + " |", "|---|" + "---|" * len(aggs)]
    for cat in CATEGORIES:
        if cat in IDLE:
            continue
        label = "psycopg: its Python code and libpq calls (no socket wait)" if cat == DATABASE else cat
        lines.append(f"| {label} | " + " | ".join(
            _pct(a["by_category"].get(cat, 0) - (a["socket_wait"] if cat == DATABASE else 0),
                 a["busy"] - a["socket_wait"]) for a in aggs) + " |")
    lines.append("| **Python work samples** (100 %) | "
                 + " | ".join(f"{a['busy'] - a['socket_wait']:,}" for a in aggs) + " |")
    for a, name in zip(aggs, names):
        lines += ["", f"**{name}**: busy samples by thread (main = the event loop's thread, pool = "
                      "the worker threads running pygeoapi's handlers and psycopg):", ""]
        for thread, cats in sorted(a["by_thread"].items()):
            busy = sum(v for c, v in cats.items() if c not in IDLE)
            top = sorted(((v, c) for c, v in cats.items() if c not in IDLE), reverse=True)[:4]
            lines.append(f"- {thread}: {busy:,} busy samples — "
                         + ", ".join(f"{c} {_pct(v, busy)}" for v, c in top))
        lines += ["", "Innermost frames, most samples (busy only):", ""]
        lines += [f"- {_pct(n, a['busy'])} {frame[:150]}" for frame, n in a["top_self"]]
        if a["other"]:
            lines += ["", "In *other*: " + "; ".join(f"{f[:90]} ({_pct(n, a['busy'])})"
                                                   for f, n in a["other"])]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- recording

def record(args) -> tuple[Path, str]:
    """Record one profile; (raw file, a line on the conditions: load average, wrk's figures)."""
    import loadgen
    from machine import BENCH_VAR, busy_warning, database_url, loadavg, log, tree_pids, _cmd
    from peers import ArtoisGeo, Context, Unavailable, ensure_venv

    venv = BENCH_VAR / "venv-profile"
    ensure_venv(venv, HERE / "requirements-profile.txt", log=log)
    pyspy = venv / "bin" / "py-spy"
    if not shutil.which("wrk"):
        sys.exit("wrk not installed (bash bench/setup.sh)")
    la = loadavg()
    warning = busy_warning(la, "before profiling")
    if warning:
        log(warning)
    import mvt
    url = database_url()
    sizes = [args.rows]
    w = mvt.one_workload(url, args.rows, args.workload, log=log)

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    ctx = Context(db_url=url, sizes=sizes, workdir=BENCH_VAR / f"profile-run-{stamp}")
    peer = ArtoisGeo(ctx)
    peer.workers = 1
    out = BENCH_VAR / f"profile-{stamp}-{args.workload}.txt"
    try:
        try:
            peer.start()
        except Unavailable as e:
            sys.exit(f"artois-geo did not start: {e}")
        # the HTTP worker: with --workers 1 uvicorn serves in the `serve` process itself
        pids = [p for p in tree_pids(peer.proc.pid) if " serve" in _cmd(p)]
        pid = pids[0] if pids else peer.proc.pid
        paths = peer.url_for(w)
        paths_file = peer.dir / f"paths-{w.key.replace('@', '-')}.txt"
        peer.dir.mkdir(parents=True, exist_ok=True)
        paths_file.write_text("\n".join(paths) + "\n")
        log(f"artois-geo (1 worker, pid {pid}) on {peer.base}; {len(paths)} path(s), e.g. {paths[0]}")
        loadgen.wrk_run(peer.base, paths_file, args.connections, 1, 1)  # warm-up
        wrk = subprocess.Popen(
            [shutil.which("wrk"), "-t1", f"-c{args.connections}", f"-d{round(args.duration) + 2}s",
             "--timeout", "30s", "-s", str(loadgen.LUA), peer.base, "--", str(paths_file)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        cmd = [str(pyspy), "record", "-p", str(pid), "-d", str(round(args.duration)), "-r",
               str(args.rate), "-f", "raw", "-o", str(out)]
        if args.idle:
            cmd.append("--idle")
        if args.nonblocking:
            cmd.append("--nonblocking")
        if args.gil:
            cmd.append("--gil")
        log("$ " + " ".join(cmd))
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 120)
        wrk_out, _ = wrk.communicate(timeout=args.duration + 60)
        if r.returncode != 0 or not out.exists():
            sys.exit(f"py-spy failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-500:]}")
        line = next((ln for ln in reversed(wrk_out.splitlines()) if ln.startswith("{")), "")
        log(f"wrk during the recording: {line}")
        la_after = loadavg()
        log(f"1-minute load average before {la}, after {la_after}")
        try:
            import json
            s = json.loads(line)
            wrk_text = (f"wrk: {s['rps']:.0f} req/s, p50 {s['latency_us']['p50'] / 1000:.1f} ms, "
                        f"non-2xx {s['errors']['status']}")
        except (ValueError, KeyError, TypeError):
            wrk_text = "wrk: no summary"
        conditions = (f"{args.connections} connections; {wrk_text} (while sampled: py-spy pauses "
                      f"the worker {args.rate} times a second unless --nonblocking); 1-minute load "
                      f"average before {la}, after {la_after}"
                      + (" — **busy machine**" if warning else ""))
    finally:
        peer.stop()
    return out, conditions


def main(argv: list[str] | None = None) -> int:
    import dataset
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", action="append", default=[], metavar="FILE",
                    help="aggregate this py-spy raw file (repeatable) instead of recording")
    ap.add_argument("--workload", default="first-page", choices=dataset.KINDS)
    ap.add_argument("--rows", type=int, default=100_000, help="bench table size (default 100000)")
    ap.add_argument("--duration", type=float, default=10, help="recorded seconds (default 10)")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second (default 100)")
    ap.add_argument("--idle", action="store_true", help="py-spy --idle: keep idle threads' samples")
    ap.add_argument("--gil", action="store_true",
                    help="py-spy --gil: only the thread holding the GIL (the Python CPU time)")
    ap.add_argument("--nonblocking", action="store_true",
                    help="py-spy --nonblocking: do not pause the worker while sampling")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.rate <= 0 or args.connections < 1:
        ap.error("--duration, --rate and --connections must be positive")
    files = [Path(f) for f in args.raw]
    for f in files:
        if not f.is_file():
            ap.error(f"no such file: {f}")
    conditions = ""
    if not files:
        raw, conditions = record(args)
        files = [raw]
    aggs = [aggregate(f) for f in files]
    text = render(aggs)
    print("\n" + text)
    if not args.raw:
        md = files[0].with_suffix(".md")
        md.write_text(f"# Profile of artois-geo, {args.workload} at {args.rows:,} rows\n\n"
                      f"Command: `.venv/bin/python bench/profile.py {' '.join(sys.argv[1:])}`; "
                      f"raw: `{files[0].name}`\n\n{conditions}.\n\n" + text)
        print(f"wrote {files[0]} and {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
