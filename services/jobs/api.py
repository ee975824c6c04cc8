"""OGC API Processes execution and jobs, served in front of pygeoapi (which keeps the process
list and descriptions):

- `POST /processes/{processId}/execution`: `application/json` only (415), body at most
  `ARTOIS_JOB_MAX_INPUT_BYTES` counted as it arrives (413), access per process
  (services/jobs/access.py: 401/403), inputs checked against the description (400), queue
  limits (429 with Retry-After). The job is queued and the answer comes at once: 201 with the
  status document for `Prefer: respond-async`; otherwise the request waits for its job
  without holding a thread (it polls the store), and gets the result, or after
  `ARTOIS_JOB_SYNC_WAIT` seconds a 201 pointing at the job.
- `GET /jobs` (the caller's jobs; admins: all), `GET /jobs/{jobId}`,
  `GET /jobs/{jobId}/results` (JSON unless HTML is asked for: OWSLib sends no Accept),
  `DELETE /jobs/{jobId}` (dismiss a queued or running job, delete a finished one). A job of
  somebody else answers 404, like a job that does not exist.
An anonymous submission gets its job's secret token once, in `X-Job-Token` (and in the
status document of the creation answer); the client sends it back in the same header.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.errors import OGCError
from services.i18n import message, pick_language
from services.jobs import access
from services.jobs.callbacks import check_subscriber
from services.jobs.errors import ProcessError, error_of, show
from services.jobs.inputs import validate_inputs
from services.store.jobs import ACTIVE, FINISHED, fmt_time, open_store, utcnow

JSON_TYPES = ("application/json",)
JSON_RESULT_TYPES = (None, "", "application/json", "application/ld+json",
                     "application/geo+json")
MAX_DEPTH = 64
RETRY_AFTER_S = 10


def handled(fn):
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except OGCError as err:  # services.app's OGCExceptionMiddleware picks the language
            return err.response()
        except Exception as err:  # the job store's database is away: 503, not 500
            from services.store.postgis import pool as db
            if not db.unreachable(err):
                raise
            return OGCError("database_unavailable", status=503, code="ServiceUnavailable",
                            headers={"Retry-After": str(db.RETRY_AFTER_S)}).response()
    endpoint.__name__ = fn.__name__
    endpoint.__doc__ = fn.__doc__
    return endpoint


# ---------------------------------------------------------------------------- helpers
def _settings():
    from services.settings import get_settings
    return get_settings()


def _lang(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"),
                         request.query_params.get("lang"))


def _base_url() -> str:
    from pygeoapi.starlette_app import CONFIG
    return str(CONFIG["server"]["url"]).rstrip("/")


@lru_cache(maxsize=None)
def _processor(process_id: str):
    from pygeoapi.plugin import load_plugin

    from processes.registry import PROCESSES
    if process_id not in PROCESSES:
        return None
    return load_plugin("process", {"name": PROCESSES[process_id]})


def preload() -> None:
    """Load every processor (and its imports) now, at start, rather than on the first
    execution of each server process, which would stall that process for about a second."""
    from processes.registry import PROCESSES
    for process_id in PROCESSES:
        try:
            _processor(process_id)
        except Exception:  # noqa: BLE001 - a broken process must not stop the server
            import logging
            logging.getLogger("artois_geo.jobs").exception("process %s not loaded", process_id)
    try:  # the job store set up (tables checked, PostGIS pool opened) before the first request
        open_store()
    except Exception:  # noqa: BLE001 - a database down at start: /ready says so, later
        import logging
        logging.getLogger("artois_geo.jobs").warning("job store not reachable at start")


async def _store():
    return await run_in_threadpool(open_store)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, counted as it arrives whatever the transfer encoding: 413 past `limit`."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise OGCError("payload_too_large", status=413, code="PayloadTooLarge")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise OGCError("job_body_too_deep", max=MAX_DEPTH)
    if isinstance(value, str):
        if "\x00" in value:
            raise OGCError("job_body_nul")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_json(k, depth + 1)
            _check_json(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_json(v, depth + 1)


def _parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise OGCError("job_body_not_object", status=400, code="MissingParameterValue")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OGCError("job_body_not_utf8") from None
    except (ValueError, RecursionError):
        raise OGCError("job_body_not_json") from None
    if not isinstance(body, dict):
        raise OGCError("job_body_not_object")
    _check_json(body)
    return body


def _message(row: dict[str, Any], lang: str) -> str:
    return ((row.get("message_fr") if lang == "fr" else None) or row.get("message") or "")


def status_document(row: dict[str, Any], lang: str, single: bool = True,
                    token: str | None = None) -> dict[str, Any]:
    base = f"{_base_url()}/jobs/{row['identifier']}"
    links = [{"href": base, "rel": "status", "type": "application/json",
              "title": "Job status"},
             {"href": base, "rel": "monitor", "type": "application/json",
              "title": "Job status"}]
    if single:
        links.insert(0, {"href": f"{base}?f=json", "rel": "self", "type": "application/json",
                         "title": "This document"})
        links.append({"href": f"{base}?f=html", "rel": "alternate", "type": "text/html",
                      "title": "This document as HTML"})
        links.append({"href": f"{_base_url()}/jobs", "rel": "up",
                      "type": "application/json", "title": "The job list"})
    if row["status"] == "successful":
        links.append({"href": f"{base}/results?f=json",
                      "rel": "http://www.opengis.net/def/rel/ogc/1.0/results",
                      "type": row.get("mimetype") or "application/json",
                      "title": "Job results"})
    doc = {"type": "process", "processID": row["process_id"], "jobID": row["identifier"],
           "status": row["status"], "message": _message(row, lang),
           "progress": int(row.get("progress") or 0), "created": fmt_time(row["created"]),
           "started": None if row["status"] == "accepted" else fmt_time(row.get("started")),
           "finished": fmt_time(row.get("finished")), "updated": fmt_time(row["updated"]),
           "links": links}
    if token:
        doc["jobToken"] = token
    return doc


def _wants_html(request: Request) -> bool:
    """f=html|json, else the first type of Accept (no Accept: JSON)."""
    f = (request.query_params.get("f") or "").lower()
    if f:
        if f not in ("json", "html"):
            raise OGCError("job_format_invalid", value=show(f))
        return f == "html"
    accept = request.headers.get("accept", "")
    return accept.split(",")[0].strip().lower().startswith("text/html")


def _html(template: str, data: dict[str, Any], lang: str) -> Response:
    from pygeoapi import l10n, util
    from pygeoapi.starlette_app import api_
    content = util.render_j2_template(api_.tpl_config, api_.config["server"]["templates"],
                                      template, data, l10n.str2locale(lang))
    return Response(content, media_type="text/html; charset=utf-8")


def _headers(request: Request) -> list[tuple[bytes, bytes]]:
    return list(request.scope.get("headers", []))


async def _visible_job(request: Request, job_id: str, *, result: bool = False
                       ) -> tuple[dict[str, Any], access.Caller]:
    who = access.job_caller(_headers(request))
    store = await _store()
    row = await run_in_threadpool(store.get, job_id, result=result) \
        if len(job_id) <= 200 and "\x00" not in job_id else None
    if row is None or not who.owns(row):
        raise OGCError("job_not_found", status=404, code="NoSuchJob", id=show(job_id, 100))
    return row, who


# ---------------------------------------------------------------------------- execution
def _prefers_async(request: Request) -> tuple[bool, bool]:
    """(respond-async asked, wait asked) from the Prefer header(s)."""
    prefs = {p.strip().split("=")[0].lower()
             for v in request.headers.getlist("prefer") for p in v.split(",") if p.strip()}
    return "respond-async" in prefs, "wait" in prefs


@handled
async def execute(request: Request) -> Response:
    """Queue a job of the process, then answer 201 (async) or its result (sync)."""
    settings = _settings()
    lang = _lang(request)
    process_id = request.path_params["process_id"]
    processor = await run_in_threadpool(_processor, process_id)  # the first load is slow
    if processor is None:
        raise OGCError("process_not_found", status=404, code="NoSuchProcess",
                       id=show(process_id, 100))
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        raise OGCError("unsupported_media_type", status=415, code="UnsupportedMediaType",
                       ctype=show(ctype or "-", 60))
    body = _parse_body(await _read_body(request, settings.job_max_input_bytes))
    principal = access.caller(_headers(request))
    inputs_raw = body.get("inputs", {})
    role = access.required_role(process_id, processor.metadata,
                                inputs_raw if isinstance(inputs_raw, dict) else {},
                                settings.process_access)
    access.authorise(principal, role)
    unknown = [k for k in body if k not in ("inputs", "outputs", "response", "subscriber")]
    if unknown:
        raise OGCError("job_body_unknown", keys=show(unknown))
    inputs = validate_inputs(process_id, processor.metadata, inputs_raw)
    hook = getattr(processor, "validate_inputs", None)
    if callable(hook):
        try:
            await run_in_threadpool(hook, inputs)
        except ProcessError:
            raise
        except Exception as err:  # noqa: BLE001 - a processor's check refusing the inputs
            e = error_of(err)
            if e["status"] >= 500:
                raise
            raise ProcessError.from_texts(e["fr"], e["en"], status=e["status"],
                                          code=e["code"]) from err
    requested_outputs = body.get("outputs")
    described = processor.metadata.get("outputs") or {}
    if requested_outputs is not None:
        if not isinstance(requested_outputs, dict) or \
                any(k not in described for k in requested_outputs):
            bad = [k for k in requested_outputs if k not in described] \
                if isinstance(requested_outputs, dict) else requested_outputs
            raise ProcessError.of("job_outputs_invalid", outputs=show(bad),
                                  allowed=", ".join(described))
    response = body.get("response", "raw")
    if response not in ("raw", "document"):
        raise ProcessError.of("job_response_invalid", value=show(response))
    subscriber = await run_in_threadpool(check_subscriber, body.get("subscriber"))

    want_async, want_wait = _prefers_async(request)
    jco = processor.metadata.get("jobControlOptions", ["sync-execute"])
    run_async = want_async or "sync-execute" not in jco

    store = await _store()
    key = access.client_key(principal, request.client.host if request.client else None)
    token, token_hash = access.new_token() if principal is None else (None, None)
    job_id = str(uuid.uuid4())
    now = utcnow()
    texts_ = message("job_accepted")
    row = {"identifier": job_id, "type": "process", "process_id": process_id,
           "status": "accepted", "progress": 0, "created": now, "updated": now,
           "inputs": inputs, "requested_outputs": requested_outputs, "response": response,
           "subscriber": subscriber, "user_id": principal.user if principal else None,
           "token_hash": token_hash, "client_key": key, "lang": lang, "attempts": 0,
           "timeout": settings.job_timeout_for(process_id, getattr(processor, "job_timeout",
                                                                    None)),
           "message": texts_["en"], "message_fr": texts_["fr"]}
    refused = await run_in_threadpool(store.submit, row, settings.job_max_queued,
                                      settings.job_max_queued_per_owner)
    if refused == "queue":
        raise OGCError("job_queue_full", status=429, code="TooManyRequests",
                       headers={"Retry-After": str(RETRY_AFTER_S)}, max=settings.job_max_queued)
    if refused == "owner":
        raise OGCError("job_owner_limit", status=429, code="TooManyRequests",
                       headers={"Retry-After": str(RETRY_AFTER_S)},
                       max=settings.job_max_queued_per_owner)
    headers = {"Location": f"{_base_url()}/jobs/{job_id}"}
    if token:
        headers["X-Job-Token"] = token
    if not run_async:
        deadline = time.monotonic() + settings.job_sync_wait
        delay = 0.02
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.25)
            current = await run_in_threadpool(store.get, job_id)
            if current is None or current["status"] in FINISHED:
                break
            if time.monotonic() >= deadline:
                run_async = True  # answered as a job: the client follows Location
                row = current
                break
        if not run_async:
            return await _sync_answer(store, job_id, headers, want_wait)
    headers["Preference-Applied"] = "respond-async"
    row = await run_in_threadpool(store.get, job_id) or row
    return JSONResponse(status_document(row, lang, token=token), status_code=201,
                        headers=headers)


async def _sync_answer(store, job_id: str, headers: dict[str, str], want_wait: bool
                       ) -> Response:
    row = await run_in_threadpool(store.get, job_id, result=True)
    if want_wait:
        headers["Preference-Applied"] = "wait"
    if row is None or row["status"] == "dismissed":
        raise OGCError("job_result_dismissed", status=409, code="Conflict", id=job_id,
                       headers=headers)
    if row["status"] == "failed":
        error = row.get("error") or {"status": 500, "code": "NoApplicableCode",
                                     **message("job_crashed", code="?")}
        raise OGCError.from_texts(error["fr"], error["en"], status=int(error["status"]),
                                  code=error["code"], headers=headers)
    return Response(bytes(row["result"] or b""), media_type=row["mimetype"] or
                    "application/json", headers=headers)


# ---------------------------------------------------------------------------- jobs
def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise OGCError("job_param_invalid", name=name, value=show(raw, 40), low=low, high=high)
    return int(raw)


@handled
async def list_jobs(request: Request) -> Response:
    """The caller's jobs, newest first (admins: every job)."""
    lang = _lang(request)
    html = _wants_html(request)
    limit = _int_param(request, "limit", 10, 1, 10_000)
    offset = _int_param(request, "offset", 0, 0, 10**9)
    status = request.query_params.get("status")
    if status is not None and status not in ACTIVE + FINISHED:
        raise OGCError("job_param_invalid", name="status", value=show(status, 40),
                       low="accepted", high="dismissed")
    who = access.job_caller(_headers(request))
    store = await _store()
    user = who.principal.user if who.principal else None
    token_hash = access.token_digest(who.token) if who.token else None
    rows, total = await run_in_threadpool(lambda: store.page(
        limit, offset, user=user, token_hash=token_hash, every=who.admin, status=status))
    jobs = [status_document(r, lang, single=False) for r in rows]
    base = f"{_base_url()}/jobs"
    extra = "".join(f"&{k}={v}" for k, v in (("limit", limit), ("status", status)) if v)
    links = [{"href": f"{base}?f=json", "rel": "self", "type": "application/json",
              "title": "This document"},
             {"href": f"{base}?f=html", "rel": "alternate", "type": "text/html",
              "title": "This document as HTML"}]
    if offset > 0:
        links.append({"href": f"{base}?offset={max(0, offset - limit)}{extra}", "rel": "prev",
                      "type": "application/json", "title": "Previous page"})
    if offset + limit < total:
        links.append({"href": f"{base}?offset={offset + limit}{extra}", "rel": "next",
                      "type": "application/json", "title": "Next page"})
    if html:
        return _html("jobs/index.html", {"jobs": {"jobs": jobs, "links": links},
                                         "offset": offset,
                                         "now": fmt_time(utcnow())}, lang)
    return JSONResponse({"jobs": jobs, "links": links, "numberMatched": total,
                         "numberReturned": len(jobs)})


