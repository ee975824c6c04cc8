"""Each pygeoapi patch (services/pygeoapi_compat.py) fails here as soon as pygeoapi changes
underneath it: the source of the function it replaces is pinned, the places where pygeoapi
looks the patched name up are checked, and the pygeoapi behaviour each patch corrects is
checked to still be there (when upstream fixes it, the test says the patch can go).

Also: the HTML templates that replaced the render_j2_template patch (server.templates,
written by services/config.py) name no CDN, and every CDN URL of pygeoapi's templates is
served by /vendor."""
from __future__ import annotations

import importlib.metadata
import inspect
import json
import re
from pathlib import Path

import pygeoapi
import pytest

from services import pygeoapi_compat as compat
from services import vendor

BY_NAME = {p.name: p for p in compat.PATCHES}


@pytest.fixture()
def patched():
    """The patches installed for one test, then removed (other in-process tests see stock
    pygeoapi, as they did before)."""
    was_applied = compat.applied()
    compat.apply()
    yield compat
    if not was_applied:
        compat.restore()


def test_pinned_version_is_installed():
    assert importlib.metadata.version("pygeoapi") == compat.PYGEOAPI_VERSION, \
        "pygeoapi was upgraded: review every patch of services/pygeoapi_compat.py, then " \
        "update the pins (PYGEOAPI_VERSION, source_sha256)"


@pytest.mark.parametrize("patch", compat.PATCHES, ids=lambda p: p.name)
def test_replaced_source_is_unchanged(patch):
    assert compat.source_hash(patch.replaced) == patch.source_sha256, (
        f"{patch.replaced} changed: check patch {patch.name!r} ({patch.why}) still holds; "
        f"upstream fix that would remove it: {patch.upstream}")


@pytest.mark.parametrize("target,pin", compat.EXTRA_PINS.items())
def test_other_replaced_sources_are_unchanged(target, pin):
    assert compat.source_hash(target) == pin, target


@pytest.mark.parametrize("patch", compat.PATCHES, ids=lambda p: p.name)
def test_targets_exist_and_are_looked_up_where_expected(patch):
    for target in patch.targets:
        module, _, attr = target.partition(":")
        assert hasattr(importlib.import_module(module), attr), target
    for module, text in patch.call_sites:
        assert text in compat.module_source(module), (
            f"{module} no longer does `{text}`: patch {patch.name!r} may not apply any more")


@pytest.mark.parametrize("patch", [p for p in compat.PATCHES if p.name != "gettext-dir"],
                         ids=lambda p: p.name)
def test_apply_installs_and_restore_removes(patch):
    was_applied = compat.applied()  # by an earlier test of this process: start from stock
    compat.restore()
    try:
        before = {t: compat._get(t) for t in patch.targets}
        compat.apply()
        try:
            for target, value in before.items():
                assert compat._get(target) is not value, target
                assert compat.original(target) is value, target
        finally:
            compat.restore()
        for target, value in before.items():
            assert compat._get(target) is value, target
    finally:
        if was_applied:
            compat.apply()


def test_each_patch_says_why_and_what_upstream_fix_removes_it():
    for patch in compat.PATCHES:
        assert patch.why and patch.upstream and "\n" not in patch.upstream, patch.name
        assert patch.name in compat.__doc__, patch.name


# ---------------------------------------------------------------------------- behaviours
def test_conformance_declares_filter_and_part4(patched):
    import pygeoapi.api.itemtypes as itemtypes
    classes = itemtypes.CONFORMANCE_CLASSES_FEATURES
    for uri in compat.DECLARED:
        assert uri in classes
    stock = compat.original("pygeoapi.api.itemtypes:CONFORMANCE_CLASSES_FEATURES")
    assert compat.FEATURES_3 + "filter" not in stock, "upstream declares Part 3 filter now"


def test_pygeofilter_still_misreads_a_cql2_json_bbox(patched):
    parse = compat.original("pygeoapi.api.itemtypes:parse_cql2_json")
    stock = parse({"op": "s_intersects", "args": [{"property": "geom"}, {"bbox": [1, 2, 3, 4]}]})
    env = stock.rhs
    assert (env.x1, env.x2, env.y1, env.y2) == (1, 2, 3, 4), \
        "pygeofilter reads bbox in CQL2 order now: patch cql2-json-bbox can go"
    import pygeoapi.api.itemtypes as itemtypes
    ours = itemtypes.parse_cql2_json(json.dumps(
        {"op": "s_intersects", "args": [{"property": "geom"}, {"bbox": [1, 2, 3, 4]}]}))
    import shapely
    assert shapely.geometry.shape(ours.rhs.geometry).bounds == (1, 2, 3, 4)


def test_cql2_text_bbox_becomes_a_polygon(patched):
    from pygeofilter.parsers.cql2_text import parse
    import pygeofilter.values as values
    tree = compat._bbox_function_to_polygon(parse("S_INTERSECTS(geom, BBOX(1, 2, 3, 4))"))
    assert isinstance(tree.rhs, values.Geometry)


def test_pygeoapi_to_json_still_escapes(patched):
    stock = compat.original("pygeoapi.api.itemtypes:to_json")
    assert "&gt;" in stock({"v": ">75"}), "pygeoapi stopped escaping: to_json can go"
    import pygeoapi.api.itemtypes as itemtypes
    assert itemtypes.to_json({"v": ">75"}) == '{"v":">75"}'

    class Raw(list):  # what services.providers.postgis.RawFeatures carries
        raw, _parsed = '[{"type":"Feature"}]', False
    text = itemtypes.to_json({"type": "FeatureCollection", "features": Raw()})
    assert json.loads(text)["features"] == [{"type": "Feature"}]


