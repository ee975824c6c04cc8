"""Read access tiers: who may see which collection, property and process (the one place).

Declared where the thing is described, overridable per deployment:

- a collection file: ``access: metier`` (the whole collection) and
  ``fields.<name>.access: reader`` (one property);
- a process's metadata: ``"access": {"read": "reader", "execute": …}``;
- ``ARTOIS_READ_ACCESS="cadastre-solaire=metier,zae-lots=reader,zae-lots.prix=metier"``
  (``id=tier`` for a collection or a process, ``collection.property=tier``) wins over both.

A tier is ``public`` (the default), a role (``reader`` < ``editor`` < ``admin``, held by
keys of that role or above) or any other word: a group, held by the keys that list it
(``ARTOIS_API_KEYS="tok:reader:alice:metier+cabbalr"``, ``groups: [metier]`` in the keys
file). Admins see everything.

The caller is resolved once per request by :class:`AccessLayer` (outside the HTTP caching
layer): an unknown credential is a 401, the caller's :class:`View` (what is hidden from
them) is kept in the ASGI scope and in a context variable that the front modules read
(:func:`current_view`). A collection or process the caller may not read answers 404 exactly
as an unknown one (the layer refuses both alike). pygeoapi answers from one configuration per
distinct view (:func:`api_for`): hidden collections and processes are not in it, and hidden
properties are named in the feature providers' options (``hidden_fields``), which
:func:`restrict_reader` applies to the store readers, so items, queryables, schema, filters,
sorts and ``properties=`` behave as if those properties did not exist.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from services.auth import ROLES, Principal
from services.errors import OGCError

PUBLIC = "public"
SCOPE_KEY = "artois.access"
CREDENTIAL_HEADERS = ("Authorization", "X-API-Key")
TIER_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_VIEWS = 32          # distinct pygeoapi configurations (and view caches) kept
_COLLECTION_PATH = re.compile(r"^/collections/([^/]+)")
_PROCESS_PATH = re.compile(r"^/processes/([^/]+)")


# ---------------------------------------------------------------------------- tiers
def tier_of(value: Any) -> str:
    """A declared tier, normalised (`public` for anything empty or malformed is NOT safe:
    a malformed tier becomes `admin`, the most restrictive)."""
    if value is None or value == "":
        return PUBLIC
    text = str(value).strip().lower()
    return text if TIER_RE.match(text) else "admin"


def can(principal: Principal | None, tier: str) -> bool:
    """Whether `principal` (None: anonymous) holds `tier`."""
    if tier == PUBLIC:
        return True
    if principal is None:
        return False
    if principal.has("admin"):
        return True
    if tier in ROLES:
        return principal.has(tier)
    return tier in getattr(principal, "groups", ())


def parse_overrides(text: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """`ARTOIS_READ_ACCESS`: ({id: tier}, {(collection, property): tier})."""
    ids: dict[str, str] = {}
    props: dict[tuple[str, str], str] = {}
    for item in (text or "").split(","):
        name, _, tier = item.partition("=")
        name = name.strip()
        if not name or not tier.strip():
            continue
        if "." in name:
            cid, _, prop = name.partition(".")
            props[(cid.strip(), prop.strip())] = tier_of(tier)
        else:
            ids[name] = tier_of(tier)
    return ids, props


@dataclass(frozen=True)
class Tiers:
    """Every declared tier other than public."""
    collections: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    processes: dict[str, str] = field(default_factory=dict)


def declared(specs: dict[str, Any], process_meta: dict[str, dict], override: str = "") -> Tiers:
    """The tiers of collections (their files), properties and processes (their metadata),
    the settings' overrides applied."""
    ids, props = parse_overrides(override)
    collections: dict[str, str] = {}
    fields: dict[str, dict[str, str]] = {}
    for cid, spec in specs.items():
        tier = ids.get(cid, tier_of(getattr(spec, "access", None)))
        if tier != PUBLIC:
            collections[cid] = tier
        for name, fspec in (spec.fields or {}).items():
            ftier = props.get((cid, name), tier_of(fspec.get("access")) if isinstance(fspec, dict)
                              else PUBLIC)
            if ftier != PUBLIC:
                fields.setdefault(cid, {})[name] = ftier
    for (cid, name), ftier in props.items():
        if cid in specs and ftier != PUBLIC:
            fields.setdefault(cid, {})[name] = ftier
        elif cid in fields:
            fields[cid].pop(name, None)
    processes = {}
    for pid, meta in process_meta.items():
        tier = ids.get(pid, tier_of(((meta or {}).get("access") or {}).get("read")))
        if tier != PUBLIC:
            processes[pid] = tier
    return Tiers(collections, fields, processes)


