"""The OpenAPI description of the routes served in front of pygeoapi (services/front.py):
tiles, styles, the web map and operations. pygeoapi documents its own paths; these are added
to the same document by services/config.py."""
from __future__ import annotations

from typing import Any

MVT = "application/vnd.mapbox-vector-tile"


def _param(name: str, where: str = "path", schema: dict | None = None, desc: str = "",
           required: bool | None = None) -> dict[str, Any]:
    return {"name": name, "in": where, "description": desc,
            "required": where == "path" if required is None else required,
            "schema": schema or {"type": "string"}}


TMS = _param("tileMatrixSetId", schema={"type": "string", "enum": ["WebMercatorQuad", "LAMB93"]},
             desc="Tile matrix set / grille de tuiles")
TILE = [_param("tileMatrix", schema={"type": "integer", "minimum": 0}, desc="zoom"),
        _param("tileRow", schema={"type": "integer", "minimum": 0}),
        _param("tileCol", schema={"type": "integer", "minimum": 0})]
DATETIME = _param("datetime", "query", desc="year or date of a summer (e.g. 2023) / été choisi")
ERRORS = {"400": {"description": "Bad request (bilingual OGC exception)"},
          "404": {"description": "Not found (bilingual OGC exception)"}}


def _get(tag: str, summary: str, params: list[dict], media: dict[str, str],
         op_id: str) -> dict[str, Any]:
    return {"get": {
        "tags": [tag], "summary": summary, "operationId": op_id, "parameters": params,
        "responses": {"200": {"description": summary,
                              "content": {m: {"schema": {"type": "string", "format": "binary"}
                                              if kind == "binary" else {"type": "object"}}
                                          for m, kind in media.items()}},
                      "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                      **ERRORS}}}


def paths(collection_ids: list[str], coverage_ids: list[str]) -> dict[str, Any]:
    cid = _param("collectionId", schema={"type": "string", "enum": collection_ids})
    cov = _param("collectionId", schema={"type": "string", "enum": coverage_ids})
    json_ = {"application/json": "json"}
    out: dict[str, Any] = {
        "/tileMatrixSets": _get("tiles", "Tile matrix sets", [], json_, "getTileMatrixSets"),
        "/tileMatrixSets/{tileMatrixSetId}": _get(
            "tiles", "One tile matrix set (OGC 2D TMS 2.0)", [TMS], json_, "getTileMatrixSet"),
        "/tiles": _get("tiles", "Vector tilesets of the dataset", [], json_, "getDatasetTilesets"),
        "/tiles/{tileMatrixSetId}": _get("tiles", "Dataset vector tileset", [TMS], json_,
                                         "getDatasetTileset"),
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": _get(
            "tiles", "A vector tile holding every collection as a layer (204 when empty)",
            [TMS, *TILE], {MVT: "binary"}, "getDatasetTile"),
        "/collections/{collectionId}/tiles": _get(
            "tiles", "Vector tilesets of a collection", [cid], json_, "getCollectionTilesets"),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}": _get(
            "tiles", "Vector tileset metadata", [cid, TMS], json_, "getCollectionTileset"),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json": _get(
            "tiles", "TileJSON 3.0", [cid, TMS], json_, "getCollectionTileJSON"),
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}":
            _get("tiles", "A vector tile of a collection (204 when empty)", [cid, TMS, *TILE],
                 {MVT: "binary"}, "getCollectionVectorTile"),
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}":
            _get("tiles", "A coloured map tile of a coverage",
                 [cov, TMS, *TILE, DATETIME,
                  _param("f", "query", {"type": "string", "enum": ["png", "webp"]})],
                 {"image/png": "binary", "image/webp": "binary"}, "getCoverageMapTile"),
        "/collections/{collectionId}/legend": _get(
            "tiles", "Legend of a coverage's colours",
            [cov, _param("f", "query", {"type": "string", "enum": ["json", "png"]})],
            {"application/json": "json", "image/png": "binary"}, "getCoverageLegend"),
        "/collections/{collectionId}/point": _get(
            "tiles", "Value of a coverage at a point",
            [cov, _param("lon", "query", {"type": "number"}, required=True),
             _param("lat", "query", {"type": "number"}, required=True), DATETIME],
            json_, "getCoveragePoint"),
        "/styles": _get("styles", "Every style", [], json_, "getStyles"),
        "/collections/{collectionId}/styles": _get(
            "styles", "Styles of a collection", [cid], json_, "getCollectionStyles"),
        "/collections/{collectionId}/styles/{styleId}": _get(
            "styles", "A style as QML, SLD 1.1 or MapLibre",
            [cid, _param("styleId"),
             _param("f", "query", {"type": "string", "enum": ["qml", "sld", "mapbox"]})],
            {"application/vnd.qgis.qml": "binary",
             "application/vnd.ogc.sld+xml;version=1.1": "binary",
             "application/vnd.mapbox.style+json": "json"}, "getStyle"),
        "/qgis/artois.qgs": _get("styles", "QGIS / Lizmap project of every layer", [],
                                 {"application/x-qgis-project": "binary"}, "getQgisProject"),
        "/map": _get("map", "The agency's web map (HTML)", [], {"text/html": "binary"}, "getMap"),
        "/health": _get("operations", "Alive", [], json_, "getHealth"),
        "/ready": _get("operations", "Store and job manager answer (503 otherwise)", [], json_,
                       "getReady"),
        "/metrics": _get("operations", "Prometheus metrics", [], {"text/plain": "binary"},
                         "getMetrics"),
    }
    return out


