"""A QGIS project (.qgs, readable by QGIS 3.22 and Lizmap) that loads every layer from a running
artois-geo server: vector collections through QGIS's OGC API - Features provider, the
overheating raster as XYZ map tiles, each layer with its style from styles/ embedded.

The XML is written directly (no QGIS needed on the server); tests/test_qgis_project.py opens it
with QGIS 3.22. Served at /qgis/artois.qgs for the server's public URL, or written by:
    python -m services.qgis_project --base-url https://geo.example.org -o artois.qgs
"""
from __future__ import annotations

import argparse
import sys
import uuid
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from pyproj import CRS, Transformer

from services.catalog import CollectionSpec
from services.store import get_catalog
from services.settings import get_settings
from services.style_encodings import QGIS_VERSION, Style, load_index, qml_elements

PROJECT_CRS = "EPSG:2154"
GROUPS = {  # layer tree, top to bottom; within a group, the first layer is drawn on top
    "Territoire": ["communes", "epci", "batiments", "qpv", "habitat-communes", "chiffres-cles",
                   "indicateurs-sociaux"],
    "Friches et foncier": ["friches", "cessions", "zae-lots", "zae", "puits-miniers", "terrils"],
    "Mobilité": ["amenagements-cyclables", "arrets-transport", "echangeurs-autoroutiers",
                 "routes-principales"],
    "Équipements et réseaux": ["commerces-services", "postes-electriques", "reseaux-chaleur"],
    "Nature et patrimoine": ["safn", "zonages-environnementaux", "trame-verte-bleue",
                             "servitudes-patrimoniales"],
    "Risques": ["alea-inondation", "alea-argiles", "bruit", "qualite-air", "sites-icpe",
                "cavites-souterraines"],
    "Climat et énergie": ["cadastre-solaire", "surchauffe", "zones-acceleration-enr"],
    "Territoire de la demi-heure": ["demi-heure", "equipements", "carreaux-200m"],
}
# dense, or support layers of the mutability criteria: switched on by hand
HIDDEN = {"batiments", "alea-argiles", "bruit", "qualite-air", "qpv", "habitat-communes",
          "arrets-transport", "echangeurs-autoroutiers", "routes-principales",
          "commerces-services", "postes-electriques", "reseaux-chaleur",
          "zonages-environnementaux", "trame-verte-bleue", "servitudes-patrimoniales",
          "sites-icpe", "cavites-souterraines", "zones-acceleration-enr",
          "chiffres-cles",  # the key figures: 310 outlines over the communes, read in the table
          "indicateurs-sociaux",  # societal risk matrix: one fill per commune, over the communes
          "equipements", "carreaux-200m",  # half-hour territory: dense support layers
          "cadastre-solaire"}  # one roof per building (as batiments): switched on by hand
TERRITORY_CRS84 = (1.75003, 50.19043, 2.94175, 50.64345)  # the 305 communes, when no manifest
# layers whose features have a sheet (services/fiche.py): their map tip (QGIS, and Lizmap's
# popups when the popup source is "qgis") links to it, and an "open URL" action opens it
SHEETS = {"friches": {"id": "site_id", "title": "Fiche de la friche / Brownfield sheet",
                      "short": "Fiche", "lines": ("comm_nom", "site_statut")}}
WMS_CRS = ["EPSG:2154", "EPSG:3857", "EPSG:4326"]
GEOMETRY = {"Point": "Point", "MultiPoint": "Point", "LineString": "Line",
            "MultiLineString": "Line", "Polygon": "Polygon", "MultiPolygon": "Polygon"}


@lru_cache(maxsize=8)
def _wkt(authid: str) -> str:
    return CRS.from_user_input(authid).to_wkt()


def _srs(parent: ET.Element, authid: str) -> None:
    srs = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(srs, "wkt").text = _wkt(authid)
    ET.SubElement(srs, "authid").text = authid
    ET.SubElement(srs, "srid").text = authid.split(":")[1]
    ET.SubElement(srs, "description").text = CRS.from_user_input(authid).name


