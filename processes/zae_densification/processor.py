"""pygeoapi adapter of the ``zae-densification`` process (thin: inputs -> layers -> core).

Reads the parks (``zae``), their lots (``zae-lots``: ``zae_id``, ``statut``) and the buildings
(``batiments``) through :mod:`services.layers` (either store, EPSG:2154), calls the pure model
of :mod:`processes.zae_densification.core` and writes a GeoJSON FeatureCollection in CRS84:

- ``{"zae": "<id>"}``: one feature per lot with potential (its kept pieces), ``potentiel_m2``
  per lot, and ``summary`` (the park's totals);
- ``{"zae": "all"}`` or no ``zae``: one feature per park (its outline and its totals),
  ``summary`` (Artois-wide totals) and ``epci`` (totals per EPCI).

When the ``zae-lots`` collection does not exist (or a park has no lot), the park's outline is
handled as one occupied lot (``statut`` ``parc``) and ``lots_source`` says so, with a note.
"""
from __future__ import annotations

import copy
import json
import logging
from typing import Any

import numpy as np
import shapely
from pygeoapi.process.base import BaseProcessor

from processes.inputs import InputError

from services.jobs.inputs import unwrap

from . import core

LOGGER = logging.getLogger(__name__)
PROCESS_ID = "zae-densification"
ZAE, LOTS, BUILDINGS = "zae", "zae-lots", "batiments"
ALL = "all"
MAX_ID = 64
NOTE_NO_LOTS = {
    "fr": "Pas de lots (collection zae-lots absente ou aucun lot pour ce parc) : le périmètre "
          "du parc est traité comme un seul lot occupé.",
    "en": "No lots (zae-lots collection missing or no lot for this park): the park's outline "
          "is handled as one occupied lot."}

_TABLE = core.load_table()


def _bounds(name: str) -> dict[str, Any]:
    spec = _TABLE[name]
    return {"type": "number", "minimum": spec["min"], "maximum": spec["max"],
            "default": spec["default"]}


PROCESS_METADATA = {
    "version": "1.0.0",
    "access": {"execute": "public"},  # reads only (services/jobs/access.py)
    "id": PROCESS_ID,
    "title": {"fr": "Potentiel de densification des zones d'activités",
              "en": "Densification potential of business parks"},
    "description": {
        "fr": "Pour une zone d'activités (ou toutes : zae = all), la partie non bâtie des lots "
              "occupés (lot moins les bâtiments de la collection batiments élargis du recul) et "
              "la partie constructible des lots disponibles (lot en retrait du recul depuis sa "
              "limite), en ne gardant que les morceaux d'au moins min_surface_m2, en "
              "Lambert-93. Résultat : les lots ou surfaces avec leur potentiel en m² (GeoJSON, "
              "CRS84) et un résumé par parc et pour l'Artois. Sans lots, le périmètre du parc "
              "est traité comme un lot occupé. Données de démonstration modélisées.",
        "en": "For a business park (or all of them: zae = all), the unbuilt part of occupied "
              "lots (lot minus the buildings of the batiments collection grown by the setback) "
              "and the buildable part of available lots (lot set back from its edge), keeping "
              "pieces of at least min_surface_m2, in Lambert-93. Output: the lots or areas "
              "with their potential in m² (GeoJSON, CRS84) and a summary per park and for "
              "Artois. Without lots, the park's outline is handled as one occupied lot. "
              "Modelled demonstration data."},
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value"],
    "keywords": ["densification", "zones d'activités", "foncier économique", "ZAE",
                 "PLUi-H", "business parks"],
    "inputs": {
        "zae": {
            "title": {"fr": "Zone d'activités", "en": "Business park"},
            "description": {"fr": "Identifiant d'un parc de la collection zae, ou « all » "
                                  "(défaut) pour toutes.",
                            "en": "Id of a park of the zae collection, or \"all\" (default) "
                                  "for every park."},
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID},
            "minOccurs": 0, "maxOccurs": 1,
        },
        "min_surface_m2": {
            "title": {"fr": "Surface minimale (m²)", "en": "Minimum size (m²)"},
            "description": {"fr": "Plus petit morceau compté comme potentiel.",
                            "en": "Smallest piece counted as potential."},
            "schema": _bounds("min_surface_m2"), "minOccurs": 0, "maxOccurs": 1,
        },
        "recul_m": {
            "title": {"fr": "Recul (m)", "en": "Setback (m)"},
            "description": {"fr": "Distance aux bâtiments existants (lots occupés) et à la "
                                  "limite du lot (lots disponibles).",
                            "en": "Distance from the existing buildings (occupied lots) and "
                                  "from the lot's edge (available lots)."},
            "schema": _bounds("recul_m"), "minOccurs": 0, "maxOccurs": 1,
        },
    },
    "outputs": {
        "potential": {
            "title": {"fr": "Potentiel de densification", "en": "Densification potential"},
            "description": {
                "fr": "FeatureCollection (CRS84) : lots ou parcs avec potentiel_m2 ; summary "
                      "(totaux), lots_source (zae-lots ou parc), parameters, epci (zae = all).",
                "en": "FeatureCollection (CRS84): lots or parks with potentiel_m2; summary "
                      "(totals), lots_source (zae-lots or parc), parameters, epci (zae = all)."},
            "schema": {"type": "object", "contentMediaType": "application/geo+json"},
        },
    },
    "example": {"inputs": {"zae": "ZAE-62-CABBALR-001", "min_surface_m2": 500, "recul_m": 5}},
}


