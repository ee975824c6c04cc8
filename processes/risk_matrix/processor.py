"""pygeoapi adapter of the ``risk-matrix`` process (thin: inputs -> layers -> core -> outputs).

Reads the published collections with :mod:`services.layers` (whichever store is set), computes
the indicators (:mod:`.indicators`), scores them with the rules (:mod:`.core`) and draws the grid
(:mod:`.svg`).  No state besides the class's metadata: an instance can be created, pickled or
rebuilt in a fresh worker process at will.

Outputs (pygeoapi 0.24): the processor returns ``(mime type, value)``; pygeoapi wraps the value
as ``{"outputs": [value]}`` for ``response=document`` and returns it as it is (with that mime
type) for ``response=raw``.  So:

* no ``outputs`` selection, or both outputs  -> ``application/json``
  ``{"matrix": {...}, "grid": "data:image/svg+xml;base64,..."}``: the SVG as a string, in a
  ``data:`` URI (RFC 2397) because pygeoapi 0.24 serialises JSON responses with
  ``pygeoapi.util.to_json``, which replaces every ``<`` and ``>`` by ``&lt;`` and ``&gt;``
  (an SVG text in JSON would reach the client HTML-escaped); a data URI has neither, decodes
  with any base64 library and works as it is in ``<img src>``;
* ``outputs: {"matrix": {}}``                -> ``application/json``, the matrix object;
* ``outputs: {"grid": {}}``                  -> ``image/svg+xml``, the SVG document itself (with
  ``response=raw`` the body *is* the SVG).
"""
from __future__ import annotations

import base64
import copy
import logging
import re
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import numpy as np
import pyproj
import shapely
import shapely.geometry
from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from . import core, indicators, svg

LOGGER = logging.getLogger(__name__)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG2154 = "http://www.opengis.net/def/crs/EPSG/0/2154"
CRS_ALIASES = {
    CRS84: CRS84, "OGC:CRS84": CRS84, "CRS84": CRS84,
    EPSG2154: EPSG2154, "EPSG:2154": EPSG2154, "2154": EPSG2154,
}
INSEE_RE = re.compile(r"^(\d{2}|2[AB])\d{3}$")
MAX_AREA_KM2 = 2500.0  # the whole territory is about 2 000 km²
MAX_VERTICES = 100_000
YEARS = [2022, 2023, 2024]
OUTPUT_IDS = ("matrix", "grid")


def _rules_for_metadata() -> dict:
    try:
        return core.load_rules()
    except Exception:  # noqa: BLE001 - metadata must load even if the rules file is broken
        LOGGER.exception("risk-matrix: rules file unreadable")
        return {"societal": {"inputs": {}}}


_RULES = _rules_for_metadata()