def _extent(parent: ET.Element, tag: str, box: tuple[float, ...], **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), box):
        ET.SubElement(el, name).text = repr(float(value))
    return el


def _bboxes() -> dict[str, tuple[float, ...]]:
    """CRS84 extent of each collection from the build manifest (the territory without one)."""
    try:
        manifest = get_catalog().manifest
    except (OSError, ValueError):
        return {}
    return {cid: tuple(entry["extents"]["spatial"]["bbox"]) for cid, entry in manifest.items()
            if entry.get("extents", {}).get("spatial", {}).get("bbox")}


def _project_box(crs84: tuple[float, ...], authid: str) -> tuple[float, ...]:
    return Transformer.from_crs("OGC:CRS84", authid, always_xy=True).transform_bounds(
        *crs84, densify_pts=21)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = text
    return el


def layer_id(cid: str) -> str:
    """A stable id of the form QGIS makes (name_uuid): QGIS 3.22 replaced some bare ids."""
    stable = uuid.uuid5(uuid.NAMESPACE_URL, "artois-geo/layers/" + cid)
    return f"{cid.replace('-', '_')}_{str(stable).replace('-', '_')}"


# features per page that QGIS (and QGIS Server behind Lizmap) asks for: QGIS 3.22 asks for 100
# without it, so the 22,582 squares of carreaux-200m took 226 requests to draw
PAGE_SIZE = 1000


def vector_source(base: str, cid: str) -> str:
    return (f"pageSize='{PAGE_SIZE}' pagingEnabled='true' preferCoordinatesForWfsT11='false' "
            f"restrictToRequestBBOX='1' typename='{cid}' url='{base}' "
            f"version='OGC_API_FEATURES'")


def raster_source(base: str, cid: str) -> str:
    url = f"{base}/collections/{cid}/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=png"
    # QGIS's data-source URI encoding: {, }, = and & of the tile URL are percent-encoded
    return f"type=xyz&url={quote(url, safe=':/?')}&zmax=18&zmin=0"


def _style_manager(layer: ET.Element, styles: dict[str, Style]) -> None:
    """The default style is the layer's own; the others are named styles (WMS STYLES)."""
    manager = ET.SubElement(layer, "map-layer-style-manager", current="default")
    for sid, style in styles.items():
        entry = ET.SubElement(manager, "map-layer-style", name=sid)
        if sid != "default":
            qgis = ET.SubElement(entry, "qgis", version=QGIS_VERSION)
            qgis.extend(qml_elements(style))


def _xyz_pipe() -> list[ET.Element]:
    """An XYZ layer is coloured PNG tiles (the server applies the ramp): colour-data renderer."""
    pipe = ET.Element("pipe")
    renderer = ET.SubElement(pipe, "rasterrenderer", type="singlebandcolordata", band="1",
                             opacity="1", alphaBand="-1", nodataColor="")
    ET.SubElement(renderer, "rasterTransparency")
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", invertColors="0",
                  colorizeOn="0", colorizeRed="255", colorizeGreen="128", colorizeBlue="128",
                  colorizeStrength="100")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    blend = ET.Element("blendMode")
    blend.text = "0"
    return [pipe, blend]


