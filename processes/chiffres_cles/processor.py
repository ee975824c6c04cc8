"""The ``chiffres-cles-calcul`` OGC API process: the key figures of a territory, and their
recompute. (Not ``chiffres-cles``: pygeoapi's resources share one namespace, and that id is the
collection's.)

``POST /processes/chiffres-cles-calcul/execution`` with

* ``{"inputs": {"code": "62119"}}`` (anyone): the figures of one territory, read from the
  collection ``chiffres-cles`` (instant): a commune's INSEE code, an EPCI's SIREN or
  ``artois``; without ``code``: the territory's;
* ``{"inputs": {"recompute": true}}`` (editor or admin): recompute every indicator of every
  territory from the layers as served (processes/chiffres_cles: definitions, sources, core)
  and rewrite the collection's table in one transaction on the store in use
  (services.layers.replace_rows): readers see the old figures or the new ones, never a mix.
  The server queues this job itself (user ``recalcul``) when a collection the indicators read
  changes: a Part 4 write, an import, a build (``recompute`` below, services/jobs/triggers.py).
  A run that started before the figures already stored leaves them (they are newer).

Outputs: ``territoire`` (code, niveau, nom, EPCI, date_calcul), ``chiffres`` ({indicator id:
value}), and with ``recompute`` ``recalcul`` (what was written: rows, date of the computation,
date of each source's data, summer of the overheating raster, seconds, features outside every
commune).
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import time
from typing import Any

from pygeoapi.process.base import BaseProcessor

from processes.inputs import InputError
from services.jobs import ProcessError

from . import build, sources
from .definitions import RESERVED, load_definitions

LOGGER = logging.getLogger("artois_geo.chiffres_cles")

PROCESS_ID = "chiffres-cles-calcul"  # the collection is "chiffres-cles" (one namespace)
COLLECTION = "chiffres-cles"
CODE_PATTERN = r"^(?:(?:[0-9]{2}|2[AB])[0-9]{3}|[0-9]{9}|artois)$"
CODE_RE = re.compile(CODE_PATTERN)
_DEFS = load_definitions()

PROCESS_METADATA = {
    "version": "1.0.0",
    # who may run it (services/jobs/access.py): reading is public, recomputing writes
    "access": {"execute": "public", "inputs": {"recompute": "editor"}},
    # recomputed when a collection it reads changes (services/jobs/triggers.py), once the
    # collection is built on this store
    "recompute": {"on": ["communes", "epci", *[c for c in _DEFS.collections()
                                               if c not in ("communes", "epci")]],
                  "inputs": {"recompute": True},
                  "when": "processes.chiffres_cles.processor:is_built"},
    "id": PROCESS_ID,
    "title": {"fr": "Chiffres clés des territoires", "en": "Key figures of the territories"},
    "description": {
        "fr": "Chiffres clés d'une commune (code INSEE), d'un EPCI (SIREN) ou du territoire "
              "(artois), lus dans la collection chiffres-cles ; avec recompute=true "
              "(éditeur ou administrateur), recalcule tous les indicateurs de tous les "
              "territoires à partir des couches du serveur et réécrit la collection en une "
              "transaction. Le serveur lance lui-même ce recalcul après chaque modification "
              "des couches lues. Définitions des indicateurs : /chiffres-cles/indicateurs.",
        "en": "Key figures of a municipality (INSEE code), an EPCI (SIREN) or the territory "
              "(artois), read from the chiffres-cles collection; with recompute=true (editor "
              "or admin), recomputes every indicator of every territory from the server's "
              "layers and rewrites the collection in one transaction. The server runs this "
              "recompute itself after each change of the layers read. Definitions of the "
              "indicators: /chiffres-cles/indicateurs.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["chiffres clés", "indicateurs", "observatoire", "key figures", "indicators"],
    "inputs": {
        "code": {
            "title": {"fr": "Territoire", "en": "Territory"},
            "description": {"fr": "Code INSEE d'une commune, SIREN d'un EPCI ou artois "
                                  "(défaut : artois).",
                            "en": "INSEE code of a municipality, SIREN of an EPCI or artois "
                                  "(default: artois)."},
            "schema": {"type": "string", "pattern": CODE_PATTERN, "default": "artois"},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "recompute": {
            "title": {"fr": "Recalculer", "en": "Recompute"},
            "description": {"fr": "true : recalculer et réécrire toute la collection "
                                  "(éditeur ou administrateur).",
                            "en": "true: recompute and rewrite the whole collection (editor "
                                  "or admin)."},
            "schema": {"type": "boolean", "default": False},
            "minOccurs": 0, "maxOccurs": 1,
        },
    },
    "outputs": {
        "territoire": {
            "title": {"fr": "Territoire", "en": "Territory"},
            "description": {"fr": "code, niveau, nom, epci_siren, date_calcul",
                            "en": "code, niveau, nom, epci_siren, date_calcul"},
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
        "chiffres": {
            "title": {"fr": "Chiffres clés", "en": "Key figures"},
            "description": {"fr": "{identifiant d'indicateur: valeur} (définitions : "
                                  "/chiffres-cles/indicateurs)",
                            "en": "{indicator id: value} (definitions: "
                                  "/chiffres-cles/indicateurs)"},
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
        "recalcul": {
            "title": {"fr": "Recalcul", "en": "Recompute"},
            "description": {"fr": "Avec recompute : lignes écrites, dates, durée.",
                            "en": "With recompute: rows written, dates, duration."},
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
    },
    "example": {"inputs": {"code": "62119"}},
}


def check_inputs(data: Any) -> dict[str, Any]:
    """Checks that need no data (run before a job is created)."""
    if not isinstance(data, dict):
        raise InputError("process_inputs_not_object")
    unknown = sorted(set(data) - set(PROCESS_METADATA["inputs"]))
    if unknown:
        raise InputError("process_inputs_unknown", names=unknown)
    recompute = data.get("recompute", False)
    if recompute is None:
        recompute = False
    if not isinstance(recompute, bool):
        raise InputError("chiffres_recompute_boolean")
    code = data.get("code")
    if code is not None and not (isinstance(code, str) and CODE_RE.fullmatch(code)):
        raise InputError("chiffres_code_invalid", value=repr(code)[:40])
    return {"code": code, "recompute": recompute}


def own_table(settings=None) -> bool:
    """Whether the collection is built in this store's own place: its GeoPackage in the store
    folder, or its table in the configured PostGIS schema. A copy of a store whose manifest
    still names another store's table (a test's scratch store) must not rewrite it."""
    from pathlib import Path

    from services.settings import get_settings
    from services.store import get_catalog

    settings = settings or get_settings()
    try:
        entry = get_catalog(settings).entry(COLLECTION)
    except FileNotFoundError:
        return False
    if entry is None:
        return False
    if entry.get("store") == "postgis":
        return str(entry.get("table", "")).rpartition(".")[0] in ("", settings.db_schema)
    data = entry.get("data")
    return bool(data) and Path(data).resolve().parent == Path(settings.store_dir).resolve()


def is_built(settings=None) -> bool:
    """The `when` of the recompute: the collection is built, in this store (nothing to
    rewrite before the first build, nor in another store's table)."""
    return own_table(settings)


def _build_date(settings) -> str:
    """The date of the last build of the store (the data date of layers without their own)."""
    from services.store import get_catalog
    mtime, _ = get_catalog(settings).manifest_version()
    if not mtime:
        return sources.today()
    return dt.datetime.fromtimestamp(mtime / 1e9, dt.timezone.utc).strftime("%Y-%m-%d")


def recompute(settings=None, progress=None) -> dict[str, Any]:
    """Recompute every figure from the layers as served and rewrite the collection."""
    from services import layers
    from services.settings import get_settings

    settings = settings or get_settings()
    started = time.perf_counter()
    date_calcul = sources.now()
    if progress:
        progress(5, {"fr": "Lecture des couches", "en": "Reading the layers"})
    try:
        layers.entry(COLLECTION, settings)
        if not own_table(settings):
            raise ProcessError("chiffres_not_own_store", status=409, code="Conflict",
                               collection=COLLECTION)
        out, report = build.compute_all(
            load_definitions(), lambda cid: layers.read_collection(cid, settings=settings),
            build.coverage_files(settings), build.time_fields(settings), _build_date(settings),
            date_calcul)
    except (layers.UnknownCollection, FileNotFoundError) as err:
        missing = err.args[0] if isinstance(err, layers.UnknownCollection) else COLLECTION
        raise ProcessError("collection_not_built", status=404, code="NotFound",
                           collection=str(missing)) from None
    except sources.SourceError as err:
        raise ProcessError("chiffres_source_missing", status=503, code="ServiceUnavailable",
                           detail=str(err)) from None
    if progress:
        progress(80, {"fr": "Écriture de la collection", "en": "Writing the collection"})
    written = layers.replace_rows(COLLECTION, out, settings, newer=("date_calcul", date_calcul))
    report.update(ecrit=bool(written.get("replaced")), lignes=written.get("count"),
                  plus_recent=written.get("newer"),
                  secondes=round(time.perf_counter() - started, 2))
    LOGGER.info("chiffres-cles recomputed: %s rows in %.1f s (written: %s)",
                written.get("count"), report["secondes"], written.get("replaced"))
    return report


def figures(code: str, settings=None) -> dict[str, Any]:
    """The stored figures of one territory."""
    from services import layers
    try:
        feature = layers.get_feature(COLLECTION, code, settings=settings)
    except (layers.UnknownCollection, FileNotFoundError):
        raise ProcessError("collection_not_built", status=404, code="NotFound",
                           collection=COLLECTION) from None
    if feature is None:
        raise ProcessError("chiffres_code_unknown", status=404, code="NotFound",
                           params={"code": code})
    props = feature["properties"]
    head = {k: _plain(props.get(k)) for k in RESERVED}
    values = {ind.id: _plain(props.get(ind.id)) for ind in load_definitions().indicators}
    return {"territoire": head, "chiffres": values}


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if isinstance(value, dt.date) and \
            not isinstance(value, dt.datetime) else value.isoformat()
    return value


class ChiffresClesProcessor(BaseProcessor):
    """Key figures of the territories (see the module docstring)."""

    job_timeout = 600  # seconds: the whole recompute takes about 15 s on two cores

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))
        self.context = None

    def validate_inputs(self, data: dict) -> None:
        check_inputs(data)

    def execute(self, data: dict, outputs: dict | None = None) -> tuple[str, Any]:
        inputs = check_inputs(data or {})
        result: dict[str, Any] = {}
        if inputs["recompute"]:
            progress = getattr(self.context, "progress", None)
            result["recalcul"] = recompute(progress=progress)
        result.update(figures(inputs["code"] or "artois"))
        return "application/json", result

    def __repr__(self) -> str:
        return f"<ChiffresClesProcessor> {self.name}"
