"""pygeoapi adapter of the ``half-hour-territory`` process (thin: inputs -> frames -> run).

``POST /processes/half-hour-territory/execution`` with ``territory`` (``{"epci": SIREN}``,
``{"communes": [INSEE...]}`` or ``{"geometry": GeoJSON polygon, CRS84}``), optional ``date``
(ISO day, the state of the facilities and of the timetable; default today), ``compare_date``
(a second state: gains and losses, and a radar with both), ``levels``, ``functions``,
``departure`` (``{"start": "08:00", "end": "09:00"}``, transit), ``include_cells`` (default
true) and ``publish`` (editor: rewrite the ``demi-heure`` collection with the full CABBALR
run). The whole CABBALR runs as an async job (``Prefer: respond-async``).

Outputs: ``shares`` {level: {function: 0-1, "all": 0-1}}, ``population``, ``cells``
(GeoJSON, the functions each cell reaches per level), ``sectors`` (GeoJSON, per level the
union of the cells reaching every function), ``radar`` (SVG document), and with
``compare_date`` ``compare`` (the other state's shares and the gains per level and function).
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import re
from typing import Any

from pygeoapi.process.base import BaseProcessor

from processes.inputs import INSEE_RE, InputError, crs84_to_lambert93, geojson_polygon, is_insee
from services.jobs import ProcessError

from . import core, radar, run

LOGGER = logging.getLogger("artois_geo.half_hour")

PROCESS_ID = "half-hour-territory"
COLLECTION = "demi-heure"
MAX_COMMUNES = 400
MAX_VERTICES = 100_000
MAX_AREA_KM2 = 2500.0
MAX_WINDOW_S = 4 * 3600
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_BUNDLES = core.load_bundles()

PROCESS_METADATA = {
    "version": "1.0.0",
    "access": {"execute": "public", "inputs": {"publish": "editor"}},
    "recompute": {"on": ["equipements", "carreaux-200m"], "inputs": {
        "territory": {"epci": run.CABBALR}, "publish": True, "include_cells": False},
        "when": "processes.half_hour.processor:is_built"},
    "id": PROCESS_ID,
    "title": {"fr": "Territoire de la demi-heure", "en": "Half-hour territory"},
    "description": {
        "fr": "Part de la population (carreaux de 200 m) atteignant les paniers de services "
              "des 7 fonctions sociales (habiter, travailler, s'approvisionner, se soigner, "
              "apprendre, s'épanouir, se déplacer ; processes/half_hour/data/bundles.yaml) à "
              "chaque niveau : proximité (15 min à pied ou à vélo), intermédiaire (30 min à "
              "vélo), structurant (30 min à vélo ou en transport collectif), pour un "
              "territoire (EPCI, communes ou polygone) et une date (état des équipements et "
              "des horaires) ; carreaux, secteurs couverts et radar SVG ; compare_date : "
              "gains et pertes entre deux dates. Données de démonstration (équipements, "
              "population, réseau et horaires modélisés) tant que les fichiers réels ne sont "
              "pas installés.",
        "en": "Share of the population (200 m cells) reaching the service bundles of the 7 "
              "social functions at each level: local (15 min on foot or by bike), "
              "intermediate (30 min by bike), major (30 min by bike or public transport), "
              "for a territory (EPCI, municipalities or polygon) and a date (state of the "
              "facilities and timetables); cells, covered sectors and an SVG radar; "
              "compare_date: gains and losses between two dates. Demonstration data "
              "(modelled facilities, population, network and timetables) until the real "
              "files are installed.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["territoire de la demi-heure", "ville du quart d'heure", "accessibilité",
                 "BPE", "half-hour territory", "15-minute city", "accessibility"],
    "inputs": {
        "territory": {
            "title": {"fr": "Territoire", "en": "Territory"},
            "description": {"fr": '{"epci": "200072460"}, {"communes": ["62119", …]} ou '
                                  '{"geometry": polygone GeoJSON CRS84}.',
                            "en": '{"epci": "200072460"}, {"communes": ["62119", …]} or '
                                  '{"geometry": GeoJSON polygon, CRS84}.'},
            "schema": {"type": "object", "maxProperties": 1},
            "minOccurs": 1, "maxOccurs": 1,
        },
        "date": {
            "title": {"fr": "Date de l'état", "en": "Date of the state"},
            "description": {"fr": "AAAA-MM-JJ (défaut : aujourd'hui) ; T0 = 2022-01-01.",
                            "en": "YYYY-MM-DD (default: today); T0 = 2022-01-01."},
            "schema": {"type": "string", "format": "date"},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "compare_date": {
            "title": {"fr": "Date comparée", "en": "Compared date"},
            "description": {"fr": "Second état : gains et pertes, radar des deux.",
                            "en": "Second state: gains and losses, radar of both."},
            "schema": {"type": "string", "format": "date"},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "levels": {
            "title": {"fr": "Niveaux", "en": "Levels"},
            "schema": {"type": "array", "items": {"type": "string",
                                                  "enum": list(_BUNDLES.levels)},
                       "minItems": 1, "uniqueItems": True},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "functions": {
            "title": {"fr": "Fonctions sociales", "en": "Social functions"},
            "schema": {"type": "array", "items": {"type": "string",
                                                  "enum": _BUNDLES.functions},
                       "minItems": 1, "uniqueItems": True},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "departure": {
            "title": {"fr": "Fenêtre de départ (transport collectif)",
                      "en": "Departure window (public transport)"},
            "description": {"fr": '{"start": "08:00", "end": "09:00"} (au plus 4 h).',
                            "en": '{"start": "08:00", "end": "09:00"} (4 h at most).'},
            "schema": {"type": "object", "properties": {
                "start": {"type": "string", "pattern": TIME_RE.pattern},
                "end": {"type": "string", "pattern": TIME_RE.pattern}}},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "include_cells": {
            "title": {"fr": "Renvoyer les carreaux", "en": "Return the cells"},
            "schema": {"type": "boolean", "default": True},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "publish": {
            "title": {"fr": "Publier la couche demi-heure", "en": "Publish the demi-heure layer"},
            "description": {"fr": "Éditeur : recalcule toute la CABBALR et réécrit la "
                                  "collection demi-heure.",
                            "en": "Editor: recompute the whole CABBALR and rewrite the "
                                  "demi-heure collection."},
            "schema": {"type": "boolean", "default": False},
            "minOccurs": 0, "maxOccurs": 1,
        },
    },
    # the execution answers {output id: value} (services/jobs/api.py documents it so)
    "outputs": {name: {"title": {"fr": fr, "en": en}, "schema": schema} for name, fr, en, schema in (
        ("territory", "Territoire", "Territory", {"type": "object"}),
        ("date", "Date", "Date", {"type": "string", "format": "date"}),
        ("levels", "Niveaux", "Levels", {"type": "array", "items": {"type": "string"}}),
        ("functions", "Fonctions", "Functions", {"type": "array", "items": {"type": "string"}}),
        ("departure", "Fenêtre de départ (s)", "Departure window (s)", {"type": "object"}),
        ("population", "Population", "Population", {"type": "integer"}),
        ("cell_count", "Carreaux", "Cells", {"type": "integer"}),
        ("shares", "Parts de population couvertes", "Shares of the population covered",
         {"type": "object"}),
        ("seconds", "Durée du calcul (s)", "Computation time (s)", {"type": "number"}),
        ("demo", "Données de démonstration", "Demonstration data", {"type": "boolean"}),
        ("compare", "Comparaison de deux dates", "Comparison of two dates", {"type": "object"}),
        ("radar", "Radar (SVG)", "Radar (SVG)", {"type": "string",
                                                 "contentMediaType": "image/svg+xml"}),
        ("sectors", "Secteurs couverts (GeoJSON)", "Covered sectors (GeoJSON)",
         {"type": "object", "contentMediaType": "application/geo+json"}),
        ("cells", "Carreaux (GeoJSON)", "Cells (GeoJSON)",
         {"type": "object", "contentMediaType": "application/geo+json"}),
        ("publication", "Publication de la couche demi-heure", "Publication of the demi-heure layer",
         {"type": "object"}),
    )},
    "example": {"inputs": {"territory": {"communes": ["62119"]}, "date": "2022-01-01",
                           "levels": ["proximite"]}},
}


def _date(value: Any, name: str) -> str:
    if not (isinstance(value, str) and DATE_RE.fullmatch(value)):
        raise InputError("half_hour_date_invalid", name=name, value=repr(value)[:40])
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("half_hour_date_invalid", name=name, value=repr(value)[:40]) from None
    if not 1990 <= day.year <= 2100:
        raise InputError("half_hour_date_invalid", name=name, value=value)
    return value


def _subset(value: Any, name: str, allowed: list[str]) -> list[str] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise InputError("half_hour_list_invalid", name=name, allowed=", ".join(allowed))
    bad = [v for v in value if v not in allowed]
    if bad or len(set(value)) != len(value):
        raise InputError("half_hour_list_invalid", name=name, allowed=", ".join(allowed))
    return [a for a in allowed if a in value]


def _seconds(text: str) -> int:
    m = TIME_RE.fullmatch(text)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def _departure(value: Any) -> tuple[int, int]:
    if value is None:
        return run.DEFAULT_DEPARTURE
    if not (isinstance(value, dict) and set(value) <= {"start", "end"}
            and all(isinstance(value.get(k), str) and TIME_RE.fullmatch(value[k])
                    for k in ("start", "end"))):
        raise InputError("half_hour_departure_invalid")
    start, end = _seconds(value["start"]), _seconds(value["end"])
    if not 0 <= end - start <= MAX_WINDOW_S:
        raise InputError("half_hour_departure_invalid")
    return start, end


def _geometry(raw: Any):
    import shapely
    geom = crs84_to_lambert93(geojson_polygon(raw, MAX_VERTICES, InputError), InputError)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.area <= 0 or geom.area / 1e6 > MAX_AREA_KM2:
        raise InputError("half_hour_geometry_area", max=MAX_AREA_KM2)
    return geom


def check_inputs(data: Any) -> dict[str, Any]:
    """Checks that need no data (run before a job is created)."""
    if not isinstance(data, dict):
        raise InputError("process_inputs_not_object")
    unknown = sorted(set(data) - set(PROCESS_METADATA["inputs"]))
    if unknown:
        raise InputError("process_inputs_unknown", names=unknown)
    t = data.get("territory")
    if not (isinstance(t, dict) and len(t) == 1 and next(iter(t)) in
            ("epci", "communes", "geometry")):
        raise InputError("half_hour_territory_invalid")
    out: dict[str, Any] = {"territory": t, "geometry": None}
    if "epci" in t and not (isinstance(t["epci"], str) and re.fullmatch(r"\d{9}", t["epci"])):
        raise InputError("half_hour_territory_invalid")
    if "communes" in t:
        c = t["communes"]
        if not (isinstance(c, list) and 0 < len(c) <= MAX_COMMUNES
                and all(is_insee(v) for v in c)):
            raise InputError("half_hour_communes_invalid", max=MAX_COMMUNES,
                             pattern=INSEE_RE.pattern)
    if "geometry" in t:
        out["geometry"] = _geometry(t["geometry"])
    out["date"] = _date(data["date"], "date") if data.get("date") is not None \
        else dt.date.today().isoformat()
    out["compare_date"] = _date(data["compare_date"], "compare_date") \
        if data.get("compare_date") is not None else None
    out["levels"] = _subset(data.get("levels"), "levels", list(_BUNDLES.levels))
    out["functions"] = _subset(data.get("functions"), "functions", _BUNDLES.functions)
    out["departure"] = _departure(data.get("departure"))
    for flag, default in (("include_cells", True), ("publish", False)):
        value = data.get(flag, default)
        value = default if value is None else value
        if not isinstance(value, bool):
            raise InputError("half_hour_boolean", name=flag)
        out[flag] = value
    return out


def is_built(settings=None) -> bool:
    """The `when` of the recompute: the demi-heure collection is built on this store."""
    from services.store import get_catalog
    try:
        entry = get_catalog(settings).entry(COLLECTION)
    except FileNotFoundError:
        return False
    return entry is not None


def _frames(territory_spec, geometry, settings=None):
    from services import layers
    try:
        communes = layers.read_collection("communes", settings=settings)
        territory = run.territory_from(territory_spec, communes, geometry)
        bbox = territory.geometry.bounds
        cells = layers.read_collection("carreaux-200m", bbox=bbox, settings=settings)
        m = run.FACILITY_MARGIN_M
        facilities = layers.read_collection(
            "equipements", bbox=(bbox[0] - m, bbox[1] - m, bbox[2] + m, bbox[3] + m),
            settings=settings)
    except (layers.UnknownCollection, FileNotFoundError) as err:
        missing = err.args[0] if isinstance(err, layers.UnknownCollection) else "equipements"
        raise ProcessError("collection_not_built", status=404, code="NotFound",
                           collection=str(missing)) from None
    return communes, territory, cells, facilities


def _error(err: run.TerritoryError) -> ProcessError:
    code = "NotFound" if err.status == 404 else "InvalidParameterValue"
    return ProcessError(err.key, status=err.status, code=code, **err.params)


def compute(data: dict[str, Any], settings=None, reach_for=None) -> dict[str, Any]:
    inputs = check_inputs(data)
    reach_for = reach_for or (lambda date: run.routing_reach(date, inputs["departure"]))
    try:
        communes, territory, cells, facilities = _frames(inputs["territory"],
                                                         inputs["geometry"], settings)
        tcells = run.territory_cells(cells, territory)
    except run.TerritoryError as err:
        raise _error(err) from None
    dates = [inputs["date"]] + ([inputs["compare_date"]] if inputs["compare_date"] else [])
    runs = {d: run.run(tcells, facilities, d, _BUNDLES, reach_for(d), inputs["levels"],
                       inputs["functions"]) for d in dict.fromkeys(dates)}
    main = runs[inputs["date"]]
    shares = main.result.shares()
    sectors = run.sectors_frame(main, _BUNDLES)
    out: dict[str, Any] = {
        "territory": territory.label, "date": inputs["date"],
        "levels": main.result.levels, "functions": main.result.functions,
        "departure": {"start": inputs["departure"][0], "end": inputs["departure"][1]},
        "population": int(round(main.result.population)), "cell_count": len(tcells),
        "shares": shares, "seconds": sum(r.seconds for r in runs.values()),
        "demo": True,
    }
    before = None
    if inputs["compare_date"]:
        other = runs[inputs["compare_date"]]
        other_shares = other.result.shares()
        early, late = sorted([(inputs["date"], shares), (inputs["compare_date"], other_shares)])
        before = early
        out["compare"] = {"date": inputs["compare_date"], "shares": other_shares,
                          "from": early[0], "to": late[0],
                          "gains": core.compare(early[1], late[1])}
        sectors = run.gpd.GeoDataFrame(
            run.pd.concat([sectors, run.sectors_frame(other, _BUNDLES)], ignore_index=True),
            geometry="geometry", crs="EPSG:2154")
    name = territory.label.get("nom") or (", ".join(territory.label.get("communes", [])[:4])
                                          or "polygone")
    title = f"Territoire de la demi-heure — {name}"
    if before is not None:
        late = out["compare"]["to"]
        late_shares = shares if late == inputs["date"] else out["compare"]["shares"]
        out["radar"] = radar.radar_svg(late_shares, main.result.functions, _BUNDLES.titles,
                                       {k: v.title for k, v in _BUNDLES.levels.items()},
                                       title, f"{before[0]} → {late}", before=before[1],
                                       before_label=before[0], after_label=late)
    else:
        out["radar"] = radar.radar_svg(shares, main.result.functions, _BUNDLES.titles,
                                       {k: v.title for k, v in _BUNDLES.levels.items()},
                                       title, f"état au {inputs['date']}")
    out["sectors"] = run.sectors_geojson(sectors)
    if inputs["include_cells"]:
        out["cells"] = run.cells_geojson(main, _BUNDLES)
    if inputs["publish"]:
        out["publication"] = publish(settings, communes, reach_for)
    return run.as_json(out)


def publish(settings, communes, reach_for=None) -> dict[str, Any]:
    """Rewrite the demi-heure collection with the full CABBALR run (cached)."""
    from services import layers
    from services.settings import get_settings
    settings = settings or get_settings()
    cells = layers.read_collection("carreaux-200m", settings=settings)
    facilities = layers.read_collection("equipements", settings=settings)
    frame = run.full_run(communes, cells, facilities, reach_for,
                         cache_dir=settings.var_dir / "half_hour" / "results")
    written = layers.replace_rows(COLLECTION, frame, settings)
    return {"collection": COLLECTION, "rows": written.get("count"),
            "written": bool(written.get("replaced"))}


class HalfHourProcessor(BaseProcessor):
    """The half-hour territory (see the module docstring)."""

    job_timeout = 1800  # seconds: the whole CABBALR, two dates, on two cores

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))
        self.context = None

    def validate_inputs(self, data: dict) -> None:
        check_inputs(data)

    def execute(self, data: dict, outputs: dict | None = None) -> tuple[str, Any]:
        return "application/json", compute(data or {})

    def __repr__(self) -> str:
        return f"<HalfHourProcessor> {self.name}"
