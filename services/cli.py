"""Command line: `artois-geo build` and `artois-geo serve`."""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time

from services.settings import Settings


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from services.build import build
    from services.config import write_runtime_config

    started = time.perf_counter()
    print(f"Building the embedded store in {settings.store_dir}", flush=True)
    manifest = build(settings, only=args.collections or None)
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
        os.environ["ARTOIS_ACCESS_LOG"] = "true"
    os.environ.setdefault("ARTOIS_LOG_LEVEL", args.log_level)
    print(f"Serving on {settings.url} with {workers} worker(s)", flush=True)
    # uvloop + httptools: plain asyncio/h11 added ~40 ms per keep-alive request with
    # several workers on these machines (uvicorn issue 3149).
    uvicorn.run("services.app:app", host=args.host, port=args.port, workers=workers,
                loop="uvloop", http="httptools", log_level=args.log_level,
                access_log=False, proxy_headers=True,
                timeout_graceful_shutdown=5)
    return 0


def _fresh_metrics_dir(settings: Settings) -> None:
    """Prometheus multiprocess mode: the workers write their counters to one folder per
    port, emptied at each start (stale files would be counted again)."""
    metrics_dir = settings.var_dir / "run" / f"metrics-{settings.port}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)


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
    p_serve.set_defaults(func=cmd_serve)
    from services.importer import add_commands  # import, history, restore
    add_commands(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
