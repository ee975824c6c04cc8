"""pygeoapi adapter of the ``risk-matrix`` process (thin: inputs -> layers -> core -> outputs).

Reads the published collections with :mod:`services.layers` (whichever store is set), computes
the indicators (:mod:`.indicators`), scores them with the rules (:mod:`.core`) and draws the grid
(:mod:`.svg`).  No state besides the class's metadata: an instance can be created, pickled or
rebuilt in a fresh worker process at will.

Interface (the names partners script against):

* inputs: ``commune`` (INSEE code) or ``geometry`` (GeoJSON Polygon/MultiPolygon or a Feature
  carrying one; CRS84 unless ``crs`` says EPSG:2154; ``polygon`` is a documented alias), optional
  ``year``, ``matrix`` = ``environmental`` (default, R1..R8 from the published layers) or
  ``societal`` (S1..S7 from the values given in ``indicators``);
* outputs: ``risks`` (a list of ``{id, label, probability, gravity, criticity, inputs,
  sources}`` with the French class names), ``svg`` (the grid, the SVG document itself as a
  string) and ``details`` (commune or area, grid cells, rules version, parameters, notes).

The processor returns ``(mime type, value)``: no ``outputs`` selection (or several outputs) ->
``application/json`` ``{"risks": [...], "svg": "<?xml ...<svg ...", "details": {...}}``;
``outputs: {"svg": {}}`` alone -> ``image/svg+xml``, the SVG document (with ``response=raw``
the body *is* the SVG).  pygeoapi's ``to_json`` would rewrite ``<``/``>`` as ``&lt;``/``&gt;``;
services/pygeoapi_compat.py (patch to-json) replaces it in the processes API with a plain JSON dump.
"""
from __future__ import annotations

import copy
import logging
from typing import Any

import numpy as np
import shapely
from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from processes.inputs import INSEE_RE, InputError, crs84_to_lambert93, geojson_polygon, is_insee

from . import core, indicators, svg

LOGGER = logging.getLogger(__name__)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG2154 = "http://www.opengis.net/def/crs/EPSG/0/2154"
CRS_ALIASES = {
    CRS84: CRS84, "OGC:CRS84": CRS84, "CRS84": CRS84,
    EPSG2154: EPSG2154, "EPSG:2154": EPSG2154, "2154": EPSG2154,
}
MAX_AREA_KM2 = 2500.0  # the whole territory is about 2 000 km²
MAX_VERTICES = 100_000
YEARS = [2022, 2023, 2024]
OUTPUT_IDS = ("risks", "svg", "details")
MATRICES = ("environmental", "societal")
ALIASES = {"polygon": "geometry"}  # documented aliases of older names


def _rules_for_metadata() -> dict:
    try:
        return core.load_rules()
    except Exception:  # noqa: BLE001 - metadata must load even if the rules file is broken
        LOGGER.exception("risk-matrix: rules file unreadable")
        return {"societal": {"inputs": {}}}


_RULES = _rules_for_metadata()