@dataclass(frozen=True)
class View:
    """What one kind of caller may not see."""
    hidden_collections: frozenset[str] = frozenset()
    hidden_fields: tuple[tuple[str, frozenset[str]], ...] = ()
    hidden_processes: frozenset[str] = frozenset()

    @property
    def full(self) -> bool:
        return not (self.hidden_collections or self.hidden_fields or self.hidden_processes)

    def sees(self, collection_id: str) -> bool:
        return collection_id not in self.hidden_collections

    def sees_process(self, process_id: str) -> bool:
        return process_id not in self.hidden_processes

    def hidden(self, collection_id: str) -> frozenset[str]:
        """The properties of `collection_id` hidden from this caller."""
        for cid, names in self.hidden_fields:
            if cid == collection_id:
                return names
        return frozenset()

    @property
    def key(self) -> str:
        """A short digest naming this view (ETags, caches)."""
        text = repr((sorted(self.hidden_collections),
                     [(c, sorted(n)) for c, n in self.hidden_fields],
                     sorted(self.hidden_processes)))
        return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


FULL = View()


def view_of(tiers: Tiers, principal: Principal | None) -> View:
    hidden_fields = tuple(sorted(
        (cid, frozenset(n for n, t in names.items() if not can(principal, t)))
        for cid, names in tiers.fields.items()))
    return View(frozenset(c for c, t in tiers.collections.items() if not can(principal, t)),
                tuple((c, n) for c, n in hidden_fields if n),
                frozenset(p for p, t in tiers.processes.items() if not can(principal, t)))


def restricted_collections(tiers: Tiers) -> set[str]:
    """Collections whose answers depend on the caller (a tier on them or a property)."""
    return set(tiers.collections) | set(tiers.fields)


# ---------------------------------------------------------------------------- the server's
def _process_metadata() -> dict[str, dict]:
    from processes.registry import PROCESSES
    from services.jobs.api import _processor
    out = {}
    for pid in PROCESSES:
        try:
            processor = _processor(pid)
        except Exception:  # noqa: BLE001 - a broken process is not published anyway
            processor = None
        out[pid] = getattr(processor, "metadata", {}) or {}
    return out


_tiers_cache: dict[str, Any] = {}
_lock = threading.Lock()


RECHECK = 2.0  # seconds between two looks at the collection files (a stat of each)


def known_specs() -> dict[str, Any]:
    """The collection specs, looked at again at most every RECHECK seconds (a request should
    not stat every collection file twice)."""
    import time
    now = time.monotonic()
    cached = _tiers_cache.get("specs")
    if cached is not None and now - cached[0] < RECHECK:
        return cached[1]
    from services.store import get_catalog
    specs = get_catalog().specs
    _tiers_cache["specs"] = (now, specs)
    return specs


def server_tiers() -> Tiers:
    """The tiers of this server (re-read when a collection file changes)."""
    from services.settings import get_settings
    settings = get_settings()
    specs = known_specs()
    cached = _tiers_cache.get("tiers")
    if cached is not None and cached[0] is specs:
        return cached[1]
    if "processes" not in _tiers_cache:
        _tiers_cache["processes"] = _process_metadata()
    tiers = declared(specs, _tiers_cache["processes"], settings.read_access)
    _tiers_cache["tiers"] = (specs, tiers)
    _views.clear()
    return tiers


_views: dict[tuple, View] = {}


def view_for(principal: Principal | None) -> View:
    tiers = server_tiers()
    key = (None if principal is None else principal.role,
           frozenset(getattr(principal, "groups", ()) if principal else ()))
    view = _views.get(key)
    if view is None:
        view = view_of(tiers, principal)
        if len(_views) >= MAX_VIEWS * 4:
            _views.clear()
        _views[key] = view
    return view


