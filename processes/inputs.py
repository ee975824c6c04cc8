"""Input checks shared by the process adapters: a bilingual 400, GeoJSON polygons, INSEE codes."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyproj
import shapely
import shapely.geometry

from services.jobs.errors import ProcessError

_TO_L93 = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)

#: An INSEE municipality code: a department (two digits, or 2A/2B for Corsica) and three
#: digits. The one check of the project (the processes' ``commune`` inputs and their
#: schemas); ASCII digits only, as in the JSON schemas' ECMA-262 ``pattern``.
INSEE_PATTERN = r"^(?:[0-9]{2}|2[AB])[0-9]{3}$"
INSEE_RE = re.compile(INSEE_PATTERN)


def is_insee(value: Any) -> bool:
    """Whether ``value`` is an INSEE municipality code (a string, nothing around it)."""
    return isinstance(value, str) and INSEE_RE.fullmatch(value) is not None


class InputError(ProcessError, ValueError):
    """A bad input: 400 InvalidParameterValue, a services.errors.OGCError (and pygeoapi
    ProcessorExecuteError) raised by message key: ``InputError("process_geometry_empty")``,
    ``InputError("process_inputs_unknown", names=[...])`` (texts in
    ``services/locale/*/LC_MESSAGES/errors.po``).

    A ValueError too, so that the job manager, calling ``validate_inputs`` before it creates a
    job, reports it as a client error."""


def geojson_polygon(raw: Any, max_vertices: int, error: type[InputError] = InputError):
    """A GeoJSON Polygon/MultiPolygon (or a Feature holding one) as a shapely geometry, in the
    coordinates it came in; refuses anything else with `error`."""
    if not isinstance(raw, dict):
        raise error("process_geometry_not_object")
    if raw.get("type") == "Feature":
        raw = raw.get("geometry") or {}
    if raw.get("type") not in ("Polygon", "MultiPolygon"):
        raise error("process_geometry_type")
    try:
        geom = shapely.geometry.shape(raw)
    except Exception as err:  # noqa: BLE001 - shapely raises several types on bad input
        raise error("process_geometry_unreadable", error=str(err)) from None
    if geom.is_empty:
        raise error("process_geometry_empty")
    if shapely.get_num_coordinates(geom) > max_vertices:
        raise error("process_geometry_vertices", max=max_vertices)
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise error("process_geometry_not_finite")
    return geom


def crs84_to_lambert93(geom, error: type[InputError] = InputError):
    """Longitude/latitude → Lambert-93, refusing coordinates outside their bounds."""
    coords = shapely.get_coordinates(geom)
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise error("process_geometry_not_lonlat")
    return shapely.transform(
        geom, lambda xy: np.column_stack(_TO_L93.transform(xy[:, 0], xy[:, 1])))
