"""pygeoapi adapter of the ``risk-matrix`` process (thin: inputs -> layers -> core -> outputs).

Reads the published collections with :mod:`services.layers` (whichever store is set), computes
the indicators (:mod:`.indicators`), scores them with the rules (:mod:`.core`) and draws the grid
(:mod:`.svg`).  No state besides the class's metadata: an instance can be created, pickled or
rebuilt in a fresh worker process at will.

Interface (the names partners script against):

* inputs: ``commune`` (INSEE code) or ``geometry`` (GeoJSON Polygon/MultiPolygon or a Feature
  carrying one; CRS84 unless ``crs`` says EPSG:2154; ``polygon`` is a documented alias), optional
  ``year``, ``matrix`` = ``environmental`` (default, R1..R8 from the published layers) or
  ``societal`` (the twelve named risks R1, R2, R3, R5, R6, R7, R8, R9, R11, R12, R14, R17,
  their indicators computed by the server, :mod:`.societal`), and ``indicators`` (societal
  only: the caller's values replacing computed ones; the former S1..S7 groups accepted for one
  release with a deprecation note);
* outputs: ``risks`` (a list of ``{id, label, probability, gravity, criticity, inputs,
  indicators, sources, actions, trend?}`` with the French class names; each indicator
  ``{value, source, computed, ...}``; actions ``{preventive, curative, anticipate,
  references}``, :mod:`.actions`), ``svg`` (the grid, the SVG document itself as a string) and
  ``details`` (commune or area, grid cells, rules version, parameters, notes, deprecated
  inputs used).

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

import shapely
from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from processes.inputs import InputError, crs84_to_lambert93, geojson_polygon, is_insee

from . import actions as risk_actions
from . import core, indicators, societal, svg
from .metadata import CRS84, EPSG2154, MATRICES, PROCESS_METADATA, YEARS

LOGGER = logging.getLogger(__name__)

CRS_ALIASES = {
    CRS84: CRS84, "OGC:CRS84": CRS84, "CRS84": CRS84,
    EPSG2154: EPSG2154, "EPSG:2154": EPSG2154, "2154": EPSG2154,
}
MAX_AREA_KM2 = 2500.0  # the whole territory is about 2 000 km²
MAX_VERTICES = 100_000
OUTPUT_IDS = ("risks", "svg", "details")
ALIASES = {"polygon": "geometry"}  # documented aliases of older names


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
        _overrides(data.get("indicators"), core.load_rules())
    elif data.get("indicators") is not None:
        raise RiskMatrixInputError("risk_indicators_societal_only")
    return data


def _overrides(inputs: Any, rules: dict) -> tuple[dict, list]:
    """The caller's societal values (societal.parse_overrides), its problems as a 400."""
    try:
        return societal.parse_overrides(inputs, rules)
    except core.InvalidInput as err:  # the pure core's own texts, as a catalogue parameter
        raise RiskMatrixInputError("risk_indicators_invalid",
                                   problem={"fr": err.fr, "en": err.en}) from None


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

    minx, miny, maxx, maxy = area.bounds
    year = None
    deprecated: list[dict[str, Any]] = []
    if kind == "environmental":
        margin = max(float(params["mining_buffer_m"]), float(params["pollution_buffer_m"])) + 10.0
        bbox = (minx - margin, miny - margin, maxx + margin, maxy + margin)
        layers = {cid: store.read_collection(cid, bbox=bbox, settings=settings)
                  for cid in indicators.VECTOR_LAYERS}
    else:
        whole = societal.whole_layer_collections(rules)
        layers = {cid: store.read_collection(cid, bbox=None if cid in whole else area.bounds,
                                             settings=settings)
                  for cid in societal.collections_read(rules)}
    try:
        parts = indicators.commune_parts(area, layers["communes"], insee=insee)
    except indicators.AreaOutsideTerritory:
        raise RiskMatrixInputError("risk_area_outside") from None
    pop = indicators.population(parts)
    if kind == "environmental":
        surchauffe = store.entry("surchauffe", settings)
        files = surchauffe.get("files") or {"": surchauffe["data"]}
        year = _year(data, files) if files.keys() != {""} else None
        raster_path = files[str(year)] if year is not None else surchauffe["data"]
        values = indicators.environmental_indicators(parts, layers, raster_path, year, params)
        sources = {rid: [_source(c, catalog) for c in cids]
                   for rid, cids in indicators.RISK_COLLECTIONS.items()}
        entries = core.environmental_entries(values, sources, rules)
        _environmental_trends(entries, values, parts, files, year, rules, catalog)
    else:
        overrides, deprecated = _overrides(data.get("indicators"), rules)
        srcs = {cid: _source(cid, catalog) for cid in societal.collections_read(rules)}
        computed = societal.compute(parts, layers, rules)
        past = societal.past_values(parts, layers, rules)
        details = societal.resolve(computed, overrides, rules, srcs)
        entries = societal.entries(details, past, computed, rules, srcs)

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
    notes.extend(_notes(has_commune) if kind == "environmental" else _societal_notes(rules))
    notes.extend(f"{d['note_fr']} / {d['note_en']}" for d in deprecated)
    matrix = core.build_matrix(subject, kind, entries, rules, subject_key=key, notes=notes)
    matrix["year"] = year
    matrix["deprecated_inputs"] = deprecated
    return matrix


