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

Distances below are measured from the *site*, not its point: Cartofriches gives points, so
the site is taken as a disc of its surface (``surfaceSite``) centred on the point, and a
distance is ``max(0, distance to the point − disc radius)``, rounded to the metre. A layer
that is published but empty gives ``null`` ("searched, nothing found"). "Inside" a zoning
means that the site point lies in one of its polygons.

``distanceAutoroute``
    Layers ``echangeurs-autoroutiers`` and ``routes-principales``: distance to the nearest
    motorway junction, or to the nearest major road that is not a motorway (a motorway is
    reached at a junction only), m. Either layer alone is used when the other is missing.
``distanceTransportCommun``
    Layer ``arrets-transport``: distance to the nearest stop (bus or train), m.
``proximiteCommercesServices``
    Layer ``commerces-services``: ``true`` when at least one shop (``categorie`` commerce)
    and one service (``categorie`` service) lie within :data:`SHOPS_DISTANCE_M` (500 m) of
    the site.
``distanceRaccordementElectrique``
    Layer ``postes-electriques``: distance to the nearest HV/MV substation (poste source), m.
``saturationReseauEnr``
    Layer ``postes-electriques``: ``sature`` of the nearest substation (``true`` when its
    remaining capacity for renewables, ``capacite_restante_mw``, is 0).
``distanceReseauChaleur``
    Layer ``reseaux-chaleur``: distance to the nearest heat-network line, m.
``presenceRisquesTechnologiques``
    Layer ``sites-icpe``: ``true`` when the site is within the effects radius
    (``rayon_effets_m``) of a classified installation (ICPE, SEVESO seuil haut / bas), else
    ``false``.
``zonageEnvironnemental``
    Layer ``zonages-environnementaux``: site inside a réserve naturelle → ``reserve-naturelle``,
    else inside Natura 2000 → ``natura-2000``, else inside a ZNIEFF (type 1 or 2) →
    ``znieff-type-1-2``, else a zone within :data:`ENV_PROXIMITY_M` (500 m) of the site →
    ``proximite-zone``, else ``hors-zone``.
``zonagePatrimonial``
    Layer ``servitudes-patrimoniales``: inside a site inscrit or classé (AC2) →
    ``site-inscrit-classe``, else inside the surroundings of a historic monument (AC1) →
    ``perimetre-abf``, else inside a site patrimonial remarquable (AC4) → ``spr`` (a value of
    the method without matrix row: informed, scores nothing), else ``non-concerne``.
``zoneAccelerationEnr``
    Layer ``zones-acceleration-enr``: inside an exclusion zone → ``exclusion``, else inside a
    car-park canopy solar zone → ``oui-solaire-pv-ombriere``, else inside any other
    acceleration zone → ``oui``, else ``non``.
``siteEnQpv``
    Layer ``qpv``: ``true`` when the site point is inside a priority neighbourhood.

