"""Reference answers computed with geopandas/shapely straight from each collection's source,
so that what the server returns over HTTP is checked against an independent computation."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pyproj
import shapely

from services.build import normalise, read_source, _load_callable
from services.catalog import load_catalog

PROJECT = Path(__file__).resolve().parent.parent
CATALOG = {s.id: s for s in load_catalog(PROJECT / "collections")}
FEATURE_COLLECTIONS = [s.id for s in CATALOG.values() if s.kind == "features"]
COVERAGES = [s.id for s in CATALOG.values() if s.kind == "coverage"]


@lru_cache(maxsize=None)
def reference(collection_id: str) -> gpd.GeoDataFrame:
    spec = CATALOG[collection_id]
    if "generator" in spec.source:
        layers = {r: reference(r) for r in spec.requires  # coverages are no frames
                  if CATALOG[r].kind == "features"}
        gdf = _load_callable(spec.source["generator"])(layers, int(spec.source.get("seed", 0)))
    else:
        gdf = read_source(spec)
    return normalise(gdf, spec)


def ids_intersecting(collection_id: str, geom_2154: shapely.Geometry) -> set[str]:
    gdf = reference(collection_id)
    spec = CATALOG[collection_id]
    hits = gdf[gdf.intersects(geom_2154)]
    return {str(v) for v in hits[spec.id_field]}


def box_in_2154(minx: float, miny: float, maxx: float, maxy: float,
                crs: str = "OGC:CRS84") -> shapely.Geometry:
    """A bbox given in `crs` (in that CRS's axis order) as the Lambert-93 envelope of the whole
    box, edges densified: what the store is asked for."""
    tr = pyproj.Transformer.from_crs(crs, "EPSG:2154")
    return shapely.box(*tr.transform_bounds(minx, miny, maxx, maxy, densify_pts=21))


def exact_box_in_2154(minx: float, miny: float, maxx: float, maxy: float) -> shapely.Geometry:
    """A CRS84 box as the curved polygon it is in Lambert-93."""
    import numpy as np
    tr = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    box = shapely.segmentize(shapely.box(minx, miny, maxx, maxy), 0.0005)
    return shapely.transform(box, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