PROCESS_METADATA = {
    "version": "1.0.0",
    "access": {"execute": "public"},  # reads only (services/jobs/access.py)
    "id": "risk-matrix",
    "title": {
        "fr": "Matrice des risques territoriaux",
        "en": "Territorial risk matrix",
    },
    "description": {
        "fr": "Matrice exploratoire des risques d'une commune (code INSEE) ou d'une zone "
              "(polygone GeoJSON) de l'Artois : huit risques environnementaux (surchauffe "
              "urbaine, inondation, retrait-gonflement des argiles, risques industriels et "
              "miniers, bruit, culture du risque inondation, pollution des sols, qualité de "
              "l'air) calculés à partir des couches publiées, et sept risques sociétaux calculés "
              "à partir d'indicateurs saisis (matrix=societal, indicators). Chaque risque reçoit "
              "une probabilité (Improbable à Très probable) et une gravité (Mineur à Catastrophique) "
              "selon des seuils du fichier de règles (rules.yaml), puis une criticité (modéré, "
              "critique, très critique) dans la grille. Sorties : risks (classes, valeurs des "
              "indicateurs et sources, réelles ou de démonstration) et svg (la grille). "
              "Les aléas inondation, argiles, bruit, air et la surchauffe sont des données de "
              "démonstration modélisées : résultats illustratifs, seuils non réglementaires.",
        "en": "Exploratory risk matrix of an Artois municipality (INSEE code) or area (GeoJSON "
              "polygon): eight environmental risks (urban overheating, flooding, clay "
              "shrink-swell, industrial and mining risks, noise, flood-risk culture, soil "
              "contamination, air quality) computed from the published layers, and seven "
              "societal risks computed from indicator values given as input "
              "(matrix=societal, indicators). Each risk gets a probability (Very unlikely to "
              "Very likely) and a gravity (Minor to Catastrophic) from the thresholds of the rules "
              "file (rules.yaml), then a criticity (moderate, critical, very critical) from the "
              "grid. Outputs: risks (classes, indicator values and their sources, real or "
              "demonstration) and svg (the grid). The flood, clay, noise, air and overheating "
              "hazards are modelled demonstration data: illustrative results, non-regulatory "
              "thresholds.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["risques", "matrice des risques", "criticité", "vulnérabilité", "résilience",
                 "risks", "risk matrix", "Artois"],
    "inputs": {
        "commune": {
            "title": {"fr": "Code INSEE de la commune", "en": "Municipality INSEE code"},
            "description": {
                "fr": "Code INSEE d'une des 305 communes (exclusif de geometry).",
                "en": "INSEE code of one of the 305 municipalities (exclusive with geometry).",
            },
            "schema": {"type": "string", "pattern": INSEE_RE.pattern},
            "minOccurs": 0,
            "maxOccurs": 1,
            "keywords": ["commune", "INSEE"],
        },
        "geometry": {
            "title": {"fr": "Zone (polygone GeoJSON)", "en": "Area (GeoJSON polygon)"},
            "description": {
                "fr": "Géométrie GeoJSON Polygon ou MultiPolygon (ou Feature qui en porte une), "
                      "en CRS84 (longitude, latitude) sauf si l'entrée crs dit EPSG:2154 ; la "
                      "partie hors du territoire est ignorée (exclusif de commune).",
                "en": "GeoJSON Polygon or MultiPolygon geometry (or a Feature carrying one), in "
                      "CRS84 (longitude, latitude) unless the crs input says EPSG:2154; the part "
                      "outside the territory is ignored (exclusive with commune).",
            },
            "schema": {"type": "object", "contentMediaType": "application/geo+json",
                       "required": ["type"]},
            "minOccurs": 0,
            "maxOccurs": 1,
            "keywords": ["geometry", "polygon", "GeoJSON"],
        },
        "polygon": {
            "title": {"fr": "Alias de geometry", "en": "Alias of geometry"},
            "description": {
                "fr": "Ancien nom de l'entrée geometry (même contenu) ; préférer geometry.",
                "en": "Former name of the geometry input (same content); use geometry.",
            },
            "schema": {"type": "object", "contentMediaType": "application/geo+json",
                       "required": ["type"]},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "crs": {
            "title": {"fr": "Système de coordonnées de geometry", "en": "CRS of geometry"},
            "description": {
                "fr": "CRS84 (défaut) ou EPSG:2154 (Lambert-93).",
                "en": "CRS84 (default) or EPSG:2154 (Lambert-93).",
            },
            "schema": {"type": "string", "enum": [CRS84, EPSG2154, "EPSG:2154", "OGC:CRS84"],
                       "default": CRS84},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "matrix": {
            "title": {"fr": "Matrice", "en": "Matrix"},
            "description": {
                "fr": "environmental (défaut) : huit risques environnementaux R1..R8 calculés "
                      "à partir des couches publiées ; societal : sept risques sociétaux S1..S7 "
                      "calculés à partir des valeurs de l'entrée indicators.",
                "en": "environmental (default): eight environmental risks R1..R8 computed from "
                      "the published layers; societal: seven societal risks S1..S7 computed "
                      "from the values of the indicators input.",
            },
            "schema": {"type": "string", "enum": list(MATRICES), "default": "environmental"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "year": {
            "title": {"fr": "Été de la surchauffe", "en": "Overheating summer"},
            "description": {
                "fr": "Été du raster de surchauffe utilisé pour R1 (défaut : le plus récent).",
                "en": "Summer of the overheating raster used for R1 (default: the latest).",
            },
            "schema": {"type": "integer", "enum": YEARS},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "indicators": {
            "title": {"fr": "Indicateurs sociétaux", "en": "Societal indicators"},
            "description": {
                "fr": "Avec matrix=societal (obligatoire alors) : valeurs des indicateurs de la "
                      "matrice sociétale (un risque sans ses valeurs est « non évalué »). Clés "
                      "acceptées : " + ", ".join(_RULES["societal"]["inputs"]),
                "en": "With matrix=societal (required then): indicator values of the societal "
                      "matrix (a risk without its values is 'not assessed'). Accepted keys: "
                      + ", ".join(_RULES["societal"]["inputs"]),
            },
            "schema": core.societal_input_schema(_RULES) if _RULES.get("scales") else
            {"type": "object"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": {
        "risks": {
            "title": {"fr": "Risques", "en": "Risks"},
            "description": {
                "fr": "Liste des risques de la matrice demandée : id (R1.. ou S1..), label, "
                      "probability (Improbable, Peu probable, Probable, Très probable), gravity "
                      "(Mineur, Majeur, Critique, Catastrophique), criticity (modéré, critique, "
                      "très critique ; null si non évalué), inputs (valeurs des indicateurs), "
                      "sources (réelles ou de démonstration).",
                "en": "The risks of the requested matrix: id (R1.. or S1..), label, probability "
                      "(Improbable, Peu probable, Probable, Très probable), gravity (Mineur, "
                      "Majeur, Critique, Catastrophique), criticity (modéré, critique, très "
                      "critique; null when not assessed), inputs (indicator values), sources "
                      "(real or demonstration).",
            },
            "schema": {"type": "array", "items": {"type": "object"},
                       "contentMediaType": "application/json"},
        },
        "svg": {
            "title": {"fr": "Grille de criticité (SVG)", "en": "Criticity grid (SVG)"},
            "description": {
                "fr": "Le document SVG de la grille gravité × probabilité avec les codes des "
                      "risques (une chaîne dans la réponse JSON ; seule demandée, la réponse est "
                      "le document image/svg+xml).",
                "en": "The SVG document of the gravity × probability grid with the risk codes "
                      "(a string in the JSON response; requested alone, the response is the "
                      "image/svg+xml document).",
            },
            "schema": {"type": "string", "contentMediaType": "image/svg+xml"},
        },
        "details": {
            "title": {"fr": "Détails", "en": "Details"},
            "description": {
                "fr": "Matrice calculée, commune ou zone, cases de la grille, version des "
                      "règles, paramètres, notes.",
                "en": "Matrix computed, municipality or area, grid cells, rules version, "
                      "parameters, notes.",
            },
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
    },
    "example": {
        "inputs": {
            "commune": "62119",
            "matrix": "environmental",
        },
        "outputs": {"risks": {}, "svg": {}},
        "response": "document",
    },
}


# --------------------------------------------------------------------------------------------
# errors (bilingual; a manager that lets ProcessorExecuteError through keeps the status)
# --------------------------------------------------------------------------------------------
class RiskMatrixInputError(InputError):
    """A bad input of risk-matrix: 400, in French and English."""


# --------------------------------------------------------------------------------------------
# helpers (module-level functions: nothing to pickle)
# --------------------------------------------------------------------------------------------
def _catalog(settings) -> dict[str, dict[str, Any]]:
    from services.store import get_catalog
    return {s.id: {"title_fr": s.title["fr"], "title_en": s.title["en"], "demo": bool(s.demo)}
            for s in get_catalog(settings).specs.values()}


def _source(cid: str, catalog: dict[str, dict[str, Any]]) -> dict[str, Any]:
    info = catalog.get(cid, {"title_fr": cid, "title_en": cid, "demo": False})
    demo = info["demo"]
    return {
        "collection": cid,
        "title_fr": info["title_fr"],
        "title_en": info["title_en"],
        "demo": demo,
        "nature": "démonstration" if demo else "réelle",
        "nature_fr": "données de démonstration modélisées" if demo else "données réelles",
        "nature_en": "modelled demonstration data" if demo else "real data",
    }


def _wanted_outputs(outputs: Any) -> set[str]:
    if not outputs:
        return set(OUTPUT_IDS)
    ids = list(outputs) if isinstance(outputs, (dict, list, tuple)) else None
    if ids is None or not all(isinstance(i, str) for i in ids):
        raise RiskMatrixInputError("risk_outputs_not_object",
                                   shape={"fr": "{identifiant: {...}}", "en": "{id: {...}}"})
    unknown = sorted(set(ids) - set(OUTPUT_IDS))
    if unknown:
        raise RiskMatrixInputError("risk_outputs_unknown", names=unknown, known=list(OUTPUT_IDS))
    if isinstance(outputs, dict):
        for oid, spec in outputs.items():
            mode = (spec or {}).get("transmissionMode", "value") if isinstance(spec, dict) else "value"
            if mode != "value":
                raise RiskMatrixInputError("risk_transmission_mode", output=oid)
    return set(ids)


def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    """The inputs with the documented aliases replaced by their primary names."""
    out = dict(data)
    for alias, name in ALIASES.items():
        if alias in out:
            if out.get(name) is not None:
                raise RiskMatrixInputError("process_alias_twice", alias=alias, name=name)
            value = out.pop(alias)
            if value is not None:
                out[name] = value
    return out


def _geometry(data: dict[str, Any]):
    """The requested polygon in EPSG:2154 (validated)."""
    geom = geojson_polygon(data["geometry"], MAX_VERTICES, RiskMatrixInputError)
    crs = CRS_ALIASES.get(str(data.get("crs") or CRS84))
    if crs is None:
        raise RiskMatrixInputError("risk_crs")
    if crs == CRS84:
        geom = crs84_to_lambert93(geom, RiskMatrixInputError)
    if not geom.is_valid:
        geom = indicators._polygonal(shapely.make_valid(geom))
    if geom.is_empty or geom.area <= 0:
        raise RiskMatrixInputError("process_geometry_no_area")
    if geom.area / 1e6 > MAX_AREA_KM2:
        raise RiskMatrixInputError("process_geometry_too_large", max=MAX_AREA_KM2)
    return geom


def _year(data: dict[str, Any], files: dict[str, str]) -> int:
    available = sorted(int(y) for y in files)
    year = data.get("year")
    if year is None:
        return available[-1]
    if isinstance(year, bool) or not isinstance(year, (int, str)) or str(year) not in files:
        raise RiskMatrixInputError("process_year_one_of", years=str(available))
    return int(year)


def check_inputs(data: Any) -> dict[str, Any]:
    """Checks that need no data (cheap; run before a job is created).

    Returns the inputs with aliases resolved and ``matrix`` set (raises RiskMatrixInputError)."""
    if not isinstance(data, dict):
        raise RiskMatrixInputError("process_inputs_not_object")
    unknown = sorted(set(data) - set(PROCESS_METADATA["inputs"]))
    if unknown:
        raise RiskMatrixInputError("process_inputs_unknown", names=unknown)
    data = _canonical(data)
    has_commune = data.get("commune") not in (None, "")
    has_geometry = data.get("geometry") is not None
    if has_commune == has_geometry:
        raise RiskMatrixInputError("process_commune_or_geometry")
    if has_commune:
        insee = data["commune"]
        if not (isinstance(insee, str) and is_insee(insee.strip())):
            raise RiskMatrixInputError("process_insee_invalid", value=repr(insee))
    else:
        data.pop("commune", None)
        _geometry(data)
    if data.get("year") is not None and data["year"] not in YEARS:
        raise RiskMatrixInputError("process_year_one_of", years=str(YEARS))
    kind = data.get("matrix")
    if kind is None:
        kind = "environmental"
    if kind not in MATRICES:
        raise RiskMatrixInputError("risk_matrix_kind", value=repr(kind))
    data["matrix"] = kind
    if kind == "societal":
        if data.get("indicators") is None:
            raise RiskMatrixInputError("risk_indicators_required")
        try:
            core.societal_indicators(data["indicators"], None, core.load_rules())
        except core.InvalidInput as err:  # the pure core's own texts (no catalogue there)
            raise RiskMatrixInputError.from_texts(err.fr, err.en) from None
    elif data.get("indicators") is not None:
        raise RiskMatrixInputError("risk_indicators_societal_only")
    return data


def _notes(has_commune: bool) -> list[str]:
    notes = ["Population répartie uniformément dans chaque commune (seule la population "
             "municipale est publiée). / Population spread evenly over each municipality "
             "(only the municipal population is published)."]
    notes.append("R7 : aucune couche de captages d'eau potable n'est publiée ; seule la pollution "
                 "des sols est évaluée. / R7: no drinking-water catchment layer is published; "
                 "only soil pollution is assessed.")
    return notes


def commune_subject(insee: str, props: dict[str, Any], area) -> dict[str, Any]:
    return {
        "insee": insee,
        "nom": props.get("nom"),
        "epci_siren": props.get("epci_siren"),
        "epci_nom": props.get("epci_nom"),
        "population_municipale": int(props.get("population_municipale") or 0),
        "surface_km2": round(area.area / 1e6, 3),
    }


def compute(data: dict[str, Any], settings=None) -> dict[str, Any]:
    """The whole matrix (core.build_matrix) for the process inputs ``data``, with the requested
    ``matrix`` kind under ``"kind"`` (raises RiskMatrixInputError)."""
    from services import layers as store
    from services.settings import get_settings

    settings = settings or get_settings()
    data = check_inputs(data)
    kind = data["matrix"]
    has_commune = "commune" in data
    rules = core.load_rules()
    params = rules["parameters"]
    catalog = _catalog(settings)
    notes = []

    insee = None
    if has_commune:
        insee = str(data["commune"]).strip()
        feature = store.get_feature("communes", insee, settings=settings)
        if feature is None:
            raise RiskMatrixInputError("process_commune_unknown", insee=insee)
        area = feature["geometry"]
    else:
        area = _geometry(data)

    margin = max(float(params["mining_buffer_m"]), float(params["pollution_buffer_m"])) + 10.0
    minx, miny, maxx, maxy = area.bounds
    bbox = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    wanted = indicators.VECTOR_LAYERS if kind == "environmental" else ["communes"]
    layers = {cid: store.read_collection(cid, bbox=bbox, settings=settings) for cid in wanted}
    try:
        parts = indicators.commune_parts(area, layers["communes"], insee=insee)
    except indicators.AreaOutsideTerritory:
        raise RiskMatrixInputError("risk_area_outside") from None
    values: dict[str, Any] = {}
    year = None
    if kind == "environmental":
        surchauffe = store.entry("surchauffe", settings)
        files = surchauffe.get("files") or {"": surchauffe["data"]}
        year = _year(data, files) if files.keys() != {""} else None
        raster_path = files[str(year)] if year is not None else surchauffe["data"]
        values = indicators.environmental_indicators(parts, layers, raster_path, year, params)
    sources = {rid: [_source(c, catalog) for c in cids]
               for rid, cids in indicators.RISK_COLLECTIONS.items()}
    pop = indicators.population(parts)

    if insee is not None:
        subject = commune_subject(insee, feature["properties"], area)
        key = "commune"
    else:
        inside = indicators.covered(parts)
        subject = {
            "surface_km2": round(area.area / 1e6, 3),
            "surface_dans_territoire_km2": round(inside.area / 1e6, 3),
            "population_estimee": round(pop),
            "communes": [{"insee": p.insee, "nom": p.nom,
                          "part_commune_pct": round(100 * p.fraction, 2),
                          "population_estimee": round(p.population * p.fraction)}
                         for p in parts],
            "crs_entree": CRS_ALIASES.get(str(data.get("crs") or CRS84)),
            "bbox_2154": [round(v, 1) for v in area.bounds],
        }
        key = "area"
        if inside.area < 0.999 * area.area:
            notes.append("Une partie de la zone est hors du territoire : elle est ignorée. / "
                         "Part of the area lies outside the territory: it is ignored.")
    notes.extend(_notes(has_commune))
    try:
        matrix = core.build_matrix(subject, values, sources, data.get("indicators"), pop,
                                   [_source("communes", catalog)], rules, subject_key=key,
                                   notes=notes)
    except core.InvalidInput as err:  # the pure core's own texts (no catalogue there)
        raise RiskMatrixInputError.from_texts(err.fr, err.en) from None
    matrix["kind"] = kind
    matrix["year"] = year
    return matrix


# --------------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------------
def risk_of(entry: dict[str, Any]) -> dict[str, Any]:
    """One entry of the ``risks`` output (the interface names) from a core matrix entry."""
    return {
        "id": entry["id"],
        "label": entry["label_fr"],
        "probability": entry["probability"],
        "gravity": entry["gravity"],
        "criticity": entry["criticity"],
        "inputs": dict(entry["indicators"]),
        "sources": [dict(s) for s in entry["sources"]],
        "label_en": entry["label_en"],
        "probability_en": entry["probability_en"],
        "gravity_en": entry["gravity_en"],
        "criticity_en": entry["criticity_en"],
        "assessed": entry["assessed"],
        "basis": entry["basis"],
    }


def outputs_of(matrix: dict[str, Any], wanted: set[str] | None = None,
               rules: dict | None = None) -> dict[str, Any]:
    """``risks``/``svg``/``details`` of a matrix computed by :func:`compute` (or
    core.build_matrix plus ``kind``)."""
    wanted = set(OUTPUT_IDS) if wanted is None else wanted
    rules = rules or core.load_rules()
    kind = matrix.get("kind", "environmental")
    entries = matrix[kind]
    grid = core.grid(rules, entries)
    subject_key = "commune" if "commune" in matrix else "area"
    view = {subject_key: matrix[subject_key], "environmental": [], "societal": [],
            "grid": grid, "rules_version": matrix.get("rules_version")}
    view[kind] = entries
    out: dict[str, Any] = {}
    if "risks" in wanted:
        out["risks"] = [risk_of(e) for e in entries]
    if "svg" in wanted:
        out["svg"] = svg.render(view)
    if "details" in wanted:
        out["details"] = {
            "matrix": kind,
            subject_key: matrix[subject_key],
            "year": matrix.get("year"),
            "grid": grid,
            "rules_version": matrix.get("rules_version"),
            "parameters": matrix.get("parameters"),
            "notes": matrix.get("notes", []),
        }
    return out


def all_communes(settings=None, year: int | None = None) -> dict[str, dict[str, Any]]:
    """The environmental ``risks`` of every commune of the territory, computed in process with
    the layers read once (batch use and the 305-commune check). INSEE code -> outputs
    (``risks`` and ``details``)."""
    from services import layers as store
    from services.settings import get_settings

    settings = settings or get_settings()
    rules = core.load_rules()
    params = rules["parameters"]
    catalog = _catalog(settings)
    layers = {cid: store.read_collection(cid, settings=settings)
              for cid in indicators.VECTOR_LAYERS}
    surchauffe = store.entry("surchauffe", settings)
    files = surchauffe.get("files") or {"": surchauffe["data"]}
    year = _year({"year": year}, files) if files.keys() != {""} else None
    raster_path = files[str(year)] if year is not None else surchauffe["data"]
    sources = {rid: [_source(c, catalog) for c in cids]
               for rid, cids in indicators.RISK_COLLECTIONS.items()}
    pop_sources = [_source("communes", catalog)]
    communes = layers["communes"]
    # index the layers, read the raster and split the communes once for the whole batch
    prepared = indicators.prepare_layers(layers)
    raster = indicators.Raster(raster_path) if raster_path else None
    parts_of = indicators.commune_parts_by_insee(communes)
    out = {}
    for insee, geom, row in zip(communes["insee"], communes.geometry,
                                communes.to_dict("records")):
        parts = parts_of[str(insee)]
        values = indicators.environmental_indicators(parts, prepared, raster, year, params)
        matrix = core.build_matrix(commune_subject(str(insee), row, geom), values, sources, None,
                                   indicators.population(parts), pop_sources, rules,
                                   notes=_notes(True))
        matrix["kind"], matrix["year"] = "environmental", year
        out[str(insee)] = outputs_of(matrix, {"risks", "details"}, rules)
    return out


class RiskMatrixProcessor(BaseProcessor):
    """Territorial risk matrix (see module docstring)."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))
        self.supports_outputs = True

    def validate_inputs(self, data: dict) -> None:
        """Input checks that need no data (job managers call this before creating a job)."""
        check_inputs(data)

    def execute(self, data: dict, outputs: dict | None = None) -> tuple[str, Any]:
        wanted = _wanted_outputs(outputs)
        try:
            matrix = compute(data or {})
        except ProcessorExecuteError:
            raise
        except FileNotFoundError as err:
            LOGGER.error("risk-matrix: store not built: %s", err)
            raise ProcessorExecuteError("store not built", user_msg="store not built") from None
        result = outputs_of(matrix, wanted)
        if wanted == {"svg"}:
            return "image/svg+xml", result["svg"]
        return "application/json", result

    def __repr__(self) -> str:
        return f"<RiskMatrixProcessor> {self.name}"
