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
    Without a shaft nearby, layer ``cavites-souterraines`` (BDCavité-like): ``oui`` when a
    cavity lies within 50 m of the site (disc edge), else ``non``. Without that layer the
    criterion stays unavailable: ``puits-miniers`` holds mine shafts only, not the other
    underground cavities the criterion is about.
``siteEnZae`` (v1.18 and later)
    Layer ``zae``: ``true`` when the site (centroid) is inside a business-park polygon.
``zonageReglementaire``
    ``friches.urba_zone_type`` (PLU zone of Cartofriches): U → ``zone-urbaine-u``,
    AU… → ``zone-a-urbaniser-au``, A → ``zone-agricole-a``, N → ``zone-naturelle-n``;
    carte communale ZC → ``secteur-ouvert-a-la-construction``, ZnC →
    ``secteur-non-ouvert-a-la-construction``.
``tauxLogementsVacants``
    A vacancy-rate column of ``communes`` (``taux_logements_vacants``...) when there is one
    (the published communes layer has none); else ``habitat-communes.taux_logements_vacants``
    of the site's municipality (``comm_insee``, else the polygon containing the site), %.
``zonageAbcLogement``
    ``habitat-communes.zone_abc`` of the site's municipality, lower-cased (A bis → ``abis``,
    A, B1, B2, C).
``distanceIte``
    ``plus-1km`` when ``friches.desserte_distance_ferroviaire`` (distance to the railway)
    exceeds 1 000 m: no rail freight siding can then be within 1 km. Nearer to a railway,
    whether a siding exists (and its condition) is unknown: unavailable.

The other rules are documented with their code: the network layers in
:mod:`processes.mutability.derive_networks`, the zonings (and ``trameVerteEtBleue``) in
:mod:`processes.mutability.derive_zonings`, the user criteria read from the friche in
:mod:`processes.mutability.derive_user`; the layers' context, the site geometry (a point site
is a disc of its surface) and the value readers are in
:mod:`processes.mutability.derive_context`. Their public names are re-exported here.

Every layer named above except ``friches``, ``communes`` and ``puits-miniers`` is modelled
demonstration data: its values are flagged « données de démonstration » in the sources. Not
derived: ``surfaceBati`` (and so
``raccordementEau``) when Cartofriches gives buildings without their surface, and the
criteria that need a site visit (``qualitePaysage``, ``qualiteVoieDesserte``,
``presenceEspecesProtegees``, ``presenceZoneHumide``, the building state and value when
there are buildings). The ``terrils`` and ``amenagements-cyclables`` layers feed no criterion.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import shapely

from .derive_context import (  # noqa: F401 - LAYERS, USER_CRITERIA, CLAY_COLUMNS re-exported
    CLAY_COLUMNS,
    LAYERS,
    USER_CRITERIA,
    Context,
    Derived,
    _clay_row_levels,
    _number,
    _plain,
    _site_radius,
    _text,
)
from .derive_networks import SHOPS_DISTANCE_M, _networks  # noqa: F401 - constant re-exported
from .derive_user import _friche_user_criteria, owner_class, owner_type  # noqa: F401
from .derive_zonings import ENV_PROXIMITY_M, _zonings  # noqa: F401 - constant re-exported

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
CLAY_ORDER = {"aucun": 0, "faible-ou-moyen": 1, "fort": 2}


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
    if "risqueCavitesSouterraines" not in d.auto and geom is not None and \
            ctx.layer("cavites-souterraines") is not None:
        radius = _site_radius(d, geom)
        near = ctx.within("cavites-souterraines", geom, SHAFT_DISTANCE_M + radius)
        kinds = ctx.column("cavites-souterraines", "type")
        d.set("risqueCavitesSouterraines", "oui" if near else "non",
              ctx.note("cavites-souterraines"),
              (f"underground cavity ({kinds[near[0]]}) within {SHAFT_DISTANCE_M:.0f} m of the "
               "site") if near else
              f"no mine shaft (puits-miniers) nor cavity within {SHAFT_DISTANCE_M:.0f} m of "
              "the site")

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

    # -- vacancy rate (communes, when the layer has it; else habitat-communes)
    communes = ctx.layer("communes")
    if communes is not None:
        rate = _vacancy(props, geom, communes, ctx)
        if rate is not None:
            d.set("tauxLogementsVacants", rate[0], "communes", rate[1])
    if geom is not None and not geom.is_empty:
        _housing(d, props, geom, ctx)
        _networks(d, geom, _site_radius(d, geom), ctx)
        _zonings(d, geom, _site_radius(d, geom), ctx)
    _friche_user_criteria(d, props)

    # -- rail freight siding
    rail = _number(props.get("desserte_distance_ferroviaire"))
    if rail is not None and rail > ITE_DISTANCE_M:
        d.set("distanceIte", "plus-1km", "friches",
              f"desserte_distance_ferroviaire = {rail:.0f} m > {ITE_DISTANCE_M:.0f} m")
    elif rail is not None:
        d.why("distanceIte", "friches", f"railway {rail:.0f} m away: whether a freight siding "
              "lies within 1 km (and its condition) is not published")

    # -- why the others are missing
    if "surfaceBati" not in d.auto:
        d.why("surfaceBati", "friches", "bati_surface is empty and the site has buildings "
              f"(bati_nombre = {_text(props.get('bati_nombre'))}): no building footprints "
              "are published for it")
    if "risqueCavitesSouterraines" not in d.auto and shafts is not None:
        d.why("risqueCavitesSouterraines", ctx.note("puits-miniers"),
              "no mine shaft near the site; other underground cavities (BRGM BDCavité) are "
              "not published")
    for cid in LAYERS:
        if ctx.layer(cid) is None:
            for crit in LAYER_CRITERIA.get(cid, ()):
                if crit not in d.sources:
                    d.why(crit, cid, f"layer {cid} is not published")

    wanted_user = set(USER_CRITERIA)
    d.auto = {k: v for k, v in d.auto.items() if k in wanted}
    d.user = {k: v for k, v in d.user.items() if k in wanted_user}
    d.sources = {k: v for k, v in d.sources.items() if k in wanted or k in wanted_user}
    d.unavailable = [c for c in ctx.auto_criteria if c not in d.auto]
    d.missing = {k: v for k, v in d.missing.items() if k not in d.sources}
    return d


