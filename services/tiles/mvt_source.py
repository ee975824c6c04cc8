"""What a vector tile is made of: the published layers and the geometry of one tile.

A `Layer` is one vector collection as the store holds it (GeoPackage file or PostGIS
table), with the attribute columns that become MVT properties. A `TileBox` is one tile of a
tile matrix set: its bounds in the set's CRS (where MVT coordinates are computed), the
buffered box, the query box in the storage CRS (EPSG:2154, so the spatial index serves it)
and the simplification tolerance of its zoom level. Both stores build tiles from these.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import morecantile
import pyproj

from services.catalog import CollectionSpec
from services.settings import Settings, get_settings
from services.store import STORAGE_SRID, backend_for, get_catalog
from services.tiles import tms as tms_registry

EXTENT = 4096            # MVT units across a tile
BUFFER = 64              # MVT units kept around a tile, so that strokes join across edges
SIMPLIFY_PIXELS = 0.25   # tolerance, in 256-pixel screen pixels: invisible at the tile's zoom
LAYERS_TTL = 60.0        # seconds: a rebuild or an edit of the schema is seen within a minute


def max_features() -> int:
    """Most features read per layer and tile (ARTOIS_TILE_MAX_FEATURES)."""
    return get_settings().tile_max_features


@dataclass(frozen=True, eq=False)  # hashed by identity: statements are cached per layer
class Layer:
    id: str                        # collection id = MVT layer name
    spec: CollectionSpec
    store: str                     # "postgis" | "geopackage"
    table: str                     # schema.table (PostGIS) or table name (GeoPackage)
    data: str | None               # GeoPackage path
    columns: dict[str, dict]       # attribute column -> JSON schema type (the MVT properties)
    geometry_column: str
    key: str                       # integer key used as the MVT feature id
    key_is_integer: bool
    bbox: tuple[float, float, float, float] | None  # CRS84

    @property
    def geometry_type(self) -> str:
        return self.spec.geometry_type or "Geometry"

    @property
    def is_point(self) -> bool:
        return "point" in self.geometry_type.lower()


def _describe(spec: CollectionSpec, entry: dict) -> Layer:
    bbox = tuple((entry.get("extents") or {}).get("spatial", {}).get("bbox") or ()) or None
    backend = backend_for(entry)
    info = backend.layer_table(entry)
    if backend.name == "postgis":
        return Layer(spec.id, spec, "postgis", f"{info.schema}.{info.table}", None,
                     dict(info.columns), info.geometry_column, info.key, info.key_is_integer,
                     bbox)
    return Layer(spec.id, spec, "geopackage", info.table, entry["data"], dict(info.columns),
                 info.geometry_column, "fid", True, bbox)


_cache: dict[str, tuple[float, dict[str, Layer], set[str]]] = {}


def layers(settings: Settings | None = None) -> tuple[dict[str, Layer], set[str]]:
    """(vector layers by collection id, ids of the other collections: coverages), as the
    caller may read them (services/access.py): hidden collections left out, hidden
    properties left out of the layers' columns."""
    from services.access import current_view
    found, others = _all_layers(settings)
    view = current_view()
    if view.full:
        return found, others
    shown: dict[str, Layer] = {}
    for cid, layer in found.items():
        if not view.sees(cid):
            continue
        hidden = view.hidden(cid)
        shown[cid] = _without(layer, hidden) if hidden else layer
    return shown, {c for c in others if view.sees(c)}


def layers_now(settings: Settings | None = None) -> dict[str, Layer]:
    """Every vector layer as last described (a new dict each time they are described
    again): what is derived from them stays valid while this is the same object."""
    return _all_layers(settings)[0]


_variants: dict[tuple[str, frozenset], tuple[Layer, Layer]] = {}


def _without(layer: Layer, hidden: frozenset) -> Layer:
    """`layer` without the `hidden` columns, kept while `layer` is (statements are cached
    per Layer object)."""
    import dataclasses
    key = (layer.id, hidden)
    hit = _variants.get(key)
    if hit is not None and hit[0] is layer:
        return hit[1]
    variant = dataclasses.replace(layer, columns={k: v for k, v in layer.columns.items()
                                                  if k not in hidden})
    if len(_variants) > 256:
        _variants.clear()
    _variants[key] = (layer, variant)
    return variant


_last_key: tuple[Settings, str] | None = None


