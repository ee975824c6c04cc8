"""Every change this project makes to pygeoapi's internals, in one place.

Upgrading pygeoapi means reading this module and running tests/test_pygeoapi_compat.py: each
patch below names the pygeoapi function it replaces (whose source is pinned by its hash), the
places where pygeoapi must still look that name up for the patch to take effect, why it is
there, and the upstream change that would let us delete it. The test fails as soon as any of
these moves.

What pygeoapi lets us do without patching is done through its extension points instead:
- the feature and coverage providers (services/providers/, loaded by dotted path);
- the process manager (services.jobs.JobManager) and processors (processes/);
- the HTML templates (`server.templates`): pygeoapi's pages load their libraries from this
  server (services/vendor.py) through templates written by services/config.py, with project
  overrides in services/templates/;
- its configuration, written by services/config.py.

The patches (see PATCHES for the pinned details):

 conformance            declare Features Part 3/4, CQL2 and the front routes' classes
 cql2-json-bbox         CQL2 JSON `{"bbox": [...]}` read as a polygon (pygeofilter's axis order)
 cql2-json-get          a GET filter with filter-lang=cql2-json parsed as CQL2 JSON
 cql2-text-bbox         CQL2 text BBOX(...) turned into a polygon, so that it is reprojected;
                        a geometry that reprojects to non-finite coordinates is a 400
 to-json                no `<`/`>` escaping of JSON; pages PostGIS serialised spliced as text
 transform-bbox         a reprojected bbox densified (not two corners), transformers cached
 items-call             providers learn the items request (keyset `next`); items Link header;
                        items served as application/geo+json (as their self link says)
 get-crs                pyproj CRS objects of CRS URIs built once
 landing-links          landing page links to tiles, styles, web map and QGIS project
 collection-links       configured links keep `templated`; a coverage says itemType coverage
 typed-geometry         /schema and /queryables name the collection's geometry type and the
                        https meta-schema
 gettext-dir            pygeoapi's Python-side gettext reads our compiled catalogues
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pygeofilter.ast as ast
import pygeofilter.values as values
import numpy
import pyproj
import shapely
from pygeoapi import l10n
from pygeoapi.util import json_serial

from services.providers import paging

LOGGER = logging.getLogger(__name__)
PYGEOAPI_VERSION = "0.24.0"  # the version every pin below was taken from

FEATURES_3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
FEATURES_4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
DECLARED = [FEATURES_3 + c for c in ("filter", "features-filter", "queryables",
                                     "queryables-query-parameters")] + \
    [CQL2 + c for c in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
                        "case-insensitive-comparison", "accent-insensitive-comparison",
                        "basic-spatial-functions", "basic-spatial-functions-plus",
                        "spatial-functions", "arithmetic")] + \
    [FEATURES_4 + c for c in ("create-replace-delete", "update", "features")]  # Part 4, both stores


@dataclass(frozen=True)
class Patch:
    """One replacement of a pygeoapi internal."""
    name: str
    targets: tuple[str, ...]          # "module:attribute" set by apply()
    replaced: str                     # "module:qualname" of the pygeoapi code whose source is pinned
    source_sha256: str                # first 16 hex digits of sha256(inspect.getsource(replaced))
    call_sites: tuple[tuple[str, str], ...]  # (module, text): where pygeoapi looks the name up
    why: str
    upstream: str                     # the upstream fix that would remove the patch


def _get(dotted: str) -> Any:
    module, _, attr = dotted.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def source_hash(dotted: str) -> str:
    """The pin of a pygeoapi function: its current source, before any patch."""
    obj = _ORIGINALS.get(dotted) or _get(dotted)
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def module_source(module: str) -> str:
    """The text of a module's file, without importing it (pygeoapi.starlette_app reads its
    configuration when imported)."""
    spec = importlib.util.find_spec(module)
    return Path(spec.origin).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- CQL2 bbox
def _dense_box(minx: float, miny: float, maxx: float, maxy: float) -> dict:
    """A box as a GeoJSON polygon whose sides are cut every DENSE_STEP (at most 200 pieces a
    side): reprojected into the storage CRS (pygeoapi moves each vertex), its edges still follow
    the box's within millimetres (a box of 4 corners becomes straight Lambert-93 edges, up to
    metres off a CRS84 parallel, that cut off features near the edge; a collection's extent
    is rounded outward by ~0.1 m, so filtering on it must lose nothing)."""
    box = shapely.box(minx, miny, maxx, maxy)
    size = max(maxx - minx, maxy - miny)
    step = max(size / 200, min(size / 20, DENSE_STEP))
    return shapely.geometry.mapping(shapely.segmentize(box, step) if step > 0 else box)


DENSE_STEP = 0.005  # degrees (~500 m): a chord of a Lambert-93 parallel that long is ~5 mm off


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
            setattr(node, attr, values.Geometry(_dense_box(*args)))
        elif isinstance(child, values.Envelope):
            setattr(node, attr, values.Geometry(_dense_box(child.x1, child.y1, child.x2, child.y2)))
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
            return _dense_box(*b)
        return {k: _json_bbox_to_polygon(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_bbox_to_polygon(v) for v in node]
    return node


def _parse_cql2_json(original):
    @functools.wraps(original)
    def parse_cql2_json(text):
        data = json.loads(text) if isinstance(text, (str, bytes)) else text
        return original(_json_bbox_to_polygon(data))
    return parse_cql2_json


def _parse_cql2_text(original):
    """A GET filter is CQL2 JSON when filter-lang says so (pygeoapi parses every GET filter as
    CQL2 text): the items call's parameters are read from services.providers.paging."""
    @functools.wraps(original)
    def parse_cql2_text(text):
        call = paging.current()
        if call is not None and call.params.get("filter-lang") == "cql2-json":
            return _get(f"{IT}:parse_cql2_json")(text)  # ours when patched (bbox order)
        return original(text)
    return parse_cql2_text