User criteria read from the friche or a layer (the caller's answers override them):

``typeProprietaire``
    ``friches.proprio_type``: the owner categories of the land unit in the Fichiers fonciers
    typology (Cerema ``catpro3`` codes, e.g. ``{P5a,X1a}``). Public: P (State, region,
    département, EPCI, commune), F2 (public land agencies, EPF), R (SNCF and networks), S
    (public hospitals); co-ownership: G2 (copropriétés); every other code is private (X natural
    persons, Z companies, G1 SCI, F1 and F3-F7 housing bodies and developers, M associations,
    A farming and conservation bodies). One class → ``public`` / ``prive`` /
    ``copro-indivision``; public with another class → ``mixte``; co-ownership with private →
    ``copro-indivision``.
``etatBatiInfrastructure``, ``valeurArchitecturaleHistorique``
    ``pas-de-bati`` when ``friches.bati_nombre`` is 0; ``valeurArchitecturaleHistorique`` is
    also ``sans-interet`` when ``friches.bati_patrimoine`` is « aucun ».
``presencePollution``
    ``oui-amiante`` when ``friches.bati_pollution`` is « amiante »; ``non`` when
    ``friches.sol_pollution_existe`` is « pollution inexistante »; otherwise unavailable (a
    BASIAS listing says an activity was polluting, not what the soil holds).
``trameVerteEtBleue``
    Layer ``trame-verte-bleue``: inside a réservoir de biodiversité →
    ``reservoir-biodiversite``, else inside a corridor à restaurer → ``corridor-a-restaurer``,
    else inside a corridor à préserver → ``corridor-a-preserver``, else ``hors-trame``.

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

#: user criteria (METHOD.md §2) this module may read from the friche or a layer
USER_CRITERIA = ("typeProprietaire", "etatBatiInfrastructure", "valeurArchitecturaleHistorique",
                 "presencePollution", "trameVerteEtBleue")

CENTRE_VILLE_RADIUS_M = 500.0
SHOPS_DISTANCE_M = 500.0
ENV_PROXIMITY_M = 500.0
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


def _networks(d: Derived, geom, radius: float, ctx: Context) -> None:
    words = _site_words(radius)
    # motorway junctions and major roads
    candidates = []
    if ctx.layer("echangeurs-autoroutiers") is not None:
        hit = ctx.nearest("echangeurs-autoroutiers", geom)
        if hit:
            candidates.append((hit[1], "echangeurs-autoroutiers", "motorway junction"))
    roads = ctx.layer("routes-principales")
    if roads is not None:
        kinds = ctx.column("routes-principales", "categorie")
        others = [i for i, k in enumerate(kinds) if str(k) != "autoroute"]
        if ctx.layer("echangeurs-autoroutiers") is None:
            others = list(range(len(kinds)))
        hit = ctx.nearest("routes-principales", geom, others)
        if hit:
            candidates.append((hit[1], "routes-principales", "major road (not a motorway)"))
    if candidates:
        dist, layer, what = min(candidates)
        d.set("distanceAutoroute", _edge(dist, radius), ctx.note(layer),
              f"distance to the nearest {what}, m{words}")
    elif ctx.layer("echangeurs-autoroutiers") is not None or roads is not None:
        d.set("distanceAutoroute", None, ctx.note("echangeurs-autoroutiers"),
              "no junction nor major road published")
    # public transport
    if ctx.layer("arrets-transport") is not None:
        hit = ctx.nearest("arrets-transport", geom)
        d.set("distanceTransportCommun", None if hit is None else _edge(hit[1], radius),
              ctx.note("arrets-transport"),
              f"distance to the nearest public-transport stop, m{words}" if hit else
              "no stop published")
    # shops and services
    if ctx.layer("commerces-services") is not None:
        near = ctx.within("commerces-services", geom, radius + SHOPS_DISTANCE_M)
        cats = ctx.column("commerces-services", "categorie")
        shops = sum(1 for i in near if str(cats[i]) == "commerce")
        services = sum(1 for i in near if str(cats[i]) == "service")
        d.set("proximiteCommercesServices", bool(shops and services),
              ctx.note("commerces-services"),
              f"{shops} shop(s) and {services} service(s) within {SHOPS_DISTANCE_M:.0f} m of "
              "the site (both needed)")
    # electricity grid
    if ctx.layer("postes-electriques") is not None:
        hit = ctx.nearest("postes-electriques", geom)
        if hit is None:
            d.set("distanceRaccordementElectrique", None, ctx.note("postes-electriques"),
                  "no substation published")
        else:
            pos, dist = hit
            name = ctx.column("postes-electriques", "nom")[pos]
            d.set("distanceRaccordementElectrique", _edge(dist, radius),
                  ctx.note("postes-electriques"),
                  f"distance to the nearest HV/MV substation ({name}), m{words}")
            sat = ctx.column("postes-electriques", "sature")[pos]
            cap = _number(ctx.column("postes-electriques", "capacite_restante_mw")[pos])
            if sat is None and cap is not None:
                sat = cap <= 0
            if sat is not None:
                d.set("saturationReseauEnr", bool(sat), ctx.note("postes-electriques"),
                      f"nearest substation ({name}) saturated for renewables: "
                      f"{'yes' if sat else 'no'} (remaining capacity {cap} MW)")
    # heat networks
    if ctx.layer("reseaux-chaleur") is not None:
        hit = ctx.nearest("reseaux-chaleur", geom)
        d.set("distanceReseauChaleur", None if hit is None else _edge(hit[1], radius),
              ctx.note("reseaux-chaleur"),
              f"distance to the nearest heat network, m{words}" if hit else
              "no heat network published")
    # technological risks
    if ctx.layer("sites-icpe") is not None:
        radii = ctx.column("sites-icpe", "rayon_effets_m")
        reach = max([_number(r) or 0.0 for r in radii], default=0.0)
        hits = []
        for i in ctx.within("sites-icpe", geom, radius + reach):
            dist = float(ctx.geometries("sites-icpe")[i].distance(geom)) - radius
            if dist <= (_number(radii[i]) or 0.0):
                hits.append(i)
        names = ctx.column("sites-icpe", "nom")
        d.set("presenceRisquesTechnologiques", bool(hits), ctx.note("sites-icpe"),
              ("site within the effects radius of " + ", ".join(str(names[i]) for i in hits))
              if hits else "site outside the effects radius of every ICPE/SEVESO site")


_ENV_LEVELS = (("réserve", "reserve-naturelle"), ("reserve", "reserve-naturelle"),
               ("natura", "natura-2000"), ("znieff", "znieff-type-1-2"),
               ("parc naturel régional", "parc-naturel-regional"),
               ("parc national", "parc-naturel-national"))
_HERITAGE_LEVELS = (("site inscrit", "site-inscrit-classe"), ("site classé", "site-inscrit-classe"),
                    ("abords", "perimetre-abf"), ("monument", "perimetre-abf"),
                    ("patrimonial remarquable", "spr"))
_ENR_LEVELS = (("exclusion", "exclusion"), ("ombri", "oui-solaire-pv-ombriere"), ("", "oui"))
_TVB_LEVELS = (("réservoir", "reservoir-biodiversite"), ("restaurer", "corridor-a-restaurer"),
               ("préserver", "corridor-a-preserver"))


def _classify(types: list[str], levels) -> str | None:
    """The first value of ``levels`` (priority order) whose word is in one of ``types``."""
    low = [t.lower() for t in types]
    for word, value in levels:
        if any(word in t for t in low):
            return value
    return None


def _types_at(ctx: Context, cid: str, point: shapely.Geometry) -> list[str]:
    kinds = ctx.column(cid, "type")
    return [str(kinds[i]) for i in ctx.hit_positions(cid, point) if kinds[i] is not None]


def _zonings(d: Derived, geom, radius: float, ctx: Context) -> None:
    point = geom if geom.geom_type == "Point" else geom.representative_point()
    if ctx.layer("zonages-environnementaux") is not None:
        inside = _types_at(ctx, "zonages-environnementaux", point)
        value = _classify(inside, _ENV_LEVELS)
        if value:
            rule = "site inside: " + ", ".join(sorted(set(inside)))
        elif ctx.within("zonages-environnementaux", geom, radius + ENV_PROXIMITY_M):
            value, rule = "proximite-zone", \
                f"a protected zone within {ENV_PROXIMITY_M:.0f} m of the site"
        else:
            value, rule = "hors-zone", \
                f"no protected zone within {ENV_PROXIMITY_M:.0f} m of the site"
        d.set("zonageEnvironnemental", value, ctx.note("zonages-environnementaux"), rule)
    if ctx.layer("servitudes-patrimoniales") is not None:
        inside = _types_at(ctx, "servitudes-patrimoniales", point)
        value = _classify(inside, _HERITAGE_LEVELS) or "non-concerne"
        d.set("zonagePatrimonial", value, ctx.note("servitudes-patrimoniales"),
              ("site inside: " + ", ".join(sorted(set(inside)))) if inside else
              "site outside every heritage easement")
    if ctx.layer("zones-acceleration-enr") is not None:
        inside = _types_at(ctx, "zones-acceleration-enr", point)
        value = _classify(inside, _ENR_LEVELS) if inside else "non"
        d.set("zoneAccelerationEnr", value, ctx.note("zones-acceleration-enr"),
              ("site inside: " + ", ".join(sorted(set(inside)))) if inside else
              "site outside every renewable-acceleration zone")
    if ctx.layer("qpv") is not None:
        hits = ctx.hit_positions("qpv", point)
        names = ctx.column("qpv", "nom")
        d.set("siteEnQpv", bool(hits), ctx.note("qpv"),
              f"site inside {names[hits[0]]}" if hits else
              "site outside every priority neighbourhood")
    if ctx.layer("trame-verte-bleue") is not None:
        inside = _types_at(ctx, "trame-verte-bleue", point)
        value = _classify(inside, _TVB_LEVELS) or "hors-trame"
        d.set("trameVerteEtBleue", value, ctx.note("trame-verte-bleue"),
              ("site inside: " + ", ".join(sorted(set(inside)))) if inside else
              "site outside the ecological network's reservoirs and corridors")


#: Fichiers fonciers owner categories (first letter, or letter + digit) -> class
_OWNER_PUBLIC = ("P", "F2", "R", "S")
_OWNER_COPRO = ("G2",)


def owner_class(code: str) -> str:
    """``public`` | ``copro`` | ``prive`` of one Fichiers fonciers owner code (``P5a``...)."""
    code = code.strip().upper()
    if code.startswith(_OWNER_COPRO):
        return "copro"
    if code.startswith(_OWNER_PUBLIC):
        return "public"
    return "prive"


def owner_type(value: Any) -> str | None:
    """``typeProprietaire`` of a ``proprio_type`` list such as ``{P5a,X1a}`` (None if empty)."""
    text = _text(value)
    if not text:
        return None
    codes = [c for c in re.split(r"[{},;\s]+", text) if re.fullmatch(r"[A-Za-z]\d?[a-z]?", c)]
    if not codes:
        return None
    classes = {owner_class(c) for c in codes}
    if classes == {"public"}:
        return "public"
    if "public" in classes:
        return "mixte"
    if "copro" in classes:
        return "copro-indivision"
    return "prive"


def _friche_user_criteria(d: Derived, props) -> None:
    owner = owner_type(props.get("proprio_type"))
    if owner:
        d.set("typeProprietaire", owner, "friches",
              f"proprio_type = {_text(props.get('proprio_type'))} (Fichiers fonciers owner "
              "categories)")
    if _number(props.get("bati_nombre")) == 0:
        d.set("etatBatiInfrastructure", "pas-de-bati", "friches", "bati_nombre = 0")
        d.set("valeurArchitecturaleHistorique", "pas-de-bati", "friches", "bati_nombre = 0")
    elif (_text(props.get("bati_patrimoine")) or "").lower() == "aucun":
        d.set("valeurArchitecturaleHistorique", "sans-interet", "friches",
              "bati_patrimoine = aucun")
    if (_text(props.get("bati_pollution")) or "").lower() == "amiante":
        d.set("presencePollution", "oui-amiante", "friches", "bati_pollution = amiante")
    elif (_text(props.get("sol_pollution_existe")) or "").lower() == "pollution inexistante":
        d.set("presencePollution", "non", "friches",
              "sol_pollution_existe = pollution inexistante")


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
