"""The ``mutability`` OGC API process: a thin adapter around the pure scoring core.

``POST /processes/mutability/execution`` with one of:

* ``{"inputs": {"criteria": {...}}}`` — score the criteria as given (shape of a scenario's
  ``input``: auto, user, derived, unavailable, context);
* ``{"inputs": {"friche": "<site_id>"}}`` — derive the automatic criteria of that site of the
  ``friches`` collection from the server's layers (derive.py), then score; ``criteria`` may be
  added to complete or override what was derived (the user's answers, for instance);
* ``{"inputs": {"batch": true}}`` — score every friche and store the best use on the friche
  features (columns ``mutabilite_usage``, ``mutabilite_indice``, ``mutabilite_fiabilite``,
  ``mutabilite_version``, ``mutabilite_vocations``), where CQL2 filters and styles can use
  them. The server queues this batch itself (user ``recalcul``) when a friche or a layer of
  the derivation changes, once scores are stored (``recompute`` below,
  services/jobs/triggers.py).

In friche and batch modes, the criteria an agent stored on the friche (field
``criteres_saisis``, checked by ``stored.check_stored``) come before the derived ones (priority
given > stored > derived); ``result.vocations`` (friche mode) and ``mutabilite_vocations``
(batch) are the agency's broad vocations of the best uses (``data/vocations.yaml``).

``algorithm_version`` (optional) picks the version of the method (default: newest; ``v1.16``
is kept). Outputs (a JSON object keyed by output id): ``result`` = the evaluation, exactly the
shape of the scenario files' ``expected`` plus ``algorithm_version``; ``derivation`` (friche
mode) = each derived criterion with its layer and rule, the unavailable ones, the ones the
caller set and the stored ones; ``batch`` (batch mode) = a summary of what was stored.

Method: Mutafriches (ADEME / beta.gouv.fr), https://github.com/incubateur-ademe/mutafriches —
see data/ATTRIBUTION.md.
"""
from __future__ import annotations

import logging
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any


from pygeoapi.process.base import BaseProcessor

from processes.mutability import core, derive
from processes.mutability.stored import read_stored
from services.jobs import ProcessError
from processes import yaml_data

LOGGER = logging.getLogger("artois_geo.mutability")

FRICHES = "friches"
RESULT_COLUMNS = {  # column: (SQLite type, PostgreSQL type)
    "mutabilite_usage": ("TEXT", "text"),
    "mutabilite_indice": ("REAL", "double precision"),
    "mutabilite_fiabilite": ("REAL", "double precision"),
    "mutabilite_version": ("TEXT", "text"),
    "mutabilite_vocations": ("TEXT", "text"),
}
STORED_FIELD = "criteres_saisis"  # criteria stored on the friche by an agent (stored.py)
VOCATIONS_PATH = Path(__file__).resolve().parent / "data" / "vocations.yaml"

_RESULT_SCHEMA = {
    "type": "object",
    "required": ["reliability", "results", "algorithm_version"],
    "properties": {
        "reliability": {
            "type": "object",
            "description": "Fiabilité de l'évaluation (0 à 10) / reliability of the evaluation",
            "properties": {
                "score": {"type": "number"}, "label": {"type": "string"},
                "criteria_informed": {"type": "integer"}, "criteria_total": {"type": "integer"},
                "weight_informed": {"type": "number"}, "weight_total": {"type": "number"},
            },
        },
        "results": {
            "type": "array", "minItems": 7, "maxItems": 7,
            "description": "Les sept usages classés / the seven uses, ranked",
            "items": {
                "type": "object",
                "properties": {
                    "rank": {"type": "integer"},
                    "use": {"type": "string", "enum": [u["id"] for u in core.USES]},
                    "index": {"type": "number", "description": "indice de mutabilité (%)"},
                    "label": {"type": "string"}, "excluded": {"type": "boolean"},
                    "advantages": {"type": "number"}, "constraints": {"type": "number"},
                },
            },
        },
        "algorithm_version": {"type": "string"},
        "vocations": {
            "type": "array",
            "description": "Mode friche : les grandes vocations de l'agence des meilleurs usages "
                           "non exclus (à moins de « margin » points du meilleur indice, "
                           "data/vocations.yaml) / friche mode: the agency's broad vocations of "
                           "the best uses that are not excluded",
            "items": {
                "type": "object", "required": ["id", "label_fr", "label_en", "uses", "index"],
                "properties": {
                    "id": {"type": "string"}, "label_fr": {"type": "string"},
                    "label_en": {"type": "string"},
                    "uses": {"type": "array", "items": {"type": "string"}},
                    "index": {"type": "number", "description": "meilleur indice de ses usages"},
                },
            },
        },
        "criteria": {
            "type": "array",
            "description": "Mode friche : chaque critère de la version, sa valeur et sa source "
                           "(derived, given, stored, unavailable), son poids / friche mode: "
                           "every criterion of the version, its value, source and weight",
            "items": {
                "type": "object", "required": ["id", "value", "source", "weight"],
                "properties": {
                    "id": {"type": "string"}, "weight": {"type": "number"},
                    "source": {"enum": list(core.SOURCES)}, "informed": {"type": "boolean"},
                    "layer": {"type": "string"}, "rule": {"type": "string"},
                },
            },
        },
    },
    "contentMediaType": "application/json",
}

