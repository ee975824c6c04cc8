"""Automatic Mutafriches criteria of a brownfield site, derived from the server's own layers.

Pure functions over GeoDataFrames in EPSG:2154 and plain dicts: no web framework, no store
access (processor.py reads the layers and hands them over). A layer that is not published is
passed as ``None``: the criteria it would give are then *unavailable* (METHOD.md §3, "absent"),
never guessed. Every criterion this module does not derive is listed as unavailable too; the
caller may add or override any of them.

Rules (each derived value records its layer and rule in ``Derived.sources``):

``surfaceSite``
    ``friches.unite_fonciere_surface`` (land unit, all parcels) when > 0, else
    ``friches.site_surface``; m².
``surfaceBati``
    ``friches.bati_surface`` when given; else 0 when ``friches.bati_nombre`` is 0 (no
    building on the site); otherwise unavailable.
``siteEnCentreVille``
    The site is within :data:`CENTRE_VILLE_RADIUS_M` (500 m) of its municipality's centre.
    No town-centre layer is published, so the centre is approximated by the centroid of the
    ``communes`` polygon (its representative point when the centroid falls outside). The
    municipality is ``friches.comm_insee``, else the one containing the site.
``risqueInondation``
    Layer ``alea-inondation``: ``oui`` when a hazard polygon meets the site, else ``non``.
``risqueRetraitGonflementArgile``
    Layer ``alea-argiles``: highest exposure level of the polygons meeting the site, read from
    a level column (``alea``, ``niveau``, ``exposition``...; text fort / moyen / faible /
    nul, or BRGM codes 3 / 2 / 1 / 0): fort → ``fort``, moyen or faible →
    ``faible-ou-moyen``, nul → ``aucun``; no polygon → ``aucun`` (the BRGM map covers the
    whole territory: outside its zones the exposure is "a priori nulle").
``risqueCavitesSouterraines``
    Layer ``puits-miniers``: ``oui`` when a former mine shaft lies within
    :data:`SHAFT_DISTANCE_M` (50 m) of the site. Friches are points: the site is taken as a
    disc of its surface around the point, so the distance is 50 m plus that disc's radius.
    Without a shaft nearby the criterion stays unavailable: the layer holds mine shafts
    only, not the other underground cavities (BRGM BDCavité) the criterion is about.
``siteEnZae`` (v1.18 and later)
    Layer ``zae``: ``true`` when the site (centroid) is inside a business-park polygon.
``zonageReglementaire``
    ``friches.urba_zone_type`` (PLU zone of Cartofriches): U → ``zone-urbaine-u``,
    AU… → ``zone-a-urbaniser-au``, A → ``zone-agricole-a``, N → ``zone-naturelle-n``;
    carte communale ZC → ``secteur-ouvert-a-la-construction``, ZnC →
    ``secteur-non-ouvert-a-la-construction``.
``tauxLogementsVacants``
    A vacancy-rate column of ``communes`` (``taux_logements_vacants``...) when there is one;
    the published communes layer has none, so it is unavailable.
``distanceIte``
    ``plus-1km`` when ``friches.desserte_distance_ferroviaire`` (distance to the railway)
    exceeds 1 000 m: no rail freight siding can then be within 1 km. Nearer to a railway,
    whether a siding exists (and its condition) is unknown: unavailable.

Not derived (no published data): ``distanceAutoroute``, ``distanceTransportCommun``,
``proximiteCommercesServices``, ``distanceRaccordementElectrique``, ``distanceReseauChaleur``,
``presenceRisquesTechnologiques``, ``zonageEnvironnemental``, ``zonagePatrimonial``,
``zoneAccelerationEnr``, ``zonageAbcLogement``, ``siteEnQpv``, ``saturationReseauEnr``. The
``terrils`` and ``amenagements-cyclables`` layers feed no criterion of the method.
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
LAYERS = ("communes", "zae", "puits-miniers", "alea-inondation", "alea-argiles")

CENTRE_VILLE_RADIUS_M = 500.0
SHAFT_DISTANCE_M = 50.0
ITE_DISTANCE_M = 1000.0

ZONE_TYPES = {
    "U": "zone-urbaine-u",
    "AU": "zone-a-urbaniser-au",
    "A": "zone-agricole-a",
    "N": "zone-naturelle-n",
    "ZC": "secteur-ouvert-a-la-construction",
    "ZNC": "secteur-non-ouvert-a-la-construction",
}
VACANCY_COLUMNS = ("taux_logements_vacants", "tx_logements_vacants", "taux_vacance",
                   "part_logements_vacants", "tx_log_vac")
CLAY_COLUMNS = ("alea", "niveau", "niveau_alea", "niv_alea", "alea_lib", "lib_alea",
                "exposition", "niveau_exposition", "classe", "level")
CLAY_ORDER = {"aucun": 0, "faible-ou-moyen": 1, "fort": 2}


@dataclass
class Derived:
    """What the server could say about one site."""
    auto: dict[str, Any] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    def set(self, criterion: str, value: Any, layer: str, rule: str) -> None:
        self.auto[criterion] = value
        self.sources[criterion] = {"value": value, "layer": layer, "rule": rule}


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

    def note(self, cid: str) -> str:
        return cid + (" (données de démonstration / demonstration data)"
                      if cid in self.demo_layers else "")


def derive_site(props: Mapping[str, Any], geom: shapely.Geometry, ctx: Context) -> Derived:
    """The automatic criteria of one friche (properties of the ``friches`` collection, point
    or polygon in EPSG:2154) that the layers of ``ctx`` give; the others are unavailable."""
    d = Derived()
    d.context = {k: _text(props.get(k)) for k in ("site_id", "site_nom", "comm_nom",
                                                   "comm_insee") if props.get(k) is not None}
    wanted = set(ctx.auto_criteria)

    # -- surfaces (friches attributes)
    uf, site = _number(props.get("unite_fonciere_surface")), _number(props.get("site_surface"))
    if uf and uf > 0:
        d.set("surfaceSite", _plain(uf), "friches", "unite_fonciere_surface (m²)")
    elif site and site > 0:
        d.set("surfaceSite", _plain(site), "friches", "site_surface (m²)")
    bati = _number(props.get("bati_surface"))
    if bati is not None and bati >= 0:
        d.set("surfaceBati", _plain(bati), "friches", "bati_surface (m²)")
    elif _number(props.get("bati_nombre")) == 0:
        d.set("surfaceBati", 0, "friches", "bati_nombre = 0: no building on the site")

    # -- town centre (communes)
    if ctx.layer("communes") is not None and geom is not None and not geom.is_empty:
        centre = _commune_centre(props, geom, ctx)
        if centre is not None:
            dist = float(geom.distance(centre))
            d.set("siteEnCentreVille", dist < CENTRE_VILLE_RADIUS_M, "communes",
                  f"distance to the municipality's centre (centroid): {dist:.0f} m "
                  f"(town centre: under {CENTRE_VILLE_RADIUS_M:.0f} m)")

    # -- hazards
    if ctx.layer("alea-inondation") is not None and geom is not None:
        hit = len(ctx.hit_positions("alea-inondation", geom)) > 0
        d.set("risqueInondation", "oui" if hit else "non", ctx.note("alea-inondation"),
              "site inside a flood hazard zone" if hit else "no flood hazard zone on the site")
    if ctx.layer("alea-argiles") is not None and geom is not None:
        level = _clay_level_at(ctx, ctx.hit_positions("alea-argiles", geom))
        if level is not None:
            d.set("risqueRetraitGonflementArgile", level, ctx.note("alea-argiles"),
                  "highest clay shrink-swell exposure of the zones on the site "
                  "(none: a priori nulle)")
    shafts = ctx.layer("puits-miniers")
    if shafts is not None and geom is not None and len(shafts):
        radius = 0.0
        if geom.geom_type == "Point" and d.auto.get("surfaceSite"):
            radius = math.sqrt(float(d.auto["surfaceSite"]) / math.pi)
        reach = SHAFT_DISTANCE_M + radius
        near = shafts.sindex.query(geom.buffer(reach), predicate="intersects")
        if len(near):
            nearest = float(shapely.distance(ctx.geometries("puits-miniers")[sorted(near)],
                                             geom).min())
            d.set("risqueCavitesSouterraines", "oui", ctx.note("puits-miniers"),
                  f"former mine shaft {nearest:.0f} m from the site point (reach "
                  f"{SHAFT_DISTANCE_M:.0f} m + site radius {radius:.0f} m)")

    # -- business parks (v1.18+)
    if "siteEnZae" in wanted and ctx.layer("zae") is not None and geom is not None:
        inside = len(ctx.hit_positions("zae", geom.centroid)) > 0
        d.set("siteEnZae", inside, ctx.note("zae"),
              "site centroid inside a business park" if inside else
              "site centroid outside every business park")

    # -- planning zone (friches attributes)
    zone = _zone(props.get("urba_zone_type"))
    if zone:
        d.set("zonageReglementaire", zone, "friches",
              f"urba_zone_type = {_text(props.get('urba_zone_type'))}")

    # -- vacancy rate (communes, when the layer has it)
    communes = ctx.layer("communes")
    if communes is not None:
        rate = _vacancy(props, geom, communes, ctx)
        if rate is not None:
            d.set("tauxLogementsVacants", rate[0], "communes", rate[1])

    # -- rail freight siding
    rail = _number(props.get("desserte_distance_ferroviaire"))
    if rail is not None and rail > ITE_DISTANCE_M:
        d.set("distanceIte", "plus-1km", "friches",
              f"desserte_distance_ferroviaire = {rail:.0f} m > {ITE_DISTANCE_M:.0f} m")

    d.auto = {k: v for k, v in d.auto.items() if k in wanted}
    d.sources = {k: v for k, v in d.sources.items() if k in wanted}
    d.unavailable = [c for c in ctx.auto_criteria if c not in d.auto]
    return d


def _commune_row(props: Mapping[str, Any], geom: shapely.Geometry, ctx: Context) -> int | None:
    """Position in ``communes`` of the site's municipality (None when none is found)."""
    communes = ctx.layer("communes")
    code = _text(props.get("comm_insee"))
    if code and "insee" in communes:
        pos = ctx.commune_position(code)
        if pos is not None:
            return pos
    hits = ctx.hit_positions("communes", geom.centroid)
    return hits[0] if hits else None