TAGS = [
    {"name": "tiles", "description": "OGC API Tiles: vector (MVT) and map tiles, WebMercatorQuad "
                                     "and LAMB93 / tuiles vectorielles et raster"},
    {"name": "styles", "description": "OGC API Styles: QML, SLD 1.1, MapLibre; QGIS project"},
    {"name": "map", "description": "Carte web / web map"},
    {"name": "operations", "description": "Exploitation / operations"},
]


def extend(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """Add the front routes to pygeoapi's document (pygeoapi's own paths win)."""
    for path, item in paths(collection_ids, coverage_ids).items():
        oas["paths"].setdefault(path, item)
    known = {t["name"] for t in oas.get("tags", [])}
    oas.setdefault("tags", []).extend(t for t in TAGS if t["name"] not in known)
    from services.jobs.api import document
    document(oas)  # execution and jobs: credentials, the job token, their status codes
    bundle(oas)    # a self-contained document: no reference to a remote schema
    annotate(oas)  # every status code and media type sent
    from services import front
    front.openapi(oas, collection_ids, coverage_ids)  # the modules' own paths, as answered


# ---------------------------------------------------------------------------- bundling
# pygeoapi's document points at the OGC schema repositories (schemas.opengis.net, GitHub) for
# its shared parameters, responses and schemas: a client offline, or one that does not
# follow remote references (schemathesis, the OGC test suite's ports), cannot read it. Each
# remote reference is replaced by a local component describing what this server answers.
_EXCEPTION = {"type": "object", "required": ["code"],
              "properties": {"code": {"type": "string"}, "type": {"type": "string"},
                             "description": {"type": "string"},
                             "description_fr": {"type": "string"},
                             "description_en": {"type": "string"}}}
_LINK = {"type": "object", "required": ["href"],
         "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                        "type": {"type": "string"}, "title": {"type": "string"},
                        "templated": {"type": "boolean"}}}


def _json_response(description: str, schema: dict, geojson: bool = False) -> dict:
    content = {"application/json": {"schema": schema}}
    if geojson:
        content["application/geo+json"] = {"schema": schema}
    content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}}


COMPONENTS: dict[str, tuple[str, str, dict]] = {
    # key: the end of the remote reference
    "parameters/subset": ("parameters", "subset", {
        "name": "subset", "in": "query", "required": False, "style": "form", "explode": False,
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "Coverage subset, e.g. x(600000:610000) / sous-ensemble"}),
    "parameters/sortby.yaml": ("parameters", "sortby", {
        "name": "sortby", "in": "query", "required": False, "style": "form", "explode": False,
        "schema": {"type": "array", "items": {"type": "string",
                                              "pattern": "^[+-]?[A-Za-z_].*$"}},
        "description": "Properties to sort by, +/- for the order / tri"}),
    "parameters/datetime": ("parameters", "datetime", {
        "name": "datetime", "in": "query", "required": False, "style": "form",
        "explode": False, "schema": {"type": "string"},
        "description": "RFC 3339 date or interval (../..) / date ou intervalle"}),
    "parameters/featureId": ("parameters", "featureId", {
        "name": "featureId", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "Feature identifier / identifiant de l'élément"}),
    "responses/Collection": ("responses", "Collection", _json_response(
        "A collection / une collection", {"type": "object", "required": ["id", "links"]})),
    "responses/Features": ("responses", "Features", _json_response(
        "Features (GeoJSON FeatureCollection)", {"type": "object",
                                                 "required": ["type", "features"]}, True)),
    "responses/InvalidParameter": ("responses", "InvalidParameter", _error(
        "Invalid parameter (bilingual OGC exception)")),
    "responses/LandingPage": ("responses", "LandingPage", _json_response(
        "Landing page, conformance or collections document", {"type": "object"})),
    "responses/NotFound": ("responses", "NotFound", _error("Not found (bilingual OGC exception)")),
    "responses/ServerError": ("responses", "ServerError", _error("Server error")),
    "responses/NotFound.yaml": ("responses", "NotFound", _error(
        "Not found (bilingual OGC exception)")),
    "responses/ServerError.yaml": ("responses", "ServerError", _error("Server error")),
    "responses/ExecuteAsync.yaml": ("responses", "ExecuteAsync", {
        "description": "Job created: its status document",
        "content": {"application/json": {"schema": {"type": "object",
                                                    "required": ["jobID", "status"]}}}}),
    "responses/ProcessList.yaml": ("responses", "ProcessList", _json_response(
        "The processes / les traitements", {"type": "object", "required": ["processes"]})),
    "schemas/exception.yaml": ("schemas", "exception", _EXCEPTION),
    "schemas/execute.yaml": ("schemas", "execute", {
        "type": "object",
        "properties": {"inputs": {"type": "object"}, "outputs": {"type": "object"},
                       "response": {"type": "string", "enum": ["raw", "document"]},
                       "subscriber": {"type": "object", "properties": {
                           "successUri": {"type": "string"},
                           "inProgressUri": {"type": "string"},
                           "failedUri": {"type": "string"}}}}}),
    "cql2/1.0/cql2.json": ("schemas", "cql2", {"type": "object"}),
    "schemas/link": ("schemas", "link", _LINK),
}


