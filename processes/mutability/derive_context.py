"""Site context of the mutability derivation (:mod:`processes.mutability.derive`).

The layers prepared once for many sites (:class:`Context`), what is derived for one site
(:class:`Derived`), readers of attribute values (numbers, texts, clay exposure levels) and the
geometry of a site. Pure: GeoDataFrames in EPSG:2154 and plain dicts, no store access.

Distances to the site (:func:`_edge`) are measured from the *site*, not its point: Cartofriches
gives points, so the site is taken as a disc of its surface (``surfaceSite``) centred on the
point, and a distance is ``max(0, distance to the point − disc radius)``, rounded to the metre.
A layer that is published but empty gives ``null`` ("searched, nothing found"). "Inside" a
zoning means that the site point lies in one of its polygons.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely

#: Layers read by :class:`Context` (collection ids); missing ones are passed as None.
LAYERS = ("communes", "zae", "puits-miniers", "alea-inondation", "alea-argiles",
          "echangeurs-autoroutiers", "routes-principales", "arrets-transport",
          "commerces-services", "postes-electriques", "reseaux-chaleur", "sites-icpe",
          "zonages-environnementaux", "servitudes-patrimoniales", "zones-acceleration-enr",
          "qpv", "habitat-communes", "trame-verte-bleue", "cavites-souterraines")

#: user criteria (METHOD.md §2) the derivation may read from the friche or a layer
USER_CRITERIA = ("typeProprietaire", "etatBatiInfrastructure", "valeurArchitecturaleHistorique",
                 "presencePollution", "trameVerteEtBleue")

CLAY_COLUMNS = ("alea", "niveau", "niveau_alea", "niv_alea", "alea_lib", "lib_alea",
                "exposition", "niveau_exposition", "classe", "level")


@dataclass
class Derived:
    """What the server could say about one site: automatic criteria (``auto``), user criteria
    read from the friche or a layer (``user``), each with its layer and rule (``sources``),
    and why some are missing (``missing``: layer and rule of the criteria left out)."""
    auto: dict[str, Any] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def set(self, criterion: str, value: Any, layer: str, rule: str) -> None:
        (self.user if criterion in USER_CRITERIA else self.auto)[criterion] = value
        self.sources[criterion] = {"value": value, "layer": layer, "rule": rule}

    def why(self, criterion: str, layer: str, rule: str) -> None:
        self.missing[criterion] = {"layer": layer, "rule": rule}

    def criteria(self) -> dict[str, Any]:
        """The derived values as a criteria object (sections auto, user, unavailable, context)."""
        return {"auto": dict(self.auto), "user": dict(self.user),
                "unavailable": list(self.unavailable), "context": dict(self.context)}

    def details(self) -> dict[str, dict[str, Any]]:
        """Layer and rule of each derived value, and why each missing one is missing."""
        out = {cid: {"layer": src["layer"], "rule": src["rule"]}
               for cid, src in self.sources.items()}
        out.update({cid: m for cid, m in self.missing.items() if cid not in out})
        return out


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _plain(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(float(x), 2)


class Context:
    """The layers, prepared once (spatial indexes, municipality centres) for many sites.

    ``layers`` maps a collection id of :data:`LAYERS` to its GeoDataFrame (EPSG:2154), or to
    None when the server does not publish it. ``auto_criteria`` are the automatic criteria of
    the algorithm version. ``demo_layers`` are the ids of modelled demonstration layers (their
    values are flagged in the sources)."""

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame | None],
                 auto_criteria: list[str], demo_layers: set[str] | frozenset = frozenset()):
        self.layers = {k: layers.get(k) for k in LAYERS}
        self.auto_criteria = list(auto_criteria)
        self.demo_layers = set(demo_layers)
        communes = self.layers["communes"]
        self.centres: dict[str, shapely.Geometry] = {}
        self.commune_key: str | None = None
        if communes is not None and len(communes):
            centroids = communes.geometry.centroid
            inside = communes.geometry.contains(centroids)
            centres = centroids.where(inside, communes.geometry.representative_point())
            key = "insee" if "insee" in communes else None
            for i, centre in enumerate(centres):
                code = str(communes.iloc[i][key]) if key else str(i)
                self.centres[code] = centre
            self.commune_key = key
        self.missing = [k for k in LAYERS if self.layers[k] is None]
        # lazily built lookups, so that many sites cost no per-site DataFrame work
        self._geoms: dict[str, Any] = {}
        self._insee_first: dict[str, int] | None = None
        self._row_keys: list[str] | None = None
        self._clay_rows: list[str | None] | None = None

    def layer(self, cid: str) -> gpd.GeoDataFrame | None:
        return self.layers.get(cid)

    def hits(self, cid: str, geom: shapely.Geometry) -> gpd.GeoDataFrame:
        gdf = self.layers[cid]
        return gdf.iloc[self.hit_positions(cid, geom)]

    def hit_positions(self, cid: str, geom: shapely.Geometry) -> list[int]:
        """Row positions (ascending) of the features of layer ``cid`` meeting ``geom``."""
        return sorted(self.layers[cid].sindex.query(geom, predicate="intersects").tolist())

    def geometries(self, cid: str):
        """The geometries of layer ``cid`` as a numpy array (cached)."""
        arr = self._geoms.get(cid)
        if arr is None:
            arr = self._geoms[cid] = self.layers[cid].geometry.values.to_numpy()
        return arr

    def commune_position(self, code: str) -> int | None:
        """Position of the first ``communes`` row whose ``insee`` (as text) is ``code``."""
        if self._insee_first is None:
            first: dict[str, int] = {}
            for i, value in enumerate(self.layers["communes"]["insee"].astype(str)):
                first.setdefault(value, i)
            self._insee_first = first
        return self._insee_first.get(code)

    def commune_key_value(self, pos: int) -> str:
        """``str`` of the commune key (``insee``) of the ``communes`` row at ``pos``."""
        if self._row_keys is None:
            self._row_keys = [str(v) for v in self.layers["communes"][self.commune_key]]
        return self._row_keys[pos]

    def clay_rows(self) -> list[str | None]:
        """Exposure level of each ``alea-argiles`` row (see :func:`_clay_level`)."""
        if self._clay_rows is None:
            self._clay_rows = _clay_row_levels(self.layers["alea-argiles"])
        return self._clay_rows

    def tree(self, cid: str) -> shapely.STRtree:
        """STRtree of layer ``cid`` (cached)."""
        key = "tree:" + cid
        tree = self._geoms.get(key)
        if tree is None:
            tree = self._geoms[key] = shapely.STRtree(self.geometries(cid))
        return tree

    def nearest(self, cid: str, geom: shapely.Geometry,
                positions: list[int] | None = None) -> tuple[int, float] | None:
        """(row position, distance) of the feature of ``cid`` nearest to ``geom`` (among
        ``positions`` when given); None when the layer (or the selection) is empty."""
        if positions is not None:
            if not positions:
                return None
            dists = shapely.distance(self.geometries(cid)[positions], geom)
            k = int(dists.argmin())
            return positions[k], float(dists[k])
        if not len(self.layers[cid]):
            return None
        idx, dist = self.tree(cid).query_nearest(geom, return_distance=True, all_matches=False)
        return int(idx[0]), float(dist[0])

    def column(self, cid: str, name: str) -> list:
        """The values of a column of layer ``cid`` as a list (cached); Nones when absent."""
        key = f"col:{cid}:{name}"
        values = self._geoms.get(key)
        if values is None:
            gdf = self.layers[cid]
            values = list(gdf[name]) if name in gdf.columns else [None] * len(gdf)
            self._geoms[key] = values
        return values

    def within(self, cid: str, geom: shapely.Geometry, distance: float) -> list[int]:
        """Row positions of the features of ``cid`` within ``distance`` of ``geom``."""
        if not len(self.layers[cid]):
            return []
        return sorted(self.tree(cid).query(geom, predicate="dwithin",
                                           distance=distance).tolist())

    def note(self, cid: str) -> str:
        return cid + (" (données de démonstration / demonstration data)"
                      if cid in self.demo_layers else "")


def _site_radius(d: Derived, geom: shapely.Geometry) -> float:
    """Radius (m) of the disc standing for a point site (0 for a polygon or no surface)."""
    if geom.geom_type == "Point" and d.auto.get("surfaceSite"):
        return math.sqrt(float(d.auto["surfaceSite"]) / math.pi)
    return 0.0


def _edge(dist: float, radius: float) -> int:
    """Distance from the site's edge, whole metres."""
    return int(round(max(0.0, dist - radius)))