@dataclass(frozen=True)
class RequestAccess:
    principal: Principal | None
    view: View
    public: View           # what an anonymous caller sees (private answers differ from it)


_CURRENT: ContextVar[RequestAccess | None] = ContextVar("artois_access", default=None)


def current() -> RequestAccess | None:
    return _CURRENT.get()


def anonymous() -> RequestAccess:
    """What an anonymous caller is and sees."""
    view = view_for(None)
    return RequestAccess(None, view, view)


@contextmanager
def acting_as(info: RequestAccess) -> Iterator[RequestAccess]:
    """Run the code inside as the caller `info` (its view decides what it reads)."""
    token = _CURRENT.set(info)
    try:
        yield info
    finally:
        _CURRENT.reset(token)


def current_view() -> View:
    """The caller's view; outside a request (build, CLI, workers), everything."""
    found = _CURRENT.get()
    return found.view if found is not None else FULL


# ---------------------------------------------------------------------------- readers
def restrict_reader(reader: Any, hidden: Any) -> Any:
    """Drop `hidden` properties from a store FeatureReader (services/store/*/features.py):
    they leave its `fields`, so they are neither read, nor written out, nor accepted in a
    filter, sort, `properties=` or property=value parameter (the 400 of an unknown one)."""
    names = set(hidden or ())
    if not names:
        return reader
    kept = {k: v for k, v in reader.fields.items()
            if k not in names or k == getattr(reader, "id_field", None)}
    reader._fields = reader.fields = kept
    return reader


def hidden_of(provider_def: dict) -> list[str]:
    return list((provider_def.get("options") or {}).get("hidden_fields") or [])


# ---------------------------------------------------------------------------- pygeoapi
def restricted_config(config: dict, view: View) -> dict:
    """pygeoapi's configuration as `view` may see it."""
    import copy
    out = {k: v for k, v in config.items() if k != "resources"}
    resources = {}
    for rid, res in (config.get("resources") or {}).items():
        kind = res.get("type")
        if kind == "collection" and not view.sees(rid):
            continue
        if kind == "process" and not view.sees_process(rid):
            continue
        hidden = view.hidden(rid) if kind == "collection" else frozenset()
        if hidden:
            res = copy.deepcopy(res)
            for provider in res.get("providers", []):
                if provider.get("type") == "feature":
                    provider.setdefault("options", {})["hidden_fields"] = sorted(hidden)
        resources[rid] = res
    out["resources"] = resources
    out["server"] = copy.deepcopy(config["server"])
    return out


def restricted_openapi(config: dict) -> dict:
    """The OpenAPI document of a restricted configuration (as services/config.py writes the
    full one)."""
    import json

    from pygeoapi.openapi import get_oas

    from services import front_openapi
    oas = get_oas(config, fail_on_invalid_collection=False)
    resources = config.get("resources") or {}
    features, coverages = [], []
    for rid, res in resources.items():
        if res.get("type") != "collection":
            continue
        kinds = {p.get("type") for p in res.get("providers", [])}
        (coverages if "coverage" in kinds else features).append(rid)
    front_openapi.extend(oas, features, coverages)
    return json.loads(json.dumps(oas, default=str))


_apis: "OrderedDict[str, Any]" = OrderedDict()
_api_lock = threading.Lock()


def api_for(view: View) -> Any:
    """The pygeoapi API object serving `view` (None: the full one, pygeoapi's own)."""
    if view.full:
        return None
    key = view.key
    with _api_lock:
        api = _apis.get(key)
        if api is not None:
            _apis.move_to_end(key)
            return api
        from pygeoapi.api import API
        from pygeoapi.starlette_app import ASYNCAPI, CONFIG
        config = restricted_config(CONFIG, view)
        api = API(config, restricted_openapi(config), ASYNCAPI)
        _apis[key] = api
        while len(_apis) > MAX_VIEWS:
            _apis.popitem(last=False)
        return api


def served_config() -> dict:
    """The pygeoapi configuration of the current caller's view."""
    api = api_for(current_view())
    if api is None:
        from pygeoapi.starlette_app import CONFIG
        return CONFIG
    return api.config


def _conformance():
    import pygeoapi.api
    return getattr(pygeoapi.api, "conformance", None)


