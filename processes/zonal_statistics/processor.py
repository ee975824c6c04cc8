"""pygeoapi adapter of the ``zonal-statistics`` process (thin: inputs -> zone -> raster -> core).

Inputs: ``commune`` (INSEE code; its geometry is read from the ``communes`` collection through
:mod:`services.layers`, whichever store is set) or ``geometry`` (GeoJSON Polygon/MultiPolygon or
a Feature carrying one, CRS84), and ``year`` or ``datetime`` (a summer, as for the map tiles;
default the latest). The raster is the ``surchauffe`` COG of that summer (a file of the store on
both stores), read by processes.raster_zones (cells whose centre is inside the zone).

Output ``statistics`` (JSON): mean, max, min and 90th percentile of the anomaly (°C), share of
the valid cells at or above the ramp's hot threshold (styles/surchauffe.ramp.json), valid pixel
count, area, year.
"""
from __future__ import annotations

import copy
import json
import logging
from typing import Any

import numpy as np
import rasterio
import shapely
from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from processes.raster_zones import raster_values
from processes.inputs import INSEE_RE, InputError, crs84_to_lambert93, geojson_polygon, is_insee
from services.settings import PROJECT_DIR

from . import core

LOGGER = logging.getLogger(__name__)

COLLECTION = "surchauffe"
RAMP_PATH = PROJECT_DIR / "styles" / f"{COLLECTION}.ramp.json"
MAX_AREA_KM2 = 2500.0  # the whole territory is about 2 000 km²
MAX_VERTICES = 100_000