@handled
async def job(request: Request) -> Response:
    """GET: the job's status document; DELETE: dismiss it, or delete it once finished."""
    lang = _lang(request)
    job_id = request.path_params["job_id"]
    if request.method == "DELETE":
        return await _delete(request, job_id, lang)
    html = _wants_html(request)
    row, _ = await _visible_job(request, job_id)
    doc = status_document(row, lang)
    if html:
        return _html("jobs/job.html", {"jobs": doc, "offset": 0,
                                       "now": fmt_time(utcnow())}, lang)
    return JSONResponse(doc)


async def _delete(request: Request, job_id: str, lang: str) -> Response:
    row, _ = await _visible_job(request, job_id)
    store = await _store()
    t = message("job_dismissed")
    for _ in range(3):
        if row["status"] in ACTIVE:
            now = utcnow()
            if await run_in_threadpool(lambda: store.update(
                    job_id, {"status": "dismissed", "finished": now, "updated": now,
                             "progress": 100, "message": t["en"], "message_fr": t["fr"]},
                    status_in=ACTIVE)):
                break  # its worker sees it within a second and stops
        elif await run_in_threadpool(store.delete, job_id):
            break
        row = await run_in_threadpool(store.get, job_id) or row
    doc = status_document({**row, "status": "dismissed", "message": t["en"],
                           "message_fr": t["fr"], "updated": utcnow()}, lang)
    return JSONResponse(doc)


