"""Mutability criteria derived from the zoning layers: environmental and heritage zonings,
renewable-acceleration zones, priority neighbourhoods (QPV) and the ecological network
(trame verte et bleue).

Part of :mod:`processes.mutability.derive` (called by
:func:`~processes.mutability.derive.derive_site`).
"Inside" a zoning means that the site point lies in one of its polygons; distances are
measured from the site's edge (see :mod:`processes.mutability.derive_context`).

Rules:

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

User criterion read from a layer (the caller's answers override it):

``trameVerteEtBleue``
    Layer ``trame-verte-bleue``: inside a réservoir de biodiversité →
    ``reservoir-biodiversite``, else inside a corridor à restaurer → ``corridor-a-restaurer``,
    else inside a corridor à préserver → ``corridor-a-preserver``, else ``hors-trame``.
"""
from __future__ import annotations

import shapely

from .derive_context import Context, Derived

ENV_PROXIMITY_M = 500.0


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