def _maplayer(spec: CollectionSpec, base: str, styles: dict[str, Style],
              crs84: tuple[float, ...]) -> ET.Element:
    raster = spec.kind == "coverage"
    attrs = {"type": "raster" if raster else "vector", "hasScaleBasedVisibilityFlag": "0",
             "minScale": "100000000", "maxScale": "0", "styleCategories": "AllStyleCategories"}
    if not raster:
        geometry = GEOMETRY.get(spec.geometry_type or "", "Unknown")
        attrs.update(geometry=geometry, wkbType=spec.geometry_type or "Unknown",
                     labelsEnabled="0", readOnly="1")
    layer = ET.Element("maplayer", attrs)
    layer_crs = "EPSG:3857" if raster else "EPSG:4326"
    _extent(layer, "extent", _project_box(crs84, layer_crs) if raster else crs84)
    _extent(layer, "wgs84extent", crs84)
    _text(layer, "id", layer_id(spec.id))
    _text(layer, "datasource", raster_source(base, spec.id) if raster
          else vector_source(base, spec.id))
    _text(layer, "shortname", spec.id)  # the WMS/WFS name in QGIS Server and Lizmap
    _text(layer, "title", spec.title["fr"])
    _text(layer, "abstract", f"{spec.description['fr']}\n\n{spec.description['en']}")
    keywords = ET.SubElement(layer, "keywordList")
    for word in spec.keywords.get("fr", []):
        _text(keywords, "value", word)
    _text(layer, "layername", spec.title["fr"])
    _srs(ET.SubElement(layer, "srs"), layer_crs)
    if raster:
        _text(layer, "provider", "wms")
    else:
        _text(layer, "provider", "OAPIF", encoding="UTF-8")
    _style_manager(layer, styles)
    flags = ET.SubElement(layer, "flags")
    for flag, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1"),
                        ("Private", "0")):
        _text(flags, flag, value)
    if spec.id in SHEETS and not raster:
        _sheet(layer, spec, base)
    default = styles.get("default")
    if raster or default is None:
        layer.extend(_xyz_pipe() if raster else [])
    else:
        layer.extend(qml_elements(default))
    return layer


def sheet_url(base: str, cid: str) -> str:
    """The address of a feature's sheet, with the QGIS expression of its id."""
    return f'{base}/collections/{cid}/items/[% "{SHEETS[cid]["id"]}" %]/fiche'


def _sheet(layer: ET.Element, spec: CollectionSpec, base: str) -> None:
    """The map tip and the default action of a layer whose features have a sheet."""
    sheet = SHEETS[spec.id]
    name = f'[% "{spec.title_field or sheet["id"]}" %]'
    lines = "".join(f'<br>[% "{field}" %]' for field in sheet["lines"])
    url = sheet_url(base, spec.id)
    _text(layer, "previewExpression", f'"{spec.title_field or sheet["id"]}"')
    _text(layer, "mapTip", f'<div class="artois-sheet"><strong>{name}</strong> '
                           f'([% "{sheet["id"]}" %]){lines}<br>'
                           f'<a href="{url}" target="_blank">{sheet["title"]}</a></div>')
    actions = ET.SubElement(layer, "attributeactions")
    action_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"artois-geo/sheets/{spec.id}")) + "}"
    ET.SubElement(actions, "defaultAction", key="Canvas", value=action_id)
    setting = ET.SubElement(actions, "actionsetting", {
        "id": action_id, "type": "5",  # QgsAction::OpenUrl
        "name": sheet["title"], "shortTitle": sheet["short"], "action": url, "icon": "",
        "capture": "0", "notificationMessage": "", "isEnabledOnlyWhenEditable": "0"})
    for scope in ("Feature", "Canvas", "Field"):
        ET.SubElement(setting, "actionScope", id=scope)


def _property(parent: ET.Element, name: str, kind: str, value) -> None:
    el = ET.SubElement(parent, name, type=kind)
    if kind == "QStringList":
        for item in value:
            _text(el, "value", str(item))
    else:
        el.text = str(value)


def _ordered(specs: dict[str, CollectionSpec]) -> list[tuple[str, list[str]]]:
    """GROUPS, with any collection it does not name (a new collection file) in its own group."""
    groups = [(name, [cid for cid in ids if cid in specs]) for name, ids in GROUPS.items()]
    placed = {cid for _, ids in groups for cid in ids}
    others = [cid for cid in specs if cid not in placed]
    if others:
        groups.insert(-1, ("Autres couches", others))
    return [(name, ids) for name, ids in groups if ids]


