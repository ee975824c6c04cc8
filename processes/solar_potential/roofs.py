"""Reading the roofs of a ``solar-potential`` request, and the errors of the process.

The roofs come from the ``batiments`` collection (ids, or all the buildings of a municipality,
through ``services.layers``) or from the GeoJSON polygons of the request (CRS84, projected to
the storage CRS); the optional surface model (``dsm``) is a raster collection or a GeoTIFF file
of the store folder. Used by :mod:`processes.solar_potential.processor`, which re-exports the errors.

Errors are ``SolarProcessError`` (400) / ``SolarNotFound`` (404): ``processes.inputs.InputError``
subclasses (services.errors.OGCError, pygeoapi ProcessorExecuteError) in French and English.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from processes.inputs import InputError, is_insee
from services.store.base import STORAGE_SRID as STORAGE_EPSG

BATIMENTS = "batiments"
_DSM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------

class SolarProcessError(InputError):
    """Bad input (HTTP 400): an OGCError raised by message key (``solar_*`` keys of
    ``services/locale/*/LC_MESSAGES/errors.po``)."""

    @property
    def messages(self) -> dict[str, str]:
        return self.texts


class SolarNotFound(SolarProcessError):
    """Unknown building, municipality or surface model (HTTP 404)."""

    status = 404
    code = "NotFound"


# ------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------

def _number(name: str, value: Any, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(float(value)) or not low <= float(value) <= high:
        raise SolarProcessError("solar_number_range", name=name, low=low, high=high)
    return float(value)


def _max_roofs(params) -> int:
    return int(params.get("max_roofs", 2000))


def _max_geojson_roofs(params) -> int:
    return int(params.get("max_geojson_roofs", 10000))


def _roofs_from_batiments(ids: Any, params) -> list[dict]:
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not ids or \
            not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in ids):
        raise SolarProcessError("solar_batiments_list")
    ids = list(dict.fromkeys(str(i) for i in ids))
    cap = _max_roofs(params)
    if len(ids) > cap:
        raise SolarProcessError("solar_too_many_buildings", count=len(ids), max=cap)
    gdf = _read(BATIMENTS)
    key = gdf["id"].astype(str)
    found = gdf[key.isin(ids)]
    missing = [i for i in ids if i not in set(found["id"].astype(str))]
    if missing:
        shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        raise SolarNotFound("solar_unknown_buildings", ids=shown)
    order = {i: k for k, i in enumerate(ids)}
    found = found.assign(_order=found["id"].astype(str).map(order)).sort_values("_order")
    return _building_roofs(found)


def _roofs_from_commune(code: Any, params) -> list[dict]:
    if not is_insee(code):
        raise SolarProcessError("solar_commune_code")
    communes = _read("communes")
    if not (communes["insee"].astype(str) == code).any():
        raise SolarNotFound("solar_unknown_commune", code=code)
    gdf = _read(BATIMENTS)
    found = gdf[gdf["insee"].astype(str) == code]
    cap = _max_roofs(params)
    if len(found) > cap:
        raise SolarProcessError("solar_commune_too_many", code=code, count=len(found), max=cap)
    return _building_roofs(found.sort_values("id"))


def _read(collection_id: str):
    from services import layers

    try:
        return layers.read_collection(collection_id)
    except (layers.UnknownCollection, FileNotFoundError) as exc:
        raise SolarProcessError("solar_collection_not_built",
                                collection=collection_id) from exc


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _building_roofs(gdf) -> list[dict]:
    roofs = []
    for _, row in gdf.iterrows():
        orientation = _clean(row.get("orientation_faitage_deg"))
        roofs.append({
            "id": str(row["id"]),
            "geometry": row.geometry,
            "type_toit": row.get("type_toit") or None,
            "orientation": orientation,
            "tilt": None, "azimuth": None,
            "attributes": {"origine": BATIMENTS,
                           **{k: _clean(row.get(k)) for k in
                              ("insee", "commune", "usage", "hauteur", "type_toit",
                               "orientation_faitage_deg")}},
        })
    return roofs


#: names of the tilt and azimuth (degrees) in the properties of a request's roof, first wins:
#: the interface names, then the older ones kept as aliases
ROOF_TILT_NAMES = ("tilt", "tilt_deg", "inclinaison_deg")
ROOF_AZIMUTH_NAMES = ("azimuth", "azimuth_deg", "azimut_deg")


def _first(props: dict, names) -> Any:
    for name in names:
        if props.get(name) is not None:
            return props[name]
    return None


def _roofs_from_geojson(value: Any, params) -> list[dict]:
    import shapely
    from shapely.geometry import shape

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SolarProcessError("solar_roofs_not_json") from exc
    if not isinstance(value, dict):
        raise SolarProcessError("solar_roofs_not_object")
    kind = value.get("type")
    if kind == "FeatureCollection":
        feats = value.get("features")
    elif kind == "Feature":
        feats = [value]
    elif kind in ("Polygon", "MultiPolygon"):
        feats = [{"type": "Feature", "geometry": value, "properties": {}}]
    else:
        raise SolarProcessError("solar_roofs_type")
    if not isinstance(feats, list) or not feats:
        raise SolarProcessError("solar_roofs_empty")
    cap = _max_geojson_roofs(params)
    if len(feats) > cap:
        raise SolarProcessError("solar_too_many_roofs", count=len(feats), max=cap)
    geoms, roofs = [], []
    for i, feat in enumerate(feats):
        where = f"roofs[{i}]"
        if not isinstance(feat, dict) or not isinstance(feat.get("geometry"), dict):
            raise SolarProcessError("solar_roof_not_feature", where=where)
        try:
            geom = shape(feat["geometry"])
        except Exception as exc:  # noqa: BLE001 - any malformed geometry is the client's
            raise SolarProcessError("solar_roof_geometry_invalid", where=where,
                                    error=str(exc)) from exc
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            raise SolarProcessError("solar_roof_not_polygon", where=where)
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise SolarProcessError("solar_roof_not_lonlat", where=where)
        if not geom.is_valid:
            raise SolarProcessError("solar_roof_polygon_invalid", where=where,
                                    reason=shapely.is_valid_reason(geom))
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        rid = feat.get("id", props.get("id"))
        tilt = _first(props, ROOF_TILT_NAMES)
        azimuth = _first(props, ROOF_AZIMUTH_NAMES)
        roof_type = _first(props, ("roof_type", "type_toit"))
        roofs.append({
            "id": str(rid) if rid is not None else f"toit-{i + 1}",
            "type_toit": roof_type,
            "orientation": _number(f"{where}.orientation_faitage_deg",
                                   props.get("orientation_faitage_deg"), 0, 360),
            "tilt": _number(f"{where}.tilt", tilt, 0, 70),
            "azimuth": _number(f"{where}.azimuth", azimuth, 0, 360),
            "attributes": {"origine": "requete", "type_toit": roof_type},
        })
        geoms.append(geom)
    import geopandas as gpd

    projected = gpd.GeoSeries(geoms, crs="OGC:CRS84").to_crs(STORAGE_EPSG)
    for roof, geom in zip(roofs, projected):
        roof["geometry"] = geom
        area = geom.area
        if area > 500_000:
            raise SolarProcessError("solar_roof_too_large", id=roof["id"])
    return roofs


def _resolve_dsm(value: Any) -> Path:
    """A raster collection id, or a file name under the store folder: never a path or URL."""
    from services import layers
    from services.settings import get_settings

    if not isinstance(value, str) or not _DSM_NAME.match(value):
        raise SolarProcessError("solar_dsm_name")
    settings = get_settings()
    try:
        entry = layers.entry(value, settings)
    except (layers.UnknownCollection, FileNotFoundError):
        entry = None
    if entry is not None:
        if entry.get("kind") != "coverage":
            raise SolarProcessError("solar_dsm_not_raster", collection=value)
        return Path(entry["data"])
    if value.lower().endswith((".tif", ".tiff")):
        store = settings.store_dir.resolve()
        path = (store / value).resolve()
        if path.parent == store and path.is_file():
            return path
    raise SolarNotFound("solar_dsm_unknown", name=value)

