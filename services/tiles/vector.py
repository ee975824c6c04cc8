"""OGC API Tiles, vector (Mapbox Vector Tiles), for every vector collection, on both stores.

Routes (matched before pygeoapi, see services/front.py):
  /tileMatrixSets, /tileMatrixSets/{tms}                  the two sets of services.tiles.tms
  /collections/{cid}/tiles                                tilesets of one collection
  /collections/{cid}/tiles/{tms}                          tileset metadata (OGC 2D TMS 2.0)
  /collections/{cid}/tiles/{tms}/tilejson.json            TileJSON 3.0
  /collections/{cid}/tiles/{tms}/{z}/{row}/{col}          the tile (source layer = cid)
  /collections/{cid}/tiles/{tms}/VectorTileServer         ArcGIS vector tile service JSON
  /tiles, /tiles/{tms}, /tiles/{tms}/tilejson.json, /tiles/{tms}/{z}/{row}/{col}
                                                          every vector collection as a layer

A tile with no feature is answered 204 No Content (allowed by OGC API Tiles 1.0, section
"tile": "empty tile"), with no body: MapLibre, OpenLayers, QGIS and GDAL treat it as an
empty tile, and no client downloads a useless empty protobuf. Coordinates outside the tile
matrix, non-integer ones, and a coverage asked for vector tiles are a 400; an unknown
collection or tile matrix set is a 404 (OGC exceptions in French and English).
"""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.errors import OGCError
from services.tiles import tms as tms_registry
from services.tiles.mvt_source import (Layer, TileBox, first_zoom, layers, shown_at, tile_box,
                                      tile_matrix_set)

MVT = "application/vnd.mapbox-vector-tile"
# set in the scope by services/hottiles.py when this tile's statement failed or timed out
# there: the route answers its 503 without running the statement a second time
FAILED = "artois.tile_failed"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"
CONF = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
DIMENSIONS = {"point": 0, "line": 1, "polygon": 2}
MVT_FIELD_TYPES = {"string": "String", "integer": "Number", "number": "Number",
                   "boolean": "Boolean"}


def conformance() -> list[str]:
    return [CONF + c for c in ("core", "tileset", "tilesets-list", "geodata-tilesets",
                               "dataset-tilesets", "mvt")] + [
        "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
        "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
        "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
        "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
    ]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    if spec.kind != "features":
        return []
    base = f"{base_url.rstrip('/')}/collections/{spec.id}/tiles"
    return [
        {"rel": REL_TILESETS_VECTOR, "type": "application/json", "href": base,
         "title": "Tuiles vectorielles / Vector tiles"},
        {"rel": "item", "type": MVT, "templated": True,
         "href": f"{base}/WebMercatorQuad/{TEMPLATE}",
         "title": "Tuile vectorielle (WebMercatorQuad) / Vector tile (WebMercatorQuad)"},
    ]


# --------------------------------------------------------------------------- helpers

def _base_url() -> str:
    from pygeoapi.starlette_app import CONFIG  # the served URL (public_url or host:port)
    return CONFIG["server"]["url"].rstrip("/")


def _unknown_tms(tms_id: str) -> Response:
    known = ", ".join(tms_registry.ids())
    return OGCError("tiles_unknown_tms", status=404, tms=tms_id, known=known).response()


def layer_or_error(cid: str) -> Layer | Response:
    found, others = layers()
    if cid in found:
        return found[cid]
    if cid in others:
        return OGCError("tiles_raster_collection", collection=cid).response()
    return OGCError("collection_not_found", status=404, collection=cid).response()


def _collection_and_tms(request: Request) -> tuple[Layer, Any] | Response:
    layer = layer_or_error(request.path_params["cid"])
    if isinstance(layer, Response):
        return layer
    tms = tile_matrix_set(request.path_params["tms"])
    if tms is None:
        return _unknown_tms(request.path_params["tms"])
    return layer, tms


def tile_box_or_error(tms_id: str, z: str, row: str, col: str) -> TileBox | Response:
    tms = tile_matrix_set(tms_id)
    if tms is None:
        return _unknown_tms(tms_id)
    try:
        zi, ri, ci = int(z), int(row), int(col)
    except ValueError:
        return OGCError("tiles_address_not_integer", z=z, row=row, col=col).response()
    try:
        tms_registry.check_tile(tms, zi, ri, ci)
    except OGCError as err:
        return err.response()
    return tile_box(tms.id, zi, ri, ci)