def _site_words(radius: float) -> str:
    return f" (from the site's edge: point distance minus the site radius {radius:.0f} m)" \
        if radius else ""


_CLAY_WORDS = (("fort", "fort"), ("moyen", "faible-ou-moyen"), ("faible", "faible-ou-moyen"),
               ("nul", "aucun"), ("aucun", "aucun"))


def _clay_value(value: Any) -> str | None:
    number = _number(value)
    if number is not None and (not isinstance(value, str) or value.strip().isdigit()):
        return {0: "aucun", 1: "faible-ou-moyen", 2: "faible-ou-moyen", 3: "fort"}.get(
            int(number))
    text = (_text(value) or "").lower()
    for word, level in _CLAY_WORDS:
        if re.search(rf"\b{word}", text):
            return level
    return None


def _clay_columns(gdf: gpd.GeoDataFrame) -> list[str]:
    return [c for c in gdf.columns if c.lower() in CLAY_COLUMNS] or \
        [c for c in gdf.columns if c != gdf.geometry.name and gdf[c].dtype == object]


def _clay_row_levels(gdf: gpd.GeoDataFrame) -> list[str | None]:
    """Level of each row: the first of its level columns that reads as a level, else None."""
    columns = _clay_columns(gdf)
    out: list[str | None] = []
    for values in gdf[columns].itertuples(index=False, name=None) if columns else \
            ((),) * len(gdf):
        level = None
        for value in values:
            level = _clay_value(value)
            if level is not None:
                break
        out.append(level)
    return out
