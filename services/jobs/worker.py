"""Job workers: a fixed pool of processes taking queued jobs from the job store.

`artois-geo worker --workers N` runs a pool alone (no HTTP); `artois-geo serve` starts one
beside its HTTP workers (`--workers-jobs N`, setting `ARTOIS_JOB_WORKERS`, default the CPU
count; 0 for none). With PostgreSQL every pool on every machine takes jobs from the same
table.

The pool process imports the processes once and forks its workers (a worker that ends is
replaced within a second). Each worker leads its own process group, runs at a lower priority
than the API (`ARTOIS_JOB_NICE`), and loops: claim the oldest queued job, run it, write its
outcome. While a job runs, a watchdog thread renews its lease every second and ends the
worker (and whatever it started) when the job is dismissed, taken over, or past its time
limit (the job then fails with `JobTimeout`). Between jobs a worker queues again the jobs
whose worker is gone (lease expired, or its process dead on this machine) and deletes old
finished jobs. On SIGTERM a worker gives its running job back to the queue and stops; a job
interrupted MAX_ATTEMPTS times fails.

Processors keep pygeoapi's contract, `execute(data) -> (mimetype, outputs)`; one that has a
`context` attribute gets a `JobContext` (job id, attempt, language, user, deadline,
`progress(percent, message)`), one with an `on_progress` attribute the progress callable.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from pygeoapi.util import json_serial

from services.jobs.errors import error_of, status_message, texts
from services.store.jobs import MAX_ATTEMPTS, JobStore, open_store, utcnow

LOGGER = logging.getLogger("artois_geo.jobs")
HOST = socket.gethostname()
TICK_S = 1.0


@dataclass
class JobContext:
    """What a processor may use from the job it runs."""
    job_id: str
    attempt: int
    lang: str = "fr"
    user: str | None = None
    deadline: float = float("inf")  # time.monotonic() value
    progress: Callable[[float, Any], None] = field(default=lambda percent, text=None: None)

    @property
    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def encode(mimetype: str | None, outputs: Any) -> tuple[bytes, str]:
    if isinstance(outputs, (bytes, bytearray)):
        return bytes(outputs), mimetype or "application/octet-stream"
    if isinstance(outputs, str):
        return outputs.encode("utf-8"), mimetype or "text/plain"
    return (json.dumps(outputs, ensure_ascii=False, default=json_serial).encode("utf-8"),
            mimetype or "application/json")


def _kill_group() -> None:
    """End this worker and every process it started, now."""
    try:
        if os.getpgid(0) == os.getpid():
            os.killpg(0, signal.SIGKILL)
    finally:
        os._exit(1)


class Worker:
    """One worker process's loop (see the module documentation)."""

    def __init__(self, processes: dict[str, str], settings=None):
        from services.settings import get_settings
        self.settings = settings or get_settings()
        self.processes = processes
        self.id = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.store: JobStore | None = None
        self.current: tuple[str, int] | None = None
        self.stopping = False
        self.parent = os.getppid()
        self._processors: dict[str, Any] = {}

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the pool, which stops us
        last_beat = last_recover = last_purge = 0.0
        idle = self.settings.job_poll
        while not self.stopping:
            if os.getppid() != self.parent:  # the pool is gone
                return
            now = time.time()
            try:
                if self.store is None:
                    self.store = open_store(self.settings)
                if now - last_beat >= 2 * TICK_S:
                    self.store.beat(self.id, now)
                    last_beat = now
                if now - last_recover >= 2 * TICK_S:
                    self.recover(now)
                    last_recover = now
                if now - last_purge >= 600:
                    self.store.purge(utcnow() - timedelta(days=self.settings.job_retention_days))
                    self.store.forget_workers(now, self.settings.job_lease)
                    last_purge = now
                row = self.store.claim(self.id, os.getpid(), now, list(self.processes))
            except Exception as err:  # noqa: BLE001 - database away: try again shortly
                LOGGER.warning("job worker: %s", err)
                time.sleep(1.0)
                continue
            if row is None:
                time.sleep(idle)
                continue
            self.execute(row)
        try:
            if self.store is not None:
                self.store.leave(self.id)
        except Exception:  # noqa: BLE001
            pass

    def _on_term(self, *_args) -> None:
        self.stopping = True
        if self.current is not None:  # give the job back to the queue, then go
            job_id, attempt = self.current
            try:
                self.release(job_id, attempt)
            finally:
                _kill_group()

    def release(self, job_id: str, attempt: int) -> None:
        values = self._requeue_values(attempt)
        self.store.update(job_id, values, status_in=("running",), worker=self.id,
                          attempts=attempt)

    @staticmethod
    def _requeue_values(attempts: int) -> dict[str, Any]:
        now = utcnow()
        if attempts >= MAX_ATTEMPTS:
            t = texts("job_gave_up", attempts=attempts)
            return {"status": "failed", "finished": now, "updated": now, "message": t["en"],
                    "message_fr": t["fr"],
                    "error": {"status": 500, "code": "JobInterrupted", **t}}
        return {"status": "accepted", "worker": None, "worker_pid": None, "started": None,
                "progress": 0, "updated": now,
                **status_message("job_restarted", attempt=attempts + 1, max=MAX_ATTEMPTS)}

    def recover(self, now: float) -> None:
        """Queue again (or give up) the running jobs whose worker is gone."""
        gone = list(self.store.expired(now, self.settings.job_lease))
        for row in self.store.running_on(HOST):  # a dead process on this machine: no wait
            pid = str(row["worker"]).split(":")[1] if row["worker"] else ""
            if pid.isdigit() and row["worker"] != self.id and not _alive(int(pid)):
                gone.append(row)
        for row in gone:
            values = self._requeue_values(int(row["attempts"]))
            if self.store.update(row["identifier"], values, status_in=("running",),
                                 worker=row["worker"], attempts=int(row["attempts"])):
                LOGGER.warning("job %s: worker %s gone, %s", row["identifier"], row["worker"],
                               values["status"])

    # -- one job ----------------------------------------------------------------------------
    def processor(self, process_id: str):
        from pygeoapi.plugin import load_plugin
        if process_id not in self._processors:
            self._processors[process_id] = load_plugin(
                "process", {"name": self.processes[process_id]})
        return self._processors[process_id]

    def execute(self, row: dict[str, Any]) -> None:
        job_id, attempt = row["identifier"], int(row["attempts"])
        store = self.store
        if attempt > MAX_ATTEMPTS or row["process_id"] not in self.processes:
            key = "job_gave_up" if attempt > MAX_ATTEMPTS else "job_unknown_process"
            t = texts(key, attempts=attempt - 1, process=row["process_id"])
            now = utcnow()
            store.update(job_id, {"status": "failed", "finished": now, "updated": now,
                                  "message": t["en"], "message_fr": t["fr"],
                                  "error": {"status": 500, "code": "JobInterrupted", **t}},
                         status_in=("running",), worker=self.id, attempts=attempt)
            return
        timeout = float(row.get("timeout") or self.settings.job_timeout_for(row["process_id"]))
        ctx = JobContext(job_id, attempt, row.get("lang") or "fr", row.get("user_id"),
                         time.monotonic() + timeout, self._reporter(job_id, attempt))
        running = status_message("job_running") if attempt == 1 else \
            status_message("job_restarted", attempt=attempt, max=MAX_ATTEMPTS)
        store.update(job_id, running, status_in=("running",), worker=self.id, attempts=attempt)
        self.current = (job_id, attempt)
        subscriber = row.get("subscriber") or {}
        self._notify(subscriber.get("inProgressUri"), self._status_payload(job_id))
        done = threading.Event()
        threading.Thread(target=self._watch, args=(job_id, attempt, ctx, timeout, done),
                         daemon=True, name="artois-job-watch").start()
        try:
            processor = self.processor(row["process_id"])
            processor.set_job_id(job_id)
            if hasattr(processor, "context"):
                processor.context = ctx
            if hasattr(processor, "on_progress"):
                processor.on_progress = ctx.progress
            if self.settings.job_test_delay > 0:
                time.sleep(self.settings.job_test_delay)
            kwargs = {"outputs": row["requested_outputs"]} if processor.supports_outputs else {}
            mimetype, outputs = processor.execute(row["inputs"] or {}, **kwargs)
            blob, mimetype = encode(mimetype, outputs)
            if len(blob) > self.settings.job_max_result_bytes:
                raise _TooLarge(len(blob), self.settings.job_max_result_bytes)
            finished = utcnow()
            values = {"status": "successful", "result": blob, "mimetype": mimetype,
                      "progress": 100, "finished": finished, "updated": finished,
                      **status_message("job_complete")}
        except Exception as err:  # noqa: BLE001 - every failure is recorded on the job
            error = err.to_dict() if isinstance(err, _TooLarge) else error_of(err)
            if error["status"] >= 500:
                LOGGER.exception("job %s failed", job_id)
            finished = utcnow()
            values = {"status": "failed", "error": error, "finished": finished,
                      "updated": finished, "message": error["en"], "message_fr": error["fr"]}
        finally:
            done.set()
        written = store.update(job_id, values, status_in=("running",), worker=self.id,
                               attempts=attempt)
        self.current = None
        if written and values["status"] == "successful" and subscriber.get("successUri"):
            self._notify(subscriber["successUri"], outputs if isinstance(outputs, (dict, list))
                         else self._status_payload(job_id), wait=True)
        elif written and values["status"] == "failed" and subscriber.get("failedUri"):
            self._notify(subscriber["failedUri"], self._status_payload(job_id), wait=True)

    def _status_payload(self, job_id: str) -> dict[str, Any]:
        row = self.store.get(job_id) or {}
        return {"jobID": job_id, "type": "process", "processID": row.get("process_id"),
                "status": row.get("status"), "message": row.get("message"),
                "progress": row.get("progress"), "error": row.get("error")}

    @staticmethod
    def _notify(url: str | None, payload: Any, wait: bool = False) -> None:
        """POST a callback (services/jobs/callbacks.py): in a thread while the job runs,
        before the next job once it is over."""
        if not url:
            return
        from services.jobs.callbacks import post
        if wait:
            post(url, payload)
        else:
            threading.Thread(target=post, args=(url, payload), daemon=True).start()

    def _watch(self, job_id: str, attempt: int, ctx: JobContext, timeout: float,
               done: threading.Event) -> None:
        """Renew the lease; end the worker when the job is no longer ours or out of time."""
        store = open_store(self.settings)
        while not done.wait(TICK_S):
            if os.getppid() != self.parent:
                _kill_group()
            if ctx.remaining <= 0:
                t = texts("job_timeout", seconds=f"{timeout:g}")
                now = utcnow()
                store.update(job_id, {"status": "failed", "finished": now, "updated": now,
                                      "error": {"status": 500, "code": "JobTimeout", **t},
                                      "message": t["en"], "message_fr": t["fr"]},
                             status_in=("running",), worker=self.id, attempts=attempt)
                _kill_group()
            try:
                if not store.renew(job_id, self.id, attempt, time.time()) and not done.is_set():
                    LOGGER.info("job %s dismissed or taken over: worker stops", job_id)
                    _kill_group()
            except Exception as err:  # noqa: BLE001 - database away: the lease may run out
                LOGGER.warning("lease of job %s: %s", job_id, err)

    def _reporter(self, job_id: str, attempt: int) -> Callable:
        last = [0.0]

        def report(percent: float, text: str | dict | None = None) -> None:
            now = time.monotonic()
            if now - last[0] < 0.5 and percent < 95:
                return
            last[0] = now
            values: dict[str, Any] = {"progress": max(10, min(95, int(percent))),
                                      "updated": utcnow()}
            if isinstance(text, dict):
                values.update(message=text.get("en"), message_fr=text.get("fr"))
            elif text:
                values.update(message=str(text), message_fr=str(text))
            try:
                self.store.update(job_id, values, status_in=("running",), worker=self.id,
                                  attempts=attempt)
            except Exception as err:  # noqa: BLE001 - progress is best effort
                LOGGER.warning("progress of job %s: %s", job_id, err)
        return report