def _societal_notes(rules: dict) -> list[str]:
    reserved = ", ".join(rules["societal"].get("reserved") or [])
    return [
        f"Identifiants {reserved} réservés : la source ne nomme pas ces risques. / Ids "
        f"{reserved} reserved: the source does not name these risks.",
        "Indicateurs sociaux (âge, pauvreté, chômage, décrochage, santé, numérique, logement, "
        "équipements, délinquance, emplois) : données de démonstration modélisées "
        "(indicateurs-sociaux), remplaçables par les valeurs de l'appelant (indicators). / "
        "Social indicators (age, poverty, unemployment, school leaving, health, digital, "
        "housing, facilities, crime, jobs): modelled demonstration data "
        "(indicateurs-sociaux), replaceable by the caller's values (indicators).",
        "Population répartie uniformément dans chaque commune. / Population spread evenly "
        "over each municipality.",
    ]


def _environmental_trends(entries: list[dict[str, Any]], values: dict, parts, files: dict,
                          year: int | None, rules: dict, catalog: dict,
                          first_raster: Any = None) -> None:
    """The trend of the environmental risks that have a dated layer (R1: the overheating
    raster of the first summer published against the summer assessed), added in place."""
    years = sorted(int(y) for y in files if y)
    if year is None or not years or years[0] == year:
        return
    first = years[0]
    params = rules["parameters"]
    for entry, risk in zip(entries, rules["environmental"]):
        spec = risk.get("trend")
        if not spec or risk["id"] != "R1":
            continue
        raster = first_raster if first_raster is not None else files[str(first)]
        before = indicators.r1_overheating(parts, raster, first, params)
        basis = core.trend_basis(risk, values["R1"].get(spec["indicator"]),
                                 before.get(spec["indicator"]), first, year,
                                 _source("surchauffe", catalog))
        if basis is not None:
            entry["trend"], entry["trend_basis"] = basis["trend"], basis