@handled
async def results(request: Request) -> Response:
    """The job's result: JSON unless HTML is asked for (f=html or Accept: text/html)."""
    lang = _lang(request)
    job_id = request.path_params["job_id"]
    html = _wants_html(request)
    row, _ = await _visible_job(request, job_id, result=True)
    status = row["status"]
    if status in ACTIVE:
        raise OGCError("job_result_not_ready", status=404, code="ResultNotReady", id=job_id)
    if status == "dismissed":
        raise OGCError("job_result_dismissed", status=404, code="NoSuchJob", id=job_id)
    if status == "failed":
        error = row.get("error") or {"status": 500, "code": "NoApplicableCode",
                                     **message("job_crashed", code="?")}
        raise OGCError.from_texts(error["fr"], error["en"], status=int(error.get("status") or 500),
                                  code=error.get("code") or "NoApplicableCode")
    blob, mimetype = bytes(row["result"] or b""), row.get("mimetype") or "application/json"
    if html and mimetype in JSON_RESULT_TYPES:
        return _html("jobs/results/index.html", {"job": {"id": job_id},
                                                 "result": json.loads(blob or b"null")}, lang)
    return Response(blob, media_type=mimetype)


def routes() -> list[Route]:
    return [Route("/processes/{process_id}/execution", execute, methods=["POST"]),
            Route("/jobs", list_jobs, methods=["GET"]),
            Route("/jobs/{job_id}", job, methods=["GET", "DELETE"]),
            Route("/jobs/{job_id}/results", results, methods=["GET"])]


