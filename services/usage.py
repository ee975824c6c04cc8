"""Usage statistics of the solar cadastre per territory (issue 18 point 3), as the agency
reports them: counts of cadastre requests by EPCI and month, for admins at
``GET /admin/usage?f=json|csv`` (``mois=YYYY-MM`` for one month).

What is counted (answered with a status below 400, 304 included):

- ``items``: ``GET /collections/cadastre-solaire/items`` — the EPCI of the map view: the
  centre of ``bbox`` (in ``bbox-crs``, CRS84 by default); none without a bbox;
- ``item``: ``GET /collections/cadastre-solaire/items/{id}`` — the EPCI of the roof;
- ``tiles``: a vector tile of ``cadastre-solaire`` (``/collections/cadastre-solaire/tiles/…``,
  or ``/tiles/…?collections=`` naming it) — the EPCI of the tile's centre;
- ``solar-potential``: ``POST /processes/solar-potential/execution`` — the EPCI of the first
  roof asked for (a building's, a commune's, or the first point of the GeoJSON roofs).

The EPCI of a point: the ``epci`` layer's polygon holding it (a spatial index, kept for
USAGE_CACHE_SECONDS); of a roof: its ``epci_siren`` in ``cadastre-solaire``. No personal data
is kept: no address, no credential, no user, no time finer than the month; a request only
puts (month, kind, what locates it) in a bounded in-memory queue; a thread of each server
process resolves the EPCI and adds the counts to the store (services/store/usage.py) every
``ARTOIS_USAGE_FLUSH_SECONDS``, in one transaction. A full queue drops counts (logged), never
slows a request. An ``/admin/usage`` request first writes its own process's queue.

``UsageCounter`` is the ASGI layer (installed by services/edge.py's EdgeGuard around the app).
"""
from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import json
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import OGCError

LOGGER = logging.getLogger("artois_geo.usage")

CADASTRE = "cadastre-solaire"
PROCESS = "solar-potential"
KINDS = ("items", "item", "tiles", PROCESS)
PATH = "/admin/usage"
FORMATS = {"json": "application/json", "csv": "text/csv"}
MAX_BODY = 1_048_576   # bytes of an execution body kept to find its first roof
MONTH_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_ITEMS = re.compile(rf"^/collections/{CADASTRE}/items/?$")
_ITEM = re.compile(rf"^/collections/{CADASTRE}/items/([^/]+?)/?$")
_TILE = re.compile(rf"^/collections/{CADASTRE}/tiles/([^/]+)/([0-9]+)/([0-9]+)/([0-9]+)$")
_DATASET_TILE = re.compile(r"^/tiles/([^/]+)/([0-9]+)/([0-9]+)/([0-9]+)$")
_EXECUTE = re.compile(rf"^/processes/{PROCESS}/execution/?$")


# ---------------------------------------------------------------------------- what counts
def classify(method: str, path: str, query: bytes) -> tuple[str, tuple] | None:
    """(kind, what locates it) of a counted request, None for the others. Pure."""
    if method == "POST":
        return (PROCESS, ("body",)) if _EXECUTE.match(path) else None
    if method not in ("GET", "HEAD"):
        return None
    if _ITEMS.match(path):
        params = dict(parse_qsl(query.decode("latin-1"))[:100])
        if params.get("bbox"):
            return "items", ("bbox", params["bbox"][:400], params.get("bbox-crs", "")[:200])
        return "items", ("none",)
    m = _ITEM.match(path)
    if m:
        return "item", ("id", m.group(1)[:200])
    m = _TILE.match(path)
    if not m:
        m = _DATASET_TILE.match(path)
        if m:
            params = dict(parse_qsl(query.decode("latin-1"))[:100])
            if CADASTRE not in params.get("collections", "").split(","):
                return None
    if m:
        return "tiles", ("tile", m.group(1)[:80], int(m.group(2)), int(m.group(3)),
                         int(m.group(4)))
    return None


def month_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


