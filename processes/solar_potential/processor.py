"""pygeoapi adapter of the ``solar-potential`` process (OGC API Processes).

Thin: it validates the inputs, reads the roofs (``batiments`` collection through
``services.layers``, or GeoJSON polygons of the request), resolves the optional surface model,
calls the pure model in ``core`` (and ``shading``), and writes a GeoJSON FeatureCollection in
CRS84. ``run(inputs)`` does all of it and is a plain module-level function (picklable), so a
job manager can call it in a worker process; ``SolarPotentialProcessor.execute`` wraps it.
Reading the roofs and the surface model, and the errors, are in :mod:`processes.solar_potential.roofs`
(the errors are re-exported here).

Errors are ``SolarProcessError`` (400) / ``SolarNotFound`` (404): ``processes.inputs.InputError``
subclasses (services.errors.OGCError, pygeoapi ProcessorExecuteError) in French and English.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from pygeoapi.process.base import BaseProcessor

from processes.inputs import INSEE_RE, is_insee
from processes.solar_potential import core
from processes.solar_potential.roofs import (  # noqa: F401 - BATIMENTS, ROOF_*_NAMES re-exported
    _DSM_NAME,
    BATIMENTS,
    ROOF_AZIMUTH_NAMES,
    ROOF_TILT_NAMES,
    SolarNotFound,
    SolarProcessError,
    _number,
    _resolve_dsm,
    _roofs_from_batiments,
    _roofs_from_commune,
    _roofs_from_geojson,
)
from services.jobs.inputs import unwrap
from services.store.base import STORAGE_SRID as STORAGE_EPSG

LOGGER = logging.getLogger(__name__)

PROCESS_ID = "solar-potential"
_INPUTS = ("batiments", "commune", "roofs", "tilt", "azimuth", "dsm")
_EXAMPLE_ROOF = {
    "type": "FeatureCollection",
    "features": [{
        "type": "Feature", "id": "maison-exemple",
        "properties": {"type_toit": "deux pans", "tilt": 40, "azimuth": 180},
        "geometry": {"type": "Polygon", "coordinates": [[
            [2.64050, 50.52960], [2.64064, 50.52960], [2.64064, 50.52969],
            [2.64050, 50.52969], [2.64050, 50.52960]]]},
    }],
}

PROCESS_METADATA = {
    "version": "1.0.0",
    "access": {"execute": "public"},  # reads only (services/jobs/access.py)
    "id": PROCESS_ID,
    "title": {"fr": "Potentiel solaire des toitures", "en": "Solar potential of roofs"},
    "description": {
        "fr": "Pour des toitures (identifiants de la collection batiments, tous les bâtiments "
              "d'une commune, ou polygones GeoJSON en CRS84), calcule la surface utile, "
              "l'inclinaison et l'orientation du pan, l'irradiation annuelle dans le plan des "
              "modules (kWh/m²/an), la puissance installable (kWc), la production annuelle "
              "(kWh/an) et une classe de potentiel (1 à 5). Modèle pvlib : année type horaire, "
              "ciel clair Ineichen avec la turbidité de Linke livrée avec pvlib, mis à l'échelle "
              "du climat de Béthune (irradiation mensuelle documentée), décomposition Erbs, "
              "transposition Perez, température Faiman, pertes PVWatts (14 %) et onduleur. "
              "Ombrage optionnel à partir d'un modèle numérique de surface (dsm). Les bâtiments "
              "de la collection batiments sont des données de démonstration modélisées.",
        "en": "For roofs (ids of the batiments collection, all the buildings of a municipality, "
              "or GeoJSON polygons in CRS84), computes the usable area, the tilt and azimuth of "
              "the plane, the annual irradiation on the module plane (kWh/m²/yr), the "
              "installable peak power (kWp), the annual production (kWh/yr) and a potential "
              "class (1 to 5). pvlib model: hourly typical year, Ineichen clear sky with the "
              "Linke turbidity shipped with pvlib, scaled to the climate of Béthune (documented "
              "monthly irradiation), Erbs decomposition, Perez transposition, Faiman cell "
              "temperature, PVWatts losses (14 %) and inverter. Optional shading from a digital "
              "surface model (dsm). The buildings of the batiments collection are modelled "
              "demonstration data.",
    },
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["solaire", "photovoltaïque", "toitures", "cadastre solaire", "pvlib",
                 "solar", "photovoltaic", "roofs"],
    "links": [{
        "type": "text/html", "rel": "about", "hreflang": "en",
        "title": "pvlib python, the model library (sources and figures: "
                 "processes/solar_potential/data/SOURCES.md)",
        "href": "https://pvlib-python.readthedocs.io/",
    }],
    "inputs": {
        "batiments": {
            "title": {"fr": "Bâtiments", "en": "Buildings"},
            "description": {
                "fr": "Identifiants de la collection batiments (au plus 2 000). Exclusif avec "
                      "commune et roofs.",
                "en": "Ids of the batiments collection (2,000 at most). Exclusive with commune "
                      "and roofs."},
            "schema": {"type": "array", "minItems": 1, "maxItems": 2000,
                       "items": {"type": "string", "minLength": 1, "maxLength": 64}},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "commune": {
            "title": {"fr": "Commune", "en": "Municipality"},
            "description": {
                "fr": "Code INSEE d'une commune : tous ses bâtiments de la collection batiments "
                      "(refusé au-delà de 2 000 bâtiments).",
                "en": "INSEE code of a municipality: all its buildings of the batiments "
                      "collection (refused above 2,000 buildings)."},
            "schema": {"type": "string", "pattern": INSEE_RE.pattern},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "roofs": {
            "title": {"fr": "Toitures (GeoJSON)", "en": "Roofs (GeoJSON)"},
            "description": {
                "fr": "Polygones d'emprise des toitures en CRS84 (FeatureCollection, Feature, "
                      "Polygon ou MultiPolygon ; au plus 10 000). Propriétés facultatives : id, "
                      "tilt (inclinaison en degrés, 0 = horizontal), azimuth (degrés depuis le "
                      "nord, 180 = sud), type_toit (ou roof_type : plat, deux pans, quatre pans, "
                      "shed ; plat par défaut), orientation_faitage_deg. Alias acceptés : "
                      "tilt_deg/inclinaison_deg, azimuth_deg/azimut_deg.",
                "en": "Roof footprint polygons in CRS84 (FeatureCollection, Feature, Polygon or "
                      "MultiPolygon; 10,000 at most). Optional properties: id, tilt (degrees, "
                      "0 = horizontal), azimuth (degrees from north, 180 = south), type_toit (or "
                      "roof_type: plat, deux pans, quatre pans, shed; plat by default), "
                      "orientation_faitage_deg. Accepted aliases: tilt_deg/inclinaison_deg, "
                      "azimuth_deg/azimut_deg."},
            # inline on purpose: the server validates inputs against these schemas and must
            # not fetch geojson.org's; the geometry itself is checked by the process
            "schema": {"type": "object", "required": ["type"],
                       "properties": {"type": {"enum": ["FeatureCollection", "Feature",
                                                        "Polygon", "MultiPolygon"]}},
                       "contentMediaType": "application/geo+json"},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "tilt": {
            "title": {"fr": "Inclinaison imposée (°)", "en": "Tilt override (°)"},
            "description": {
                "fr": "Inclinaison des modules pour toutes les toitures (0 = horizontal). Par "
                      "défaut : pente type du toit, ou 30° sur châssis pour un toit plat.",
                "en": "Module tilt for every roof (0 = horizontal). Default: the typical pitch "
                      "of the roof type, or 30° frames on a flat roof."},
            "schema": {"type": "number", "minimum": 0, "maximum": 70},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "azimuth": {
            "title": {"fr": "Azimut imposé (°)", "en": "Azimuth override (°)"},
            "description": {
                "fr": "Orientation des modules pour toutes les toitures, en degrés depuis le "
                      "nord dans le sens horaire (180 = sud). Par défaut : le pan le plus proche "
                      "du sud d'après l'orientation du faîtage ; plein sud sur un toit plat.",
                "en": "Module azimuth for every roof, degrees clockwise from north (180 = "
                      "south). Default: the plane facing closest to south from the ridge "
                      "orientation; due south on a flat roof."},
            "schema": {"type": "number", "minimum": 0, "maximum": 360},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "dsm": {
            "title": {"fr": "Modèle numérique de surface", "en": "Digital surface model"},
            "description": {
                "fr": "Identifiant d'une collection raster du serveur, ou nom d'un fichier "
                      "GeoTIFF du dossier de stockage du serveur (jamais un chemin ni une URL). "
                      "Hauteurs en mètres, projection en mètres. Sans dsm : pas d'ombrage.",
                "en": "Id of a raster collection of this server, or name of a GeoTIFF file in "
                      "the server's store folder (never a path or a URL). Heights in metres, "
                      "projected CRS in metres. Without dsm: no shading."},
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"},
            "minOccurs": 0, "maxOccurs": 1,
        },
    },
    "outputs": {
        "roofs": {
            "title": {"fr": "Potentiel solaire par toiture", "en": "Solar potential per roof"},
            "description": {
                "fr": "FeatureCollection GeoJSON (CRS84), une entité par toiture : "
                      "usable_area_m2 (surface utile), tilt_deg, azimuth_deg (180 = sud), "
                      "irradiation_kwh_m2_yr, peak_power_kwc, production_kwh_yr, class (1 à 5), "
                      "et aussi class_label_fr/en, roof_type, footprint_area_m2, usable_ratio, "
                      "specific_yield_kwh_kwc_yr ; totals et parameters (modèle) en membres de "
                      "la collection.",
                "en": "GeoJSON FeatureCollection (CRS84), one feature per roof: usable_area_m2, "
                      "tilt_deg, azimuth_deg (180 = south), irradiation_kwh_m2_yr, "
                      "peak_power_kwc, production_kwh_yr, class (1 to 5), and also "
                      "class_label_fr/en, roof_type, footprint_area_m2, usable_ratio, "
                      "specific_yield_kwh_kwc_yr; totals and parameters (model) as members of "
                      "the collection."},
            "schema": {"type": "object", "contentMediaType": "application/geo+json"},
        },
    },
    "example": {"inputs": {"roofs": _EXAMPLE_ROOF}},
}


# ------------------------------------------------------------------------------------------
# Run
# ------------------------------------------------------------------------------------------

def _haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _round_step(values: np.ndarray, step: float, modulo: float | None = None) -> np.ndarray:
    out = np.round(values / step) * step if step > 0 else values
    return out % modulo if modulo else out


def check_inputs(inputs: Any) -> dict[str, Any]:
    """Cheap checks that need no data (names, exclusivity, numbers, identifier syntax);
    returns the inputs with OGC qualified values unwrapped. Raises ``SolarProcessError``."""
    if not isinstance(inputs, dict):
        raise SolarProcessError("solar_inputs_not_object")
    unknown = sorted(set(inputs) - set(_INPUTS))
    if unknown:
        raise SolarProcessError("solar_inputs_unknown", names=unknown, expected=list(_INPUTS))
    data = {k: unwrap(v) for k, v in inputs.items() if v is not None}
    chosen = [k for k in ("batiments", "commune", "roofs") if k in data]
    if len(chosen) != 1:
        raise SolarProcessError("solar_one_source")
    _number("tilt", data.get("tilt"), 0, 70)
    _number("azimuth", data.get("azimuth"), 0, 360)
    if "commune" in data and not is_insee(data["commune"]):
        raise SolarProcessError("solar_commune_code")
    if "dsm" in data and (not isinstance(data["dsm"], str) or not _DSM_NAME.match(data["dsm"])):
        raise SolarProcessError("solar_dsm_name")
    return data


def run(inputs: dict[str, Any]) -> dict[str, Any]:
    """Execute the process: ``inputs`` as in the OGC execute request; returns the
    FeatureCollection (CRS84). Raises ``SolarProcessError`` / ``SolarNotFound``."""
    import geopandas as gpd

    from processes.solar_potential import shading

    data = check_inputs(inputs)
    chosen = [k for k in ("batiments", "commune", "roofs") if k in data]
    params = core.load_parameters()
    tilt = _number("tilt", data.get("tilt"), 0, 70)
    azimuth = _number("azimuth", data.get("azimuth"), 0, 360)
    try:
        if chosen[0] == "batiments":
            roofs = _roofs_from_batiments(data["batiments"], params)
        elif chosen[0] == "commune":
            roofs = _roofs_from_commune(data["commune"], params)
        else:
            roofs = _roofs_from_geojson(data["roofs"], params)
        dsm = _resolve_dsm(data["dsm"]) if "dsm" in data else None
        return _compute(roofs, tilt, azimuth, dsm, params, gpd, shading)
    except (core.SolarInputError, shading.ShadingError) as exc:
        # the pure model's own texts (core and shading import nothing of the server)
        raise SolarProcessError.from_texts(exc.messages["fr"], exc.messages["en"]) from exc


def _compute(roofs, tilt, azimuth, dsm, params, gpd, shading) -> dict[str, Any]:
    climate = core.load_climate()
    classes = core.load_classes()
    density = float(params["module_power_density_kwc_m2"])
    out_meta = _metadata(params, climate, classes, dsm)
    if not roofs:
        return {"type": "FeatureCollection", "features": [], "numberReturned": 0,
                "totals": {"roofs": 0, "usable_area_m2": 0.0, "peak_power_kwc": 0.0,
                           "production_kwh_yr": 0.0},
                "parameters": out_meta}
    geoms = gpd.GeoSeries([r["geometry"] for r in roofs], crs=STORAGE_EPSG)
    planes = []
    for roof, geom in zip(roofs, geoms):
        planes.append(core.roof_geometry(
            geom.area, roof["type_toit"], roof["orientation"],
            tilt if tilt is not None else roof["tilt"],
            azimuth if azimuth is not None else roof["azimuth"], params))

    centroids = geoms.centroid.to_crs(4326)
    lat, lon = float(centroids.y.mean()), float(centroids.x.mean())
    site_cfg = climate.get("site") or {}
    limit = float(site_cfg.get("max_distance_km", 100))
    dist = _haversine_km(lat, lon, float(site_cfg["latitude"]), float(site_cfg["longitude"]))
    if dist > limit:
        raise SolarProcessError("solar_too_far", distance=dist, site=str(site_cfg.get("name")),
                                limit=limit)
    site = core.site_year(lat, lon, climate)

    tilts = _round_step(np.array([p["tilt_deg"] for p in planes]),
                        float(params.get("tilt_step_deg", 1)))
    azs = _round_step(np.array([p["azimuth_deg"] for p in planes]),
                      float(params.get("azimuth_step_deg", 5)), 360.0)
    horizon, covered = None, np.zeros(len(roofs), dtype=bool)
    if dsm is not None:
        sh = params.get("shading") or {}
        horizon, covered = shading.horizon_profiles(
            dsm, list(geoms), f"EPSG:{STORAGE_EPSG}", int(sh.get("azimuths", 36)),
            float(sh.get("max_distance_m", 300)), float(sh.get("module_height_m", 0.3)))
    res = core.evaluate_planes(site, tilts, azs, horizon, params)

    wgs = geoms.to_crs("OGC:CRS84")
    import shapely

    geojson = shapely.to_geojson(shapely.set_precision(np.asarray(wgs.values), 1e-7))
    features = []
    tot_area = tot_kwc = tot_kwh = 0.0
    for i, (roof, plane) in enumerate(zip(roofs, planes)):
        irr = float(res["irradiation_kwh_m2"][i])
        spec = float(res["specific_yield_kwh_kwp"][i])
        usable = plane["usable_area_m2"]
        kwc = usable * density
        kwh = kwc * spec
        cls = core.classify(irr, classes)
        props = {k: v for k, v in roof["attributes"].items() if v is not None}
        props.update({
            "usable_area_m2": round(usable, 1),
            "tilt_deg": round(plane["tilt_deg"], 1),
            "azimuth_deg": round(plane["azimuth_deg"], 1),
            "irradiation_kwh_m2_yr": round(irr, 1),
            "peak_power_kwc": round(kwc, 2),
            "production_kwh_yr": round(kwh, 0),
            "class": int(cls["classe"]),
            "class_code": cls["code"],
            "class_label_fr": cls["fr"],
            "class_label_en": cls["en"],
            "class_colour": cls.get("color"),
            "roof_type": plane["type_toit"],
            "footprint_area_m2": round(float(geoms.iloc[i].area), 1),
            "usable_ratio": round(plane["usable_ratio"], 3),
            "specific_yield_kwh_kwc_yr": round(spec, 1),
        })
        if dsm is not None:
            unshaded = float(res["irradiation_unshaded_kwh_m2"][i])
            props["shading_computed"] = bool(covered[i])
            props["irradiation_unshaded_kwh_m2_yr"] = round(unshaded, 1)
            props["shading_loss_pct"] = round(100.0 * (1.0 - irr / unshaded), 1) \
                if covered[i] and unshaded > 0 else None
            props["horizon_max_deg"] = round(float(np.nanmax(horizon[i])), 1) \
                if covered[i] else None
            props["sky_view_factor"] = round(float(res["sky_view_factor"][i]), 3)
        tot_area += usable
        tot_kwc += kwc
        tot_kwh += kwh
        features.append({"type": "Feature", "id": roof["id"],
                         "geometry": json.loads(geojson[i]),
                         "properties": props})
    out_meta["site"] = {"latitude": round(lat, 4), "longitude": round(lon, 4)}
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(features),
        "totals": {"roofs": len(features), "usable_area_m2": round(tot_area, 1),
                   "peak_power_kwc": round(tot_kwc, 2), "production_kwh_yr": round(tot_kwh, 0)},
        "parameters": out_meta,
    }


def _to_geojson(geom) -> str:
    import shapely

    return shapely.to_geojson(shapely.set_precision(geom, 1e-7))


def _metadata(params, climate, classes, dsm) -> dict[str, Any]:
    site = core.site_year(float(climate["site"]["latitude"]), float(climate["site"]["longitude"]),
                          climate)
    return {
        "modele": "pvlib " + __import__("pvlib").__version__ + ": solar position (NREL), "
                  "Ineichen clear sky + LinkeTurbidities.h5, monthly scaling to the climate "
                  "file (two-state days), Erbs, Perez 1990, IAM physical, Faiman, PVWatts DC + "
                  "losses + inverter",
        "climat": climate.get("id"),
        "climat_statut": climate.get("ghi_status"),
        "irradiation_horizontale_kwh_m2_an": round(site.ghi_annual_kwh_m2, 1),
        "fraction_diffuse": round(site.diffuse_fraction, 3),
        "densite_puissance_kwc_m2": float(params["module_power_density_kwc_m2"]),
        "pertes_systeme_pct": round(core.system_losses_pct(params), 2),
        "pas_azimut_deg": float(params.get("azimuth_step_deg", 5)),
        "classes": [{"classe": c["classe"], "min_kwh_m2_an": c["min"], "fr": c["fr"],
                     "en": c["en"]} for c in classes],
        "ombrage": ("modèle numérique de surface : " + Path(dsm).name) if dsm else
                   "aucun (pas de dsm) / none (no dsm)",
        "sources": "processes/solar_potential/data/SOURCES.md",
    }


class SolarPotentialProcessor(BaseProcessor):
    """Solar potential of roofs (see PROCESS_METADATA)."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, PROCESS_METADATA)

    def validate_inputs(self, inputs: dict) -> None:
        """Hook of the job manager (services.jobs): cheap checks before a job is created."""
        check_inputs(inputs)  # SolarProcessError: an OGCError the job API renders

    def execute(self, data: dict, outputs: dict | None = None):
        return "application/geo+json", run(data or {})

    def __repr__(self):
        return f"<SolarPotentialProcessor> {self.name}"
