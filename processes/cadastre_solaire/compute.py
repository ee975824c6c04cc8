"""The rows of the ``cadastre-solaire`` collection: every roof of ``batiments`` through the
``solar-potential`` process's own computation.

One roof's figures depend on the site of the request (the mean of its roofs' centroids,
rounded to 0.01° by ``core.site_year``). The cadastre evaluates each roof at its *own* site:
the roofs are grouped by the 0.01° cell of their centroid, and each group goes through
``processes.solar_potential.processor._compute`` (the function the process runs), whose mean
centroid rounds to that same cell. So a roof's row here equals, to the last digit, what
``POST /processes/solar-potential/execution`` with ``{"batiments": [its id]}`` returns.

Surface model: the server has none for the territory, so no shading is computed
(``perte_ombrage_pct`` is null, ``ombrage`` says why).

No web import: frames in, frame out (EPSG:2154).
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

LOGGER = logging.getLogger("artois_geo.cadastre_solaire")

COLLECTION = "cadastre-solaire"
SOURCE = "batiments"
NO_SHADING = ("non calculé : pas de modèle numérique de surface sur le territoire / "
              "not computed: no digital surface model of the territory")
#: the public tier's production: rounded to this many significant digits
INDICATIVE_DIGITS = 2
COLUMNS = ["batiment_id", "insee", "commune", "epci_siren", "type_toit", "classe",
           "classe_libelle_fr", "classe_libelle_en", "irradiation_kwh_m2_an",
           "production_indicative_kwh_an", "surface_utile_m2", "puissance_kwc",
           "production_kwh_an", "productible_kwh_kwc_an", "inclinaison_deg", "azimut_deg",
           "perte_ombrage_pct", "ombrage", "date_calcul"]


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def indicative(kwh: float | None) -> float | None:
    """Production rounded to INDICATIVE_DIGITS significant digits (public tier)."""
    if kwh is None or not math.isfinite(kwh):
        return None
    if kwh == 0:
        return 0.0
    return float(f"{kwh:.{INDICATIVE_DIGITS}g}")


def cells(batiments: gpd.GeoDataFrame) -> dict[tuple[float, float], list[int]]:
    """Row positions grouped by the 0.01° cell (latitude, longitude) of their centroid, as
    ``core.site_year`` rounds a site (the centroid taken as the process takes it)."""
    wgs = batiments.geometry.centroid.to_crs(4326)
    lat = np.round(wgs.y.to_numpy(dtype=float), 2)
    lon = np.round(wgs.x.to_numpy(dtype=float), 2)
    out: dict[tuple[float, float], list[int]] = {}
    for i, key in enumerate(zip(lat.tolist(), lon.tolist())):
        out.setdefault(key, []).append(i)
    return out


def _evaluate(roofs: list[dict], params) -> list[dict[str, Any]]:
    """The process's features for these roofs (one site); roofs it refuses are left out."""
    from processes.solar_potential import core, processor, shading
    from processes.solar_potential.roofs import SolarProcessError

    try:
        return processor._compute(roofs, None, None, None, params, gpd, shading)["features"]
    except (core.SolarInputError, SolarProcessError):
        if len(roofs) == 1:
            LOGGER.warning("cadastre-solaire: roof %s left out (refused by the model)",
                           roofs[0]["id"])
            return []
        out = []
        for roof in roofs:  # find the roof the model refuses, keep the others
            out += _evaluate([roof], params)
        return out


def compute(batiments: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
            date_calcul: str | None = None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """(rows of the collection in EPSG:2154, report). ``batiments`` and ``communes`` as
    served (EPSG:2154)."""
    from processes.solar_potential import core
    from processes.solar_potential.roofs import _building_roofs

    started = time.perf_counter()
    date_calcul = date_calcul or now()
    params = core.load_parameters()
    bat = batiments[batiments.geometry.notna() & ~batiments.geometry.is_empty]
    bat = bat.reset_index(drop=True)
    epci = dict(zip(communes["insee"].astype(str), communes["epci_siren"].astype(str)))
    groups = cells(bat) if len(bat) else {}
    rows: list[dict[str, Any]] = []
    for _, positions in sorted(groups.items()):
        part = bat.iloc[positions]
        for feat in _evaluate(_building_roofs(part), params):
            rows.append(_row(feat, epci, date_calcul))
    geometry = dict(zip(bat["id"].astype(str), bat.geometry))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    # a number column even when no roof has a shading figure (no surface model: all null)
    frame["perte_ombrage_pct"] = pd.to_numeric(frame["perte_ombrage_pct"],
                                               errors="coerce").astype("float64")
    out = gpd.GeoDataFrame(frame, geometry=[geometry[i] for i in frame["batiment_id"]],
                           crs=batiments.crs or "EPSG:2154")
    out = out.sort_values("batiment_id").reset_index(drop=True)
    report = {"toitures": len(out), "batiments": len(batiments), "cellules": len(groups),
              "date_calcul": date_calcul, "ombrage": NO_SHADING,
              "secondes": round(time.perf_counter() - started, 2)}
    return out, report


def _row(feature: dict[str, Any], epci: dict[str, str], date_calcul: str) -> dict[str, Any]:
    p = feature["properties"]
    insee = p.get("insee")
    kwh = p.get("production_kwh_yr")
    return {
        "batiment_id": str(feature["id"]),
        "insee": insee,
        "commune": p.get("commune"),
        "epci_siren": epci.get(str(insee)) if insee is not None else None,
        "type_toit": p.get("roof_type"),
        "classe": int(p["class"]),
        "classe_libelle_fr": p.get("class_label_fr"),
        "classe_libelle_en": p.get("class_label_en"),
        "irradiation_kwh_m2_an": p.get("irradiation_kwh_m2_yr"),
        "production_indicative_kwh_an": indicative(kwh),
        "surface_utile_m2": p.get("usable_area_m2"),
        "puissance_kwc": p.get("peak_power_kwc"),
        "production_kwh_an": kwh,
        "productible_kwh_kwc_an": p.get("specific_yield_kwh_kwc_yr"),
        "inclinaison_deg": p.get("tilt_deg"),
        "azimut_deg": p.get("azimuth_deg"),
        "perte_ombrage_pct": p.get("shading_loss_pct"),  # null: no surface model (no dsm)
        "ombrage": NO_SHADING,
        "date_calcul": date_calcul,
    }