def _check_finite(node) -> None:
    """Every geometry literal, once in the storage CRS, has finite coordinates: a box beyond the
    filter CRS's domain (BBOX(1000000, ...) in CRS84) reprojects to inf, which the stores
    cannot compare; a ValueError here is pygeoapi's 400 "Bad CQL text"."""
    if isinstance(node, values.Geometry):
        coords = shapely.get_coordinates(shapely.geometry.shape(node.geometry))
        if not numpy.isfinite(coords).all():
            raise ValueError("a geometry is outside the domain of its CRS")
        return
    try:
        children = node.get_sub_nodes()
    except AttributeError:
        return
    for child in children:
        _check_finite(child)


def _modify_pygeofilter(original):
    @functools.wraps(original)
    def modify_pygeofilter(ast_tree, **kwargs):
        tree = original(_bbox_function_to_polygon(ast_tree), **kwargs)
        _check_finite(tree)
        return tree
    return modify_pygeofilter


# ---------------------------------------------------------------------------- JSON
RAW_PLACEHOLDER = "\u0000artois-raw-features\u0000"


def to_json(dict_, pretty=False):
    """pygeoapi.util.to_json without its global `<`/`>` → `&lt;`/`&gt;` rewrite, which
    altered data values (a noise class ">75" came out as "&gt;75"); JSON is served as JSON.
    A page of features PostGIS already serialised (a list with its text in `.raw`, see
    services.providers.postgis.RawFeatures) is spliced in as text, not parsed and dumped."""
    if isinstance(dict_, dict) and "features" in dict_:
        paging.drop_next_after_last_page(dict_)
    features = dict_.get("features") if isinstance(dict_, dict) else None
    raw = None
    if isinstance(getattr(features, "raw", None), str) and not getattr(features, "_parsed", True):
        raw, dict_ = features.raw, dict(dict_, features=RAW_PLACEHOLDER)
    text = json.dumps(dict_, default=json_serial, indent=4 if pretty else None,
                      separators=(",", ":"))
    return text.replace(json.dumps(RAW_PLACEHOLDER), raw, 1) if raw is not None else text