PROCESS_METADATA = {
    "version": "1.0.0",
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
              "à partir d'indicateurs saisis (societal_indicators). Chaque risque reçoit une "
              "probabilité (Improbable à Très probable) et une gravité (Mineur à Catastrophique) "
              "selon des seuils du fichier de règles (rules.yaml), puis une criticité (modéré, "
              "critique, très critique) dans la grille. Sorties : la matrice en JSON (valeurs "
              "des indicateurs et sources, réelles ou de démonstration) et la grille en SVG. "
              "Les aléas inondation, argiles, bruit, air et la surchauffe sont des données de "
              "démonstration modélisées : résultats illustratifs, seuils non réglementaires.",
        "en": "Exploratory risk matrix of an Artois municipality (INSEE code) or area (GeoJSON "
              "polygon): eight environmental risks (urban overheating, flooding, clay "
              "shrink-swell, industrial and mining risks, noise, flood-risk culture, soil "
              "contamination, air quality) computed from the published layers, and seven "
              "societal risks computed from indicator values given as input "
              "(societal_indicators). Each risk gets a probability (Very unlikely to Very "
              "likely) and a gravity (Minor to Catastrophic) from the thresholds of the rules "
              "file (rules.yaml), then a criticity (moderate, critical, very critical) from the "
              "grid. Outputs: the matrix as JSON (indicator values and their sources, real or "
              "demonstration) and the grid as SVG. The flood, clay, noise, air and overheating "
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
                "fr": "Code INSEE d'une des 305 communes (exclusif de polygon).",
                "en": "INSEE code of one of the 305 municipalities (exclusive with polygon).",
            },
            "schema": {"type": "string", "pattern": INSEE_RE.pattern},
            "minOccurs": 0,
            "maxOccurs": 1,
            "keywords": ["commune", "INSEE"],
        },
        "polygon": {
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
            "keywords": ["polygon", "GeoJSON"],
        },
        "crs": {
            "title": {"fr": "Système de coordonnées du polygone", "en": "CRS of the polygon"},
            "description": {
                "fr": "CRS84 (défaut) ou EPSG:2154 (Lambert-93).",
                "en": "CRS84 (default) or EPSG:2154 (Lambert-93).",
            },
            "schema": {"type": "string", "enum": [CRS84, EPSG2154, "EPSG:2154", "OGC:CRS84"],
                       "default": CRS84},
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
        "societal_indicators": {
            "title": {"fr": "Indicateurs sociétaux", "en": "Societal indicators"},
            "description": {
                "fr": "Valeurs des indicateurs de la matrice sociétale (facultatif ; un risque "
                      "sans ses valeurs est « non évalué »). Clés acceptées : "
                      + ", ".join(_RULES["societal"]["inputs"]),
                "en": "Indicator values of the societal matrix (optional; a risk without its "
                      "values is 'not assessed'). Accepted keys: "
                      + ", ".join(_RULES["societal"]["inputs"]),
            },
            "schema": core.societal_input_schema(_RULES) if _RULES.get("scales") else
            {"type": "object"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": {
        "matrix": {
            "title": {"fr": "Matrice des risques (JSON)", "en": "Risk matrix (JSON)"},
            "description": {
                "fr": "Commune ou zone, risques environnementaux et sociétaux (probabilité, "
                      "gravité, criticité, indicateurs, sources), grille.",
                "en": "Municipality or area, environmental and societal risks (probability, "
                      "gravity, criticity, indicators, sources), grid.",
            },
            "schema": {"type": "object", "contentMediaType": "application/json"},
        },
        "grid": {
            "title": {"fr": "Grille de criticité (SVG)", "en": "Criticity grid (SVG)"},
            "description": {
                "fr": "Image SVG de la grille gravité × probabilité avec les codes des risques. "
                      "Seule demandée, la réponse est le document SVG ; avec la matrice, dans "
                      "la réponse JSON, c'est une URI data:image/svg+xml;base64 (pygeoapi "
                      "échappe les chevrons dans le JSON).",
                "en": "SVG picture of the gravity × probability grid with the risk codes. "
                      "Requested alone, the response is the SVG document; with the matrix, in "
                      "the JSON response, it is a data:image/svg+xml;base64 URI (pygeoapi "
                      "escapes angle brackets in JSON).",
            },
            "schema": {"type": "string", "contentMediaType": "image/svg+xml"},
        },
    },
    "example": {
        "inputs": {
            "commune": "62119",
            "societal_indicators": {
                "part_75_ans_plus_pct": 9.1,
                "taux_pauvrete_pct": 24.0,
                "apl_medecins_generalistes": 3.1,
                "part_menages_sans_voiture_pct": 21.0,
            },
        },
        "outputs": {"matrix": {}, "grid": {}},
        "response": "document",
    },
}


# --------------------------------------------------------------------------------------------
# errors (bilingual; a manager that lets ProcessorExecuteError through keeps the status)
# --------------------------------------------------------------------------------------------
class RiskMatrixInputError(ProcessorExecuteError, ValueError):
    """A bad input: 400 InvalidParameterValue, message in French (``fr``) and English (``en``).

    A ValueError too, so that a job manager calling :meth:`RiskMatrixProcessor.validate_inputs`
    before creating a job reports it as a client error."""

    http_status_code = HTTPStatus.BAD_REQUEST
    ogc_exception_code = "InvalidParameterValue"

    def __init__(self, fr: str, en: str):
        text = f"{fr} / {en}"
        super().__init__(text, user_msg=text)
        self.fr, self.en = fr, en


# --------------------------------------------------------------------------------------------
# helpers (module-level functions: nothing to pickle)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _catalog(collections_dir: str) -> dict[str, dict[str, Any]]:
    from pathlib import Path

    from services.catalog import load_catalog
    return {s.id: {"title_fr": s.title["fr"], "title_en": s.title["en"], "demo": bool(s.demo)}
            for s in load_catalog(Path(collections_dir))}


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


def svg_data_uri(text: str) -> str:
    """The SVG as a ``data:image/svg+xml;base64,`` URI (no ``<``/``>``: see module docstring)."""
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def _wanted_outputs(outputs: Any) -> set[str]:
    if not outputs:
        return set(OUTPUT_IDS)
    ids = list(outputs) if isinstance(outputs, (dict, list, tuple)) else None
    if ids is None or not all(isinstance(i, str) for i in ids):
        raise RiskMatrixInputError("outputs doit être un objet {identifiant: {...}}",
                                   "outputs must be an object {id: {...}}")
    unknown = sorted(set(ids) - set(OUTPUT_IDS))
    if unknown:
        raise RiskMatrixInputError(
            f"sortie(s) inconnue(s) : {', '.join(unknown)} (matrix, grid)",
            f"unknown output(s): {', '.join(unknown)} (matrix, grid)")
    if isinstance(outputs, dict):
        for oid, spec in outputs.items():
            mode = (spec or {}).get("transmissionMode", "value") if isinstance(spec, dict) else "value"
            if mode != "value":
                raise RiskMatrixInputError(
                    f"{oid} : seul transmissionMode=value est pris en charge",
                    f"{oid}: only transmissionMode=value is supported")
    return set(ids)


def _geometry(data: dict[str, Any]):
    """The requested polygon in EPSG:2154 (validated)."""
    raw = data["polygon"]
    if not isinstance(raw, dict):
        raise RiskMatrixInputError("polygon doit être un objet GeoJSON",
                                   "polygon must be a GeoJSON object")
    if raw.get("type") == "Feature":
        raw = raw.get("geometry") or {}
    if raw.get("type") not in ("Polygon", "MultiPolygon"):
        raise RiskMatrixInputError(
            "polygon doit être une géométrie GeoJSON Polygon ou MultiPolygon",
            "polygon must be a GeoJSON Polygon or MultiPolygon geometry")
    try:
        geom = shapely.geometry.shape(raw)
    except Exception as err:  # noqa: BLE001 - shapely raises several types on bad input
        raise RiskMatrixInputError(f"polygon GeoJSON illisible : {err}",
                                   f"unreadable GeoJSON polygon: {err}") from None
    if geom.is_empty:
        raise RiskMatrixInputError("polygon est vide", "polygon is empty")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise RiskMatrixInputError(f"polygon a plus de {MAX_VERTICES} sommets",
                                   f"polygon has more than {MAX_VERTICES} vertices")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise RiskMatrixInputError("coordonnées non finies dans polygon",
                                   "non-finite coordinates in polygon")
    crs = CRS_ALIASES.get(str(data.get("crs") or CRS84))
    if crs is None:
        raise RiskMatrixInputError("crs doit être CRS84 ou EPSG:2154",
                                   "crs must be CRS84 or EPSG:2154")
    if crs == CRS84:
        if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
            raise RiskMatrixInputError(
                "coordonnées hors des bornes longitude/latitude : indiquer crs=EPSG:2154 pour "
                "du Lambert-93",
                "coordinates outside longitude/latitude bounds: set crs=EPSG:2154 for Lambert-93")
        tr = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
        geom = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    if not geom.is_valid:
        geom = indicators._polygonal(shapely.make_valid(geom))
    if geom.is_empty or geom.area <= 0:
        raise RiskMatrixInputError("polygon n'a pas de surface", "polygon has no area")
    if geom.area / 1e6 > MAX_AREA_KM2:
        raise RiskMatrixInputError(f"polygon dépasse {MAX_AREA_KM2:.0f} km²",
                                   f"polygon exceeds {MAX_AREA_KM2:.0f} km²")
    return geom


def _year(data: dict[str, Any], files: dict[str, str]) -> int:
    available = sorted(int(y) for y in files)
    year = data.get("year")
    if year is None:
        return available[-1]
    if isinstance(year, bool) or not isinstance(year, (int, str)) or str(year) not in files:
        raise RiskMatrixInputError(
            f"year doit être l'un de {available}", f"year must be one of {available}")
    return int(year)


def check_inputs(data: Any) -> bool:
    """Checks that need no data (cheap; run before a job is created). True for a commune."""
    if not isinstance(data, dict):
        raise RiskMatrixInputError("les entrées doivent être un objet", "inputs must be an object")
    unknown = sorted(set(data) - set(PROCESS_METADATA["inputs"]))
    if unknown:
        raise RiskMatrixInputError(f"entrée(s) inconnue(s) : {', '.join(unknown)}",
                                   f"unknown input(s): {', '.join(unknown)}")
    has_commune = data.get("commune") not in (None, "")
    has_polygon = data.get("polygon") is not None
    if has_commune == has_polygon:
        raise RiskMatrixInputError("indiquer soit commune (code INSEE), soit polygon",
                                   "give either commune (INSEE code) or polygon")
    if has_commune:
        insee = data["commune"]
        if not isinstance(insee, str) or not INSEE_RE.match(insee.strip()):
            raise RiskMatrixInputError(f"code INSEE invalide : {insee!r}",
                                       f"invalid INSEE code: {insee!r}")
    else:
        _geometry(data)
    if data.get("year") is not None and data["year"] not in YEARS:
        raise RiskMatrixInputError(f"year doit être l'un de {YEARS}", f"year must be one of {YEARS}")
    try:
        core.societal_indicators(data.get("societal_indicators"), None, core.load_rules())
    except core.InvalidInput as err:
        raise RiskMatrixInputError(err.fr, err.en) from None
    return has_commune


def compute(data: dict[str, Any], settings=None) -> dict[str, Any]:
    """The ``matrix`` output for the process inputs ``data`` (raises RiskMatrixInputError)."""
    from services import layers as store
    from services.settings import get_settings

    settings = settings or get_settings()
    has_commune = check_inputs(data)
    rules = core.load_rules()
    params = rules["parameters"]
    catalog = _catalog(str(settings.collections_dir))
    notes = []

    insee = None
    if has_commune:
        insee = str(data["commune"]).strip()
        feature = store.get_feature("communes", insee, settings=settings)
        if feature is None:
            raise RiskMatrixInputError(f"commune inconnue dans le territoire : {insee}",
                                      f"unknown municipality in the territory: {insee}")
        area = feature["geometry"]
    else:
        area = _geometry(data)

    surchauffe = store.entry("surchauffe", settings)
    files = surchauffe.get("files") or {"": surchauffe["data"]}
    year = _year(data, files) if files.keys() != {""} else None
    raster_path = files[str(year)] if year is not None else surchauffe["data"]

    margin = max(float(params["mining_buffer_m"]), float(params["pollution_buffer_m"])) + 10.0
    minx, miny, maxx, maxy = area.bounds
    bbox = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    layers = {cid: store.read_collection(cid, bbox=bbox, settings=settings)
              for cid in indicators.VECTOR_LAYERS}
    try:
        parts = indicators.commune_parts(area, layers["communes"], insee=insee)
    except indicators.AreaOutsideTerritory:
        raise RiskMatrixInputError("la zone ne recoupe aucune commune du territoire",
                                   "the area does not meet any municipality of the territory") \
            from None
    values = indicators.environmental_indicators(parts, layers, raster_path, year, params)
    sources = {rid: [_source(c, catalog) for c in cids]
               for rid, cids in indicators.RISK_COLLECTIONS.items()}
    pop = indicators.population(parts)

    if insee is not None:
        props = feature["properties"]
        subject = {
            "insee": insee,
            "nom": props.get("nom"),
            "epci_siren": props.get("epci_siren"),
            "epci_nom": props.get("epci_nom"),
            "population_municipale": int(props.get("population_municipale") or 0),
            "surface_km2": round(area.area / 1e6, 3),
        }
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
    notes.append("Population répartie uniformément dans chaque commune (seule la population "
                 "municipale est publiée). / Population spread evenly over each municipality "
                 "(only the municipal population is published).")
    notes.append("R7 : aucune couche de captages d'eau potable n'est publiée ; seule la pollution "
                 "des sols est évaluée. / R7: no drinking-water catchment layer is published; "
                 "only soil pollution is assessed.")
    try:
        return core.build_matrix(subject, values, sources, data.get("societal_indicators"), pop,
                                 [_source("communes", catalog)], rules, subject_key=key,
                                 notes=notes)
    except core.InvalidInput as err:
        raise RiskMatrixInputError(err.fr, err.en) from None


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
        if wanted == {"matrix"}:
            return "application/json", matrix
        picture = svg.render(matrix)
        if wanted == {"grid"}:
            return "image/svg+xml", picture
        return "application/json", {"matrix": matrix, "grid": svg_data_uri(picture)}

    def __repr__(self) -> str:
        return f"<RiskMatrixProcessor> {self.name}"
