"""Styles: every collection has a QML, an SLD 1.1 and a MapLibre style with the same classes;
MapLibre's own validator accepts the JSON, QGIS 3.22 loads the QML and SLD and draws them, and
the OGC API Styles endpoints serve them on both stores."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import morecantile
import pytest

from reference import CATALOG
from qgis_runner import SKIP_REASON, qgis_available, run_client
from services.style_encodings import (BASE_URL_PLACEHOLDER, ENCODINGS, Style, all_styles,
                                      load_index)
from services.style_encodings import main as write_styles

PROJECT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("ARTOIS_VAR_DIR", PROJECT / "var"))
STYLES = {s.name: s for s in all_styles()}
SE = "{http://www.opengis.net/se}"
OGC = "{http://www.opengis.net/ogc}"


# --- reading each encoding back: [(key, colour, French label or None)] ----------------------

def _hex(rgba: str) -> str:
    r, g, b = (int(v) for v in rgba.split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _qgis_filter_key(expr: str) -> tuple:
    if expr.endswith(" IS NULL"):
        return ("missing",)
    equal = re.search(r"= '((?:[^']|'')*)'$", expr)
    if equal:
        return ("value", equal.group(1).replace("''", "'"))
    low = re.search(r">= ([-\d.]+)", expr)
    high = re.search(r"< ([-\d.]+)", expr)
    return ("range", float(low.group(1)) if low else None, float(high.group(1)) if high else None)


def qml_classes(text: str) -> list[tuple]:
    root = ET.fromstring(text.split("\n", 1)[1])  # after the DOCTYPE line
    shader = root.find(".//colorrampshader")
    if shader is not None:
        return [(("stop", float(i.get("value"))), i.get("color"), i.get("label"))
                for i in shader.findall("item")]
    renderer = root.find("renderer-v2")
    colours = {}
    for symbol in renderer.find("symbols"):
        props = {o.get("name"): o.get("value") for o in symbol.find("layer/Option")}
        key = {"marker": "color", "line": "line_color", "fill": "outline_color"}[symbol.get("type")]
        colours[symbol.get("name")] = _hex(props[key])
    kind = renderer.get("type")
    if kind == "singleSymbol":
        return [(("single",), colours["0"], None)]
    if kind == "categorizedSymbol":
        return [(("value", c.get("value")), colours[c.get("symbol")], c.get("label"))
                for c in renderer.find("categories")]
    return [(_qgis_filter_key(r.get("filter")), colours[r.get("symbol")], r.get("label"))
            for r in renderer.find("rules")]


def _sld_key(rule: ET.Element) -> tuple:
    flt = rule.find(f"{OGC}Filter")
    if flt is None:
        return ("single",)
    if flt.find(f"{OGC}PropertyIsNull") is not None:
        return ("missing",)
    equal = flt.find(f".//{OGC}PropertyIsEqualTo/{OGC}Literal")
    if equal is not None:
        return ("value", equal.text)
    low = flt.find(f".//{OGC}PropertyIsGreaterThanOrEqualTo/{OGC}Literal")
    high = flt.find(f".//{OGC}PropertyIsLessThan/{OGC}Literal")
    return ("range", float(low.text) if low is not None else None,
            float(high.text) if high is not None else None)


def sld_classes(text: str) -> list[tuple]:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.get("version") == "1.1.0"
    points = root.findall(f".//{SE}InterpolationPoint")
    if points:
        return [(("stop", float(p.find(f"{SE}Data").text)), p.find(f"{SE}Value").text, None)
                for p in points]
    out = []
    for rule in root.iter(f"{SE}Rule"):
        params = {p.get("name"): p.text for p in rule.iter(f"{SE}SvgParameter")}
        colour = params.get("fill") if rule.find(f"{SE}PointSymbolizer") is not None \
            else params.get("stroke")
        out.append((_sld_key(rule), colour, rule.find(f"{SE}Description/{SE}Title").text))
    return out


def _maplibre_key(cond: list) -> tuple:
    if cond[0] == "==" and cond[2] is None:
        return ("missing",)
    if cond[0] == "==":
        return ("value", str(cond[2]))
    bounds = {c[0]: c[2] for c in cond[1:] if c[0] in (">=", "<")}
    return ("range", bounds.get(">="), bounds.get("<"))


def maplibre_classes(doc: dict) -> list[tuple]:
    assert doc["version"] == 8 and len(doc["layers"]) == 1
    layer = doc["layers"][0]
    legend = layer["metadata"]["artois:legend"]
    labels = [entry["label"]["fr"] for entry in legend]
    if layer["type"] == "raster":
        return [(("stop", float(e["value"])), e["color"], e["label"]["fr"]) for e in legend]
    colour = layer["paint"][{"circle": "circle-color", "line": "line-color",
                             "fill": "fill-color"}[layer["type"]]]
    if isinstance(colour, str):
        pairs = [(("single",), colour)]
    elif colour[0] == "match":
        body = colour[2:-1]
        pairs = [(("value", str(v)), c) for v, c in zip(body[::2], body[1::2])]
        assert layer["filter"][2] == [v for v in body[::2]]  # only the classes are drawn
    else:
        body = colour[1:-1]
        pairs = [(_maplibre_key(cond), c) for cond, c in zip(body[::2], body[1::2])]
        assert [_maplibre_key(c) for c in layer["filter"][1:]] == [k for k, _ in pairs]
    return [(key, c, label) for (key, c), label in zip(pairs, labels, strict=True)]


def _key(c) -> tuple:
    if c.kind in ("single", "missing"):
        return (c.kind,)
    if c.kind == "range":
        return ("range", c.min, c.max)
    return ("stop", float(c.value)) if c.kind == "stop" else ("value", str(c.value))


def expected(style: Style) -> list[tuple]:
    return [(_key(c), c.color, c.label["fr"]) for c in style.classes]


def _without_labels(classes: list[tuple]) -> list[tuple]:
    return [(key, colour) for key, colour, _ in classes]


# --- the files ---------------------------------------------------------------------------------

def test_style_files_are_written_from_the_index():
    assert write_styles(["--check"]) == 0, "run: python -m services.style_encodings"
    # each written file says so (generated, not edited by hand) and git marks it generated
    written = [p for p in (PROJECT / "styles").iterdir() if p.name.endswith((".qml", ".sld", ".mapbox.json"))]
    assert len(written) >= 3 * len(load_index())
    for path in written:
        assert "Generated from styles/index.yml" in path.read_text(encoding="utf-8"), path.name
    attributes = (PROJECT / ".gitattributes").read_text(encoding="utf-8")
    for suffix in ("qml", "sld", "mapbox.json"):
        assert f"styles/*.{suffix} linguist-generated=true" in attributes


def test_every_collection_has_a_default_style_in_three_encodings():
    index = load_index()
    assert set(index) == set(CATALOG)
    for cid, styles in index.items():
        assert next(iter(styles)) == "default", cid
        for style in styles.values():
            for encoding in ENCODINGS:
                assert style.path(encoding).is_file(), style.path(encoding)
    assert set(index["friches"]) >= {"default", "mutabilite"}


@pytest.mark.parametrize("name", sorted(STYLES))
def test_three_encodings_have_the_same_classes(name):
    style = STYLES[name]
    want = expected(style)
    qml = qml_classes(style.path("qml").read_text(encoding="utf-8"))
    sld = sld_classes(style.path("sld").read_text(encoding="utf-8"))
    maplibre = maplibre_classes(json.loads(style.path("mapbox").read_text(encoding="utf-8")))
    assert maplibre == want
    assert _without_labels(qml) == _without_labels(want)
    assert _without_labels(sld) == _without_labels(want)
    if style.classes[0].kind != "single":  # a single symbol has no legend label in QML
        assert [label for *_, label in qml] == [label for *_, label in want]
    if style.symbol != "raster":  # an SE 1.1 colour map has no labels
        assert [label for *_, label in sld] == [label for *_, label in want]


def test_overheating_uses_the_shared_ramp():
    ramp = json.loads((PROJECT / "styles" / "surchauffe.ramp.json").read_text(encoding="utf-8"))
    style = STYLES["surchauffe.default"]
    assert [(s["value"], s["color"]) for s in ramp["stops"]] == \
        [(c.value, c.color) for c in style.classes]
    doc = json.loads(style.path("mapbox").read_text(encoding="utf-8"))
    tiles = "/collections/surchauffe/map/tiles/WebMercatorQuad/{z}/{y}/{x}?f=png"
    assert doc["sources"]["surchauffe"]["tiles"] == [BASE_URL_PLACEHOLDER + tiles]


def _store_values(cid: str, field: str) -> list:
    gpkg = VAR / "store" / f"{cid}.gpkg"
    with sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True) as con:
        table = cid.replace("-", "_")
        columns = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
        if field not in columns:
            # e.g. the mutability scores before any batch run: every feature is unscored (and
            # SQLite would read the unknown "field" as a string literal)
            return [None]
        return [row[0] for row in con.execute(f'SELECT DISTINCT "{field}" FROM "{table}"')]


@pytest.mark.parametrize("name", sorted(n for n, s in STYLES.items() if s.field))
def test_classes_cover_the_real_values(name, manifest):
    """No feature of the built store falls outside the classes (it would not be drawn)."""
    style = STYLES[name]
    values = _store_values(style.collection, style.field)
    if style.fallback:
        values = [v for v in values if v != style.fallback["when"]] + \
            _store_values(style.collection, style.fallback["field"])
    kinds = {c.kind for c in style.classes}
    for value in values:
        if value is None:
            assert "missing" in kinds, f"{name}: NULL {style.field} has no class"
        elif "value" in kinds:
            assert value in {c.value for c in style.classes}, f"{name}: {value!r} has no class"
        else:
            assert any((c.min is None or value >= c.min) and (c.max is None or value < c.max)
                       for c in style.classes if c.kind == "range"), f"{name}: {value}"
    enum = CATALOG[style.collection].fields.get(style.field, {}).get("enum")
    if enum and "value" in kinds:  # classes name only values of the collection's code list
        assert {c.value for c in style.classes if c.kind == "value"} <= set(enum) | set(values), \
            name


# --- MapLibre's validator (npm) ----------------------------------------------------------------

@pytest.fixture(scope="session")
def gl_style_validate() -> Path:
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is missing (Debian package npm): the MapLibre style validator "
                    "@maplibre/maplibre-gl-style-spec is installed with it")
    prefix = VAR / "npm-tools"
    tool = prefix / "node_modules" / ".bin" / "gl-style-validate"
    if not tool.exists():
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                        "@maplibre/maplibre-gl-style-spec@26"], check=True, timeout=600,
                       capture_output=True)
    return tool


def validate_maplibre(tool: Path, path: Path) -> list:
    proc = subprocess.run([str(tool), "--json", str(path)], capture_output=True, text=True,
                          timeout=60)
    return json.loads(proc.stdout or "[]") if proc.returncode else []


@pytest.mark.parametrize("name", sorted(STYLES))
def test_maplibre_validator_accepts_the_style(name, gl_style_validate):
    assert validate_maplibre(gl_style_validate, STYLES[name].path("mapbox")) == []


def test_maplibre_validator_catches_an_error(gl_style_validate, tmp_path):
    """The validator really validates: a broken copy is refused."""
    doc = json.loads(STYLES["friches.default"].path("mapbox").read_text(encoding="utf-8"))
    doc["layers"][0]["paint"]["circle-color"] = ["match", ["get", "site_statut"], "x"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert validate_maplibre(gl_style_validate, bad)


# --- QGIS 3.22 -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def qgis_loaded(manifest) -> dict:
    if not qgis_available():
        pytest.skip(SKIP_REASON)
    jobs = []
    for style in STYLES.values():
        entry = manifest[style.collection]
        for encoding in ("qml", "sld"):
            if style.symbol == "raster" and encoding == "sld":
                continue  # QGIS 3.22 reads no raster SLD ("Layer type 1 not supported")
            raster = style.symbol == "raster"
            jobs.append({"name": style.name, "encoding": encoding,
                         "style": str(style.path(encoding)),
                         "provider": "gdal" if raster else "ogr",
                         "source": entry["data"] if raster
                         else f"{entry['data']}|layername={entry['table']}"})
    return run_client("qgis_styles.py", json.dumps(jobs))


@pytest.mark.parametrize("encoding", ["qml", "sld"])
@pytest.mark.parametrize("name", sorted(STYLES))
def test_qgis_loads_and_draws_the_style(name, encoding, qgis_loaded):
    style = STYLES[name]
    if style.symbol == "raster" and encoding == "sld":
        pytest.skip("QGIS 3.22 has no SLD reader for raster layers; the SE 1.1 colour map is "
                    "checked against the ramp in test_three_encodings_have_the_same_classes")
    seen = qgis_loaded[f"{name}:{encoding}"]
    assert seen["valid"], name
    assert seen["ok"] and seen["message"] == "", (name, seen["message"])
    assert seen["render"]["painted"] > 50 and seen["render"]["errors"] == [], seen["render"]
    want = expected(style)
    assert [item["color"] for item in seen["legend"]] == [colour for _, colour, _ in want]
    if style.classes[0].kind != "single":
        assert [item["label"] for item in seen["legend"]] == [label for *_, label in want]


# --- the OGC API Styles endpoints, on both stores ------------------------------------------------

def test_styles_of_every_collection(server):
    for cid, styles in load_index().items():
        body = server.json(f"/collections/{cid}/styles")
        assert body["default"] == "default"
        assert [s["id"] for s in body["styles"]] == list(styles)
        for entry in body["styles"]:
            sheets = {link["type"]: link["href"] for link in entry["links"]
                      if link["rel"] == "stylesheet"}
            assert set(sheets) == {media for _, media in ENCODINGS.values()}
            assert all(href.startswith(server.url) for href in sheets.values())


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_every_stylesheet_is_served(server, encoding):
    suffix, media = ENCODINGS[encoding]
    for style in STYLES.values():
        r = server.get(f"/collections/{style.collection}/styles/{style.id}?f={encoding}")
        assert r.status_code == 200, (style.name, r.text[:300])
        assert r.headers["content-type"].startswith(media)
        want = style.path(encoding).read_text(encoding="utf-8")
        assert r.text == want.replace(BASE_URL_PLACEHOLDER, server.url)
        assert BASE_URL_PLACEHOLDER not in r.text


def test_accept_header_chooses_the_encoding(server):
    path = "/collections/zae/styles/default"
    for encoding, (_, media) in ENCODINGS.items():
        r = server.get(path, headers={"Accept": media.split(";")[0]})
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), encoding
    r = server.get(path, headers={"Accept": "application/vnd.qgis.qml;q=0.5, "
                                            "application/vnd.ogc.sld+xml;q=0.9"})
    assert r.headers["content-type"].startswith("application/vnd.ogc.sld+xml")
    assert server.get(path).headers["content-type"].startswith("application/vnd.mapbox.style+json")


def test_served_maplibre_style_reaches_the_tiles(server, gl_style_validate, tmp_path):
    """The tile URLs of a served style answer: a vector tile over Lens, a raster tile."""
    lens = morecantile.tms.get("WebMercatorQuad").tile(2.83, 50.43, 9)
    for name in ("friches.default", "surchauffe.default"):
        style, (x, y, z) = STYLES[name], lens
        r = server.get(f"/collections/{style.collection}/styles/{style.id}?f=mapbox")
        served = tmp_path / f"{name}.json"
        served.write_text(r.text)
        assert validate_maplibre(gl_style_validate, served) == []
        url = r.json()["sources"][style.collection]["tiles"][0]
        tile = server.http.get(url.replace("{z}", str(z)).replace("{x}", str(x))
                               .replace("{y}", str(y)), timeout=60)
        assert tile.status_code == 200, (url, tile.status_code, tile.text[:300])
        assert len(tile.content) > 100
        assert tile.headers["content-type"].startswith(
            "image/png" if style.symbol == "raster" else "application/vnd.mapbox-vector-tile")


def test_collection_metadata_links_to_its_styles(server):
    for cid in load_index():
        links = server.json(f"/collections/{cid}")["links"]
        rels = [link for link in links
                if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/styles"]
        assert [link["href"] for link in rels] == [f"{server.url}/collections/{cid}/styles"]
        sheets = {link["type"]: link["href"] for link in links if link["rel"] == "stylesheet"}
        assert sheets == {media: f"{server.url}/collections/{cid}/styles/default?f={enc}"
                          for enc, (_, media) in ENCODINGS.items()}


def test_style_metadata_and_all_styles(server):
    meta = server.json("/collections/friches/styles/mutabilite/metadata")
    assert meta["id"] == "mutabilite" and meta["scope"] == "style"
    assert meta["layers"][0]["id"] == "friches" and meta["layers"][0]["type"] == "point"
    assert {s["link"]["type"] for s in meta["stylesheets"]} == \
        {media for _, media in ENCODINGS.values()}
    assert meta["legend"][-1]["label"] == {"fr": "Non évalué", "en": "Not assessed"}
    assert server.json("/collections/friches/styles/default/metadata?lang=en")["title"] == \
        "Brownfields by status"
    everything = server.json("/styles")
    assert sorted(f"{s['collection']}.{s['id']}" for s in everything["styles"]) == sorted(STYLES)
    conformance = server.json("/conformance")["conformsTo"]
    for cls in ("core", "mapbox-styles", "sld-11"):
        assert f"http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/{cls}" in conformance


@pytest.mark.parametrize("path,status", [
    ("/collections/inconnue/styles", 404),
    ("/collections/inconnue/styles/default", 404),
    ("/collections/friches/styles/inconnu", 404),
    ("/collections/friches/styles/inconnu/metadata", 404),
    ("/collections/friches/styles/..%2F..%2Fpyproject.toml", 404),
    ("/collections/friches/styles/index.yml", 404),
    ("/collections/friches/styles/default?f=png", 400),
    ("/collections/friches/styles/default?f=../index", 400),
])
def test_bad_style_requests_are_bilingual_errors(server, path, status):
    r = server.get(path)
    assert r.status_code == status, (path, r.status_code, r.text[:300])
    body = r.json()
    assert body["description_fr"] and body["description_en"]


def test_unacceptable_media_type(server):
    r = server.get("/collections/friches/styles/default", headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert r.json()["description_en"].startswith("No style encoding")


def test_a_layer_is_drawn_from_the_zoom_its_tiles_hold_it():
    """A collection's tile_min_zoom (its vector tiles leave it out below) is the minzoom of
    its MapLibre styles, so that a web map asks for no tile it would not get."""
    import json

    from services.catalog import load_catalog
    from services.settings import get_settings
    from services.style_encodings import STYLES_DIR

    for spec in load_catalog(get_settings().collections_dir):
        for path in STYLES_DIR.glob(f"{spec.id}.*.mapbox.json"):
            style = json.loads(path.read_text(encoding="utf-8"))
            for layer in style["layers"]:
                assert layer.get("minzoom", 0) >= spec.tile_min_zoom, (path.name, layer["id"])