PROCESS_METADATA = {
    "version": "1.0.0",
    "access": {"execute": "public"},  # reads only (services/jobs/access.py)
    "id": "zonal-statistics",
    "title": {"fr": "Statistiques de surchauffe d'une zone",
              "en": "Overheating statistics of an area"},
    "description": {
        "fr": "Statistiques zonales de l'anomalie estivale de température de surface (collection "
              "surchauffe, données de démonstration modélisées) sur une commune (code INSEE) ou "
              "un polygone GeoJSON (CRS84), pour un été : moyenne, maximum, minimum, 90e centile, "
              "part de la surface en surchauffe (cellules valides ≥ seuil de la rampe, 4 °C), "
              "nombre de pixels de 25 m et surface. Cellules dont le centre est dans la zone.",
        "en": "Zonal statistics of the summer land-surface temperature anomaly (surchauffe "
              "collection, modelled demonstration data) over a municipality (INSEE code) or a "
              "GeoJSON polygon (CRS84), for one summer: mean, maximum, minimum, 90th percentile, "
              "share of overheated area (valid cells ≥ the ramp's threshold, 4 °C), number of "
              "25 m pixels and area. Cells whose centre lies in the zone.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["surchauffe", "îlots de chaleur", "statistiques zonales", "overheating",
                 "heat islands", "zonal statistics"],
    "inputs": {
        "commune": {
            "title": {"fr": "Code INSEE de la commune", "en": "Municipality INSEE code"},
            "description": {"fr": "Une des 305 communes (exclusif de geometry).",
                            "en": "One of the 305 municipalities (exclusive with geometry)."},
            "schema": {"type": "string", "pattern": INSEE_RE.pattern},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "geometry": {
            "title": {"fr": "Zone (polygone GeoJSON, CRS84)", "en": "Area (GeoJSON polygon, CRS84)"},
            "description": {
                "fr": "Polygon ou MultiPolygon GeoJSON (ou Feature qui en porte un) en longitude, "
                      "latitude (exclusif de commune).",
                "en": "GeoJSON Polygon or MultiPolygon (or a Feature carrying one) in longitude, "
                      "latitude (exclusive with commune)."},
            "schema": {"type": "object", "contentMediaType": "application/geo+json",
                       "required": ["type"]},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "year": {
            "title": {"fr": "Été", "en": "Summer"},
            "description": {"fr": "Année de l'été (défaut : le plus récent ; exclusif de datetime).",
                            "en": "Year of the summer (default: the latest; exclusive with "
                                  "datetime)."},
            "schema": {"type": "integer", "minimum": 1900, "maximum": 2100},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "datetime": {
            "title": {"fr": "Date ou intervalle", "en": "Date or interval"},
            "description": {"fr": "Date ISO 8601 ou intervalle dans un seul été (1er juin - 31 août).",
                            "en": "ISO 8601 date or interval inside one summer (1 June - 31 "
                                  "August)."},
            "schema": {"type": "string", "maxLength": 64},
            "minOccurs": 0, "maxOccurs": 1,
        },
    },
    "outputs": {
        "statistics": {
            "title": {"fr": "Statistiques", "en": "Statistics"},
            "description": {
                "fr": "mean, max, min, p90 (°C), hot_share (0-1), hot_threshold (°C), pixel_count, "
                      "area_km2, year, units, zone.",
                "en": "mean, max, min, p90 (°C), hot_share (0-1), hot_threshold (°C), pixel_count, "
                      "area_km2, year, units, zone."},
            "schema": {
                "type": "object", "contentMediaType": "application/json",
                "required": ["mean", "max", "p90", "hot_share", "pixel_count", "year"],
                "properties": {
                    "mean": {"type": "number"}, "max": {"type": "number"},
                    "min": {"type": "number"}, "p90": {"type": "number"},
                    "hot_share": {"type": "number", "minimum": 0, "maximum": 1},
                    "hot_threshold": {"type": "number"},
                    "pixel_count": {"type": "integer", "minimum": 1},
                    "area_km2": {"type": "number"}, "year": {"type": "integer"},
                    "units": {"type": "string"}, "zone": {"type": "object"},
                },
            },
        },
    },
    "example": {"inputs": {"commune": "62119", "year": 2024}},
}


class ZonalInputError(InputError):
    """A bad input of zonal-statistics: 400, in French and English."""


def check_inputs(data: Any) -> dict[str, Any]:
    """Checks that need no data (run before a job is created)."""
    if not isinstance(data, dict):
        raise ZonalInputError("process_inputs_not_object")
    unknown = sorted(set(data) - set(PROCESS_METADATA["inputs"]))
    if unknown:
        raise ZonalInputError("process_inputs_unknown", names=unknown)
    has_commune = data.get("commune") not in (None, "")
    if has_commune == (data.get("geometry") is not None):
        raise ZonalInputError("process_commune_or_geometry")
    if has_commune and not (isinstance(data["commune"], str)
                            and is_insee(data["commune"].strip())):
        raise ZonalInputError("process_insee_invalid", value=repr(data["commune"]))
    if not has_commune:
        zone_geometry(data["geometry"])
    if data.get("year") is not None and data.get("datetime") is not None:
        raise ZonalInputError("zonal_year_datetime")
    year = data.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise ZonalInputError("zonal_year_integer")
    return data


def zone_geometry(raw: Any):
    """A GeoJSON polygon in CRS84 -> shapely geometry in EPSG:2154 (validated)."""
    geom = crs84_to_lambert93(geojson_polygon(raw, MAX_VERTICES, ZonalInputError),
                              ZonalInputError)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.area <= 0 or geom.area / 1e6 > MAX_AREA_KM2:
        raise ZonalInputError("zonal_geometry_area", max=MAX_AREA_KM2)
    return geom


def read_zone(path: str, geom) -> tuple[np.ndarray, np.ndarray, float]:
    """(values, valid, cell area m²) of the cells in `geom` (EPSG:2154), by the rule
    risk-matrix uses too (processes.raster_zones)."""
    values = raster_values(path, geom)
    with rasterio.open(path) as src:
        cell_area = abs(src.transform.a * src.transform.e)
    return values, np.ones(values.shape, dtype=bool), cell_area


def _summer(data: dict[str, Any]) -> tuple[int, str]:
    from services.tiles import raster  # the same summer rule as the map tiles

    query = str(data["year"]) if data.get("year") is not None else data.get("datetime")
    try:
        cov = raster.coverage(COLLECTION)
        year = raster.select_year(cov, query)
    except raster.CoverageError as err:  # its message, as a bad input of this process
        raise ZonalInputError.wrap(err, status=400, code="InvalidParameterValue") from None
    return year, cov.files[year]


def compute(data: dict[str, Any], settings=None) -> dict[str, Any]:
    from services import layers

    data = check_inputs(data)
    ramp = json.loads(RAMP_PATH.read_text(encoding="utf-8"))
    if data.get("commune") not in (None, ""):
        insee = data["commune"].strip()
        feature = layers.get_feature("communes", insee, settings=settings)
        if feature is None:
            raise ZonalInputError("process_commune_unknown", insee=insee)
        geom = feature["geometry"]
        zone = {"commune": insee, "nom": feature["properties"].get("nom")}
    else:
        geom = zone_geometry(data["geometry"])
        zone = {"bbox_2154": [round(v, 1) for v in geom.bounds]}
    zone["surface_km2"] = round(geom.area / 1e6, 4)
    year, path = _summer(data)
    values, valid, cell_area = read_zone(path, geom)
    try:
        stats = core.zonal_statistics(values, valid, float(ramp["hot_threshold"]), cell_area)
    except core.EmptyZone:
        raise ZonalInputError("zonal_no_cell") from None
    return {**stats.as_dict(), "year": year, "units": ramp.get("units", "°C"), "zone": zone}


class ZonalStatisticsProcessor(BaseProcessor):
    """Zonal statistics of the overheating raster (see module docstring)."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))

    def validate_inputs(self, data: dict) -> None:
        check_inputs(data)

    def execute(self, data: dict, outputs: dict | None = None) -> tuple[str, Any]:
        try:
            result = compute(data or {})
        except ProcessorExecuteError:
            raise
        except FileNotFoundError as err:
            LOGGER.error("zonal-statistics: store not built: %s", err)
            raise ProcessorExecuteError("store not built", user_msg="store not built") from None
        return "application/json", {"statistics": result}

    def __repr__(self) -> str:
        return f"<ZonalStatisticsProcessor> {self.name}"