# ---------------------------------------------------------------------------- the queue
class Recorder:
    """The bounded queue of one server process and its writer thread."""

    def __init__(self, max_events: int, flush_seconds: float):
        self.events: collections.deque = collections.deque()
        self.max_events = max_events
        self.flush_seconds = flush_seconds
        self.dropped = 0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def record(self, event: tuple) -> None:
        with self._lock:
            if len(self.events) >= self.max_events:
                self.dropped += 1
                return
            self.events.append(event)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="usage-writer",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.flush_seconds)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - counting never breaks the server
                LOGGER.exception("usage statistics: counts not written")

    def flush(self, settings=None) -> int:
        """Resolve and write the queued counts; the number of requests written."""
        with self._flush_lock:
            with self._lock:
                batch = list(self.events)
                self.events.clear()
                dropped, self.dropped = self.dropped, 0
            if dropped:
                LOGGER.warning("usage statistics: %s requests not counted (queue full)", dropped)
            if not batch:
                return 0
            counts: collections.Counter = collections.Counter()
            resolver = Resolver.shared()
            for month, kind, hint in batch:
                try:
                    epci = resolver.epci(hint, settings)
                except Exception:  # noqa: BLE001 - an unplaceable request counts without EPCI
                    LOGGER.debug("usage statistics: no EPCI for %s", hint, exc_info=True)
                    epci = ""
                counts[(month, kind, epci or "")] += 1
            from services.store.usage import open_usage_store
            try:
                open_usage_store(settings).add({(m, e, k): n for (m, k, e), n in counts.items()})
            except Exception:
                with self._lock:  # put them back (bounded) for the next round
                    room = max(0, self.max_events - len(self.events))
                    self.events.extendleft(reversed(batch[:room]))
                raise
            return len(batch)


_RECORDER: Recorder | None = None
_RECORDER_LOCK = threading.Lock()


def recorder() -> Recorder:
    global _RECORDER
    if _RECORDER is None:
        with _RECORDER_LOCK:
            if _RECORDER is None:
                from services.settings import get_settings
                s = get_settings()
                _RECORDER = Recorder(s.usage_max_queued, s.usage_flush_seconds)
    return _RECORDER


# ---------------------------------------------------------------------------- the EPCI
class Resolver:
    """EPCI of a point (epci layer, STRtree, EPSG:2154) and of a roof or building
    (cadastre-solaire's epci_siren), and of a commune; layers re-read after
    USAGE_CACHE_SECONDS."""

    _shared: "Resolver | None" = None

    def __init__(self):
        self.loaded_at = -1e18
        self.tree = None
        self.sirens: list[str] = []
        self.geoms: list = []
        self.roofs: dict[str, str] = {}
        self.communes: dict[str, str] = {}

    @classmethod
    def shared(cls) -> "Resolver":
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def _load(self, settings) -> None:
        from services.settings import get_settings
        settings = settings or get_settings()
        if time.monotonic() - self.loaded_at < settings.usage_cache_seconds:
            return
        import shapely
        from services import layers
        epci = layers.read_collection("epci", settings=settings).to_crs(2154)
        self.sirens = [str(s) for s in epci["epci_siren"]]
        self.geoms = list(epci.geometry)
        self.tree = shapely.STRtree(self.geoms)
        communes = layers.read_collection("communes", settings=settings)
        self.communes = dict(zip(communes["insee"].astype(str),
                                 communes["epci_siren"].astype(str)))
        try:
            roofs = layers.read_collection(CADASTRE, settings=settings)
            self.roofs = dict(zip(roofs["batiment_id"].astype(str),
                                  roofs["epci_siren"].astype(str)))
        except (layers.UnknownCollection, FileNotFoundError):
            self.roofs = {}
        self.loaded_at = time.monotonic()

    def at(self, x: float, y: float, crs: str | None, settings=None) -> str:
        """EPCI holding the point (x, y) in `crs` (CRS84 when empty)."""
        import shapely
        self._load(settings)
        x2, y2 = _transformer(crs or "OGC:CRS84").transform(x, y)
        point = shapely.Point(x2, y2)
        for i in self.tree.query(point, predicate="intersects"):
            return self.sirens[int(i)]
        return ""

    def epci(self, hint: tuple, settings=None) -> str:
        kind = hint[0]
        if kind == "none":
            return ""
        if kind == "id":
            self._load(settings)
            return self.roofs.get(hint[1], "")
        if kind == "bbox":
            parts = [float(v) for v in hint[1].split(",")]
            if len(parts) not in (4, 6):
                return ""
            half = len(parts) // 2
            x = (parts[0] + parts[half]) / 2
            y = (parts[1] + parts[half + 1]) / 2
            return self.at(x, y, _crs_of(hint[2]), settings)
        if kind == "tile":
            from services.tiles import tms as tms_mod
            tms = tms_mod.get(hint[1])
            if tms is None:
                return ""
            import morecantile
            b = tms.xy_bounds(morecantile.Tile(x=hint[4], y=hint[3], z=hint[2]))
            return self.at((b.left + b.right) / 2, (b.bottom + b.top) / 2,
                           _crs_of(str(tms.crs.srs)), settings)
        if kind == "body":
            return self._execution(hint[1] if len(hint) > 1 else b"", settings)
        return ""

    def _execution(self, body: bytes, settings) -> str:
        inputs = json.loads(body or b"{}").get("inputs") or {}

        def unwrap(v):
            return v.get("value") if isinstance(v, dict) and "value" in v else v
        bats, commune, roofs = (unwrap(inputs.get(k)) for k in ("batiments", "commune", "roofs"))
        self._load(settings)
        if isinstance(bats, str):
            bats = [bats]
        if isinstance(bats, list) and bats:
            return self.roofs.get(str(bats[0]), "")
        if isinstance(commune, str):
            return self.communes.get(commune, "")
        if isinstance(roofs, str):
            roofs = json.loads(roofs)
        if isinstance(roofs, dict):
            geom = roofs
            if roofs.get("type") == "FeatureCollection":
                geom = (roofs.get("features") or [{}])[0]
            if geom.get("type") == "Feature":
                geom = geom.get("geometry") or {}
            coords = geom.get("coordinates")
            while isinstance(coords, list) and coords and isinstance(coords[0], list):
                coords = coords[0]
            if isinstance(coords, list) and len(coords) >= 2:
                return self.at(float(coords[0]), float(coords[1]), None, settings)
        return ""