# ---------------------------------------------------------------------------- CRS
def _get_crs(original):
    cached = functools.lru_cache(maxsize=128)(original)

    @functools.wraps(original)
    def get_crs(crs):
        return cached(crs) if isinstance(crs, str) else original(crs)
    return get_crs


@functools.lru_cache(maxsize=64)
def _bbox_transformer(from_crs: str, to_crs: str, always_xy: bool):
    from pygeoapi.crs import get_crs
    target = get_crs(to_crs)
    tr = pyproj.Transformer.from_crs(get_crs(from_crs), target, always_xy=always_xy)
    return tr, target.to_epsg() == 3857


def _transform_bbox(original):
    @functools.wraps(original)
    def transform_bbox(bbox, from_crs, to_crs, always_xy=False):
        """The envelope of the whole box, edges densified: pygeoapi transforms two corners
        only, which drops features near the other two corners once the box is reprojected.
        The reprojected box itself goes to the providers (services.providers.paging)."""
        if not (isinstance(from_crs, str) and isinstance(to_crs, str)) or len(bbox) != 4:
            return original(bbox, from_crs, to_crs, always_xy)
        try:
            key = tuple(float(v) for v in bbox)
        except (TypeError, ValueError):
            return original(bbox, from_crs, to_crs, always_xy)
        envelope, polygon = _reprojected_box(key, from_crs, to_crs, bool(always_xy))
        if polygon is not None:
            paging.remember_bbox(list(envelope), polygon)
        return list(envelope)
    return transform_bbox


@functools.lru_cache(maxsize=512)  # map views and tiles ask for the same boxes again
def _reprojected_box(bbox: tuple, from_crs: str, to_crs: str, always_xy: bool
                     ) -> tuple[tuple, Any]:
    """(envelope, reprojected densified box or None) of a box; pure (shapely geometries
    are immutable), so kept."""
    tr, to_web_mercator = _bbox_transformer(from_crs, to_crs, always_xy)
    if to_web_mercator:  # as pygeoapi: clip to Web Mercator's latitudes
        bbox = (bbox[0], max(-85.0511, bbox[1]), bbox[2], min(85.0511, bbox[3]))
    envelope = tuple(tr.transform_bounds(*bbox, densify_pts=21))
    if not (bbox[2] > bbox[0] and bbox[3] > bbox[1]):  # a line or a point: its envelope
        return envelope, None
    ring = shapely.geometry.shape(_dense_box(*bbox))
    xs, ys = zip(*ring.exterior.coords)
    tx, ty = tr.transform(xs, ys)
    polygon = shapely.Polygon(zip(tx, ty))
    if polygon.is_valid and all(map(math.isfinite, (*tx, *ty))):
        return envelope, polygon
    return envelope, None


# ---------------------------------------------------------------------------- items
def _get_collection_items(original):
    @functools.wraps(original)
    def get_collection_items(api, request, dataset=None):
        paging.remember(f"{api.get_collections_url()}/{dataset}/items", dict(request.params))
        try:
            headers, status, content = original(api, request, dataset)
        finally:
            paging.forget()
        if status == 200 and isinstance(headers, dict):
            items_headers(headers, f"{api.get_collections_url()}/{dataset}")
        return headers, status, content
    return get_collection_items


def items_headers(headers: dict, base: str) -> None:
    """A page's Content-Type (GeoJSON, as its self link) and Link header: Features Part 3
    finds the queryables from it (a HEAD request). `base`: the collection's URL."""
    if headers.get("Content-Type") == "application/json":
        headers["Content-Type"] = "application/geo+json"
    headers["Link"] = (f'<{base}/items?f=json>; rel="self"; type="application/geo+json", '
                       f'<{base}/queryables?f=json>; '
                       f'rel="http://www.opengis.net/def/rel/ogc/1.0/queryables"; '
                       f'type="application/schema+json"')