def _commune_centre(props, geom, ctx: Context) -> shapely.Geometry | None:
    pos = _commune_row(props, geom, ctx)
    if pos is None:
        return None
    if ctx.commune_key:
        return ctx.centres.get(ctx.commune_key_value(pos))
    poly = ctx.geometries("communes")[pos]
    c = poly.centroid
    return c if poly.contains(c) else poly.representative_point()


def _vacancy(props, geom, communes: gpd.GeoDataFrame, ctx: Context):
    column = next((c for c in communes.columns if c.lower() in VACANCY_COLUMNS), None)
    if column is None or geom is None:
        return None
    pos = _commune_row(props, geom, ctx)
    if pos is None:
        return None
    value = _number(communes[column].iloc[pos])
    if value is None or value < 0:
        return None
    return _plain(value), f"{column} of the municipality (%)"


def _zone(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    key = text.upper()
    if key in ZONE_TYPES:
        return ZONE_TYPES[key]
    if key.startswith("AU"):
        return ZONE_TYPES["AU"]
    return None


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


def _highest(levels: list[str]) -> str | None:
    if not levels:
        return None
    return max(levels, key=CLAY_ORDER.__getitem__)


def _clay_level(hits: gpd.GeoDataFrame) -> str | None:
    if not len(hits):
        return "aucun"
    return _highest([lv for lv in _clay_row_levels(hits) if lv is not None])


def _clay_level_at(ctx: Context, positions: list[int]) -> str | None:
    """:func:`_clay_level` of the ``alea-argiles`` rows at ``positions``."""
    if not positions:
        return "aucun"
    rows = ctx.clay_rows()
    return _highest([rows[i] for i in positions if rows[i] is not None])


def merge(derived: Derived, given: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The ``criteria`` object for core.score: derived values, overridden or completed by the
    caller's ``given`` criteria (same shape). Returns (criteria, criteria the caller set)."""
    auto = dict(derived.auto)
    unavailable = list(derived.unavailable)
    context = dict(derived.context)
    out: dict[str, Any] = {"auto": auto, "unavailable": unavailable, "context": context}
    overridden: list[str] = []
    given = given or {}
    for cid, value in (given.get("auto") or {}).items():
        auto[cid] = value
        if cid in unavailable:
            unavailable.remove(cid)
        overridden.append(cid)
    for cid in given.get("unavailable") or []:
        if cid in auto:
            del auto[cid]
            overridden.append(cid)
        if cid not in unavailable:
            unavailable.append(cid)
    for section in ("user", "derived"):
        if given.get(section) is not None:
            out[section] = dict(given[section])
            overridden += list(given[section])
    if isinstance(given.get("context"), Mapping):
        context.update(given["context"])
    return out, overridden