# --------------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------------
def _env_indicators(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{value, source, computed}`` of each environmental indicator (all computed from the
    risk's collections)."""
    cids = [s["collection"] for s in entry["sources"] if "collection" in s]
    demo = any(s.get("demo") for s in entry["sources"])
    return {k: {"value": v, "source": ", ".join(cids), "computed": True, "demo": demo}
            for k, v in entry["indicators"].items()}


def risk_of(entry: dict[str, Any], kind: str = "environmental", rules: dict | None = None,
            actions: dict | None = None) -> dict[str, Any]:
    """One entry of the ``risks`` output (the interface names) from a core matrix entry."""
    rules = rules or core.load_rules()
    out = {
        "id": entry["id"],
        "label": entry["label_fr"],
        "probability": entry["probability"],
        "gravity": entry["gravity"],
        "criticity": entry["criticity"],
        "inputs": dict(entry["indicators"]),
        "indicators": (copy.deepcopy(entry["indicator_details"]) if kind == "societal"
                       else _env_indicators(entry)),
        "sources": [dict(s) for s in entry["sources"]],
        "actions": risk_actions.actions_for(kind, entry, rules, actions),
        "label_en": entry["label_en"],
        "probability_en": entry["probability_en"],
        "gravity_en": entry["gravity_en"],
        "criticity_en": entry["criticity_en"],
        "assessed": entry["assessed"],
        "basis": entry["basis"],
    }
    if entry.get("trend"):
        out["trend"] = entry["trend"]
        out["trend_basis"] = copy.deepcopy(entry["trend_basis"])
    if entry.get("replaces"):
        out["replaces"] = entry["replaces"]
    return out


def outputs_of(matrix: dict[str, Any], wanted: set[str] | None = None,
               rules: dict | None = None) -> dict[str, Any]:
    """``risks``/``svg``/``details`` of a matrix computed by :func:`compute` (or
    core.build_matrix)."""
    wanted = set(OUTPUT_IDS) if wanted is None else wanted
    rules = rules or core.load_rules()
    kind = matrix.get("kind", "environmental")
    entries = matrix[kind]
    grid = core.grid(rules, entries)
    subject_key = "commune" if "commune" in matrix else "area"
    view = {subject_key: matrix[subject_key], "environmental": [], "societal": [],
            "grid": grid, "rules_version": matrix.get("rules_version"), "kind": kind}
    view[kind] = entries
    out: dict[str, Any] = {}
    if "risks" in wanted:
        data = risk_actions.load_actions(rules=rules)
        out["risks"] = [risk_of(e, kind, rules, data) for e in entries]
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
            "deprecated_inputs": list(matrix.get("deprecated_inputs") or []),
        }
        if kind == "societal":
            out["details"]["reserved_ids"] = list(rules["societal"].get("reserved") or [])
    return out


def all_communes(settings=None, year: int | None = None,
                 kind: str = "environmental") -> dict[str, dict[str, Any]]:
    """The ``risks`` of every commune of the territory, computed in process with the layers
    read once (batch use, the 305-commune check, the calibration of the thresholds). INSEE
    code -> outputs (``risks`` and ``details``)."""
    from services import layers as store
    from services.settings import get_settings

    settings = settings or get_settings()
    rules = core.load_rules()
    params = rules["parameters"]
    catalog = _catalog(settings)
    cids = indicators.VECTOR_LAYERS if kind == "environmental" else \
        societal.collections_read(rules)
    layers = {cid: store.read_collection(cid, settings=settings) for cid in cids}
    communes = layers["communes"]
    # index the layers, read the raster and split the communes once for the whole batch
    prepared = indicators.prepare_layers(layers)
    parts_of = indicators.commune_parts_by_insee(communes)
    if kind == "environmental":
        surchauffe = store.entry("surchauffe", settings)
        files = surchauffe.get("files") or {"": surchauffe["data"]}
        year = _year({"year": year}, files) if files.keys() != {""} else None
        raster_path = files[str(year)] if year is not None else surchauffe["data"]
        raster = indicators.Raster(raster_path) if raster_path else None
        years = sorted(int(y) for y in files if y)
        first = indicators.Raster(files[str(years[0])]) if years else None
        sources = {rid: [_source(c, catalog) for c in cs]
                   for rid, cs in indicators.RISK_COLLECTIONS.items()}
    else:
        srcs = {cid: _source(cid, catalog) for cid in cids}
    out = {}
    for insee, geom, row in zip(communes["insee"], communes.geometry,
                                communes.to_dict("records")):
        parts = parts_of[str(insee)]
        if kind == "environmental":
            values = indicators.environmental_indicators(parts, prepared, raster, year, params)
            entries = core.environmental_entries(values, sources, rules)
            _environmental_trends(entries, values, parts, files, year, rules, catalog, first)
            notes = _notes(True)
        else:
            computed = societal.compute(parts, prepared, rules)
            details = societal.resolve(computed, {}, rules, srcs)
            entries = societal.entries(details, societal.past_values(parts, prepared, rules),
                                       computed, rules, srcs)
            notes = _societal_notes(rules)
        matrix = core.build_matrix(commune_subject(str(insee), row, geom), kind, entries, rules,
                                   notes=notes)
        matrix["year"] = year if kind == "environmental" else None
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
