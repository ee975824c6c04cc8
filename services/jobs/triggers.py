"""Recompute on change: a process whose stored results read some collections gets a job when
they change.

A process declares it in its metadata (``PROCESS_METADATA`` of its processor module)::

    "recompute": {
        "on": ["friches", "zae", ...],       # the collections its results read
        "inputs": {"batch": True},           # the inputs of the job
        "when": "package.module:function",   # optional: function(settings) -> bool, whether
    }                                        #   there are results to keep up to date

``data_changed(collection_ids, settings=None, *, cause=...)`` is called after a committed
change of collections: a Part 4 write (services/transactions.py), ``artois-geo import`` and
``restore`` (services/importer.py), ``artois-geo build`` (services/build.py, the collections it
changed: not those the store reports unchanged).
Process results written back (mutability's ``store_results``) never call it: no loops.

For each process declaring one of the collections it queues one asynchronous job with the
declared inputs in the job table (services/store/jobs.py ``submit``, the row of
services/jobs/api.py ``execute``), owned by the system user :data:`SYSTEM_USER` (its name is
the one of the audit entries the job writes), in French. It queues nothing when a job of the
same process by that user is still waiting (``accepted``): that job will read the change. A
job already running may have read the data before the change, so a new one is queued then.
The queue limits apply (a full queue is logged). Whatever happens, the caller's change is
done: this function logs its problems and never raises.

The check for a waiting job and the submission are two statements, done one at a time in a
server process (a lock); two server processes changing data at the same instant may still queue
two jobs: the second one then finds nothing to change. A Part 4 write queues its job before
answering, so that the client's next request sees it.
"""
from __future__ import annotations

import importlib
import logging
import threading
import uuid
from typing import Any, Iterable

LOGGER = logging.getLogger("artois_geo.recompute")

SYSTEM_USER = "recalcul"
CLIENT_KEY = "system:" + SYSTEM_USER
LANG = "fr"
MAX_CAUSE = 200

_declarations: dict[str, dict[str, Any]] | None = None
_lock = threading.Lock()
_submit_lock = threading.Lock()


def _load(dotted: str):
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def declarations() -> dict[str, dict[str, Any]]:
    """``{process id: {"on": set, "inputs": dict, "when": dotted or None, "timeout": s}}`` of
    the published processes declaring ``recompute`` (read once per server process)."""
    global _declarations
    with _lock:
        if _declarations is not None:
            return _declarations
        from processes.registry import PROCESSES
        found: dict[str, dict[str, Any]] = {}
        for process_id, dotted in PROCESSES.items():
            module_name, _, class_name = dotted.rpartition(".")
            try:
                module = importlib.import_module(module_name)
                metadata = getattr(module, "PROCESS_METADATA", None)
                if metadata is None:  # the metadata of an instance, if not at module level
                    metadata = getattr(module, class_name)({"name": process_id}).metadata
            except Exception:  # noqa: BLE001 - a broken process must not stop the others
                LOGGER.exception("recompute: cannot read the metadata of %s", process_id)
                continue
            declared = (metadata or {}).get("recompute")
            if not isinstance(declared, dict) or not declared.get("on"):
                continue
            processor = getattr(module, class_name, None)
            found[process_id] = {
                "on": set(declared["on"]),
                "inputs": dict(declared.get("inputs") or {}),
                "when": declared.get("when"),
                "timeout": getattr(processor, "job_timeout", None),
            }
        _declarations = found
        return found


def _wanted(declared: dict[str, Any], settings) -> bool:
    """Whether the process has results to keep up to date (its `when` hook, default yes)."""
    if not declared.get("when"):
        return True
    return bool(_load(declared["when"])(settings))


def _waiting(store, process_id: str) -> bool:
    """A job of `process_id` by the system user still waits in the queue."""
    rows, _ = store.page(100, 0, user=SYSTEM_USER, status="accepted")
    return any(r.get("process_id") == process_id for r in rows)


def _row(process_id: str, declared: dict[str, Any], settings, cause: str) -> dict[str, Any]:
    from services.i18n import message
    from services.store.jobs import utcnow
    now = utcnow()
    texts = message("job_recompute_accepted", cause=cause)
    return {"identifier": str(uuid.uuid4()), "type": "process", "process_id": process_id,
            "status": "accepted", "progress": 0, "created": now, "updated": now,
            "inputs": dict(declared["inputs"]), "requested_outputs": None, "response": "raw",
            "subscriber": None, "user_id": SYSTEM_USER, "token_hash": None,
            "client_key": CLIENT_KEY, "lang": LANG, "attempts": 0,
            "timeout": settings.job_timeout_for(process_id, declared.get("timeout")),
            "message": texts["en"], "message_fr": texts["fr"]}


def data_changed(collection_ids: Iterable[str], settings=None, *, cause: str,
                 user: str | None = None) -> list[str]:
    """After a committed change of `collection_ids`: first the figures of other collections
    that read them, in their own transaction (`refresh_after` of the collection files,
    services/store/writer.py: e.g. the parks' friches count), then one recompute job per
    process that reads any of them (see the module documentation). Returns the ids of the
    jobs queued; never raises."""
    queued: list[str] = []
    try:
        changed = {str(c) for c in collection_ids}
        if not changed:
            return queued
        if settings is None:
            from services.settings import get_settings
            settings = get_settings()
        cause = str(cause)[:MAX_CAUSE]
    except Exception:  # noqa: BLE001 - the change is done
        LOGGER.exception("after %s", cause)
        return queued
    try:
        from services.store.writer import refresh_dependents
        refresh_dependents(settings, changed, user)
    except Exception:  # noqa: BLE001 - the change is done; derived figures are best effort
        LOGGER.exception("derived figures after %s", cause)
    try:
        concerned = {pid: d for pid, d in declarations().items() if d["on"] & changed}
        if not concerned:
            return queued
        from services.store.jobs import open_store
        store = open_store(settings)
    except Exception:  # noqa: BLE001 - the change is done; its recompute is best effort
        LOGGER.exception("recompute after %s: cannot reach the job store", cause)
        return queued
    with _submit_lock:  # one check-and-submit at a time in this server process
        for process_id, declared in sorted(concerned.items()):
            queued += _recompute(store, process_id, declared, settings, cause)
    return queued


def _recompute(store, process_id: str, declared: dict[str, Any], settings, cause: str
               ) -> list[str]:
    """Queue one job of `process_id` unless it has no results or one waits already."""
    try:
        if not _wanted(declared, settings):
            LOGGER.info("recompute of %s after %s: no results to keep up to date",
                        process_id, cause)
            return []
        if _waiting(store, process_id):
            LOGGER.info("recompute of %s after %s: a job is already waiting", process_id, cause)
            return []
        row = _row(process_id, declared, settings, cause)
        refused = store.submit(row, settings.job_max_queued, settings.job_max_queued_per_owner)
        if refused:
            LOGGER.warning("recompute of %s after %s not queued: the %s limit is reached",
                           process_id, cause, refused)
            return []
        LOGGER.info("recompute of %s after %s: job %s queued", process_id, cause,
                    row["identifier"])
        return [row["identifier"]]
    except Exception:  # noqa: BLE001 - never an error for the write that triggered it
        LOGGER.exception("recompute of %s after %s failed", process_id, cause)
        return []
