"""WMTS 1.0 capabilities of a coverage's map tiles (QGIS reads Lambert-93 tiles through its
WMTS client): one layer per summer (`{cid}-{year}`) plus `{cid}` (the latest), each in both
tile matrix sets, with the tile limits of the data. WMTS names the template variables
{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}; the tiles are the OGC map tiles."""
from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from services.tiles import tms as tms_registry
from services.tiles.raster_errors import bad_text
from services.tiles.raster_summers import Coverage, coverage, ramp
from services.tiles.raster_tiles import base_url, tiling

WMTS_MAX_ZOOM = 18
XML_FORMATS = ("", "xml", "application/xml", "text/xml")
_WMTS_CRS = {"WebMercatorQuad": "urn:ogc:def:crs:EPSG::3857", "LAMB93": "urn:ogc:def:crs:EPSG::2154"}


def _wmts_matrix_set(tms_id: str) -> str:
    tms = tms_registry.get(tms_id)
    rows = []
    for z in range(tms.minzoom, min(tms.maxzoom, WMTS_MAX_ZOOM) + 1):
        m = tms.matrix(z)
        x0, y0 = m.pointOfOrigin
        rows.append(
            f"<TileMatrix><ows:Identifier>{m.id}</ows:Identifier>"
            f"<ScaleDenominator>{m.scaleDenominator!r}</ScaleDenominator>"
            f"<TopLeftCorner>{x0!r} {y0!r}</TopLeftCorner>"
            f"<TileWidth>{m.tileWidth}</TileWidth><TileHeight>{m.tileHeight}</TileHeight>"
            f"<MatrixWidth>{m.matrixWidth}</MatrixWidth>"
            f"<MatrixHeight>{m.matrixHeight}</MatrixHeight></TileMatrix>")
    return (f"<TileMatrixSet><ows:Identifier>{tms_id}</ows:Identifier>"
            f"<ows:SupportedCRS>{_WMTS_CRS[tms_id]}</ows:SupportedCRS>{''.join(rows)}"
            f"</TileMatrixSet>")


def _wmts_limits(limits: list[dict]) -> str:
    return "".join(
        f"<TileMatrixLimits><TileMatrix>{lim['tileMatrix']}</TileMatrix>"
        f"<MinTileRow>{lim['minTileRow']}</MinTileRow><MaxTileRow>{lim['maxTileRow']}</MaxTileRow>"
        f"<MinTileCol>{lim['minTileCol']}</MinTileCol><MaxTileCol>{lim['maxTileCol']}</MaxTileCol>"
        f"</TileMatrixLimits>" for lim in limits if int(lim["tileMatrix"]) <= WMTS_MAX_ZOOM)


def wmts_capabilities(base: str, cid: str, cov: Coverage, title: str) -> str:
    """One layer per summer (`{cid}-{year}`) plus `{cid}` (the latest), in both matrix sets."""
    layers = []
    choices = [(cid, None)] + [(f"{cid}-{y}", y) for y in cov.years if y]
    for ident, year in choices:
        path = cov.files[year] if year else cov.latest
        links, bbox = [], None
        for tms_id in tms_registry.ids():
            info = tiling(path, tms_id)
            bbox = info["crs84"]
            links.append(f"<TileMatrixSetLink><TileMatrixSet>{tms_id}</TileMatrixSet>"
                         f"<TileMatrixSetLimits>{_wmts_limits(info['limits'])}"
                         f"</TileMatrixSetLimits></TileMatrixSetLink>")
        query = "f=png" + (f"&datetime={year}" if year else "")
        template = (f"{base}/collections/{cid}/map/tiles/{{TileMatrixSet}}/{{TileMatrix}}/"
                    f"{{TileRow}}/{{TileCol}}?{query}")
        layer_title = f"{title} ({year})" if year else title
        layers.append(
            f"<Layer><ows:Title>{escape(layer_title)}</ows:Title>"
            f"<ows:WGS84BoundingBox><ows:LowerCorner>{bbox[0]} {bbox[1]}</ows:LowerCorner>"
            f"<ows:UpperCorner>{bbox[2]} {bbox[3]}</ows:UpperCorner></ows:WGS84BoundingBox>"
            f"<ows:Identifier>{escape(ident)}</ows:Identifier>"
            f"<Style isDefault=\"true\"><ows:Identifier>default</ows:Identifier>"
            f"<LegendURL format=\"image/png\" xlink:href=\"{escape(base)}/collections/{cid}"
            f"/legend?f=png\"/></Style>"
            f"<Format>image/png</Format>{''.join(links)}"
            f"<ResourceURL format=\"image/png\" resourceType=\"tile\" "
            f"template=\"{escape(template)}\"/></Layer>")
    sets = "".join(_wmts_matrix_set(t) for t in tms_registry.ids())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Capabilities xmlns="http://www.opengis.net/wmts/1.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.opengis.net/wmts/1.0 '
        'http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" version="1.0.0">'
        f"<ows:ServiceIdentification><ows:Title>{escape(title)}</ows:Title>"
        "<ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0"
        "</ows:ServiceTypeVersion></ows:ServiceIdentification>"
        f"<Contents>{''.join(layers)}{sets}</Contents>"
        f"<ServiceMetadataURL xlink:href=\"{escape(base)}/collections/{cid}/map/tiles/"
        f"WMTSCapabilities.xml\"/></Capabilities>")


async def wmts(request: Request):
    cid = request.path_params["collectionId"]
    cov = coverage(cid)
    fmt = (request.query_params.get("f") or "").lower()
    if fmt not in XML_FORMATS:
        raise bad_text("xml_only", fmt=fmt[:40])
    spec = ramp(cid) or {}
    title = (spec.get("title") or {}).get("fr", cid)
    xml = await run_in_threadpool(wmts_capabilities, base_url(), cid, cov, title)
    return Response(xml, media_type="application/xml")
