"""Mutability criteria derived from the network layers: roads, public transport, shops and
services, electricity grid, heat networks and technological risks (sites ICPE).

Part of :mod:`processes.mutability.derive` (called by
:func:`~processes.mutability.derive.derive_site`).
Distances are measured from the site's edge (the site is a disc of its surface around its
point, see :mod:`processes.mutability.derive_context`); a layer that is published but empty
gives ``null`` ("searched, nothing found").

Rules:

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
"""
from __future__ import annotations

from .derive_context import Context, Derived, _edge, _number, _site_words

SHOPS_DISTANCE_M = 500.0


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