# ---------------------------------------------------------------------------- documents
@functools.lru_cache(maxsize=1)
def _geometry_formats() -> dict[str, str]:
    """Collection id → JSON Schema format of its geometry (OGC Features Part 5 names)."""
    from services.store import get_catalog
    return {spec.id: "geometry-" + spec.geometry_type.lower()
            for spec in get_catalog().specs.values() if spec.geometry_type}


SCHEMA_2019_09 = "json-schema.org/draft/2019-09/schema"


def _typed_geometry(handler):
    """pygeoapi writes `geometry-any` in /schema and /queryables; each collection file names
    its geometry type (QGIS and GDAL read it to type the layer). It also names the meta-schema
    with `http://`, while OGC API Features Part 3 (and the OGC suite) want the canonical
    `https://json-schema.org/draft/2019-09/schema` (or 2020-12)."""
    @functools.wraps(handler)
    def wrapper(api, request, dataset, *args, **kwargs):
        headers, status, content = handler(api, request, dataset, *args, **kwargs)
        fmt = _geometry_formats().get(dataset)
        if status == 200 and fmt and isinstance(content, str) and content.startswith("{"):
            content = content.replace('"format":"geometry-any"', f'"format":"{fmt}"').replace(
                '"format": "geometry-any"', f'"format": "{fmt}"')
        if status == 200 and isinstance(content, str):
            content = content.replace(f'"http://{SCHEMA_2019_09}"', f'"https://{SCHEMA_2019_09}"')
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
        from services import front  # front imports the front modules, some of which import us
        doc = json.loads(content)
        if not isinstance(doc.get("links"), list):  # JSON-LD (f=jsonld) has no links array
            return headers, status, content
        known = {link.get("href") for link in doc["links"]}
        doc["links"] += [link for link in front.landing_links(api.base_url)
                         if link["href"] not in known]
        return headers, status, to_json(doc, api.pretty_print)
    return wrapper


def _conformance(classes: list[str]) -> list[str]:
    """pygeoapi's Features classes, plus ours and those of the routes served in front."""
    from services import front
    out = list(classes)
    out += [c for c in DECLARED if c not in out]
    out += [c for c in front.conformance() if c not in out]
    return out


# ---------------------------------------------------------------------------- the list
IT = "pygeoapi.api.itemtypes"
STARLETTE = "pygeoapi.starlette_app"