class _TooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__("result too large")
        self.size, self.limit = size, limit

    def to_dict(self) -> dict[str, Any]:
        return {"status": 413, "code": "ResultTooLarge",
                **texts("job_result_too_large", size=self.size, limit=self.limit)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return True


# ---------------------------------------------------------------------------- the pool
def _worker_main(processes: dict[str, str]) -> None:
    os.setsid()
    try:
        from services.settings import get_settings
        os.nice(get_settings().job_nice)
    except OSError:
        pass
    Worker(processes).run()
    os._exit(0)


def run_pool(count: int, processes: dict[str, str] | None = None,
             parent: int | None = None) -> int:
    """Run `count` workers until SIGTERM/SIGINT or until the parent process ends (`parent`,
    its pid, when given: a pool whose parent died while it was starting ends too)."""
    import importlib
    if processes is None:
        from processes.registry import PROCESSES
        processes = dict(PROCESSES)
    for dotted in processes.values():  # imported once here, shared by every fork
        try:
            importlib.import_module(dotted.rpartition(".")[0])
        except Exception as err:  # noqa: BLE001
            LOGGER.warning("process module %s not preloaded: %s", dotted, err)
    open_store().setup()  # create the tables before the workers race for them
    _close_pools()
    watched = parent is not None
    parent = parent if watched else os.getppid()
    stopping = threading.Event()

    def stop(*_args):
        stopping.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children: dict[int, float] = {}

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _worker_main(processes)
            finally:
                os._exit(1)
        children[pid] = time.monotonic()

    LOGGER.info("job pool: %s worker(s)", count)
    while not stopping.is_set():
        if os.getppid() != parent and (watched or parent != 1):
            break  # the server is gone (before any worker starts, if already then)
        while len(children) < count:
            spawn()
        for started in _reap(children):
            if time.monotonic() - started < 2:  # crashing at start: do not spin
                stopping.wait(2)
        stopping.wait(0.5)
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while children and time.monotonic() < deadline:
        _reap(children)
        time.sleep(0.05)
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return 0


def _reap(children: dict[int, float]) -> list[float]:
    """Forget the children that ended; their start times."""
    ended = []
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            ended.append(children.pop(pid))
    return ended


def _close_pools() -> None:
    """No database connection crosses a fork."""
    try:
        from services.store.postgis import pool as db
        db.close_pools()
    except (ImportError, AttributeError):
        pass
    from services.store import jobs as store
    store._STORES.clear()
