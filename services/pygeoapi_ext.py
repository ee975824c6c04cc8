"""Small, explicit adjustments to pygeoapi, applied before its ASGI app is imported.

- Conformance: declare the OGC API Features Part 3 filter classes and the CQL2 classes our
  providers implement (QGIS only sends filters to servers that declare them), and the
  Features Part 4 classes (create-replace-delete, update, features) served by
  services/transactions.py on the editable collections.
- CQL2 JSON `{"bbox": [minx, miny, maxx, maxy]}` is mis-read by pygeofilter's JSON parser
  (its Envelope takes x1, x2, y1, y2): rewrite bbox literals as GeoJSON polygons first.
- Pages of features that PostGIS already serialised (RawFeatures) are spliced into the
  response text instead of being parsed and dumped again.
- bbox-crs reprojection takes the envelope of the densified box (pygeoapi transforms two
  corners only) and reuses one pyproj Transformer per CRS pair (pygeoapi builds a new one,
  ~4 ms, on every request).
- pyproj CRS objects for CRS URIs are built once (pygeoapi builds three per request).
- The items call is recorded for the providers of this thread (services.providers.paging), so
  that they can answer with keyset `next` links.
- CQL2 text `BBOX(...)` is parsed by pygeofilter as a function call, which pygeoapi does not
  reproject into the storage CRS; turn it into a polygon literal first so it is.
- The processes API serialises results with the same `to_json` (no `<`/`>` rewrite), so a
  process output holding an SVG or XML document reaches the client as it is.
"""
from __future__ import annotations

import functools
import json
import math

import pygeofilter.ast as ast
import pyproj
import pygeofilter.values as values
import shapely

import pygeoapi.api.itemtypes as itemtypes
import pygeoapi.crs as pygeoapi_crs
from pygeoapi.util import json_serial
from pygeoapi.crs import get_crs

_original_get_crs = pygeoapi_crs.get_crs

FEATURES_3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
DECLARED = [FEATURES_3 + c for c in ("filter", "features-filter", "queryables",
                                     "queryables-query-parameters")] + \
    [CQL2 + c for c in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
                        "case-insensitive-comparison", "accent-insensitive-comparison",
                        "basic-spatial-functions", "basic-spatial-functions-plus",
                        "spatial-functions", "arithmetic")]
# Features Part 4 on the editable collections (services/transactions.py), both stores
FEATURES_4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
DECLARED += [FEATURES_4 + c for c in ("create-replace-delete", "update", "features")]
NOT_PROVIDED: list[str] = []


def _bbox_function_to_polygon(node):
    try:
        subs = node.get_sub_nodes()
    except AttributeError:
        return node
    for attr in ("lhs", "rhs", "sub_node"):
        child = getattr(node, attr, None)
        if isinstance(child, ast.Function) and child.name.lower() == "bbox":
            args = [float(a) for a in child.arguments]
            if len(args) == 6:  # 3D bbox: keep x/y
                args = [args[0], args[1], args[3], args[4]]
            if len(args) != 4:
                raise ValueError("BBOX takes 4 or 6 numbers")
            setattr(node, attr, values.Geometry(shapely.geometry.mapping(shapely.box(*args))))
        elif isinstance(child, values.Envelope):
            setattr(node, attr, values.Geometry(shapely.geometry.mapping(
                shapely.box(child.x1, child.y1, child.x2, child.y2))))
    for child in subs:
        if isinstance(child, ast.Node):
            _bbox_function_to_polygon(child)
    return node