def _crs_of(uri: str) -> str | None:
    if not uri or uri.rstrip("/").endswith("CRS84"):
        return None
    m = re.search(r"EPSG/0/([0-9]+)$", uri.strip())
    return f"EPSG:{m.group(1)}" if m else uri


_TRANSFORMERS: dict[str, Any] = {}


def _transformer(crs: str):
    t = _TRANSFORMERS.get(crs)
    if t is None:
        from pyproj import Transformer
        t = Transformer.from_crs(crs, "EPSG:2154", always_xy=True)
        if len(_TRANSFORMERS) < 32:
            _TRANSFORMERS[crs] = t
    return t


# ---------------------------------------------------------------------------- ASGI layer
class UsageCounter:
    """Counts the cadastre requests answered below 400 (see the module docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = classify(scope.get("method", ""), scope.get("path", ""),
                         scope.get("query_string", b""))
        if found is None:
            await self.app(scope, receive, send)
            return
        kind, hint = found
        status = [500]
        body = bytearray() if hint[0] == "body" else None

        async def receive_copy() -> Message:
            msg = await receive()
            if body is not None and msg.get("type") == "http.request" and \
                    len(body) < MAX_BODY:
                body.extend(msg.get("body", b"")[:MAX_BODY - len(body)])
            return msg

        async def send_status(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status[0] = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive_copy if body is not None else receive, send_status)
        finally:
            if status[0] < 400:
                if body is not None:
                    hint = ("body", bytes(body))
                recorder().record((month_now(), kind, hint))


# ---------------------------------------------------------------------------- /admin/usage
def report(rows: list[dict], epci_names: dict[str, str]) -> dict[str, Any]:
    """The JSON answer: rows, and totals per month and EPCI. Pure."""
    out_rows = [{"mois": r["mois"], "epci_siren": r["epci_siren"] or None,
                 "epci_nom": epci_names.get(r["epci_siren"]) if r["epci_siren"] else None,
                 "requete": r["requete"], "nombre": int(r["nombre"])} for r in rows]
    totals: dict[tuple, int] = collections.defaultdict(int)
    for r in out_rows:
        totals[(r["mois"], r["epci_siren"])] += r["nombre"]
    return {"rows": out_rows,
            "totaux": [{"mois": m, "epci_siren": e,
                        "epci_nom": epci_names.get(e) if e else None, "nombre": n}
                       for (m, e), n in sorted(totals.items(), key=lambda kv: (kv[0][0],
                                                                             kv[0][1] or ""))],
            "requetes": list(KINDS),
            "note": {"fr": "Comptes des requêtes du cadastre solaire par mois et par EPCI (de "
                           "la toiture ou du centre de la vue) ; aucune donnée personnelle.",
                     "en": "Counts of solar cadastre requests per month and EPCI (of the roof "
                           "or of the view's centre); no personal data."}}


def to_csv(doc: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["mois", "epci_siren", "epci_nom", "requete", "nombre"])
    for r in doc["rows"]:
        writer.writerow([r["mois"], r["epci_siren"] or "", r["epci_nom"] or "", r["requete"],
                         r["nombre"]])
    return buf.getvalue()


def _answer(params: dict[str, str]) -> tuple[bytes, str]:
    from services import layers
    from services.settings import get_settings
    from services.store.usage import open_usage_store

    fmt = params.get("f") or "json"
    if fmt not in FORMATS:
        raise OGCError("usage_format", status=400, value=fmt[:40], allowed=", ".join(FORMATS))
    month = params.get("mois")
    if month is not None and not MONTH_RE.match(month):
        raise OGCError("usage_month", status=400, value=month[:40])
    settings = get_settings()
    recorder().flush(settings)
    rows = open_usage_store(settings).rows(month)
    try:
        epci = layers.read_collection("epci", settings=settings)
        names = dict(zip(epci["epci_siren"].astype(str), epci["epci_nom"].astype(str)))
    except (layers.UnknownCollection, FileNotFoundError):
        names = {}
    doc = report(rows, names)
    if fmt == "csv":
        return to_csv(doc).encode("utf-8"), FORMATS["csv"] + "; charset=utf-8"
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), FORMATS["json"]


async def _endpoint(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    from services.jobs.access import authorise, caller
    authorise(caller(request.scope.get("headers", [])), "admin")  # 401 / 403 first
    params = dict(request.query_params)
    unknown = sorted(set(params) - {"f", "mois", "lang", "_"})
    if unknown:
        raise OGCError("usage_parameter", status=400, names=", ".join(unknown)[:200])
    body, media = await run_in_threadpool(_answer, params)
    headers = {"Cache-Control": "no-store", "Vary": "Authorization, X-API-Key"}
    if media.startswith("text/csv"):
        headers["Content-Disposition"] = 'attachment; filename="usage-cadastre-solaire.csv"'
    return Response(body, media_type=media, headers=headers)


def routes() -> list:
    from starlette.routing import Route
    return [Route(PATH, _endpoint, methods=["GET"])]


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """/admin/usage in the OpenAPI document (services/front_openapi.py)."""
    from services.front_openapi import error_response
    error = error_response()
    schemes = oas.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    schemes.setdefault("bearer", {"type": "http", "scheme": "bearer"})
    row = {"type": "object", "required": ["mois", "epci_siren", "requete", "nombre"],
           "properties": {"mois": {"type": "string", "pattern": MONTH_RE.pattern},
                          "epci_siren": {"type": "string", "nullable": True},
                          "epci_nom": {"type": "string", "nullable": True},
                          "requete": {"type": "string", "enum": list(KINDS)},
                          "nombre": {"type": "integer", "minimum": 0}}}
    answer = {"type": "object", "required": ["rows", "totaux"],
              "properties": {"rows": {"type": "array", "items": row},
                             "totaux": {"type": "array", "items": {"type": "object"}},
                             "requetes": {"type": "array", "items": {"type": "string"}},
                             "note": {"type": "object"}}}
    oas.setdefault("paths", {})[PATH] = {"get": {
        "tags": ["admin"], "operationId": "getCadastreUsage",
        "summary": "Usage statistics of the solar cadastre per EPCI and month (admin) / "
                   "statistiques d'usage du cadastre solaire",
        "description": "Counts of the requests to cadastre-solaire (items, item, tiles) and "
                       "of the solar-potential executions, per month and per EPCI of the "
                       "roof or of the map view's centre. No personal data is stored. "
                       "Admin role (X-API-Key or Authorization: Bearer).",
        "security": [{"apiKey": []}, {"bearer": []}],
        "parameters": [
            {"name": "f", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(FORMATS), "default": "json"}},
            {"name": "mois", "in": "query", "required": False,
             "schema": {"type": "string", "pattern": MONTH_RE.pattern},
             "description": "One month (YYYY-MM) / un mois"}],
        "responses": {
            "200": {"description": "The counts / les comptes",
                    "content": {"application/json": {"schema": answer},
                                "text/csv": {"schema": {"type": "string"}}}},
            "400": error, "401": error, "403": error}}}
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "admin" for t in tags):
        tags.append({"name": "admin", "description": "Administration (admin role)"})