PATCHES: tuple[Patch, ...] = (
    Patch("conformance", (f"{IT}:CONFORMANCE_CLASSES_FEATURES",), "pygeoapi.api:conformance",
          "a1ea3978615c1369",
          (("pygeoapi.api", "apis_dict['itemtypes'].CONFORMANCE_CLASSES_FEATURES"),),
          "QGIS sends filters only to servers declaring Features Part 3 and CQL2; Part 4 "
          "(services/transactions.py), tiles and styles (services/front.py) are served here.",
          "conformance classes added from the configuration (server or provider level)"),
    Patch("cql2-json-bbox", (f"{IT}:parse_cql2_json",),
          "pygeofilter.parsers.cql2_json.parser:parse", "9b31f9dab8dfc71b",
          ((IT, "filter_ = parse_cql2_json(request_data)"),),
          "pygeofilter reads a CQL2 JSON bbox [minx, miny, maxx, maxy] as Envelope(x1, x2, y1, "
          "y2): the box is rewritten as a GeoJSON polygon first.",
          "pygeofilter: cql2_json parses bbox in the CQL2 axis order"),
    Patch("cql2-json-get", (f"{IT}:parse_cql2_text",),
          "pygeofilter.parsers.cql2_text.parser:parse", "c8ab4ac71cc21ae3",
          ((IT, "filter_ = parse_cql2_text(cql_text)"),),
          "pygeoapi parses a GET filter as CQL2 text whatever filter-lang says, so "
          "filter-lang=cql2-json (declared in /conformance) answered 400.",
          "pygeoapi: parse the GET filter with the parser filter-lang names"),
    Patch("cql2-text-bbox", (f"{IT}:modify_pygeofilter",), "pygeoapi.crs:modify_pygeofilter",
          "f6b22fe35791f813", ((IT, "filter_ = modify_pygeofilter("),),
          "CQL2 text BBOX(...) is a function call for pygeofilter, which pygeoapi does not "
          "reproject into the storage CRS: it becomes a polygon literal first.",
          "pygeoapi.crs.modify_pygeofilter reprojects BBOX()/Envelope nodes"),
    Patch("to-json", (f"{IT}:to_json", "pygeoapi.api.processes:to_json"),
          "pygeoapi.util:to_json", "7f66dffc40ddf7c5",
          ((IT, "to_json(content, api.pretty_print)"),
           ("pygeoapi.api.processes", "to_json(response, api.pretty_print)")),
          "pygeoapi escapes every < and > of its JSON answers (data values such as '>75', SVG "
          "in process descriptions); pages PostGIS serialised are spliced in unparsed.",
          "util.to_json stops escaping (escaping belongs to the HTML templates); providers "
          "may return pre-serialised features"),
    Patch("transform-bbox", (f"{IT}:transform_bbox",), "pygeoapi.crs:transform_bbox",
          "5d2c2b0ee8a1bd06", ((IT, "bbox = transform_bbox(bbox, bbox_crs, storage_crs)"),),
          "pygeoapi reprojects two corners only (features near the other two are lost) and "
          "builds a pyproj Transformer (~4 ms) per request.",
          "crs.transform_bbox uses transform_bounds(densify_pts) with cached transformers "
          "and hands providers the reprojected polygon"),
    Patch("items-call", (f"{IT}:get_collection_items",), f"{IT}:get_collection_items",
          "2eac86b14569f2c4",
          ((STARLETTE, "itemtypes_api.get_collection_items, request, collection_id"),),
          "providers are called without the request: they need its URL and parameters for "
          "keyset `next` links (services.providers.paging); Part 3 clients read the "
          "queryables from the items' Link header.",
          "providers receive the request (or a next-link hook); items answers send Link"),
    Patch("get-crs", ("pygeoapi.crs:get_crs", "pygeoapi.provider.base:get_crs"),
          "pygeoapi.crs:get_crs", "d82b8d0dc14a4cfe",
          (("pygeoapi.crs", "from_crs_obj = get_crs(from_crs)"),
           ("pygeoapi.provider.base", "self.storage_crs = get_crs(storage_crs_uri)")),
          "pygeoapi builds three pyproj CRS objects from URIs on every request.",
          "functools.lru_cache on pygeoapi.crs.get_crs for string URIs"),
    Patch("landing-links", ("pygeoapi.api:landing_page",), "pygeoapi.api:landing_page",
          "92c827b1675fd229",
          ((STARLETTE, "execute_from_starlette(core_api.landing_page, request)"),),
          "the landing page links what services/front.py serves (tiles, styles, web map, "
          "QGIS project); pygeoapi has no way to add landing page links.",
          "extra landing page links from the configuration"),
    Patch("collection-links", ("pygeoapi.api:gen_collection",),
          "pygeoapi.api.collection:gen_collection", "6af623218612990c",
          (("pygeoapi.api", "gen_collection(api, request, k, request.locale)"),),
          "configured links lose `templated` (tile URI templates); a coverage gets the "
          "feature-only queryables/schema links and no itemType (GDAL, OGC suite ask /items).",
          "gen_collection keeps every member of configured links and types coverages"),
    Patch("typed-geometry", ("pygeoapi.api:get_collection_schema",
                             f"{IT}:get_collection_queryables"),
          "pygeoapi.api:get_collection_schema", "eb944c1d44f6868f",
          ((STARLETTE, "core_api.get_collection_schema"),
           (STARLETTE, "itemtypes_api.get_collection_queryables"),
           ("pygeoapi.api", "'format': 'geometry-any'"), (IT, "'format': 'geometry-any'")),
          "pygeoapi writes geometry-any; QGIS and GDAL type the layer from the geometry "
          "format each collection file names; its $schema says http:// where Part 3 wants "
          "https://json-schema.org/draft/2019-09/schema.",
          "providers report their geometry type (e.g. a `geometry_type` attribute), and "
          "pygeoapi names the https meta-schema"),
    Patch("gettext-dir", ("pygeoapi.l10n:LOCALEDIR",), "pygeoapi.l10n:translate",
          "c7caa890bb2e09e7", (("pygeoapi.l10n", "localedir=LOCALEDIR"),),
          "pygeoapi's Python-side translations (link titles) read <site-packages>/locale, "
          "not server.locale_dir; applied by use_gettext_dir() at start-up.",
          "l10n.translate reads server.locale_dir like the templates do"),
)
#: the second pinned function of a patch that replaces two (queryables beside /schema)
EXTRA_PINS = {f"{IT}:get_collection_queryables": "704ed794501182bc",
              # services/hotread.py builds the documents of these (get_collection_items is
              # pinned by its patch) with pygeoapi's APIRequest: review it when they change
              f"{IT}:get_collection_item": "884bcb30becc7bea",
              "pygeoapi.api:APIRequest": "39ac7c13adca462e"}