class DensificationInputError(InputError):
    """A bad input of zae-densification: 400, in French and English."""


class DensificationNotFound(DensificationInputError):
    status = 404
    code = "NotFound"




def check_inputs(data: Any) -> dict[str, Any]:
    """Checks that need no data (run before a job is created): the clean inputs."""
    if not isinstance(data, dict):
        raise DensificationInputError("densification_inputs_not_object")
    unknown = sorted(set(data) - set(PROCESS_METADATA["inputs"]))
    if unknown:
        raise DensificationInputError("densification_inputs_unknown", names=unknown)
    data = {k: unwrap(v) for k, v in data.items() if v is not None}
    zae = data.get("zae", ALL)
    if not isinstance(zae, str) or not 0 < len(zae.strip()) <= MAX_ID or \
            any(ord(c) < 32 for c in zae):
        raise DensificationInputError("densification_zae", max=MAX_ID)
    data["zae"] = zae.strip()
    try:
        data["parameters"] = core.parameters(data, _TABLE)
    except core.DensificationError as err:
        raise DensificationInputError(err.key, **err.params) from None
    return data


# ---------------------------------------------------------------------------- reading
def _lots_frame(bbox=None):
    """The zae-lots frame, or None when the collection does not exist (not built yet)."""
    from services import layers
    try:
        return layers.read_collection(LOTS, bbox=bbox)
    except (layers.UnknownCollection, KeyError):
        return None


def _lots_of(frame, park_id: str, outline) -> tuple[list[core.Lot], str]:
    """The park's lots, or its outline as one lot: (lots, source)."""
    if frame is not None and len(frame) and "zae_id" in frame.columns:
        mine = frame[frame["zae_id"].astype(str) == park_id]
        if len(mine):
            idf = "id" if "id" in mine.columns else None
            lots = []
            for i, row in enumerate(mine.itertuples(index=False)):
                props = row._asdict()
                geom = props.pop("geometry")
                lot_id = str(props.get(idf) if idf else i)
                lots.append(core.Lot(lot_id, park_id, str(props.get("statut") or ""), geom,
                                     props))
            return lots, LOTS
    return [core.Lot(park_id, park_id, core.PARK, outline, {})], core.PARK


def _buildings(bbox) -> list:
    from services import layers
    frame = layers.read_collection(BUILDINGS, bbox=bbox)
    if len(frame) > int(_TABLE["max_buildings"]):
        raise DensificationInputError("densification_too_many", what=BUILDINGS,
                                      max=_TABLE["max_buildings"])
    return [g for g in frame.geometry if g is not None and not g.is_empty]


def _geojson(geoms: list) -> list[dict]:
    import geopandas as gpd
    if not geoms:
        return []
    wgs = gpd.GeoSeries(geoms, crs=2154).to_crs("OGC:CRS84")
    text = shapely.to_geojson(shapely.set_precision(np.asarray(wgs.values), 1e-7))
    return [json.loads(t) for t in text]


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _parameters(p: core.Parameters) -> dict[str, Any]:
    return {"min_surface_m2": p.min_surface_m2, "recul_m": p.recul_m, "crs": "EPSG:2154",
            "buildings": BUILDINGS, "lots": LOTS}


