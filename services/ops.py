"""Operations: /health (alive), /ready (store and job manager), /metrics (Prometheus), and
one structured log line per request.

Metrics are shared by the uvicorn workers through prometheus_client's multiprocess mode:
`artois-geo serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers start
(without it, as under a plain `uvicorn services.app:app`, each process counts for itself).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.routes import RouteTable, route_of
from services.settings import get_settings

ACCESS_LOG = logging.getLogger("artois_geo.access")
READY_TIMEOUT_S = 3.0

REQUESTS = Counter("artois_http_requests_total", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("artois_http_request_duration_seconds", "Time to answer a request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
JOBS = Gauge("artois_jobs", "Jobs in the job store by status", ["status"],
             multiprocess_mode="livemax")

class RequestMetrics:
    """Counts and times every request; logs it as one JSON line (logger artois_geo.access).

    The `route` label is the template of the matched route (services/routes.py), found here,
    the outermost layer that needs it, and kept in the scope for the caching layer: label
    values stay few (never a raw path)."""

    def __init__(self, app: ASGIApp, routes: RouteTable | None = None):
        self.app = app
        self.routes = routes or RouteTable([])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        route = route_of(scope, self.routes).template
        status = 500

        async def send_wrapper(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            record(scope, route, status, time.perf_counter() - started)


_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}
MAX_SERIES = 4096  # (method, route template, status) kept; labels() finds the rest


def record(scope: Scope, route: str, status: int, elapsed: float) -> None:
    """Count, time and log one answered request (RequestMetrics, services/hotread.py)."""
    key = (scope["method"], route, status)
    series = _SERIES.get(key)
    if series is None:  # labels() takes a lock and builds its key: once per series
        series = (REQUESTS.labels(key[0], route, str(status)), LATENCY.labels(key[0], route))
        if len(_SERIES) < MAX_SERIES:
            _SERIES[key] = series
    series[0].inc()
    series[1].observe(elapsed)
    if ACCESS_LOG.isEnabledFor(logging.INFO):
        ACCESS_LOG.info("request", extra={"fields": {
            "method": scope["method"], "path": scope["path"], "route": route,
            "status": status, "duration_ms": round(elapsed * 1000, 2),
            "client": (scope.get("client") or ["-"])[0]}})


# characters JSON leaves unescaped with ensure_ascii=False that line readers (Python's
# str.splitlines, JavaScript, some log shippers) take for line breaks: a request path holding
# one (`/x%E2%80%A8`) would otherwise split an access line in two
_LINE_BREAKS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage(), "pid": record.process,
        }
        entry.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str).translate(_LINE_BREAKS)


def configure_logging(level: str = "warning", fmt: str = "json", access: bool = False) -> None:
    """Root logging for the server processes (ARTOIS_LOG_LEVEL, ARTOIS_LOG_FORMAT)."""
    import time as _time
    handler = logging.StreamHandler()
    if fmt == "json":
        formatter = JSONFormatter()
        formatter.converter = _time.gmtime
        handler.setFormatter(formatter)
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    ACCESS_LOG.setLevel(logging.INFO if access else logging.WARNING)


# ---------------------------------------------------------------------------- endpoints
_last_queue: dict[str, Any] = {}  # the last queue report read, for /health under load


async def health(request: Request) -> Response:
    """Alive (always 200 while the process answers), with the job queue when it can be read
    within 0.5 s (else the last one read, with its age in seconds)."""
    jobs = await _check(_check_jobs, 0.5)
    queue = jobs.get("queue")
    if queue is not None:
        _last_queue.update(queue=queue, at=time.time())
    elif _last_queue:
        queue = {**_last_queue["queue"], "age_s": round(time.time() - _last_queue["at"], 1)}
    return JSONResponse({"status": "ok", "queue": queue})


def _check_database() -> dict[str, Any]:
    if not get_settings().database_url:
        return {"status": "ok", "store": "embedded"}
    from services.store.postgis import pool as db
    started = time.perf_counter()
    with db.pool().connection(timeout=READY_TIMEOUT_S) as conn:
        conn.execute("SELECT 1")
    return {"status": "ok", "store": "postgis",
            "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _check_jobs() -> dict[str, Any]:
    from services.jobs.api import queue_report
    queue = queue_report()
    for status, n in queue.pop("by_status").items():
        JOBS.labels(status).set(n)
    saturated = queue["queued"] >= queue.pop("max_queued")
    return {"status": "saturated" if saturated else "ok", "queue": queue}


async def _check(fn, timeout: float = READY_TIMEOUT_S) -> dict[str, Any]:
    try:
        return await asyncio.wait_for(run_in_threadpool(fn), timeout)
    except asyncio.TimeoutError:
        return {"status": "down", "detail": f"no answer within {timeout:g} s"}
    except Exception as err:  # noqa: BLE001 - readiness reports, it does not fail
        return {"status": "down", "detail": f"{type(err).__name__}: {err}"[:300]}


async def ready(request: Request) -> Response:
    checks = {"database": await _check(_check_database), "jobs": await _check(_check_jobs)}
    ok = all(c["status"] == "ok" for c in checks.values())
    return JSONResponse({"status": "ok" if ok else "down", "checks": checks,
                         "queue": checks["jobs"].get("queue")},
                        status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    await _check(_check_jobs)  # refresh the job gauges of this process
    if get_settings().metrics_dir:
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def routes() -> list[Route]:
    return [Route("/health", health, methods=["GET", "HEAD"]),
            Route("/ready", ready, methods=["GET", "HEAD"]),
            Route("/metrics", metrics, methods=["GET"])]
