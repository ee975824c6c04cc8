"""Raster map tiles of the coverage collections, with titiler-core; coverage subsets; legends.

The front module (services/front.py) of the coverage collections. Its parts, by concern:

  raster_summers   which file: the manifest's coverages, the summers, `datetime`; the ramps
  raster_params    the titiler parameters as typed, bounded dependencies; CRSs; tile checks
  raster_titiler   the titiler-core TilerFactory, its reader and renderer, its error handlers
  raster_etag      the ETags of rendered tiles (304 before rendering)
  raster_tiles     the OGC map tile routes, TileJSON, /point (thin routes around titiler)
  raster_wmts      WMTS 1.0 capabilities (QGIS, Lambert-93)
  raster_coverage  GeoTIFF coverage subsets (bbox, bbox-crs, crs, datetime); pygeoapi's bounds
  raster_legend    the colour ramp as JSON or PNG
  raster_errors    bilingual OGC exceptions and their texts

Routes:

  /collections/{cid}/map/tiles                              tilesets list (JSON)
  /collections/{cid}/map/tiles/{tms}                        tileset metadata (JSON)
  /collections/{cid}/map/tiles/{tms}/tilejson.json          TileJSON 3.0
  /collections/{cid}/map/tiles/{tms}/{tileMatrix}/{tileRow}/{tileCol}   PNG (default) or WebP
  /collections/{cid}/map/tiles/WMTSCapabilities.xml         WMTS 1.0 (QGIS, Lambert-93)
  /collections/{cid}/legend                                 the colour ramp, JSON or PNG
  /collections/{cid}/point?lon=&lat=                        the value at a point (titiler /point)
  /collections/{cid}/titiler/...                            titiler's own routes (bounded)
  /collections/{cid}/coverage?bbox=&bbox-crs=&crs=&datetime=&f=GTiff   a GeoTIFF subset

The titiler `path_dependency` maps the collection id and the `datetime` query to one of the
server's own COG files from the build manifest: there is no `url=` parameter, so no request can
make the server read another file or URL (SSRF). The default colours come from
styles/{cid}.ramp.json (the one ramp shared with the QML, SLD and MapLibre styles).

A tile inside the tile matrix set but outside the data is 204 No Content (as the vector tiles);
a tile outside the set is a 404; coordinates that are not integers, an unknown format or a bad
or out-of-bounds parameter are a 400. Every error is a bilingual JSON OGC exception.
"""
from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from services.tiles.raster_coverage import coverage_subset, parse_bbox, subset_geotiff  # noqa: F401
from services.tiles.raster_errors import CoverageError  # noqa: F401 - used by processes
from services.tiles.raster_legend import legend
from services.tiles.raster_summers import (Coverage, coverage, dataset_path,  # noqa: F401
                                           ramp, ramp_colormap, select_year, summer_bounds)
from services.tiles.raster_tiles import (ASGI, LEGEND_REL, OGC_TEMPLATE, handled,
                                         point_endpoint, tile_endpoint, tilejson,
                                         tileset_metadata, tilesets_list)
from services.tiles.raster_titiler import titiler_app, titiler_passthrough  # noqa: F401
from services.tiles.raster_wmts import wmts

MAP_TILES_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"


# --------------------------------------------------------------------------------------------
# Front module interface
# --------------------------------------------------------------------------------------------
def routes() -> list[BaseRoute]:
    cid = "/collections/{collectionId}"
    return [
        Route(cid + "/map/tiles", handled(tilesets_list), methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/WMTSCapabilities.xml", handled(wmts), methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/{tms}", handled(tileset_metadata), methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/{tms}/tilejson.json", handled(tilejson),
              methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/{tms}/{tileMatrix}/{tileRow}/{tileCol}", tile_endpoint,
              methods=["GET", "HEAD"]),
        Route(cid + "/legend", handled(legend), methods=["GET", "HEAD"]),
        Route(cid + "/point", point_endpoint, methods=["GET", "HEAD"]),
        Route(cid + "/titiler/{rest:path}", ASGI(titiler_passthrough), methods=["GET", "HEAD"]),
        Route(cid + "/coverage", ASGI(coverage_subset), methods=["GET", "HEAD"]),
    ]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    if getattr(spec, "kind", None) != "coverage":
        return []
    base, cid = base_url.rstrip("/"), spec.id
    return [
        {"rel": MAP_TILES_REL, "type": "application/json",
         "title": "Tuiles cartographiques / Map tiles",
         "href": f"{base}/collections/{cid}/map/tiles"},
        {"rel": "item", "type": "image/png", "templated": True,
         "title": "Tuile PNG (WebMercatorQuad) / PNG tile",
         "href": f"{base}/collections/{cid}/map/tiles/WebMercatorQuad/{OGC_TEMPLATE}?f=png"},
        {"rel": LEGEND_REL, "type": "image/png", "title": "Légende / Legend",
         "href": f"{base}/collections/{cid}/legend?f=png"},
        {"rel": "describedby", "type": "application/json",
         "title": "Légende (rampe de couleurs) / Legend (colour ramp)",
         "href": f"{base}/collections/{cid}/legend"},
        {"rel": "alternate", "type": "application/xml", "title": "WMTS 1.0",
         "href": f"{base}/collections/{cid}/map/tiles/WMTSCapabilities.xml"},
    ]


def conformance() -> list[str]:
    tiles = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
    cov = "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/"
    return ([tiles + c for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "png")]
            + [cov + c for c in ("geodata-coverage", "coverage-subset", "coverage-bbox",
                                 "coverage-datetime", "coverage-crs", "geotiff")])
