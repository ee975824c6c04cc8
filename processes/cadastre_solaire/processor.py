"""The ``cadastre-solaire-calcul`` OGC API process: recompute the solar cadastre.

``POST /processes/cadastre-solaire-calcul/execution`` (editor or admin) with ``{"inputs": {}}``
computes every roof of ``batiments`` (compute.py: the solar-potential process's model, each
roof at its own site) and rewrites the ``cadastre-solaire`` collection's table in one
transaction on the store in use (services.layers.replace_rows): readers see the old roofs or
the new ones, never a mix. The server queues this job itself (user ``recalcul``) when the
buildings or the communes change (``recompute`` below, services/jobs/triggers.py). A run that
started before the rows already stored leaves them (they are newer).

Output ``recalcul``: roofs written, sites, date of the computation, seconds, shading note.
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from pygeoapi.process.base import BaseProcessor

from processes.inputs import InputError
from services.jobs import ProcessError

from . import compute

LOGGER = logging.getLogger("artois_geo.cadastre_solaire")

PROCESS_ID = "cadastre-solaire-calcul"  # the collection is "cadastre-solaire" (one namespace)
COLLECTION = compute.COLLECTION

PROCESS_METADATA = {
    "version": "1.0.0",
    "access": {"execute": "editor"},  # it rewrites a collection (services/jobs/access.py)
    "recompute": {"on": ["batiments", "communes"], "inputs": {},
                  "when": "processes.cadastre_solaire.processor:is_built"},
    "id": PROCESS_ID,
    "title": {"fr": "Calcul du cadastre solaire", "en": "Solar cadastre computation"},
    "description": {
        "fr": "Recalcule le potentiel solaire de toutes les toitures de la collection "
              "batiments avec le modèle du traitement solar-potential (chaque toiture à son "
              "propre site) et réécrit la collection cadastre-solaire en une transaction "
              "(éditeur ou administrateur). Le serveur lance lui-même ce calcul après chaque "
              "modification des bâtiments. Données de démonstration (bâtiments modélisés).",
        "en": "Recomputes the solar potential of every roof of the batiments collection with "
              "the model of the solar-potential process (each roof at its own site) and "
              "rewrites the cadastre-solaire collection in one transaction (editor or admin). "
              "The server runs it itself after each change of the buildings. Demonstration "
              "data (modelled buildings).",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["cadastre solaire", "solaire", "photovoltaïque", "solar cadastre", "solar"],
    "inputs": {},
    "outputs": {
        "recalcul": {
            "title": {"fr": "Recalcul", "en": "Recompute"},
            "description": {"fr": "Toitures écrites, sites, date du calcul, durée.",
                            "en": "Roofs written, sites, date of the computation, duration."},
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
    },
    "example": {"inputs": {}},
}


def check_inputs(data: Any) -> None:
    if not isinstance(data, dict):
        raise InputError("process_inputs_not_object")
    if data:
        raise InputError("process_inputs_unknown", names=sorted(data))


def own_table(settings=None) -> bool:
    """Whether the collection is built in this store's own place (its GeoPackage in the store
    folder, or its table in the configured PostGIS schema): a scratch copy of a store whose
    manifest names another store's table must not rewrite it."""
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
    """The `when` of the recompute: the collection is built, in this store."""
    return own_table(settings)


def recompute(settings=None, progress=None) -> dict[str, Any]:
    """Recompute every roof from the buildings as served and rewrite the collection."""
    from services import layers
    from services.settings import get_settings

    settings = settings or get_settings()
    date_calcul = compute.now()
    if progress:
        progress(5, {"fr": "Lecture des bâtiments", "en": "Reading the buildings"})
    try:
        layers.entry(COLLECTION, settings)
        if not own_table(settings):
            raise ProcessError("chiffres_not_own_store", status=409, code="Conflict",
                               collection=COLLECTION)
        batiments = layers.read_collection(compute.SOURCE, settings=settings)
        communes = layers.read_collection("communes", settings=settings)
    except (layers.UnknownCollection, FileNotFoundError) as err:
        missing = err.args[0] if isinstance(err, layers.UnknownCollection) else COLLECTION
        raise ProcessError("collection_not_built", status=404, code="NotFound",
                           collection=str(missing)) from None
    if progress:
        progress(10, {"fr": "Calcul des toitures", "en": "Computing the roofs"})
    out, report = compute.compute(batiments, communes, date_calcul)
    if progress:
        progress(85, {"fr": "Écriture de la collection", "en": "Writing the collection"})
    written = layers.replace_rows(COLLECTION, out, settings, newer=("date_calcul", date_calcul))
    report.update(ecrit=bool(written.get("replaced")), lignes=written.get("count"),
                  plus_recent=written.get("newer"))
    LOGGER.info("cadastre-solaire recomputed: %s roofs in %.1f s (written: %s)",
                written.get("count"), report["secondes"], written.get("replaced"))
    return report


class CadastreSolaireProcessor(BaseProcessor):
    """Solar cadastre recompute (see the module docstring)."""

    job_timeout = 600  # seconds: the whole layer takes about 15 s on one core

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))
        self.context = None

    def validate_inputs(self, data: dict) -> None:
        check_inputs(data)

    def execute(self, data: dict, outputs: dict | None = None) -> tuple[str, Any]:
        check_inputs(data or {})
        progress = getattr(self.context, "progress", None)
        return "application/json", {"recalcul": recompute(progress=progress)}

    def __repr__(self) -> str:
        return f"<CadastreSolaireProcessor> {self.name}"
