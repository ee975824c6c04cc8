"""Densification potential of a business park: the pure model (no web, no store).

Geometries are shapely geometries in a metric CRS (Lambert-93, EPSG:2154); areas in m².

- An **occupied** lot (``statut`` ``occupé``): its unbuilt part, i.e. the lot minus the
  buildings that meet it, each buffered by the setback ``recul_m`` (round joins, ``quad_segs``
  segments per quarter circle); the pieces smaller than ``min_surface_m2`` are dropped.
- An **available** lot (``disponible``): the part that can host buildings, i.e. the lot set
  back by ``recul_m`` from its own edge (negative buffer); pieces smaller than
  ``min_surface_m2`` are dropped.
- Other lots (``réservé``, ``cédé``: already promised to a project) have no potential here.
- ``parc``: when a park has no lots yet, the park's outline is handled as one occupied lot.

``potentiel_m2`` is the area of the kept pieces. Everything is bounded by the caller
(``max_lots``, ``max_buildings`` in data/parameters.yaml).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import shapely
from shapely.geometry.base import BaseGeometry
from processes import yaml_data

PARAMETERS = Path(__file__).resolve().parent / "data" / "parameters.yaml"
OCCUPIED, AVAILABLE, PARK = "occupé", "disponible", "parc"
KINDS = {OCCUPIED: "partie non bâtie", AVAILABLE: "lot constructible",
         PARK: "partie non bâtie du parc"}


class DensificationError(ValueError):
    """A bad input of the model: `key` names its bilingual text (errors.po), `params` its
    values; the process adapter turns it into a 400."""

    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True)
class Parameters:
    min_surface_m2: float
    recul_m: float
    quad_segs: int = 16


@dataclass
class Lot:
    id: str
    zae_id: str
    statut: str
    geometry: BaseGeometry
    attributes: dict[str, Any] = field(default_factory=dict)


def load_table(path: Path = PARAMETERS) -> dict[str, Any]:
    return yaml_data.load(path.read_text(encoding="utf-8"))


def _number(name: str, value: Any, spec: dict[str, Any]) -> float:
    if value is None:
        return float(spec["default"])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise DensificationError("densification_number", name=name, min=spec["min"],
                                 max=spec["max"])
    if not float(spec["min"]) <= float(value) <= float(spec["max"]):
        raise DensificationError("densification_number", name=name, min=spec["min"],
                                 max=spec["max"])
    return float(value)


def parameters(inputs: dict[str, Any], table: dict[str, Any] | None = None) -> Parameters:
    """The model parameters: the table's defaults, overridden by the request within bounds."""
    table = table or load_table()
    return Parameters(min_surface_m2=_number("min_surface_m2", inputs.get("min_surface_m2"),
                                             table["min_surface_m2"]),
                      recul_m=_number("recul_m", inputs.get("recul_m"), table["recul_m"]),
                      quad_segs=int(table.get("quad_segs", 16)))


def _polygons(geom: BaseGeometry) -> list[BaseGeometry]:
    parts = shapely.get_parts(geom)
    out: list[BaseGeometry] = []
    for part in parts:
        if part.geom_type == "Polygon":
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygons(part))
    return out


def keep_pieces(geom: BaseGeometry, min_surface_m2: float) -> list[BaseGeometry]:
    """The polygons of `geom` whose area is at least `min_surface_m2` (and not empty)."""
    return [p for p in _polygons(geom) if not p.is_empty and p.area > 0
            and p.area >= min_surface_m2]


def _valid(geom: BaseGeometry) -> BaseGeometry:
    return geom if geom.is_valid else shapely.make_valid(geom)


def unbuilt_part(lot: BaseGeometry, buildings: Iterable[BaseGeometry],
                 p: Parameters) -> list[BaseGeometry]:
    """Pieces of an occupied lot away from its buildings by the setback (see module doc)."""
    lot = _valid(lot)
    built = [_valid(b) for b in buildings if b is not None and not b.is_empty]
    if built:
        zone = shapely.union_all(built)
        if p.recul_m > 0:
            zone = zone.buffer(p.recul_m, quad_segs=p.quad_segs)
        free = lot.difference(zone)
    else:
        free = lot
    return keep_pieces(free, p.min_surface_m2)


def buildable_part(lot: BaseGeometry, p: Parameters) -> list[BaseGeometry]:
    """Pieces of an available lot set back from its edge (see module doc)."""
    lot = _valid(lot)
    inner = lot.buffer(-p.recul_m, quad_segs=p.quad_segs) if p.recul_m > 0 else lot
    return keep_pieces(inner, p.min_surface_m2)


def lot_potential(lot: Lot, buildings: list[BaseGeometry], p: Parameters) -> dict[str, Any]:
    """One lot's potential: {"lot", "pieces" (geometries), "potentiel_m2", "surface_m2",
    "bati_m2"}; pieces are empty for a lot of another status."""
    if lot.statut in (OCCUPIED, PARK):
        pieces = unbuilt_part(lot.geometry, buildings, p)
    elif lot.statut == AVAILABLE:
        pieces = buildable_part(lot.geometry, p)
    else:
        pieces = []
    geom = _valid(lot.geometry)
    built = shapely.union_all([_valid(b) for b in buildings]) if buildings else None
    return {"lot": lot, "pieces": pieces,
            "potentiel_m2": float(sum(piece.area for piece in pieces)),
            "surface_m2": float(geom.area),
            "bati_m2": float(geom.intersection(built).area) if built is not None else 0.0}


def park_potential(lots: list[Lot], buildings: list[BaseGeometry],
                   p: Parameters) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(the lots' potentials, the park's summary). Each lot sees the buildings that meet it."""
    tree = shapely.STRtree(buildings) if buildings else None
    results = []
    for lot in lots:
        near: list[BaseGeometry] = []
        if tree is not None:
            near = [buildings[i] for i in tree.query(lot.geometry, predicate="intersects")]
        results.append(lot_potential(lot, near, p))
    return results, summary(results)


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and areas (m², rounded to 0.1) of one park's or several parks' lot results."""
    def total(statuts: tuple[str, ...], key: str = "potentiel_m2") -> float:
        return sum((r[key] for r in results if r["lot"].statut in statuts), 0.0)

    occupied = (OCCUPIED, PARK)
    return {
        "lots": len(results),
        "lots_occupes": sum(r["lot"].statut in occupied for r in results),
        "lots_disponibles": sum(r["lot"].statut == AVAILABLE for r in results),
        "lots_avec_potentiel": sum(bool(r["pieces"]) for r in results),
        "surface_lots_m2": round(sum((r["surface_m2"] for r in results), 0.0), 1),
        "surface_batie_m2": round(sum((r["bati_m2"] for r in results), 0.0), 1),
        "potentiel_occupes_m2": round(total(occupied), 1),
        "potentiel_disponibles_m2": round(total((AVAILABLE,)), 1),
        "potentiel_m2": round(sum((r["potentiel_m2"] for r in results), 0.0), 1),
    }


def add_summaries(parks: list[dict[str, Any]]) -> dict[str, Any]:
    """Artois-wide totals of several parks' summaries (the same keys, summed)."""
    keys = ("lots", "lots_occupes", "lots_disponibles", "lots_avec_potentiel",
            "surface_lots_m2", "surface_batie_m2", "potentiel_occupes_m2",
            "potentiel_disponibles_m2", "potentiel_m2")
    out: dict[str, Any] = {"parcs": len(parks)}
    for key in keys:
        value = sum(s[key] for s in parks)
        out[key] = round(value, 1) if isinstance(value, float) else value
    return out