def _json_bbox_to_polygon(node):
    if isinstance(node, dict):
        if set(node) == {"bbox"} and isinstance(node["bbox"], list):
            b = [float(v) for v in node["bbox"]]
            if len(b) == 6:
                b = [b[0], b[1], b[3], b[4]]
            if len(b) != 4:
                raise ValueError("bbox takes 4 or 6 numbers")
            return shapely.geometry.mapping(shapely.box(*b))
        return {k: _json_bbox_to_polygon(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_bbox_to_polygon(v) for v in node]
    return node


_original_parse_json = itemtypes.parse_cql2_json


def parse_cql2_json(text):
    data = json.loads(text) if isinstance(text, (str, bytes)) else text
    return _original_parse_json(_json_bbox_to_polygon(data))


RAW_PLACEHOLDER = "\u0000artois-raw-features\u0000"


def to_json(dict_, pretty=False):
    """pygeoapi.util.to_json without its global `<`/`>` → `&lt;`/`&gt;` rewrite, which
    altered data values (a noise class ">75" came out as "&gt;75"); JSON is served as JSON."""
    from services.providers import paging
    from services.providers.postgis import RawFeatures

    if isinstance(dict_, dict) and "features" in dict_:
        paging.drop_next_after_last_page(dict_)
    features = dict_.get("features") if isinstance(dict_, dict) else None
    raw = None
    if isinstance(features, RawFeatures) and not features._parsed:
        raw, dict_ = features.raw, dict(dict_, features=RAW_PLACEHOLDER)
    text = json.dumps(dict_, default=json_serial, indent=4 if pretty else None,
                      separators=(",", ":"))
    return text.replace(json.dumps(RAW_PLACEHOLDER), raw, 1) if raw is not None else text


_original_transform_bbox = itemtypes.transform_bbox


@functools.lru_cache(maxsize=64)
def _bbox_transformer(from_crs: str, to_crs: str, always_xy: bool):
    target = get_crs(to_crs)
    tr = pyproj.Transformer.from_crs(get_crs(from_crs), target, always_xy=always_xy)
    return tr, target.to_epsg() == 3857


def transform_bbox(bbox, from_crs, to_crs, always_xy=False):
    """The envelope of the whole box, edges densified: pygeoapi transforms two corners only,
    which drops features near the other two corners once the box is reprojected."""
    if not (isinstance(from_crs, str) and isinstance(to_crs, str)) or len(bbox) != 4:
        return _original_transform_bbox(bbox, from_crs, to_crs, always_xy)
    tr, to_web_mercator = _bbox_transformer(from_crs, to_crs, always_xy)
    if to_web_mercator:  # as pygeoapi: clip to Web Mercator's latitudes
        bbox = [bbox[0], max(-85.0511, bbox[1]), bbox[2], min(85.0511, bbox[3])]
    envelope = list(tr.transform_bounds(*bbox, densify_pts=21))
    # the providers intersect the reprojected box itself, not its envelope
    from services.providers import paging
    if not (bbox[2] > bbox[0] and bbox[3] > bbox[1]):  # a line or a point: its envelope
        return envelope
    ring = shapely.segmentize(shapely.box(*bbox), max(bbox[2] - bbox[0],
                                                      bbox[3] - bbox[1]) / 20)
    xs, ys = zip(*ring.exterior.coords)
    tx, ty = tr.transform(xs, ys)
    polygon = shapely.Polygon(zip(tx, ty))
    if polygon.is_valid and all(map(math.isfinite, (*tx, *ty))):
        paging.remember_bbox(envelope, polygon)
    return envelope


_original_get_items = itemtypes.get_collection_items


def get_collection_items(api, request, dataset=None):
    from services.providers import paging

    paging.remember(f"{api.get_collections_url()}/{dataset}/items", dict(request.params))
    try:
        headers, status, content = _original_get_items(api, request, dataset)
    finally:
        paging.forget()
    if status == 200 and isinstance(headers, dict):
        # Features Part 3 finds the queryables from the items' Link header (a HEAD request)
        base = f"{api.get_collections_url()}/{dataset}"
        headers["Link"] = (f'<{base}/items?f=json>; rel="self"; type="application/geo+json", '
                           f'<{base}/queryables?f=json>; '
                           f'rel="http://www.opengis.net/def/rel/ogc/1.0/queryables"; '
                           f'type="application/schema+json"')
    return headers, status, content


_original_modify = itemtypes.modify_pygeofilter


def modify_pygeofilter(ast_tree, **kwargs):
    return _original_modify(_bbox_function_to_polygon(ast_tree), **kwargs)


@functools.lru_cache(maxsize=128)
def _crs_from_uri(uri: str):
    return _original_get_crs(uri)


def get_crs_cached(crs):
    return _crs_from_uri(crs) if isinstance(crs, str) else _original_get_crs(crs)


def apply() -> None:
    if getattr(itemtypes, "_artois_patched", False):
        return
    pygeoapi_crs.get_crs = get_crs_cached
    import pygeoapi.provider.base as provider_base
    provider_base.get_crs = get_crs_cached
    classes = [c for c in itemtypes.CONFORMANCE_CLASSES_FEATURES if c not in NOT_PROVIDED]
    classes += [c for c in DECLARED if c not in classes]
    from services import front  # tiles, styles: the classes of the routes served in front
    classes += [c for c in front.conformance() if c not in classes]
    itemtypes.CONFORMANCE_CLASSES_FEATURES[:] = classes
    itemtypes.modify_pygeofilter = modify_pygeofilter
    itemtypes.parse_cql2_json = parse_cql2_json
    itemtypes.to_json = to_json
    import pygeoapi.api.processes as processes_api
    processes_api.to_json = to_json
    itemtypes.transform_bbox = transform_bbox
    itemtypes.get_collection_items = get_collection_items
    import pygeoapi.api as core_api
    core_api.landing_page = _with_front_links(core_api.landing_page)
    core_api.gen_collection = _templated_links(core_api.gen_collection)
    core_api.get_collection_schema = _typed_geometry(core_api.get_collection_schema)
    itemtypes.get_collection_queryables = _typed_geometry(itemtypes.get_collection_queryables)
    _serve_libraries_locally()
    itemtypes._artois_patched = True


def _serve_libraries_locally() -> None:
    """pygeoapi's templates load their libraries from CDNs; services.vendor serves them from
    npm. Every pygeoapi module binds render_j2_template by name: util first (for modules
    imported later), then each module already imported."""
    import sys

    import pygeoapi.util as util
    from services.vendor import rewrite_cdn_urls

    original = util.render_j2_template

    @functools.wraps(original)
    def render_j2_template(config, tpl_config, template, data, locale_=None):
        return rewrite_cdn_urls(original(config, tpl_config, template, data, locale_),
                                config["server"]["url"])

    util.render_j2_template = render_j2_template
    for name, module in list(sys.modules.items()):
        if name.startswith("pygeoapi") and \
                getattr(module, "render_j2_template", None) is original:
            module.render_j2_template = render_j2_template


@functools.lru_cache(maxsize=1)
def _geometry_formats() -> dict[str, str]:
    """Collection id → JSON Schema format of its geometry (OGC Features Part 5 names)."""
    from services.catalog import load_catalog
    from services.settings import get_settings
    return {spec.id: "geometry-" + spec.geometry_type.lower()
            for spec in load_catalog(get_settings().collections_dir) if spec.geometry_type}


def _typed_geometry(handler):
    """pygeoapi writes `geometry-any` in /schema and /queryables; each collection file names
    its geometry type (QGIS and GDAL read it to type the layer)."""
    @functools.wraps(handler)
    def wrapper(api, request, dataset, *args, **kwargs):
        headers, status, content = handler(api, request, dataset, *args, **kwargs)
        fmt = _geometry_formats().get(dataset)
        if status == 200 and fmt and isinstance(content, str) and content.startswith("{"):
            content = content.replace('"format":"geometry-any"', f'"format":"{fmt}"').replace(
                '"format": "geometry-any"', f'"format": "{fmt}"')
        return headers, status, content
    return wrapper


COVERAGE_REL = "http://www.opengis.net/def/rel/ogc/1.0/coverage"
FEATURE_ONLY_RELS = ("http://www.opengis.net/def/rel/ogc/1.0/queryables",
                     "http://www.opengis.net/def/rel/ogc/1.0/schema")


def _templated_links(gen_collection):
    """pygeoapi copies only type/rel/title/href/hreflang of configured links: a link whose
    href is a URI template (tiles: {tileMatrix}…) gets back its `templated: true`.

    A coverage says so (`itemType: coverage`, and `layerDataType: Coverage`, which GDAL's
    OAPIF driver reads before GDAL 3.7) and loses the queryables and schema links pygeoapi
    gives every collection: with them and no itemType it looks like a feature collection,
    and GDAL's OAPIF driver and the OGC test suite ask for its /items."""
    @functools.wraps(gen_collection)
    def wrapper(*args, **kwargs):
        data = gen_collection(*args, **kwargs)
        links = data.get("links", [])
        for link in links:
            if "{" in str(link.get("href", "")):
                link["templated"] = True
        if "itemType" not in data and any(lk.get("rel") == COVERAGE_REL for lk in links):
            data["itemType"] = "coverage"
            data["layerDataType"] = "Coverage"
            data["links"] = [lk for lk in links if lk.get("rel") not in FEATURE_ONLY_RELS]
        return data
    return wrapper


def _with_front_links(landing_page):
    """The landing page (JSON) also links what services/front.py serves: tiles, styles,
    the web map, the QGIS project."""
    @functools.wraps(landing_page)
    def wrapper(api, request):
        headers, status, content = landing_page(api, request)
        if status != 200 or not isinstance(content, str) or not content.startswith("{"):
            return headers, status, content
        from services import front
        doc = json.loads(content)
        if not isinstance(doc.get("links"), list):  # JSON-LD (f=jsonld) has no links array
            return headers, status, content
        known = {link.get("href") for link in doc["links"]}
        doc["links"] += [link for link in front.landing_links(api.base_url)
                         if link["href"] not in known]
        return headers, status, to_json(doc, api.pretty_print)
    return wrapper