async def _render(selected: tuple[Layer, ...], box: TileBox) -> bytes:
    from services.store.postgis import tiles as mvt_postgis
    from services.store.sqlite import tiles as mvt_embedded
    selected = tuple(layer for layer in selected if shown_at(layer, box.tms_id, box.z))
    on_postgis = tuple(layer for layer in selected if layer.store == "postgis")
    embedded = tuple(layer for layer in selected if layer.store != "postgis")
    data = await mvt_postgis.render(on_postgis, box) if on_postgis else b""
    if embedded:  # sqlite and shapely block: off the event loop
        data += await run_in_threadpool(mvt_embedded.render, embedded, box)
    return data  # MVT layers are concatenable protobuf messages


async def _tile_response(selected: tuple[Layer, ...], box: TileBox,
                         request: Request | None = None) -> Response:
    from services.store.postgis.tiles import TileQueryError
    try:
        if request is not None and request.scope.get(FAILED):
            raise TileQueryError("failed on the hot path")
        data = await _render(selected, box)
    except TileQueryError:
        return OGCError("tiles_db_timeout", status=503, code="Timeout").response()
    if not data:
        return Response(status_code=204)
    return Response(data, media_type=MVT)


def _bbox(selected: list[Layer]) -> list[float]:
    boxes = [layer.bbox for layer in selected if layer.bbox]
    if not boxes:
        return [-180.0, -90.0, 180.0, 90.0]
    return [min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _lang(request: Request) -> str:
    from services.i18n import pick_language
    return pick_language(request.headers.get("accept-language"), request.query_params.get("lang"))


def _dimension(layer: Layer) -> int:
    kind = layer.geometry_type.lower()
    return next((d for name, d in DIMENSIONS.items() if name in kind), 2)


def _layer_meta(layer: Layer, tms, lang: str) -> dict[str, Any]:
    fields = layer.spec.fields or {}
    props = {}
    for name, schema in layer.columns.items():
        prop = {k: v for k, v in schema.items() if k != "values"}
        title = (fields.get(name) or {}).get("title")
        if isinstance(title, dict):
            prop["title"] = title.get(lang) or title.get("fr")
        enum = (fields.get(name) or {}).get("enum")
        if enum:
            prop["enum"] = list(enum)
        props[name] = prop
    return {"id": layer.id, "title": layer.spec.title[lang],
            "description": layer.spec.description[lang], "dataType": "vector",
            "geometryDimension": _dimension(layer), "featureType": layer.id,
            "minTileMatrix": str(first_zoom(layer, tms)), "maxTileMatrix": str(tms.maxzoom),
            "propertiesSchema": {"type": "object", "properties": props}}


def _tileset(selected: list[Layer], tms, tiles_url: str, title: str, description: str,
             lang: str) -> dict[str, Any]:
    bbox = _bbox(selected)
    base = _base_url()
    doc: dict[str, Any] = {
        "title": title, "description": description, "dataType": "vector",
        "crs": tms.crs.srs,
    }
    if tms.uri:
        doc["tileMatrixSetURI"] = tms.uri
    doc["links"] = [
        {"rel": "self", "type": "application/json", "href": tiles_url,
         "title": "Ce jeu de tuiles / This tileset"},
        {"rel": REL_TILING_SCHEME, "type": "application/json",
         "href": f"{base}/tileMatrixSets/{tms.id}", "title": tms.id},
        {"rel": "item", "type": MVT, "templated": True, "href": f"{tiles_url}/{TEMPLATE}",
         "title": "Tuile vectorielle / Vector tile"},
        {"rel": "describedby", "type": "application/json", "href": f"{tiles_url}/tilejson.json",
         "title": "TileJSON 3.0"},
    ]
    doc["layers"] = [_layer_meta(layer, tms, lang) for layer in selected]
    doc["boundingBox"] = {"lowerLeft": bbox[:2], "upperRight": bbox[2:], "crs": CRS84}
    return doc


def _tilejson(selected: list[Layer], tms, tiles_url: str, name: str, lang: str) -> dict:
    bbox = _bbox(selected)
    center_zoom = min(tms.maxzoom, 10)
    return {
        "tilejson": "3.0.0", "name": name, "scheme": "xyz",
        "tiles": [f"{tiles_url}/{{z}}/{{y}}/{{x}}"],
        "minzoom": tms.minzoom, "maxzoom": tms.maxzoom,
        "bounds": bbox, "center": [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, center_zoom],
        "crs": tms.crs.srs,
        "tileMatrixSet": tms.id,
        "attribution": "; ".join(dict.fromkeys(layer.spec.licence["title"] for layer in selected)),
        "vector_layers": [{
            "id": layer.id, "description": layer.spec.title[lang],
            "minzoom": first_zoom(layer, tms), "maxzoom": tms.maxzoom,
            "fields": {n: MVT_FIELD_TYPES.get(s.get("type"), "String")
                       for n, s in layer.columns.items()},
            "geometry_type": layer.geometry_type,
        } for layer in selected],
    }


# --------------------------------------------------------------------------- endpoints

async def tile_matrix_sets(request: Request) -> Response:
    base = _base_url()
    sets = []
    for tms_id in tms_registry.ids():
        tms = tile_matrix_set(tms_id)
        entry = {"id": tms_id, "title": tms.title,
                 "links": [{"rel": "self", "type": "application/json",
                            "href": f"{base}/tileMatrixSets/{tms_id}", "title": tms_id},
                           {"rel": REL_TILING_SCHEME, "type": "application/json",
                            "href": f"{base}/tileMatrixSets/{tms_id}", "title": tms_id}]}
        if tms.uri:
            entry["uri"] = tms.uri
        sets.append(entry)
    return JSONResponse({"tileMatrixSets": sets, "links": [
        {"rel": "self", "type": "application/json", "href": f"{base}/tileMatrixSets",
         "title": "Jeux de matrices de tuiles / Tile matrix sets"}]})


async def one_tile_matrix_set(request: Request) -> Response:
    tms = tile_matrix_set(request.path_params["tms"])
    if tms is None:
        return _unknown_tms(request.path_params["tms"])
    return JSONResponse(tms.model_dump(mode="json", exclude_none=True))


def _tilesets_list(request: Request, selected: list[Layer], prefix: str, title: str) -> Response:
    sets = []
    for tms_id in tms_registry.ids():
        tms = tile_matrix_set(tms_id)
        url = f"{prefix}/{tms_id}"
        entry = {"title": f"{title} — {tms_id}", "dataType": "vector",
                 "crs": tms.crs.srs,
                 "links": [{"rel": "self", "type": "application/json", "href": url},
                           {"rel": REL_TILING_SCHEME, "type": "application/json",
                            "href": f"{_base_url()}/tileMatrixSets/{tms_id}"},
                           {"rel": "item", "type": MVT, "templated": True,
                            "href": f"{url}/{TEMPLATE}"}]}
        if tms.uri:
            entry["tileMatrixSetURI"] = tms.uri
        sets.append(entry)
    return JSONResponse({"tilesets": sets, "links": [
        {"rel": "self", "type": "application/json", "href": prefix}]})


async def collection_tilesets(request: Request) -> Response:
    layer = layer_or_error(request.path_params["cid"])
    if isinstance(layer, Response):
        return layer
    lang = _lang(request)
    return _tilesets_list(request, [layer], f"{_base_url()}/collections/{layer.id}/tiles",
                          layer.spec.title[lang])


async def collection_tileset(request: Request) -> Response:
    found = _collection_and_tms(request)
    if isinstance(found, Response):
        return found
    layer, tms = found
    lang = _lang(request)
    url = f"{_base_url()}/collections/{layer.id}/tiles/{tms.id}"
    return JSONResponse(_tileset([layer], tms, url, layer.spec.title[lang],
                                 layer.spec.description[lang], lang))


async def collection_tilejson(request: Request) -> Response:
    found = _collection_and_tms(request)
    if isinstance(found, Response):
        return found
    layer, tms = found
    url = f"{_base_url()}/collections/{layer.id}/tiles/{tms.id}"
    return JSONResponse(_tilejson([layer], tms, url, layer.id, _lang(request)))


async def collection_tile(request: Request) -> Response:
    p = request.path_params
    layer = layer_or_error(p["cid"])
    if isinstance(layer, Response):
        return layer
    box = tile_box_or_error(p["tms"], p["z"], p["row"], p["col"])
    if isinstance(box, Response):
        return box
    return await _tile_response((layer,), box, request)


DATASET_TITLE = {"fr": "Données territoriales de l'Artois", "en": "Artois territorial data"}


async def dataset_tilesets(request: Request) -> Response:
    found, _ = layers()
    return _tilesets_list(request, list(found.values()), f"{_base_url()}/tiles",
                          DATASET_TITLE[_lang(request)])


async def dataset_tileset(request: Request) -> Response:
    tms = tile_matrix_set(request.path_params["tms"])
    if tms is None:
        return _unknown_tms(request.path_params["tms"])
    found, _ = layers()
    lang = _lang(request)
    return JSONResponse(_tileset(list(found.values()), tms, f"{_base_url()}/tiles/{tms.id}",
                                 DATASET_TITLE[lang], DATASET_TITLE[lang], lang))


async def dataset_tilejson(request: Request) -> Response:
    tms = tile_matrix_set(request.path_params["tms"])
    if tms is None:
        return _unknown_tms(request.path_params["tms"])
    found, _ = layers()
    return JSONResponse(_tilejson(list(found.values()), tms, f"{_base_url()}/tiles/{tms.id}",
                                  "artois", _lang(request)))


async def dataset_tile(request: Request) -> Response:
    p = request.path_params
    box = tile_box_or_error(p["tms"], p["z"], p["row"], p["col"])
    if isinstance(box, Response):
        return box
    found, _ = layers()
    return await _tile_response(tuple(found.values()), box, request)


async def arcgis_service(request: Request) -> Response:
    """ArcGIS VectorTileServer JSON: the tile matrix described the Esri way.

    QGIS >= 3.26 builds a non-Mercator tile matrix from it (QgsVectorTileMatrixSet::fromEsriJson,
    `type=xyz&serviceType=arcgis&url=<this URL>`); QGIS 3.22 assumes Web Mercator for every
    vector tile source, so it cannot use the Lambert-93 grid (tests/test_tiles_vector.py).
    """
    found = _collection_and_tms(request)
    if isinstance(found, Response):
        return found
    layer, tms = found
    from services.tiles.mvt_arcgis import service_json
    return JSONResponse(service_json(layer, tms, _lang(request)))


def landing_links(base_url: str) -> list[dict[str, Any]]:
    return [{"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": "application/json", "href": f"{base_url}/tiles",
             "title": "Tuiles vectorielles de toutes les collections / Vector tiles of every "
                      "collection"}]


def routes() -> list[Route]:
    tile = "{z}/{row}/{col}"
    return [
        Route("/tileMatrixSets", tile_matrix_sets, methods=["GET", "HEAD"]),
        Route("/tileMatrixSets/{tms}", one_tile_matrix_set, methods=["GET", "HEAD"]),
        # pygeoapi's landing page links /TileMatrixSets: the same two sets answer there
        Route("/TileMatrixSets", tile_matrix_sets, methods=["GET", "HEAD"]),
        Route("/TileMatrixSets/{tms}", one_tile_matrix_set, methods=["GET", "HEAD"]),
        Route("/tiles", dataset_tilesets, methods=["GET", "HEAD"]),
        Route("/tiles/{tms}", dataset_tileset, methods=["GET", "HEAD"]),
        Route("/tiles/{tms}/tilejson.json", dataset_tilejson, methods=["GET", "HEAD"]),
        Route(f"/tiles/{{tms}}/{tile}", dataset_tile, methods=["GET", "HEAD"]),
        Route("/collections/{cid}/tiles", collection_tilesets, methods=["GET", "HEAD"]),
        Route("/collections/{cid}/tiles/{tms}", collection_tileset, methods=["GET", "HEAD"]),
        Route("/collections/{cid}/tiles/{tms}/tilejson.json", collection_tilejson,
              methods=["GET", "HEAD"]),
        Route("/collections/{cid}/tiles/{tms}/VectorTileServer", arcgis_service,
              methods=["GET", "HEAD"]),
        Route("/collections/{cid}/tiles/{tms}/VectorTileServer/tile/{z}/{row}/{col}.pbf",
              collection_tile, methods=["GET", "HEAD"]),
        Route(f"/collections/{{cid}}/tiles/{{tms}}/{tile}", collection_tile,
              methods=["GET", "HEAD"]),
    ]