def bundle(oas: dict[str, Any]) -> list[str]:
    """Replace every remote $ref by a local component (see COMPONENTS); the references
    left unknown are returned (a test keeps the list empty)."""
    components = oas.setdefault("components", {})
    unknown: list[str] = []

    def local(ref: str) -> str | None:
        for end, (kind, name, definition) in COMPONENTS.items():
            if ref.endswith(end):
                components.setdefault(kind, {}).setdefault(name, definition)
                return f"#/components/{kind}/{name}"
        return None

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                new = local(ref)
                if new is None:
                    unknown.append(ref)
                else:
                    node["$ref"] = new
            for value in list(node.values()):
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(oas)
    if "exception" not in components.get("schemas", {}):
        components.setdefault("schemas", {})["exception"] = _EXCEPTION
    return unknown


# ---------------------------------------------------------------------------- what is sent
_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
_ALT_TYPES = {"text/html": {"schema": {"type": "string"}},
              "application/ld+json": {"schema": {"type": "object"}}}


def error_response() -> dict:
    """The OpenAPI response of an error: the bilingual OGC exception (for front modules too)."""
    return {"description": "Bilingual OGC exception / exception OGC bilingue",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}}


def annotate(oas: dict[str, Any]) -> None:
    """Name every status code and media type the server sends, beyond pygeoapi's lists:
    204 (OPTIONS, empty tiles), the errors of writes and uploads (401, 403, 409, 412, 413,
    415, 428, 503), and the f= alternatives of JSON documents (HTML, JSON-LD, JSON Schema)."""
    components = oas.setdefault("components", {})
    for name, resp in components.get("responses", {}).items():
        content = resp.get("content") if isinstance(resp, dict) else None
        if isinstance(content, dict) and "application/json" in content:
            for media, spec in _ALT_TYPES.items():
                content.setdefault(media, spec)
            if name in ("Features", "200"):
                content.setdefault("application/geo+json", {"schema": {"type": "object"}})
                content.setdefault("text/csv", {"schema": {"type": "string"}})
            if name in ("Queryables", "200"):
                content.setdefault("application/schema+json", {"schema": {"type": "object"}})
    for path, item in oas.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if method == "options":
                responses.pop("200", None)
                responses.setdefault("204", {"description": "Allowed methods (Allow header)"})
                continue
            if path.endswith("{tileCol}") and "/map/tiles/" not in path:  # raster: transparent
                responses.setdefault("204", {"description": "Empty tile / tuile vide"})
            if method in ("post", "put", "patch", "delete"):
                codes = ("400", "401", "403", "404", "409", "412", "413", "415", "428", "503") \
                    if "/items" in path else ("400", "413", "415", "503")
                for code in codes:
                    responses.setdefault(code, error_response())
            for code, resp in responses.items():
                content = resp.get("content") if isinstance(resp, dict) else None
                if not isinstance(content, dict):
                    continue
                if code == "200" and "/items/" in path and method == "get":
                    # one feature: pygeoapi documents its JSON Schema media type only
                    content.setdefault("application/json", {"schema": {"type": "object"}})
                if "application/json" not in content:
                    continue
                if method == "get":
                    for media, spec in _ALT_TYPES.items():
                        content.setdefault(media, spec)
                if path.endswith(("/queryables", "/schema")):
                    content.setdefault("application/schema+json", {"schema": {"type": "object"}})
                if path.endswith(("/items", "/execution")) or "/items/" in path:
                    content.setdefault("application/geo+json", {"schema": {"type": "object"}})
                if path.endswith("/items") and method == "get":
                    content.setdefault("text/csv", {"schema": {"type": "string"}})