PROCESS_METADATA = {
    "version": "1.0.0",
    # who may run it (services/jobs/access.py): anyone; `batch` writes every friche: editor
    "access": {"execute": "public", "inputs": {"batch": "editor"}},
    # recomputed when what it reads changes (services/jobs/triggers.py): the friches and the
    # layers of the derivation; once the scores are stored on this store (has_results)
    "recompute": {"on": [FRICHES, *derive.LAYERS], "inputs": {"batch": True},
                  "when": "processes.mutability.processor:has_results"},
    "id": "mutability",
    "title": {
        "fr": "Mutabilité des friches (méthode Mutafriches)",
        "en": "Brownfield mutability (Mutafriches method)",
    },
    "description": {
        "fr": "Note l'aptitude d'une friche à sept usages futurs (résidentiel, équipements, "
              "culture, tertiaire, industrie, renaturation, photovoltaïque) selon la méthode "
              "Mutafriches (ADEME / beta.gouv.fr) : indice de mutabilité par usage, classement "
              "et fiabilité. Donnez les critères (« criteria »), ou une friche de la collection "
              "friches (« friche ») dont le serveur déduit les critères automatiques de ses "
              "couches, ou « batch » : true pour noter toutes les friches et enregistrer le "
              "meilleur usage sur chacune (colonnes mutabilite_*).",
        "en": "Rates how well a brownfield site suits seven future uses (housing, public "
              "facilities, culture, offices, industry, renaturation, ground photovoltaics) "
              "with the Mutafriches method (ADEME / beta.gouv.fr): a mutability index per "
              "use, a ranking and a reliability. Give the criteria ('criteria'), or a site of "
              "the friches collection ('friche') whose automatic criteria the server derives "
              "from its layers, or 'batch': true to score every site and store the best use "
              "on each one (mutabilite_* columns).",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["friches", "brownfields", "mutabilité", "mutability", "Mutafriches"],
    "links": [{
        "type": "text/html", "rel": "about", "title": "Mutafriches (ADEME / beta.gouv.fr)",
        "href": "https://github.com/incubateur-ademe/mutafriches", "hreflang": "fr",
    }],
    "inputs": {
        "friche": {
            "title": {"fr": "Friche", "en": "Brownfield site"},
            "description": {
                "fr": "Identifiant (site_id) d'une friche de la collection friches : le "
                      "serveur en déduit les critères automatiques (surfaces, centre-ville, "
                      "zonage, ZAE, puits miniers, aléas publiés...).",
                "en": "Identifier (site_id) of a site of the friches collection: the server "
                      "derives its automatic criteria (surfaces, town centre, zoning, business "
                      "park, mine shafts, published hazards...).",
            },
            "schema": {"type": "string", "minLength": 1},
            "minOccurs": 0, "maxOccurs": 1,
            "keywords": ["site_id"],
        },
        "criteria": {
            "title": {"fr": "Critères", "en": "Criteria"},
            "description": {
                "fr": "Critères de l'évaluation, comme l'entrée des scénarios : auto (données "
                      "d'enrichissement, distances en mètres), user (réponses, « ne-sait-pas » "
                      "admis), derived, unavailable, context. Avec « friche », ils complètent "
                      "ou remplacent les critères déduits.",
                "en": "Criteria of the evaluation, shaped like a scenario's input: auto "
                      "(enrichment data, distances in metres), user (answers, 'ne-sait-pas' "
                      "allowed), derived, unavailable, context. With 'friche', they complete "
                      "or override the derived criteria.",
            },
            "schema": core.criteria_schema(),
            "minOccurs": 0, "maxOccurs": 1,
        },
        "algorithm_version": {
            "title": {"fr": "Version de l'algorithme", "en": "Algorithm version"},
            "description": {
                "fr": "Version de la méthode Mutafriches (par défaut la plus récente).",
                "en": "Version of the Mutafriches method (default: the newest).",
            },
            "schema": {"type": "string", "enum": core.supported_versions(),
                       "default": core.DEFAULT_VERSION},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "batch": {
            "title": {"fr": "Toutes les friches", "en": "Every brownfield site"},
            "description": {
                "fr": "true : note toutes les friches et enregistre sur chacune le meilleur "
                      "usage, son indice, la fiabilité, la version et les vocations (colonnes "
                      "mutabilite_usage, mutabilite_indice, mutabilite_fiabilite, "
                      "mutabilite_version, mutabilite_vocations), filtrables en CQL2.",
                "en": "true: scores every site and stores on each one the best use, its "
                      "index, the reliability, the version and the vocations (columns "
                      "mutabilite_usage, mutabilite_indice, mutabilite_fiabilite, "
                      "mutabilite_version, mutabilite_vocations), which CQL2 filters can use.",
            },
            "schema": {"type": "boolean", "default": False},
            "minOccurs": 0, "maxOccurs": 1,
        },
    },
    "outputs": {
        "result": {
            "title": {"fr": "Évaluation", "en": "Evaluation"},
            "description": {
                "fr": "Fiabilité et les sept usages classés (rang, indice, libellé, exclusion, "
                      "avantages, contraintes), et la version de l'algorithme.",
                "en": "Reliability and the seven ranked uses (rank, index, label, exclusion, "
                      "advantages, constraints), and the algorithm version.",
            },
            "schema": _RESULT_SCHEMA,
        },
        "derivation": {
            "title": {"fr": "Critères déduits", "en": "Derived criteria"},
            "description": {
                "fr": "Mode friche : chaque critère déduit avec sa couche et sa règle, les "
                      "critères indisponibles et ceux fournis par l'appelant.",
                "en": "Friche mode: each derived criterion with its layer and rule, the "
                      "unavailable criteria and those the caller gave.",
            },
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
        "batch": {
            "title": {"fr": "Notation de toutes les friches", "en": "Scoring of every site"},
            "description": {
                "fr": "Mode batch : nombre de friches notées et mises à jour, usages retenus.",
                "en": "Batch mode: number of sites scored and updated, best uses.",
            },
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
    },
    "example": {
        "inputs": {
            "friche": "62846_8397",
            "criteria": {"user": {"typeProprietaire": "public", "presencePollution": "ne-sait-pas"}},
            "algorithm_version": core.DEFAULT_VERSION,
        },
    },
}


def _criteria_error(err: core.MutabilityError) -> ProcessError:
    if isinstance(err, core.UnknownAlgorithmVersion):
        return ProcessError("mutability_version", detail={"fr": err.fr, "en": err.en})
    return ProcessError("mutability_criteria", detail={"fr": err.fr, "en": err.en})


def auto_criteria(version: str | None) -> list[str]:
    """The automatic criteria of an algorithm version."""
    return list(core.criteria_schema(version)["properties"]["auto"]["properties"])


class MutabilityProcessor(BaseProcessor):
    """Mutafriches mutability of brownfield sites (see the module documentation)."""

    job_timeout = None  # services.jobs default (ARTOIS_JOB_TIMEOUT)

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, PROCESS_METADATA)
        self.supports_outputs = True
        self.on_progress = None  # set by the job worker: callable(percent, message)
        self.context = None  # set by the job worker: services.jobs.worker.JobContext

    # -- checks run by the server before a job is created (fast) -------------------
    def validate_inputs(self, data: dict[str, Any]) -> None:
        batch, friche, criteria = data.get("batch", False), data.get("friche"), \
            data.get("criteria")
        if batch and (friche is not None or criteria is not None):
            raise ProcessError.of("mutability_batch_alone")
        if not batch and friche is None and criteria is None:
            raise ProcessError.of("mutability_no_input", code="MissingParameterValue")
        version = data.get("algorithm_version")
        try:
            core.supported_versions()
            core.criteria_schema(version)  # raises UnknownAlgorithmVersion
            if criteria is not None:
                core.score(criteria, version)
        except core.MutabilityError as err:
            raise _criteria_error(err) from err
        if friche is not None:
            from services.layers import get_feature
            if get_feature(FRICHES, friche) is None:
                raise ProcessError.of("mutability_unknown_friche", id=friche)

    # -- the job --------------------------------------------------------------------
    def execute(self, data: dict[str, Any], outputs: dict | None = None):
        version = data.get("algorithm_version") or core.DEFAULT_VERSION
        try:
            if data.get("batch"):
                produced = {"batch": self._batch(version)}
            elif data.get("friche") is not None:
                produced = self._friche(str(data["friche"]), data.get("criteria"), version)
            elif data.get("criteria") is not None:
                # every criterion explained (given or unavailable), as for a friche
                produced = {"result": core.evaluate(data["criteria"], algorithm_version=version)}
            else:
                raise ProcessError.of("mutability_no_input", code="MissingParameterValue")
        except core.MutabilityError as err:
            raise _criteria_error(err) from err
        if outputs:
            produced = {k: v for k, v in produced.items() if k in outputs}
        return "application/json", produced

    def _progress(self, percent: float, fr: str, en: str) -> None:
        if self.on_progress is not None:
            self.on_progress(percent, {"fr": fr, "en": en})

    def _friche(self, site_id: str, given: dict | None, version: str) -> dict[str, Any]:
        from services.layers import get_feature
        site = get_feature(FRICHES, site_id)
        if site is None:
            raise ProcessError.of("mutability_unknown_friche", id=site_id)
        ctx = derive.Context(load_layers(), auto_criteria(version), demo_layers())
        derived = derive.derive_site(site["properties"], site["geometry"], ctx)
        stored, stored_problems = read_stored(site["properties"].get(STORED_FIELD))
        criteria, given_ids = derive.merge(derived, given, stored)
        result = core.evaluate(given, stored=stored, derived=derived.criteria(),
                               details=derived.details(),
                               algorithm_version=version)  # score(criteria) + "criteria"
        result["vocations"] = vocations(result)
        derivation = {
            "friche": site_id,
            "algorithm_version": result["algorithm_version"],
            "derived": derived.sources,
            "unavailable": criteria["unavailable"],
            "given": given_ids,
            "stored": [c["id"] for c in result["criteria"] if c["source"] == "stored"],
            "layers_missing": ctx.missing,
            "criteria": criteria,
        }
        if stored_problems:  # a stored value the newest version refuses: left out, and why
            derivation["stored_problems"] = stored_problems
        return {"result": result, "derivation": derivation}

    def _batch(self, version: str) -> dict[str, Any]:
        from services.layers import id_field, read_collection
        from services.settings import get_settings

        settings = get_settings()
        self._progress(10, "Lecture des couches", "Reading the layers")
        friches = read_collection(FRICHES, settings=settings)
        ctx = derive.Context(load_layers(), auto_criteria(version), demo_layers())
        key = id_field(FRICHES)
        scored: dict[str, dict[str, Any]] = {}
        best_uses: dict[str, int] = {}
        stored_used = stored_refused = 0
        names = [c for c in friches.columns if c != friches.geometry.name]
        n = len(friches)
        for i, (values, geom) in enumerate(zip(friches[names].itertuples(index=False,
                                                                          name=None),
                                               friches.geometry)):
            props = dict(zip(names, values))
            stored, problems = read_stored(props.get(STORED_FIELD))
            stored_used += bool(stored)
            stored_refused += bool(problems)
            criteria, _ = derive.merge(derive.derive_site(props, geom, ctx), None, stored)
            result = core.score(criteria, version)
            best = result["results"][0]
            scored[str(props[key])] = {
                "mutabilite_usage": best["use"],
                "mutabilite_indice": float(best["index"]),
                "mutabilite_fiabilite": float(result["reliability"]["score"]),
                "mutabilite_version": result["algorithm_version"],
                "mutabilite_vocations": ", ".join(v["id"] for v in vocations(result)) or None,
            }
            best_uses[best["use"]] = best_uses.get(best["use"], 0) + 1
            if i % 20 == 0:
                self._progress(10 + 60 * i / max(n, 1), f"{i}/{n} friches notées",
                               f"{i}/{n} sites scored")
        self._progress(75, "Enregistrement des résultats", "Storing the results")
        user = getattr(self.context, "user", None)
        written = store_results(settings, scored, user=user)
        return {
            "algorithm_version": core.criteria_schema(version)["x-algorithm-version"],
            "scored": len(scored),
            "updated": written,
            "unchanged": len(scored) - written,
            "best_uses": dict(sorted(best_uses.items(), key=lambda kv: -kv[1])),
            "collection": FRICHES,
            "columns": list(RESULT_COLUMNS),
            "layers_missing": ctx.missing,
            "stored": {"friches": stored_used, "refused": stored_refused},
        }

    def __repr__(self):
        return f"<MutabilityProcessor> {self.name}"


# ---------------------------------------------------------------------------- vocations
@lru_cache(maxsize=1)
def vocation_table() -> dict[str, Any]:
    """data/vocations.yaml: the agency's vocations, the vocations of each use, the margin."""
    raw = yaml_data.load(VOCATIONS_PATH.read_text(encoding="utf-8"))
    known = raw["vocations"]
    uses = {u["id"] for u in core.USES}
    if set(raw["uses"]) != uses:
        raise ValueError(f"vocations.yaml: uses {sorted(raw['uses'])} != {sorted(uses)}")
    for use, ids in raw["uses"].items():
        if not ids or any(v not in known for v in ids):
            raise ValueError(f"vocations.yaml: {use}: unknown vocation in {ids}")
    return {"vocations": known, "uses": raw["uses"],
            "margin": Fraction(str(raw["rule"]["margin"]))}


def vocations(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The vocations of the best uses of a scored result: the uses not excluded whose index
    is within `margin` points of the best one (none when every index is 0), in rank order,
    each vocation once with its uses and their best index (METHOD.md, data/vocations.yaml)."""
    table = vocation_table()
    rows = [r for r in result["results"] if not r["excluded"]]
    if not rows:
        return []
    best = max(Fraction(str(r["index"])) for r in rows)
    if best <= 0:
        return []
    out: dict[str, dict[str, Any]] = {}
    for r in rows:  # already ranked, best first
        if best - Fraction(str(r["index"])) > table["margin"]:
            continue
        for vid in table["uses"][r["use"]]:
            entry = out.get(vid)
            if entry is None:
                label = table["vocations"][vid]
                entry = out[vid] = {"id": vid, "label_fr": label["fr"], "label_en": label["en"],
                                    "uses": [], "index": r["index"]}
            entry["uses"].append(r["use"])
    return list(out.values())


# ---------------------------------------------------------------------------- store access
def load_layers() -> dict[str, Any]:
    """The layers derive.py reads; a collection that is not published gives None."""
    from services.layers import UnknownCollection, read_collection

    out: dict[str, Any] = {}
    for cid in derive.LAYERS:
        try:
            out[cid] = read_collection(cid)
        except (UnknownCollection, FileNotFoundError):
            out[cid] = None
    return out


def demo_layers() -> set[str]:
    from services.layers import demo_collections
    return demo_collections()


def has_results(settings=None) -> bool:
    """Whether this store holds scores to keep up to date: the result columns exist on the
    friches table (a batch has run). The `when` of the recompute declaration: before the
    first batch, a change queues nothing."""
    from services.layers import UnknownCollection, entry
    from services.store import backend_for
    try:
        e = entry(FRICHES, settings)
    except (UnknownCollection, FileNotFoundError):
        return False
    return "mutabilite_usage" in backend_for(e).layer_table(e).columns


def ensure_result_columns(settings) -> None:
    """Add the mutabilite_* columns to the friches table if they are missing (both stores).

    The build keeps them: friches is an editable collection, whose rows and extra columns a
    rebuild never replaces (services/build.py, services/store/postgis/schema.py)."""
    from services.layers import add_columns
    add_columns(FRICHES, RESULT_COLUMNS, settings)


def store_results(settings, scored: dict[str, dict[str, Any]], user: str | None = None
                  ) -> int:
    """Write the scores on the friche features through services.store.writer (one transaction,
    audited as source 'process', under the name of the user who ran the batch); only
    features whose values change are written. It queues no recompute (no loop): it does not
    call services.jobs.triggers."""
    from services.store.writer import open_writer

    ensure_result_columns(settings)
    with open_writer(settings, FRICHES, user=user or "mutability", role="process",
                     source="process") as writer:
        currents = writer.get_many(scored)  # one query, not one per friche
        changes = []
        for site_id, values in scored.items():
            current = currents.get(site_id)
            if current is None:
                continue
            if all(_same(current.properties.get(k), v) for k, v in values.items()):
                continue
            changes.append((current, values))
        writer.patch_many(changes)  # one executemany for the rows, one for the audit
    return len(changes)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-9
    return a == b