# ---------------------------------------------------------------------------- run
def one_park(park_id: str, p: core.Parameters) -> dict[str, Any]:
    from services import layers
    park = layers.get_feature(ZAE, park_id)
    if park is None:
        raise DensificationNotFound("densification_zae_unknown", zae=park_id)
    outline = park["geometry"]
    bbox = tuple(outline.bounds)
    lots, source = _lots_of(_lots_frame(bbox), park_id, outline)
    if len(lots) > int(_TABLE["max_lots"]):
        raise DensificationInputError("densification_too_many", what=LOTS,
                                      max=_TABLE["max_lots"])
    results, summary = core.park_potential(lots, _buildings(bbox), p)
    kept = [r for r in results if r["pieces"]]
    geoms = _geojson([shapely.MultiPolygon(r["pieces"]) for r in kept])
    features = []
    for r, geom in zip(kept, geoms):
        lot = r["lot"]
        props = {"lot_id": lot.id, "zae_id": park_id, "statut": lot.statut,
                 "type": core.KINDS.get(lot.statut, lot.statut),
                 "potentiel_m2": round(r["potentiel_m2"], 1),
                 "surface_m2": round(r["surface_m2"], 1), "bati_m2": round(r["bati_m2"], 1),
                 "morceaux": len(r["pieces"])}
        if lot.attributes.get("activite") is not None:
            props["activite"] = _plain(lot.attributes["activite"])
        features.append({"type": "Feature", "id": lot.id, "geometry": geom,
                         "properties": props})
    out = {"type": "FeatureCollection", "features": features,
           "numberReturned": len(features), "zae": park_id,
           "nom": _plain(park["properties"].get("nom")),
           "summary": summary, "lots_source": source, "parameters": _parameters(p)}
    if source == core.PARK:
        out["note"] = NOTE_NO_LOTS
    return out


def all_parks(p: core.Parameters) -> dict[str, Any]:
    from services import layers
    parks = layers.read_collection(ZAE)
    lots_frame = _lots_frame()
    buildings = _buildings(None)
    rows, summaries, sources = [], [], set()
    for park in parks.itertuples(index=False):
        park_id = str(park.id)
        lots, source = _lots_of(lots_frame, park_id, park.geometry)
        sources.add(source)
        _, summary = core.park_potential(lots, buildings, p)
        summaries.append(summary)
        rows.append((park, source, summary))
    geoms = _geojson([park.geometry for park, _, _ in rows])
    features, epci = [], {}
    for (park, source, summary), geom in zip(rows, geoms):
        siren = _plain(getattr(park, "epci_siren", None))
        features.append({"type": "Feature", "id": str(park.id), "geometry": geom,
                         "properties": {"zae_id": str(park.id), "nom": _plain(park.nom),
                                        "epci_siren": siren, "lots_source": source,
                                        **summary}})
        epci.setdefault(siren, []).append(summary)
    out = {"type": "FeatureCollection", "features": features,
           "numberReturned": len(features), "zae": ALL,
           "summary": core.add_summaries(summaries),
           "epci": {str(k): core.add_summaries(v) for k, v in epci.items()},
           "lots_source": LOTS if sources == {LOTS} else
           (core.PARK if sources == {core.PARK} else "mixte"),
           "parameters": _parameters(p)}
    if core.PARK in sources:
        out["note"] = NOTE_NO_LOTS
    return out


def run(inputs: dict[str, Any]) -> dict[str, Any]:
    data = check_inputs(inputs)
    p = data["parameters"]
    if data["zae"].lower() == ALL:
        return all_parks(p)
    return one_park(data["zae"], p)


class ZaeDensificationProcessor(BaseProcessor):
    """Densification potential of business parks (see module docstring)."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, copy.deepcopy(PROCESS_METADATA))

    def validate_inputs(self, data: dict) -> None:
        check_inputs(data)

    def execute(self, data: dict, outputs: dict | None = None) -> tuple[str, Any]:
        return "application/geo+json", run(data or {})

    def __repr__(self) -> str:
        return f"<ZaeDensificationProcessor> {self.name}"
