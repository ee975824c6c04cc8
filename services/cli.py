"""Command line: `artois-geo build`, `artois-geo serve`, `artois-geo worker`, imports."""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time

from services.settings import Settings, environment_default, export_environment


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from services.build import build
    from services.config import write_runtime_config
    from services.store import get_catalog

    started = time.perf_counter()
    print(f"Building the embedded store in {settings.store_dir}", flush=True)
    manifest = build(settings, only=args.collections or None)
    missing = [cid for cid in get_catalog(settings).specs if cid not in manifest]
    if missing:  # a partial build on a new store: the server needs the rest first
        print(f"Not built yet: {', '.join(missing)} (run `artois-geo build` before serving)")
    else:
        write_runtime_config(settings)  # validates the configuration and the OpenAPI document
    print(f"{len(manifest)} collections ready in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from services.config import write_runtime_config

    settings.host, settings.port = args.host, args.port
    write_runtime_config(settings)
    workers = args.workers or settings.workers
    _fresh_metrics_dir(settings)
    if args.access_log:  # our JSON access lines (services.ops), not uvicorn's plain ones
        export_environment(ARTOIS_ACCESS_LOG="true")
    environment_default("ARTOIS_LOG_LEVEL", args.log_level)
    job_workers = settings.job_worker_count if args.workers_jobs is None else args.workers_jobs
    pool = _start_job_pool(job_workers)
    print(f"Serving on {settings.url} with {workers} worker(s) and {job_workers} job "
          f"worker(s)", flush=True)
    try:
        # uvloop + httptools: plain asyncio/h11 added ~40 ms per keep-alive request with
        # several workers on these machines (uvicorn issue 3149); httptools' protocol with
        # an answer's headers and body in one write (services/http_protocol.py).
        uvicorn.run("services.app:app", host=args.host, port=args.port, workers=workers,
                    loop="uvloop", http="services.http_protocol:CoalescingHttpToolsProtocol",
                    log_level=args.log_level, access_log=False, proxy_headers=True,
                    timeout_graceful_shutdown=5)
    finally:
        _stop_job_pool(pool)
    return 0


def _start_job_pool(count: int):
    """The job workers of this server: `artois-geo worker` as a child process (it stops when
    this process ends, even when killed)."""
    import subprocess
    if count <= 0:
        return None
    # --parent: the pool ends when this process does, even when this one dies while the
    # pool is still starting (its own parent would then already be init)
    return subprocess.Popen([sys.executable, "-m", "services.cli", "worker", "--workers",
                             str(count), "--parent", str(os.getpid())])  # this environment


def _stop_job_pool(pool) -> None:
    if pool is None or pool.poll() is not None:
        return
    pool.terminate()
    try:
        pool.wait(timeout=15)
    except Exception:  # noqa: BLE001
        pool.kill()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from services.jobs.worker import run_pool

    count = settings.job_worker_count if args.workers is None else args.workers
    if count <= 0:
        print("artois-geo worker: --workers must be at least 1", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(args.log_level.upper())
    print(f"Job workers: {count} ({'PostgreSQL' if settings.database_url else 'SQLite'} "
          f"queue)", flush=True)
    return run_pool(count, parent=args.parent)


def _fresh_metrics_dir(settings: Settings) -> None:
    """Prometheus multiprocess mode: the workers write their counters to one folder per
    port, emptied at each start (stale files would be counted again)."""
    metrics_dir = settings.var_dir / "run" / f"metrics-{settings.port}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    export_environment(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(prog="artois-geo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build the embedded store (GeoPackage + COG)")
    p_build.add_argument("collections", nargs="*", help="only these collections (and their inputs)")
    p_build.set_defaults(func=cmd_build)
    p_serve = sub.add_parser("serve", help="serve the OGC API")
    p_serve.add_argument("--host", default=settings.host)
    p_serve.add_argument("--port", type=int, default=settings.port)
    p_serve.add_argument("--workers", type=int, default=None)
    p_serve.add_argument("--log-level", default="warning")
    p_serve.add_argument("--access-log", action="store_true")
    p_serve.add_argument("--workers-jobs", type=int, default=None,
                         help="job worker processes beside the server (default: "
                              "ARTOIS_JOB_WORKERS, else the CPU count; 0: none)")
    p_serve.set_defaults(func=cmd_serve)
    p_worker = sub.add_parser("worker", help="run job workers only (no HTTP), on the same "
                              "store as the servers")
    p_worker.add_argument("--workers", type=int, default=None,
                          help="worker processes (default: ARTOIS_JOB_WORKERS, else CPUs)")
    p_worker.add_argument("--log-level", default="warning")
    p_worker.add_argument("--parent", type=int, default=None, metavar="PID",
                          help="stop when process PID ends (`serve` gives its own; default: "
                               "when the parent process ends, unless it is init)")
    p_worker.set_defaults(func=cmd_worker)
    from services.importer import add_commands  # import, history, restore
    add_commands(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