def project_element(base_url: str) -> ET.Element:
    base = base_url.rstrip("/")
    settings = get_settings()
    from services.access import current_view  # the collections the caller may read
    view = current_view()
    specs = {cid: s for cid, s in get_catalog(settings).specs.items() if view.sees(cid)}
    index, bboxes = load_index(), _bboxes()
    territory = bboxes.get("communes", TERRITORY_CRS84)
    title = "Artois – données territoriales (agence d'urbanisme de l'Artois)"
    abstract = ("Couches du serveur OGC API de l'agence d'urbanisme de l'Artois, lues par "
                "OGC API - Features et tuiles XYZ, avec leurs styles. / Layers of the Artois "
                "urban-planning agency's OGC API server, read through OGC API - Features and XYZ "
                f"tiles, with their styles. {base}")

    root = ET.Element("qgis", version=QGIS_VERSION, projectname=title)
    ET.SubElement(root, "homePath", path="")
    _text(root, "title", title)
    _srs(ET.SubElement(root, "projectCrs"), PROJECT_CRS)

    groups = _ordered(specs)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for name, ids in groups:
        group = ET.SubElement(tree, "layer-tree-group", name=name, expanded="1",
                              checked="Qt::Checked")
        ET.SubElement(group, "customproperties")
        for cid in ids:
            raster = specs[cid].kind == "coverage"
            ET.SubElement(group, "layer-tree-layer", {
                "id": layer_id(cid), "name": specs[cid].title["fr"], "expanded": "1",
                "checked": "Qt::Unchecked" if cid in HIDDEN else "Qt::Checked",
                "providerKey": "wms" if raster else "OAPIF",
                "source": raster_source(base, cid) if raster else vector_source(base, cid)})

    layers = ET.SubElement(root, "projectlayers")
    for _, ids in groups:
        for cid in ids:
            layers.append(_maplayer(specs[cid], base, index.get(cid, {}),
                                    bboxes.get(cid, territory)))
    order = ET.SubElement(root, "layerorder")
    for _, ids in groups:
        for cid in ids:
            ET.SubElement(order, "layer", id=layer_id(cid))

    extent = _project_box(territory, PROJECT_CRS)
    vectors = [cid for _, ids in groups for cid in ids if specs[cid].kind != "coverage"]
    props = ET.SubElement(root, "properties")
    srs_props = ET.SubElement(props, "SpatialRefSys")
    _property(srs_props, "ProjectionsEnabled", "int", 1)
    for name, kind, value in (
            ("WMSServiceCapabilities", "bool", "true"),
            ("WMSServiceTitle", "QString", title),
            ("WMSServiceAbstract", "QString", abstract),
            ("WMSOnlineResource", "QString", base),
            ("WMSContactOrganization", "QString", "Agence d'urbanisme de l'Artois"),
            ("WMSKeywordList", "QStringList", ["Artois", "urbanisme", "friches", "OGC API"]),
            ("WMSExtent", "QStringList", [repr(v) for v in extent]),
            ("WMSCrsList", "QStringList", WMS_CRS),
            ("WMSUseLayerIDs", "bool", "true"),
            ("WMSAddWktGeometry", "bool", "true"),
            ("WFSLayers", "QStringList", vectors),
            ("WMSRootName", "QString", "artois")):
        _property(props, name, kind, value)

    view = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    default_view = ET.SubElement(view, "DefaultViewExtent", {
        name: repr(value) for name, value in zip(("xmin", "ymin", "xmax", "ymax"), extent)})
    _srs(default_view, PROJECT_CRS)
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _text(canvas, "units", "meters")
    _extent(canvas, "extent", extent)
    _text(canvas, "rotation", "0")
    _srs(ET.SubElement(canvas, "destinationsrs"), PROJECT_CRS)
    meta = ET.SubElement(root, "projectMetadata")
    _text(meta, "identifier", "artois-geo")
    _text(meta, "language", "fr")
    _text(meta, "title", title)
    _text(meta, "abstract", abstract)
    return root


def project_xml(base_url: str) -> str:
    root = project_element(base_url)
    ET.indent(root, "  ")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            + ET.tostring(root, encoding="unicode") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the QGIS/Lizmap project of a server")
    parser.add_argument("--base-url", default=get_settings().url,
                        help="the server's public URL (default: ARTOIS_PUBLIC_URL or host:port)")
    parser.add_argument("-o", "--output", type=Path, default=Path("artois.qgs"))
    args = parser.parse_args(argv)
    args.output.write_text(project_xml(args.base_url), encoding="utf-8")
    print(f"written: {args.output} ({args.base_url})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
