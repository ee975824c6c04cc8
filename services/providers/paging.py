"""Keyset paging: `next` links carry the last primary key (`cursor=`) instead of an offset,
so a client walking a large collection never makes the store skip rows from the start.

pygeoapi calls providers without the request; services.pygeoapi_compat (patch items-call)
records the request of the items call in this thread (the call and the provider run in the
same worker thread).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

_local = threading.local()


@dataclass
class ItemsCall:
    items_url: str            # public URL of /collections/{id}/items
    params: dict[str, str]    # the query parameters, as received
    last_page: bool = False   # a keyset page found no more rows: no `next` link at all
    bbox_shape: Any = None    # (envelope, densified polygon) of a reprojected bbox


def remember(items_url: str, params: dict[str, str]) -> None:
    _local.call = ItemsCall(items_url, dict(params))


def resume(call: ItemsCall | None) -> None:
    """Make `call` (from current(), earlier) the current one again (services/hotread.py
    plans a page, awaits the database, then finishes it)."""
    _local.call = call


def forget() -> None:
    _local.call = None


def current() -> ItemsCall | None:
    return getattr(_local, "call", None)


def requested_cursor() -> int | None:
    """The `cursor` of the current items request, if any (an integer primary key)."""
    call = current()
    value = call.params.get("cursor") if call else None
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        from pygeoapi.provider.base import ProviderInvalidQueryError
        raise ProviderInvalidQueryError(user_msg=f"Invalid value for property cursor: {value!r}")


def check_parameters(fields) -> None:
    """Refuse (400) a parameter of the current items request that is neither a query
    parameter (services.edge.ITEMS) nor a property of the collection: the OGC test suite
    requires unknown parameters to be refused, and a misspelt filter must not pass silently."""
    call = current()
    if call is None:
        return
    from services.edge import ITEMS
    unknown = [k for k in call.params if k not in ITEMS and k not in fields]
    if unknown:
        from pygeoapi.provider.base import ProviderInvalidQueryError

        from services.i18n import message, remember
        names = sorted(fields)
        texts = remember(message("edge_unknown_property", name=unknown[0][:60],
                                 allowed=", ".join(names[:40]) + (", …" if len(names) > 40
                                                                 else "")))
        raise ProviderInvalidQueryError(user_msg=texts["en"])


def remember_bbox(envelope: list[float], polygon: Any) -> None:
    """pygeoapi hands providers the envelope of a reprojected bbox: keep the reprojected box
    itself (edges densified), so that features in the envelope's corners but outside the box
    are not selected."""
    call = current()
    if call is not None:
        call.bbox_shape = (tuple(float(v) for v in envelope), polygon)


def bbox_shape(bbox) -> Any:
    """The shape to intersect for `bbox` (storage CRS): the reprojected box, else the box."""
    import shapely
    minx, miny, maxx, maxy = (float(v) for v in (bbox[0], bbox[1], bbox[-2], bbox[-1]))
    call = current()
    if call is not None and call.bbox_shape is not None and \
            call.bbox_shape[0] == (minx, miny, maxx, maxy):
        return call.bbox_shape[1]
    return shapely.box(minx, miny, maxx, maxy)


def mark_last_page() -> None:
    call = current()
    if call is not None:
        call.last_page = True


def drop_next_after_last_page(content: dict) -> None:
    """pygeoapi adds an offset `next` link when a provider gives none: not after the last page."""
    call = current()
    if call is not None and call.last_page and isinstance(content.get("links"), list):
        content["links"] = [link for link in content["links"] if link.get("rel") != "next"]


def prev_link(offset: int, limit: int) -> dict[str, str] | None:
    """An offset page keeps its `prev` link (a keyset page has none: it is a forward cursor)."""
    call = current()
    if call is None or offset <= 0 or "cursor" in call.params:
        return None
    params = {k: v for k, v in call.params.items() if k not in ("offset", "cursor")}
    params["offset"] = str(max(0, offset - limit))
    return {"rel": "prev", "type": "application/geo+json", "title": "Items (prev)",
            "href": f"{call.items_url}?{urlencode(params)}"}


def keyset_links(more: bool, last_key: Any, offset: int, limit: int) -> list[dict[str, str]]:
    links = [link for link in (prev_link(offset, limit),
                               next_link(last_key) if more and last_key is not None else None)
             if link]
    if not (more and last_key is not None):
        mark_last_page()
    return links


def next_link(last_key: Any) -> dict[str, str] | None:
    call = current()
    if call is None:
        return None
    params = {k: v for k, v in call.params.items() if k not in ("offset", "cursor")}
    params["cursor"] = str(last_key)
    return {"rel": "next", "type": "application/geo+json", "title": "Items (next)",
            "href": f"{call.items_url}?{urlencode(params)}"}
