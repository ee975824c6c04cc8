"""The styles of styles/index.yml written as QML (QGIS 3.22), SLD 1.1 and MapLibre style JSON.

One definition per style (classes, colours, French and English labels) gives the three files,
so a legend reads the same in QGIS, Lizmap, GeoServer-like SLD clients and the web map.
    python -m services.style_encodings          # rewrites styles/*.qml|sld|mapbox.json
    python -m services.style_encodings --check  # exit 1 if a file differs from index.yml
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid
import xml.etree.ElementTree as ET
import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from processes import yaml_data

STYLES_DIR = Path(__file__).resolve().parent.parent / "styles"
QGIS_VERSION = "3.22.16-Białowieża"
BASE_URL_PLACEHOLDER = "${ARTOIS_PUBLIC_URL}"  # the served copy gets the server's URL
ENCODINGS = {  # name -> (file suffix, media type)
    "qml": (".qml", "application/vnd.qgis.qml"),
    "sld": (".sld", "application/vnd.ogc.sld+xml;version=1.1"),
    "mapbox": (".mapbox.json", "application/vnd.mapbox.style+json"),
}
SYMBOLS = ("point", "line", "fill", "outline", "raster")


@dataclass(frozen=True)
class StyleClass:
    """One legend entry. kind: single | value | range | missing | stop (raster ramp)."""
    kind: str
    color: str
    label: dict[str, str]
    value: Any = None
    min: float | None = None
    max: float | None = None


@dataclass
class Style:
    collection: str
    id: str
    title: dict[str, str]
    description: dict[str, str]
    symbol: str
    classes: list[StyleClass]
    field: str | None = None
    fallback: dict[str, str] | None = None
    width: float = 1.5
    radius: float = 5.0
    opacity: float = 0.7
    ramp: dict[str, Any] = dataclasses.field(default_factory=dict)
    minzoom: int = 0  # Web Mercator zoom from which the layer is drawn (its tiles' first)

    @property
    def name(self) -> str:
        return f"{self.collection}.{self.id}"

    def path(self, encoding: str) -> Path:
        return STYLES_DIR / (self.name + ENCODINGS[encoding][0])


def _style(cid: str, sid: str, raw: dict[str, Any]) -> Style:
    symbol = raw["symbol"]
    if symbol not in SYMBOLS:
        raise ValueError(f"{cid}.{sid}: symbol {symbol!r} not in {SYMBOLS}")
    style = Style(cid, sid, raw["title"], raw["description"], symbol, [],
                  width=raw.get("width", 1.5), radius=raw.get("radius", 5.0),
                  opacity=raw.get("opacity", 0.7), minzoom=int(raw.get("minzoom", 0)))
    if "single" in raw:
        style.classes = [StyleClass("single", raw["single"]["color"], raw["single"]["label"])]
    elif "categories" in raw:
        cat = raw["categories"]
        style.field, style.fallback = cat["field"], cat.get("fallback")
        style.classes = [StyleClass("value", c["color"], c["label"], value=c["value"])
                         for c in cat["classes"]]
    elif "ranges" in raw:
        style.field = raw["ranges"]["field"]
        style.classes = [StyleClass("range", c["color"], c["label"], min=c["min"], max=c["max"])
                         for c in raw["ranges"]["classes"]]
    elif "ramp" in raw:
        style.ramp = json.loads((STYLES_DIR / raw["ramp"]).read_text(encoding="utf-8"))
        style.classes = [StyleClass("stop", s["color"], s["label"], value=s["value"])
                         for s in style.ramp["stops"]]
    else:
        raise ValueError(f"{cid}.{sid}: needs single, categories, ranges or ramp")
    if "missing" in raw:
        missing = raw["missing"]
        style.classes.append(StyleClass("missing", missing["color"], missing["label"]))
    return style


@lru_cache(maxsize=1)
def load_index(path: Path = STYLES_DIR / "index.yml") -> dict[str, dict[str, Style]]:
    """{collection id: {style id: Style}}, in the order of the file ('default' first)."""
    raw = yaml_data.load(path.read_text(encoding="utf-8"))["collections"]
    return {cid: {sid: _style(cid, sid, s) for sid, s in styles.items()}
            for cid, styles in raw.items()}


def _rgba(color: str, alpha: float = 1.0) -> str:
    c = color.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{round(alpha * 255)}"


def _num(x: float) -> str:
    return f"{x:g}"


# --- QML (QGIS 3.22) -------------------------------------------------------------------------

def _qgis_literal(value: Any) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _qgis_input(style: Style) -> str:
    """The expression a class compares: the field, or the field with its fallback."""
    f = f'"{style.field}"'
    if not style.fallback:
        return f
    return (f"CASE WHEN {f} = {_qgis_literal(style.fallback['when'])} "
            f"THEN \"{style.fallback['field']}\" ELSE {f} END")


def _qgis_filter(style: Style, c: StyleClass) -> str:
    f = f'"{style.field}"'
    if c.kind == "missing":
        return f"{f} IS NULL"
    if c.kind == "value":
        compared = f"({_qgis_input(style)})" if style.fallback else f
        return f"{compared} = {_qgis_literal(c.value)}"
    parts = ([f"{f} >= {_num(c.min)}"] if c.min is not None else []) + \
            ([f"{f} < {_num(c.max)}"] if c.max is not None else [])
    return " AND ".join(parts) if parts else f"{f} IS NOT NULL"


def _options(parent: ET.Element, props: dict[str, str]) -> None:
    opt = ET.SubElement(parent, "Option", type="Map")
    for k, v in props.items():
        ET.SubElement(opt, "Option", name=k, value=v, type="QString")


def _qml_symbol(style: Style, c: StyleClass, name: str) -> ET.Element:
    kinds = {"point": ("marker", "SimpleMarker"), "line": ("line", "SimpleLine"),
             "fill": ("fill", "SimpleFill"), "outline": ("fill", "SimpleFill")}
    stype, layer_class = kinds[style.symbol]
    sym = ET.Element("symbol", name=name, type=stype, alpha="1", clip_to_extent="1",
                     force_rhr="0")
    layer = ET.SubElement(sym, "layer", {"class": layer_class, "enabled": "1", "locked": "0",
                                         "pass": "0"})
    if style.symbol == "point":
        props = {"name": "circle", "color": _rgba(c.color), "size": _num(2 * style.radius),
                 "size_unit": "Pixel", "outline_color": "255,255,255,255",
                 "outline_style": "solid", "outline_width": "1", "outline_width_unit": "Pixel",
                 "scale_method": "diameter", "joinstyle": "bevel"}
    elif style.symbol == "line":
        props = {"line_color": _rgba(c.color), "line_width": _num(style.width),
                 "line_width_unit": "Pixel", "line_style": "solid", "capstyle": "round",
                 "joinstyle": "round"}
    elif style.symbol == "fill":
        props = {"color": _rgba(c.color, style.opacity), "style": "solid",
                 "outline_color": _rgba(c.color), "outline_style": "solid",
                 "outline_width": "1", "outline_width_unit": "Pixel", "joinstyle": "bevel"}
    else:  # outline: rings only
        props = {"color": _rgba(c.color, 0), "style": "no", "outline_color": _rgba(c.color),
                 "outline_style": "solid", "outline_width": _num(style.width),
                 "outline_width_unit": "Pixel", "joinstyle": "round"}
    _options(layer, props)
    return sym


def _qml_renderer(style: Style) -> ET.Element:
    symbols = ET.Element("symbols")
    for i, c in enumerate(style.classes):
        symbols.append(_qml_symbol(style, c, str(i)))
    common = {"symbollevels": "0", "forceraster": "0", "enableorderby": "0",
              "referencescale": "-1"}
    if style.classes[0].kind == "single":
        renderer = ET.Element("renderer-v2", type="singleSymbol", **common)
    elif all(c.kind == "value" for c in style.classes):
        attr = _qgis_input(style) if style.fallback else style.field  # a field or an expression
        renderer = ET.Element("renderer-v2", type="categorizedSymbol", attr=attr, **common)
        cats = ET.SubElement(renderer, "categories")
        for i, c in enumerate(style.classes):
            ET.SubElement(cats, "category", render="true", symbol=str(i), value=str(c.value),
                          label=c.label["fr"])
    else:  # ranges or a NULL class: explicit rules, min <= value < max like SLD and MapLibre
        renderer = ET.Element("renderer-v2", type="RuleRenderer", **common)
        rules = ET.SubElement(renderer, "rules", key=_key(style.name))
        for i, c in enumerate(style.classes):
            ET.SubElement(rules, "rule", key=_key(f"{style.name}/{i}"), symbol=str(i),
                          label=c.label["fr"], filter=_qgis_filter(style, c))
    renderer.append(symbols)
    return renderer


def _key(seed: str) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "artois-geo/styles/" + seed)) + "}"


def _qml_raster(style: Style) -> ET.Element:
    ramp = style.ramp
    lo, hi = ramp["rescale"]
    pipe = ET.Element("pipe")
    renderer = ET.SubElement(pipe, "rasterrenderer", type="singlebandpseudocolor", band="1",
                             opacity="1", alphaBand="-1", nodataColor="",
                             classificationMin=_num(lo), classificationMax=_num(hi))
    mmo = ET.SubElement(renderer, "minMaxOrigin")
    ET.SubElement(mmo, "limits").text = "None"
    ET.SubElement(mmo, "extent").text = "WholeRaster"
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader",
                           colorRampType="INTERPOLATED", classificationMode="1",
                           minimumValue=_num(lo), maximumValue=_num(hi), clip="0",
                           labelPrecision="0")
    for c in style.classes:
        ET.SubElement(shader, "item", value=_num(c.value), color=c.color, alpha="255",
                      label=c.label["fr"])
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", invertColors="0",
                  colorizeOn="0", colorizeRed="255", colorizeGreen="128", colorizeBlue="128",
                  colorizeStrength="100")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    return pipe


def qml_elements(style: Style) -> list[ET.Element]:
    """The children of a QML <qgis> root; also what a .qgs <maplayer> embeds."""
    body = _qml_raster(style) if style.symbol == "raster" else _qml_renderer(style)
    blend = ET.Element("blendMode")
    blend.text = "0"
    elements = [body, blend]
    if style.symbol != "raster":
        opacity = ET.Element("layerOpacity")
        opacity.text = "1"
        elements.append(opacity)
    return elements


# Every written file says it is generated (do not edit it: edit styles/index.yml and rerun), and
# .gitattributes marks them linguist-generated; tests/test_styles.py fails when one drifts.
GENERATED_NOTE = ("Generated from styles/index.yml by services/style_encodings.py: do not edit, "
                  "run python -m services.style_encodings.")


def to_qml(style: Style) -> str:
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    if style.symbol != "raster":
        root.set("labelsEnabled", "0")
    root.extend(qml_elements(style))
    ET.indent(root, "  ")
    # QML has no abstract: the English title and description go in a comment
    note = (f"{style.title['fr']} / {style.title['en']}. {style.description['en']} "
            f"{GENERATED_NOTE}").replace("--", "-")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f"<!-- {note} -->\n" + ET.tostring(root, encoding="unicode") + "\n")


# --- SLD 1.1 / SE 1.1 ------------------------------------------------------------------------

NS = {"sld": "http://www.opengis.net/sld", "se": "http://www.opengis.net/se",
      "ogc": "http://www.opengis.net/ogc", "xlink": "http://www.w3.org/1999/xlink",
      "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
for _prefix, _uri in NS.items():
    ET.register_namespace("" if _prefix == "sld" else _prefix, _uri)


def _se(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NS['se']}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _ogc(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NS['ogc']}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _compare(parent: ET.Element, op: str, prop: str, literal: Any) -> None:
    cmp_ = _ogc(parent, op)
    _ogc(cmp_, "PropertyName", prop)
    _ogc(cmp_, "Literal", _num(literal) if isinstance(literal, (int, float)) else str(literal))


def _sld_filter(rule: ET.Element, style: Style, c: StyleClass) -> None:
    if c.kind == "single":
        return
    flt = _ogc(rule, "Filter")
    if c.kind == "missing":
        _ogc(_ogc(flt, "PropertyIsNull"), "PropertyName", style.field)
    elif c.kind == "value" and style.fallback:
        when, other = style.fallback["when"], style.fallback["field"]
        if c.value == when:  # neither side has a facility
            both = _ogc(flt, "And")
            _compare(both, "PropertyIsEqualTo", style.field, when)
            _compare(both, "PropertyIsEqualTo", other, when)
        else:
            either = _ogc(flt, "Or")
            _compare(either, "PropertyIsEqualTo", style.field, c.value)
            second = _ogc(either, "And")
            _compare(second, "PropertyIsEqualTo", style.field, when)
            _compare(second, "PropertyIsEqualTo", other, c.value)
    elif c.kind == "value":
        _compare(flt, "PropertyIsEqualTo", style.field, c.value)
    else:
        bounds = [("PropertyIsGreaterThanOrEqualTo", c.min), ("PropertyIsLessThan", c.max)]
        bounds = [(op, v) for op, v in bounds if v is not None]
        target = _ogc(flt, "And") if len(bounds) == 2 else flt
        for op, v in bounds:
            _compare(target, op, style.field, v)


def _svg(parent: ET.Element, name: str, value: str) -> None:
    _se(parent, "SvgParameter", value, name=name)


def _sld_symbolizer(rule: ET.Element, style: Style, c: StyleClass) -> None:
    if style.symbol == "point":
        graphic = _se(_se(rule, "PointSymbolizer"), "Graphic")
        mark = _se(graphic, "Mark")
        _se(mark, "WellKnownName", "circle")
        _svg(_se(mark, "Fill"), "fill", c.color)
        stroke = _se(mark, "Stroke")
        _svg(stroke, "stroke", "#ffffff")
        _svg(stroke, "stroke-width", "1")
        _se(graphic, "Size", _num(2 * style.radius))
    elif style.symbol == "line":
        stroke = _se(_se(rule, "LineSymbolizer"), "Stroke")
        _svg(stroke, "stroke", c.color)
        _svg(stroke, "stroke-width", _num(style.width))
        _svg(stroke, "stroke-linejoin", "round")
        _svg(stroke, "stroke-linecap", "round")
    else:
        poly = _se(rule, "PolygonSymbolizer")
        if style.symbol == "fill":
            fill = _se(poly, "Fill")
            _svg(fill, "fill", c.color)
            _svg(fill, "fill-opacity", _num(style.opacity))
        stroke = _se(poly, "Stroke")
        _svg(stroke, "stroke", c.color)
        _svg(stroke, "stroke-width", _num(style.width if style.symbol == "outline" else 1))
        _svg(stroke, "stroke-linejoin", "round")


def _describe(parent: ET.Element, title: str, abstract: str) -> None:
    desc = _se(parent, "Description")
    _se(desc, "Title", title)
    _se(desc, "Abstract", abstract)


def to_sld(style: Style) -> str:
    root = ET.Element(f"{{{NS['sld']}}}StyledLayerDescriptor", {
        "version": "1.1.0",
        f"{{{NS['xsi']}}}schemaLocation":
            "http://www.opengis.net/sld "
            "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"})
    layer = ET.SubElement(root, f"{{{NS['sld']}}}NamedLayer")
    _se(layer, "Name", style.collection)
    user = ET.SubElement(layer, f"{{{NS['sld']}}}UserStyle")
    _se(user, "Name", style.id)
    _describe(user, style.title["fr"],
              f"{style.title['en']}. {style.description['en']} / {style.description['fr']}")
    if style.symbol == "raster":
        rule = _se(_se(user, "CoverageStyle"), "Rule")
        _se(rule, "Name", style.ramp["title"]["fr"])
        _describe(rule, style.ramp["title"]["fr"], style.ramp["title"]["en"])
        symbolizer = _se(rule, "RasterSymbolizer")
        _se(symbolizer, "Opacity", "1")
        interpolate = _se(_se(symbolizer, "ColorMap"), "Interpolate", fallbackValue="#00000000",
                          mode="linear", method="color")
        _se(interpolate, "LookupValue", "Rasterdata")
        for c in style.classes:
            point = _se(interpolate, "InterpolationPoint")
            _se(point, "Data", _num(c.value))
            _se(point, "Value", c.color)
    else:
        fts = _se(user, "FeatureTypeStyle")
        for c in style.classes:
            rule = _se(fts, "Rule")
            _se(rule, "Name", c.label["fr"])
            _describe(rule, c.label["fr"], c.label["en"])
            _sld_filter(rule, style, c)
            _sld_symbolizer(rule, style, c)
    ET.indent(root, "  ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<!-- {GENERATED_NOTE} -->\n" + ET.tostring(root, encoding="unicode") + "\n")


# --- MapLibre style JSON (style spec v8) -----------------------------------------------------

def _ml_input(style: Style) -> list:
    get = ["get", style.field]
    if not style.fallback:
        return get
    return ["case", ["==", get, style.fallback["when"]], ["get", style.fallback["field"]], get]


def _ml_condition(style: Style, c: StyleClass) -> list:
    get = ["get", style.field]
    if c.kind == "missing":
        return ["==", get, None]
    if c.kind == "value":
        return ["==", _ml_input(style), c.value]
    cond: list = ["all", ["==", ["typeof", get], "number"]]  # comparisons need a number
    if c.min is not None:
        cond.append([">=", get, c.min])
    if c.max is not None:
        cond.append(["<", get, c.max])
    return cond


def _ml_color_and_filter(style: Style) -> tuple[Any, list | None]:
    classes = style.classes
    if classes[0].kind == "single":
        return classes[0].color, None
    if all(c.kind == "value" for c in classes):
        match: list = ["match", _ml_input(style)]
        for c in classes:
            match += [c.value, c.color]
        match.append("rgba(0, 0, 0, 0)")  # filtered out below, as in QML and SLD
        values = [c.value for c in classes]
        return match, ["match", _ml_input(style), values, True, False]
    case: list = ["case"]
    for c in classes:
        case += [_ml_condition(style, c), c.color]
    case.append("rgba(0, 0, 0, 0)")
    return case, ["any", *[_ml_condition(style, c) for c in classes]]


def _legend(style: Style) -> list[dict[str, Any]]:
    out = []
    for c in style.classes:
        entry: dict[str, Any] = {"color": c.color, "label": c.label}
        if c.kind in ("value", "stop"):
            entry["value"] = c.value
        elif c.kind == "range":
            entry.update(min=c.min, max=c.max)
        elif c.kind == "missing":
            entry["value"] = None
        out.append(entry)
    return out


def tile_url(collection: str, base: str = BASE_URL_PLACEHOLDER, raster: bool = False) -> str:
    if raster:
        return f"{base}/collections/{collection}/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=png"
    return f"{base}/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"


def to_mapbox(style: Style) -> dict[str, Any]:
    cid = style.collection
    layer: dict[str, Any] = {"id": f"{cid}.{style.id}", "source": cid,
                             "metadata": {"artois:legend": _legend(style),
                                          "artois:title": style.title}}
    if style.symbol == "raster":
        source = {"type": "raster", "tiles": [tile_url(cid, raster=True)], "tileSize": 256,
                  "attribution": "Agence d'urbanisme de l'Artois (données de démonstration)"}
        layer.update(type="raster", paint={"raster-opacity": 1})
    else:
        source = {"type": "vector", "tiles": [tile_url(cid)], "minzoom": 0, "maxzoom": 16}
        layer["source-layer"] = cid
        if style.minzoom:
            layer["minzoom"] = style.minzoom
        color, flt = _ml_color_and_filter(style)
        if flt is not None:
            layer["filter"] = flt
        if style.symbol == "point":
            layer.update(type="circle", paint={
                "circle-color": color, "circle-radius": style.radius,
                "circle-stroke-color": "#ffffff", "circle-stroke-width": 1})
        elif style.symbol in ("line", "outline"):
            layer.update(type="line", layout={"line-join": "round", "line-cap": "round"},
                         paint={"line-color": color, "line-width": style.width})
        else:
            layer.update(type="fill", paint={"fill-color": color, "fill-opacity": style.opacity,
                                             "fill-outline-color": color})
    return {
        "version": 8,
        "name": style.title["fr"],
        "metadata": {"artois:collection": cid, "artois:style": style.id,
                     "artois:title": style.title, "artois:description": style.description,
                     "artois:base-url-placeholder": BASE_URL_PLACEHOLDER,
                     "artois:generated": GENERATED_NOTE},
        "sources": {cid: source},
        "layers": [layer],
    }


def encode(style: Style, encoding: str) -> str:
    if encoding == "qml":
        return to_qml(style)
    if encoding == "sld":
        return to_sld(style)
    return json.dumps(to_mapbox(style), ensure_ascii=False, indent=2) + "\n"


def all_styles() -> list[Style]:
    return [s for styles in load_index().values() for s in styles.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for style in all_styles():
        for encoding in ENCODINGS:
            text, path = encode(style, encoding), style.path(encoding)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
                if not args.check:
                    path.write_text(text, encoding="utf-8")
    print(("stale: " if args.check else "written: ") + (", ".join(stale) or "none"))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