# ---------------------------------------------------------------------------- operations
def queue_report() -> dict[str, int]:
    """{queued, running, workers} for /health and /ready (and whether it is saturated)."""
    settings = _settings()
    store = open_store(settings)
    counts = store.counts()
    return {"queued": counts.get("accepted", 0), "running": counts.get("running", 0),
            "workers": store.live_workers(time.time(), settings.job_lease),
            "max_queued": settings.job_max_queued, "by_status": counts}


# ---------------------------------------------------------------------------- OpenAPI
def document(oas: dict[str, Any]) -> None:
    """Complete pygeoapi's description of the execution and job operations with what this
    module answers: credentials, the job token, 401/403/413/415/429, DELETE's 200."""
    from services.front_openapi import ERRORS
    schemes = oas.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    schemes.setdefault("bearer", {"type": "http", "scheme": "bearer"})
    token = {"name": "X-Job-Token", "in": "header", "required": False,
             "schema": {"type": "string"},
             "description": "Secret token of an anonymous job (given at its creation) / "
                              "jeton secret d'une tâche anonyme"}
    optional_auth = [{}, {"apiKey": []}, {"bearer": []}]
    problem = {"application/json": {"schema": {"type": "object"}}}
    codes = {"401": "Credential missing or unknown / authentification requise",
             "403": "Role too low / droits insuffisants",
             "413": "Body too large / corps trop volumineux",
             "415": "Content-Type is not application/json",
             "429": "Job queue full or too many jobs of this owner (Retry-After)"}
    for path, item in oas.get("paths", {}).items():
        if path.startswith("/processes/") and path.endswith("/execution") and "post" in item:
            op = item["post"]
            op["security"] = optional_auth
            responses = op.setdefault("responses", {})
            processor = _processor(path.split("/")[2])
            if processor is not None:  # the answer is {output id: value} (one or several)
                outputs = processor.metadata.get("outputs") or {}
                responses["200"] = {"description": "The outputs, by output id / les sorties",
                                    "content": {"application/json": {"schema": {
                                        "type": "object", "additionalProperties": False,
                                        "properties": {name: (out.get("schema") or {})
                                                       for name, out in outputs.items()}}}}}
            responses.setdefault("201", {"description": "Job created (asynchronous, or a "
                                                        "synchronous run past the wait)",
                                         "headers": {"X-Job-Token": {"schema": {
                                             "type": "string"}}, "Location": {"schema": {
                                                 "type": "string"}}},
                                         "content": problem})
            responses.setdefault("400", ERRORS["400"])
            responses.setdefault("404", ERRORS["404"])
            for code, text in codes.items():
                responses.setdefault(code, {"description": text, "content": problem})
        elif path.startswith("/jobs"):
            for method, op in item.items():
                if method not in ("get", "delete"):
                    continue
                op["security"] = optional_auth
                params = op.setdefault("parameters", [])
                if not any(isinstance(p, dict) and p.get("name") == "X-Job-Token"
                           for p in params):
                    params.append(token)
                responses = op.setdefault("responses", {})
                responses.setdefault("401", {"description": codes["401"], "content": problem})
                if method == "delete":
                    responses.pop("204", None)
                    responses["200"] = {"description": "Job dismissed (status document)",
                                        "content": problem}