def install() -> None:
    """pygeoapi's routes call `execute_from_starlette(fn, request, …, alternative_api=None)`:
    the API object of the caller's view is handed as `alternative_api` (pygeoapi's own
    parameter for this), built once per view in a worker thread."""
    import pygeoapi.starlette_app as app_module
    original = app_module.execute_from_starlette
    if getattr(original, "_artois_access", False):
        return

    async def execute(api_function, request, *args, skip_valid_check: bool = False,
                      alternative_api=None):
        if alternative_api is None and api_function is not _conformance():
            view = current_view()  # /conformance is the server's, whoever asks
            if not view.full:
                from starlette.concurrency import run_in_threadpool
                alternative_api = await run_in_threadpool(api_for, view)
        return await original(api_function, request, *args,
                              skip_valid_check=skip_valid_check,
                              alternative_api=alternative_api)

    execute._artois_access = True  # type: ignore[attr-defined]
    app_module.execute_from_starlette = execute


# ---------------------------------------------------------------------------- the layer
def _known_processes() -> set[str]:
    from processes.registry import PROCESSES
    return set(PROCESSES)


def guard(path: str, view: View) -> None:
    """404, as for an unknown one, for a collection or process the view does not include."""
    m = _COLLECTION_PATH.match(path)
    if m:
        cid = unquote(m.group(1))
        if not view.sees(cid) or cid not in known_specs():
            raise OGCError("collection_not_found", status=404, collection=_shown(cid))
        return
    m = _PROCESS_PATH.match(path)
    if m:
        pid = unquote(m.group(1))
        if not view.sees_process(pid) or pid not in _known_processes():
            raise OGCError("process_not_found", status=404, code="NoSuchProcess",
                           id=_shown(pid))


def _shown(ident: str) -> str:
    """An identifier as an error message quotes it: printable, at most 100 characters."""
    return "".join(c if c.isprintable() else "?" for c in ident[:100])


def depends_on_caller(path: str, info: RequestAccess) -> bool:
    """Whether this answer differs from the anonymous one for this caller (Cache-Control:
    private): a restricted collection or process, or a list, when the caller sees more."""
    if info.principal is None or info.view == info.public:
        return False
    tiers = server_tiers()
    m = _COLLECTION_PATH.match(path)
    if m:
        return unquote(m.group(1)) in restricted_collections(tiers)
    m = _PROCESS_PATH.match(path)
    if m:
        return unquote(m.group(1)) in tiers.processes
    return True


def etag_salt(scope: Scope) -> str | None:
    """A suffix for ETags set by a route (Part 4's feature ETags) when the caller does not
    see every property of the collection: an ETag of a fuller view never matches theirs."""
    info = scope.get(SCOPE_KEY)
    if info is None:
        return None
    m = _COLLECTION_PATH.match(scope.get("path", ""))
    if not m:
        return None
    return info.view.key if info.view.hidden(unquote(m.group(1))) else None


def is_private(scope: Scope) -> bool:
    info = scope.get(SCOPE_KEY)
    return info is not None and depends_on_caller(scope.get("path", ""), info)


class AccessLayer:
    """Resolves the caller once (401 for an unknown credential), keeps their view for the
    layers inside and refuses what it hides (404)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from services.error_handler import request_language, send_error
        from services.jobs.access import caller
        try:
            principal = caller(scope.get("headers", []))
            view = view_for(principal)
            guard(scope["path"], view)
        except OGCError as err:
            await send_error(send, err, request_language(scope),
                             [(b"vary", b"Authorization, X-API-Key")])
            return
        info = RequestAccess(principal, view, view_for(None))
        scope[SCOPE_KEY] = info
        with acting_as(info):
            await self.app(scope, receive, send)


def without_properties(versions: list[dict], hidden: frozenset[str]) -> list[dict]:
    """History versions (services/history.py) without the `hidden` properties, neither in
    `properties` nor named in `changes`."""
    if not hidden:
        return versions
    out = []
    for v in versions:
        props = v.get("properties")
        out.append({**v, "changes": [c for c in v.get("changes") or [] if c not in hidden],
                    "properties": None if props is None else
                    {k: x for k, x in props.items() if k not in hidden}})
    return out