def _all_layers(settings: Settings | None = None) -> tuple[dict[str, Layer], set[str]]:
    global _last_key
    settings = settings or get_settings()
    last = _last_key
    if last is not None and last[0] is settings:  # the server's: asked on every tile
        key = last[1]
    else:
        key = str(settings.database_url) + str(settings.store_dir)
        _last_key = (settings, key)
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < LAYERS_TTL:
        return hit[1], hit[2]
    catalog = get_catalog(settings)
    manifest = catalog.manifest
    found: dict[str, Layer] = {}
    others: set[str] = set()
    for spec in catalog.specs.values():
        entry = manifest.get(spec.id)
        if spec.kind != "features" or not entry or entry.get("kind") != "features":
            others.add(spec.id)
            continue
        found[spec.id] = _describe(spec, entry)
    _cache[key] = (time.monotonic(), found, others)
    return found, others


@dataclass(frozen=True)
class TileBox:
    tms_id: str
    z: int
    row: int
    col: int
    srid: int                                  # the tile matrix set's CRS
    bounds: tuple[float, float, float, float]  # tile, in that CRS
    buffered: tuple[float, float, float, float]
    query: tuple[float, float, float, float]    # buffered tile's envelope in EPSG:2154
    tolerance: float                           # simplification, in the set's CRS units

    @property
    def span(self) -> float:
        return self.bounds[2] - self.bounds[0]


@lru_cache(maxsize=16)
def tile_matrix_set(tms_id: str) -> morecantile.TileMatrixSet | None:
    """The set of services.tiles.tms, kept: the registry hands out a deep copy per call
    (about 3 ms, as much as a z14 tile's SQL)."""
    return tms_registry.get(tms_id)


@lru_cache(maxsize=16)
def tms_srid(tms_id: str) -> int:
    return int(tile_matrix_set(tms_id).crs.to_epsg())


@lru_cache(maxsize=8)
def _to_storage(srid: int) -> pyproj.Transformer | None:
    if srid == STORAGE_SRID:
        return None
    return pyproj.Transformer.from_crs(srid, STORAGE_SRID, always_xy=True)


WEB_MERCATOR_CELL_Z0 = 156543.03392804097  # m per pixel at the equator, WebMercatorQuad z0
GROUND_SCALE_AT_ARTOIS = 0.636                # cos(50.5°): Web Mercator metres to ground metres


@lru_cache(maxsize=64)
def ground_cell(tms_id: str, z: int) -> float:
    """Ground metres per pixel of zoom `z` of a tile matrix set, around the territory."""
    cell = tile_matrix_set(tms_id).matrix(z).cellSize
    return cell * GROUND_SCALE_AT_ARTOIS if tms_srid(tms_id) == 3857 else cell


def shown_at(layer: Layer, tms_id: str, z: int) -> bool:
    """Whether `layer` has a place in tiles of zoom `z` (its collection's tile_min_zoom, a
    WebMercatorQuad zoom, compared by ground resolution in other tile matrix sets: the
    nearest zoom, within a factor √2)."""
    if layer.spec.tile_min_zoom <= 0:
        return True
    limit = WEB_MERCATOR_CELL_Z0 / 2 ** layer.spec.tile_min_zoom * GROUND_SCALE_AT_ARTOIS
    return ground_cell(tms_id, z) <= limit * 2 ** 0.5


def first_zoom(layer: Layer, tms) -> int:
    """The first zoom of `tms` whose tiles show `layer`."""
    return next((z for z in range(tms.minzoom, tms.maxzoom + 1) if shown_at(layer, tms.id, z)),
                tms.maxzoom)


@lru_cache(maxsize=4096)
def tile_box(tms_id: str, z: int, row: int, col: int) -> TileBox:
    """The geometry of one tile (known valid: see services.tiles.vector)."""
    tms = tile_matrix_set(tms_id)
    b = tms.xy_bounds(morecantile.Tile(col, row, z))
    bounds = (b.left, b.bottom, b.right, b.top)
    pad = (b.right - b.left) * BUFFER / EXTENT
    buffered = (b.left - pad, b.bottom - pad, b.right + pad, b.top + pad)
    srid = tms_srid(tms_id)
    tr = _to_storage(srid)
    # densified: the edges of a Web Mercator square bend in Lambert-93
    query = buffered if tr is None else tr.transform_bounds(*buffered, densify_pts=21)
    tolerance = tms.matrix(z).cellSize * SIMPLIFY_PIXELS
    return TileBox(tms_id, z, row, col, srid, bounds, buffered, tuple(query), tolerance)