# patch name -> builder: the original value of the target -> its replacement
_BUILDERS: dict[str, Callable[[Any], Any]] = {
    "conformance": _conformance,
    "cql2-json-bbox": _parse_cql2_json,
    "cql2-json-get": _parse_cql2_text,
    "cql2-text-bbox": _modify_pygeofilter,
    "to-json": lambda original: to_json,
    "transform-bbox": _transform_bbox,
    "items-call": _get_collection_items,
    "get-crs": _get_crs,
    "landing-links": _with_front_links,
    "collection-links": _templated_links,
    "typed-geometry": _typed_geometry,
}

_ORIGINALS: dict[str, Any] = {}   # "module:attribute" -> pygeoapi's value, while patched


def _set(target: str, value: Any) -> None:
    module, _, attr = target.partition(":")
    mod = importlib.import_module(module)
    _ORIGINALS.setdefault(target, getattr(mod, attr))
    setattr(mod, attr, value)


def original(target: str) -> Any:
    """pygeoapi's own value of a patched "module:attribute" (patched or not)."""
    return _ORIGINALS.get(target) or _get(target)


def applied() -> bool:
    return any(t in _ORIGINALS for p in PATCHES if p.name in _BUILDERS for t in p.targets)


def apply() -> None:
    """Install every patch (once; pygeoapi's ASGI app is imported afterwards)."""
    if applied():
        return
    for patch in PATCHES:
        build = _BUILDERS.get(patch.name)
        if build is None:
            continue
        if source_hash(patch.replaced) != patch.source_sha256:
            LOGGER.warning("pygeoapi changed under patch %s (%s): see tests/"
                           "test_pygeoapi_compat.py", patch.name, patch.replaced)
        built: dict[int, Any] = {}  # one replacement per original (get_crs is bound twice)
        for target in patch.targets:
            value = _get(target)
            if id(value) not in built:
                built[id(value)] = build(value)
            _set(target, built[id(value)])


def use_gettext_dir(locale_dir: Path) -> None:
    """Patch gettext-dir: pygeoapi's Python-side gettext (`l10n.translate` on plain strings:
    link titles such as "This document as JSON") reads its catalogues from `locale_dir`
    (the compiled services/locale) instead of <site-packages>/locale."""
    _set("pygeoapi.l10n:LOCALEDIR", Path(locale_dir).resolve())
    l10n._gettext_cache.clear()
    l10n._cfg_cache.clear()


def restore() -> None:
    """Undo every patch (tests)."""
    for target, value in list(_ORIGINALS.items()):
        module, _, attr = target.partition(":")
        setattr(importlib.import_module(module), attr, value)
        del _ORIGINALS[target]
    l10n._gettext_cache.clear()
    l10n._cfg_cache.clear()
