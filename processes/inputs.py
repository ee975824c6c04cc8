"""Input checks shared by the process adapters: a bilingual 400 and GeoJSON polygons."""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

import numpy as np
import pyproj
import shapely
import shapely.geometry
from pygeoapi.process.base import ProcessorExecuteError

_TO_L93 = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)


class InputError(ProcessorExecuteError, ValueError):
    """A bad input: 400 InvalidParameterValue, message in French (``fr``) and English (``en``).

    A ValueError too, so that the job manager, calling ``validate_inputs`` before it creates a
    job, reports it as a client error."""

    http_status_code = HTTPStatus.BAD_REQUEST
    ogc_exception_code = "InvalidParameterValue"

    def __init__(self, fr: str, en: str):
        text = f"{fr} / {en}"
        super().__init__(text, user_msg=text)
        self.fr, self.en = fr, en


def geojson_polygon(raw: Any, max_vertices: int, error: type[InputError] = InputError):
    """A GeoJSON Polygon/MultiPolygon (or a Feature holding one) as a shapely geometry, in the
    coordinates it came in; refuses anything else with `error`."""
    if not isinstance(raw, dict):
        raise error("geometry doit être un objet GeoJSON", "geometry must be a GeoJSON object")
    if raw.get("type") == "Feature":
        raw = raw.get("geometry") or {}
    if raw.get("type") not in ("Polygon", "MultiPolygon"):
        raise error("geometry doit être une géométrie GeoJSON Polygon ou MultiPolygon",
                    "geometry must be a GeoJSON Polygon or MultiPolygon geometry")
    try:
        geom = shapely.geometry.shape(raw)
    except Exception as err:  # noqa: BLE001 - shapely raises several types on bad input
        raise error(f"geometry GeoJSON illisible : {err}",
                    f"unreadable GeoJSON geometry: {err}") from None
    if geom.is_empty:
        raise error("geometry est vide", "geometry is empty")
    if shapely.get_num_coordinates(geom) > max_vertices:
        raise error(f"geometry a plus de {max_vertices} sommets",
                    f"geometry has more than {max_vertices} vertices")
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise error("coordonnées non finies dans geometry", "non-finite coordinates in geometry")
    return geom


def crs84_to_lambert93(geom, error: type[InputError] = InputError):
    """Longitude/latitude → Lambert-93, refusing coordinates outside their bounds."""
    coords = shapely.get_coordinates(geom)
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise error("coordonnées hors des bornes longitude/latitude : indiquer crs=EPSG:2154 "
                    "pour du Lambert-93",
                    "coordinates outside longitude/latitude bounds: set crs=EPSG:2154 for "
                    "Lambert-93")
    return shapely.transform(
        geom, lambda xy: np.column_stack(_TO_L93.transform(xy[:, 0], xy[:, 1])))
