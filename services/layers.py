"""Read the published collections as GeoDataFrames (EPSG:2154), from whichever store is set.

For processes and other server-side computations: they read the same data the API serves,
through one small interface, whether the store is the embedded GeoPackage one or PostGIS
(the SQL is in services/store: `Backend.read_frame`, `get_feature`, `add_columns`,
`replace_rows`: a generated collection rewritten in one transaction by the process that
computes it).
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd

from services.settings import Settings
from services.store import backend_for, get_catalog


class UnknownCollection(KeyError):
    pass


def entry(collection_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """The collection's entry of the build manifest (FileNotFoundError before a build)."""
    manifest = get_catalog(settings).require_manifest()
    if collection_id not in manifest:
        raise UnknownCollection(collection_id)
    return manifest[collection_id]


def id_field(collection_id: str, settings: Settings | None = None) -> str:
    return get_catalog(settings).specs[collection_id].id_field or "fid"


def read_collection(collection_id: str, bbox: tuple[float, float, float, float] | None = None,
                    settings: Settings | None = None) -> gpd.GeoDataFrame:
    """All features of a collection (or those whose envelope meets `bbox`, EPSG:2154)."""
    e = entry(collection_id, settings)
    return backend_for(e).read_frame(e, bbox)


def get_feature(collection_id: str, feature_id: str,
                settings: Settings | None = None) -> dict[str, Any] | None:
    """One feature as {"properties": {...}, "geometry": shapely geometry (EPSG:2154)}."""
    e = entry(collection_id, settings)
    return backend_for(e).get_feature(e, id_field(collection_id, settings), feature_id)


def add_columns(collection_id: str, columns: dict[str, tuple[str, str]],
                settings: Settings | None = None) -> None:
    """Add the missing `columns` ({name: (SQLite type, PostgreSQL type)}) to the
    collection's table, in one transaction (a process storing its results)."""
    e = entry(collection_id, settings)
    backend_for(e).add_columns(e, columns)


def replace_rows(collection_id: str, gdf: gpd.GeoDataFrame, settings: Settings | None = None,
                 *, newer: tuple[str, str] | None = None) -> dict[str, Any]:
    """Replace every row of a generated collection (a `source.generator`, not editable) by
    `gdf` (EPSG:2154), normalised as the build does it, in one transaction on either store:
    readers see the old rows or the new ones, never a mix, and stay instant. `newer=(column,
    value)`: leave the table as it is when it already holds a larger value of `column` (a
    later computation was written first). {"replaced": bool, "count": rows}."""
    from services.build import dates_as_text, normalise

    spec = get_catalog(settings).spec(collection_id)
    if spec is None:
        raise UnknownCollection(collection_id)
    if spec.editable or "generator" not in spec.source:
        raise ValueError(f"{collection_id}: only a generated, non-editable collection's rows "
                         "are replaced")
    e = entry(collection_id, settings)
    out, date_columns = dates_as_text(normalise(gdf, spec))
    return backend_for(e).replace_rows(spec, e, out, date_columns, newer)


def demo_collections(settings: Settings | None = None) -> set[str]:
    """Ids of the collections of modelled demonstration data."""
    return {s.id for s in get_catalog(settings).specs.values() if s.demo}