#: the criteria each layer gives (to say why they are missing when the layer is not published)
LAYER_CRITERIA = {
    "communes": ("siteEnCentreVille",),
    "zae": ("siteEnZae",),
    "alea-inondation": ("risqueInondation",),
    "alea-argiles": ("risqueRetraitGonflementArgile",),
    "cavites-souterraines": ("risqueCavitesSouterraines",),
    "echangeurs-autoroutiers": ("distanceAutoroute",),
    "arrets-transport": ("distanceTransportCommun",),
    "commerces-services": ("proximiteCommercesServices",),
    "postes-electriques": ("distanceRaccordementElectrique", "saturationReseauEnr"),
    "reseaux-chaleur": ("distanceReseauChaleur",),
    "sites-icpe": ("presenceRisquesTechnologiques",),
    "zonages-environnementaux": ("zonageEnvironnemental",),
    "servitudes-patrimoniales": ("zonagePatrimonial",),
    "zones-acceleration-enr": ("zoneAccelerationEnr",),
    "qpv": ("siteEnQpv",),
    "habitat-communes": ("tauxLogementsVacants", "zonageAbcLogement"),
    "trame-verte-bleue": ("trameVerteEtBleue",),
}


def _housing(d: Derived, props, geom, ctx: Context) -> None:
    housing = ctx.layer("habitat-communes")
    if housing is None:
        return
    pos = None
    code = _text(props.get("comm_insee"))
    if code and "insee" in housing.columns:
        matches = [i for i, v in enumerate(ctx.column("habitat-communes", "insee"))
                   if str(v) == code]
        pos = matches[0] if matches else None
    if pos is None:
        hits = ctx.hit_positions("habitat-communes", geom.centroid)
        pos = hits[0] if hits else None
    if pos is None:
        return
    name = ctx.column("habitat-communes", "nom")[pos]
    rate = _number(ctx.column("habitat-communes", "taux_logements_vacants")[pos])
    if "tauxLogementsVacants" not in d.auto and rate is not None and rate >= 0:
        d.set("tauxLogementsVacants", _plain(rate), ctx.note("habitat-communes"),
              f"taux_logements_vacants of {name} (%)")
    zone = (_text(ctx.column("habitat-communes", "zone_abc")[pos]) or "").lower()
    zone = zone.replace(" ", "")
    if zone in ABC_ZONES:
        d.set("zonageAbcLogement", zone, ctx.note("habitat-communes"),
              f"zone_abc of {name} = {zone.upper() if zone != 'abis' else 'A bis'}")


ABC_ZONES = ("abis", "a", "b1", "b2", "c")


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


def merge(derived: Derived, given: Mapping[str, Any] | None,
          stored: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The ``criteria`` object for core.score: derived values, overridden or completed by the
    values ``stored`` on the friche and by the caller's ``given`` criteria (priority given >
    stored > derived, :func:`core.combine`). Returns (criteria, criteria the caller set,
    including those it lists as unavailable)."""
    from processes.mutability import core

    criteria, provenance = core.combine(given, stored=stored, derived=derived.criteria())
    overridden = [cid for cid, p in provenance.items() if p == "given"]
    for cid in (given or {}).get("unavailable") or []:
        if cid not in overridden:
            overridden.append(cid)
    return criteria, overridden