def test_pygeoapi_transform_bbox_still_takes_two_corners(patched):
    stock = compat.original("pygeoapi.api.itemtypes:transform_bbox")
    source = inspect.getsource(stock)
    assert "transform_bounds" not in source and "densify" not in source, \
        "pygeoapi densifies now: patch transform-bbox may go"
    import pygeoapi.api.itemtypes as itemtypes
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    l93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
    box = [2.2, 50.3, 3.0, 50.6]
    ours = itemtypes.transform_bbox(box, crs84, l93)
    theirs = stock(box, crs84, l93)
    # the densified envelope holds the corners' one
    assert ours[0] <= theirs[0] and ours[1] <= theirs[1]
    assert ours[2] >= theirs[2] and ours[3] >= theirs[3]


def test_get_crs_is_cached(patched):
    import pygeoapi.crs as crs
    import pygeoapi.provider.base as base
    uri = "http://www.opengis.net/def/crs/EPSG/0/2154"
    assert crs.get_crs(uri) is crs.get_crs(uri)
    assert base.get_crs is crs.get_crs
    stock = compat.original("pygeoapi.crs:get_crs")
    assert stock(uri) is not stock(uri), "pygeoapi caches CRS objects: get-crs can go"


def test_gen_collection_still_drops_templated():
    source = inspect.getsource(compat.original("pygeoapi.api:gen_collection"))
    assert "'templated'" not in source and '"templated"' not in source, \
        "pygeoapi keeps templated links now: see patch collection-links"


def test_templated_links_and_coverage_item_type():
    def gen(*args, **kwargs):
        return {"links": [{"href": "https://x/tiles/{tileMatrix}", "rel": "item"},
                          {"href": "https://x/coverage", "rel": compat.COVERAGE_REL},
                          {"href": "https://x/queryables", "rel": compat.FEATURE_ONLY_RELS[0]}]}
    data = compat._templated_links(gen)()
    assert data["links"][0]["templated"] is True
    assert data["itemType"] == "coverage"
    assert all(link["rel"] not in compat.FEATURE_ONLY_RELS for link in data["links"])


def test_typed_geometry_rewrites_pygeoapi_text(monkeypatch):
    monkeypatch.setattr(compat, "_geometry_formats", lambda: {"zae": "geometry-multipolygon"})
    handler = compat._typed_geometry(
        lambda api, request, dataset: ({}, 200, compat.to_json(
            {"properties": {"geometry": {"format": "geometry-any"}}})))
    _, _, content = handler(None, None, "zae")
    assert json.loads(content)["properties"]["geometry"]["format"] == "geometry-multipolygon"


def test_typed_geometry_names_the_https_meta_schema():
    """pygeoapi 0.24 writes http://json-schema.org/draft/2019-09/schema in /queryables and
    /schema (this fails once it writes https, and the rewrite can go)."""
    import pygeoapi.api as core_api
    import pygeoapi.api.itemtypes as itemtypes
    for module in (itemtypes, core_api):
        assert "'http://json-schema.org/draft/2019-09/schema'" in inspect.getsource(module)
    handler = compat._typed_geometry(lambda api, request, dataset: ({}, 200, compat.to_json(
        {"$schema": "http://json-schema.org/draft/2019-09/schema", "type": "object"})))
    _, _, content = handler(None, None, "nope")
    assert json.loads(content)["$schema"] == "https://json-schema.org/draft/2019-09/schema"


def test_gettext_dir(tmp_path):
    from pygeoapi import l10n
    before = l10n.LOCALEDIR
    compat.use_gettext_dir(tmp_path)
    try:
        assert l10n.LOCALEDIR == tmp_path.resolve()
    finally:
        compat.restore()
    assert l10n.LOCALEDIR == before


# ---------------------------------------------------------------------------- templates
PYGEOAPI_TEMPLATES = Path(pygeoapi.__file__).parent / "templates"
CDN = re.compile(r"https?://(?:unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com)/[^\"' )]*")
# pages of pygeoapi this server does not offer with local libraries (AsyncAPI, ReDoc)
NOT_SERVED = ("@asyncapi/react-component", "redoc@")


def test_every_cdn_url_of_pygeoapi_templates_is_served_locally():
    left = set()
    for path in PYGEOAPI_TEMPLATES.rglob("*.html"):
        text = vendor.rewrite_cdn_urls(path.read_text(encoding="utf-8"), "http://h")
        left |= {u for u in CDN.findall(text) if not any(n in u for n in NOT_SERVED)}
    assert not left, f"CDN URLs that services/vendor.py does not map: {sorted(left)}"


def test_written_templates_name_no_cdn(tmp_path):
    from services.config import PROJECT_TEMPLATES, write_templates
    from services.settings import Settings
    out = write_templates(Settings(var_dir=tmp_path, port=5999))
    written = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert Path("_base.html") in written and Path("collections/items/index.html") in written
    for name in (p.relative_to(PROJECT_TEMPLATES) for p in PROJECT_TEMPLATES.rglob("*")
                 if p.is_file()):
        assert name in written, name  # the project's overrides win
    for rel in written:
        text = (out / rel).read_text(encoding="utf-8")
        left = [u for u in CDN.findall(text) if not any(n in u for n in NOT_SERVED)]
        assert not left, (rel, left)
        assert "http://127.0.0.1:5999/vendor/" in text or rel.suffix != ".html" \
            or not CDN.search((PYGEOAPI_TEMPLATES / rel).read_text(encoding="utf-8")
                              if (PYGEOAPI_TEMPLATES / rel).exists() else ""), rel
