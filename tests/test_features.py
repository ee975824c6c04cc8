"""OGC API Features Parts 1-3 over real HTTP, checked against geopandas references."""
from __future__ import annotations

import csv
import io
import json

import pytest
import shapely

from reference import (CATALOG, COVERAGES, FEATURE_COLLECTIONS, box_in_2154,
                       exact_box_in_2154, ids_intersecting, reference)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
LAMBERT = EPSG + "2154"
# A box around Béthune (lon/lat), and the same place in Lambert-93.
BETHUNE = (2.58, 50.49, 2.70, 50.56)
BETHUNE_L93 = (670000.0, 7040000.0, 684000.0, 7048000.0)


def all_items(server, collection: str, params: dict | None = None, page: int = 1000) -> list[dict]:
    """Every item, by following `next` links as clients do."""
    url = f"/collections/{collection}/items"
    query = {"limit": page, **(params or {})}
    feats = []
    body = server.json(url, params=query)
    while True:
        feats.extend(body["features"])
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return feats
        r = server.http.get(nxt[0]["href"], timeout=60)
        assert r.status_code == 200
        body = r.json()


def ids(features: list[dict]) -> set[str]:
    return {str(f["id"]) for f in features}


# ---------------------------------------------------------------------------- landing
def test_landing_conformance_openapi(server):
    landing = server.json("/")
    rels = {link["rel"] for link in landing["links"]}
    assert {"service-desc", "conformance", "data"} <= rels
    conf = set(server.json("/conformance")["conformsTo"])
    for cls in ("ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/features-filter",
                "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/basic-cql2", "cql2/1.0/conf/cql2-json",
                "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-1/1.0/conf/core"):
        assert f"http://www.opengis.net/spec/{cls}" in conf
    r = server.get("/openapi", params={"f": "json"})
    assert r.status_code == 200 and "/collections/friches/items" in r.json()["paths"]


def test_every_collection_listed(server):
    listed = {c["id"] for c in server.json("/collections")["collections"]}
    assert set(CATALOG) <= listed


# ---------------------------------------------------------------------------- metadata
@pytest.mark.parametrize("cid", FEATURE_COLLECTIONS)
def test_collection_metadata(server, cid):
    spec = CATALOG[cid]
    fr = server.json(f"/collections/{cid}", params={"lang": "fr"})
    en = server.json(f"/collections/{cid}", params={"lang": "en"})
    assert fr["title"] == spec.title["fr"] and en["title"] == spec.title["en"]
    assert fr["storageCrs"] == LAMBERT
    assert set(fr["crs"]) >= {CRS84, EPSG + "4326", LAMBERT, EPSG + "3857"}
    minx, miny, maxx, maxy = fr["extent"]["spatial"]["bbox"][0]
    assert 1.5 < minx < maxx < 3.3 and 50.1 < miny < maxy < 50.8  # Artois
    assert any(link["rel"] == "license" for link in fr["links"])
    if spec.demo:
        assert "démonstration" in fr["description"].lower()
        assert "demonstration" in en["description"].lower()
    else:
        assert spec.provenance and any(link["rel"] == "describedby" for link in fr["links"])
    if spec.time_field:
        assert fr["extent"]["temporal"]["interval"][0][0] is not None
    kw = fr.get("keywords")
    assert kw


@pytest.mark.parametrize("cid", FEATURE_COLLECTIONS)
def test_queryables_are_typed(server, cid):
    spec = CATALOG[cid]
    q = server.json(f"/collections/{cid}/queryables")
    props = q["properties"]
    ref = reference(cid)
    # properties of a restricted read tier are not queryable by anonymous callers (issue 18)
    hidden = {name for name, field in (spec.fields or {}).items()
              if (field.get("access") or "public") != "public"}
    for column in ref.columns:
        if column == "geometry":
            continue
        assert (column in props) == (column not in hidden), column
        if column in props:
            assert props[column]["type"] in ("string", "integer", "number", "boolean")
    for name, field in (spec.fields or {}).items():
        if field.get("enum") and name not in hidden:
            assert props[name]["enum"] == field["enum"]
    # the geometry's type, and every feature has it
    fmt = props["geometry"]["format"]
    assert fmt == "geometry-" + spec.geometry_type.lower()
    schema = server.json(f"/collections/{cid}/schema")
    assert schema["properties"]["geometry"]["format"] == fmt
    page = server.json(f"/collections/{cid}/items", params={"limit": 200})
    assert {f["geometry"]["type"] for f in page["features"]} == {spec.geometry_type}


def test_schema_names_the_geometry_and_id(server):
    r = server.get("/collections/friches/schema")
    assert r.status_code == 200, r.text[:300]
    props = r.json()["properties"]
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert props["site_id"]["x-ogc-role"] == "id"
    assert props["unite_fonciere_surface"]["type"] == "number"


# ---------------------------------------------------------------------------- Part 1
@pytest.mark.parametrize("cid", FEATURE_COLLECTIONS)
def test_all_items_by_next_links(server, cid):
    """numberMatched is exact and `next` links walk the whole collection, no duplicates."""
    ref = reference(cid)
    first = server.json(f"/collections/{cid}/items", params={"limit": 100})
    assert first["numberMatched"] == len(ref)
    feats = all_items(server, cid, page=100)
    assert len(feats) == len(ref) == len(ids(feats))
    assert ids(feats) == {str(v) for v in ref[CATALOG[cid].id_field]}
    geom_types = {f["geometry"]["type"] for f in feats}
    assert geom_types == {CATALOG[cid].geometry_type}


def test_limit_offset_and_large_limit(server):
    page = server.json("/collections/communes/items", params={"limit": 7, "offset": 14})
    assert page["numberReturned"] == 7
    rels = {link["rel"] for link in page["links"]}
    assert {"next", "prev", "self"} <= rels
    whole = server.json("/collections/communes/items", params={"limit": 10000, "skipGeometry": "true"})
    assert whole["numberReturned"] == len(reference("communes"))
    assert not [link for link in whole["links"] if link["rel"] == "next"]
    sorted_ids = [f["id"] for f in whole["features"]]
    assert [f["id"] for f in page["features"]] == sorted_ids[14:21]


def test_next_links_are_keyset_cursors(server):
    """Pages in id order continue from the last key: no page makes the store skip rows."""
    first = server.json("/collections/communes/items", params={"limit": 50, "skipGeometry": "true"})
    nxt = [link["href"] for link in first["links"] if link["rel"] == "next"][0]
    assert "cursor=" in nxt and "offset=" not in nxt and "skipGeometry=true" in nxt
    second = server.http.get(nxt, timeout=30).json()
    assert second["numberMatched"] == first["numberMatched"]
    by_offset = server.json("/collections/communes/items",
                            params={"limit": 50, "offset": 50, "skipGeometry": "true"})
    assert [f["id"] for f in second["features"]] == [f["id"] for f in by_offset["features"]]
    assert server.get("/collections/communes/items", params={"cursor": "abc"}).status_code == 400
    # a sorted page keeps offset paging
    sorted_page = server.json("/collections/communes/items", params={"limit": 50, "sortby": "nom"})
    assert "offset=50" in [link["href"] for link in sorted_page["links"] if link["rel"] == "next"][0]


LENS = (2.72, 50.38, 2.90, 50.47)


@pytest.mark.parametrize("cid,box", [("friches", BETHUNE), ("communes", BETHUNE),
                                     ("terrils", LENS), ("puits-miniers", LENS)])
def test_bbox_crs84(server, cid, box):
    got = ids(all_items(server, cid, {"bbox": ",".join(map(str, box))}))
    assert got == ids_intersecting(cid, box_in_2154(*box))
    assert got >= ids_intersecting(cid, exact_box_in_2154(*box))  # nothing in the box is lost
    assert got  # the box holds something


def test_bbox_crs_lambert_and_4326(server):
    l93 = ids(all_items(server, "friches", {"bbox": ",".join(map(str, BETHUNE_L93)),
                                             "bbox-crs": LAMBERT}))
    assert l93 == ids_intersecting("friches", shapely.box(*BETHUNE_L93)) and l93
    # EPSG:4326 is latitude first
    lat_lon = (BETHUNE[1], BETHUNE[0], BETHUNE[3], BETHUNE[2])
    got = ids(all_items(server, "friches", {"bbox": ",".join(map(str, lat_lon)),
                                             "bbox-crs": EPSG + "4326"}))
    assert got == ids(all_items(server, "friches", {"bbox": ",".join(map(str, BETHUNE))}))


def test_datetime_filter(server):
    spec = CATALOG["friches"]
    ref = reference("friches")
    dates = ref[spec.time_field].astype(str).str[:10]
    for interval, expected in [
        ("2023-01-01/..", dates >= "2023-01-01"),
        ("../2022-06-30", dates <= "2022-06-30"),
        ("2022-01-01/2022-12-31", (dates >= "2022-01-01") & (dates <= "2022-12-31")),
    ]:
        got = ids(all_items(server, "friches", {"datetime": interval}))
        assert got == {str(v) for v in ref[expected][spec.id_field]}, interval
        assert got


def test_datetime_filter_on_a_text_date_column(server):
    """amenagements-cyclables keeps d_service as ISO text: the interval compares as text on
    both stores (PostGIS once compared text with timestamptz and refused every request)."""
    spec = CATALOG["amenagements-cyclables"]
    ref = reference("amenagements-cyclables")
    dates = ref[spec.time_field].astype(str)
    for interval, expected in [
        ("2018-01-01/..", dates >= "2018-01-01"),
        ("../2017-12-31", dates <= "2017-12-31"),
        ("2018-01-01/2022-12-31", (dates >= "2018-01-01") & (dates <= "2022-12-31")),
    ]:
        got = ids(all_items(server, "amenagements-cyclables", {"datetime": interval}))
        assert got == {str(v) for v in ref[expected & ref[spec.time_field].notna()]
                       [spec.id_field]}, interval
        assert got


def test_property_filter(server):
    ref = reference("friches")
    got = ids(all_items(server, "friches", {"site_statut": "friche avec projet"}))
    assert got == set(ref[ref.site_statut == "friche avec projet"].site_id) and got
    got = ids(all_items(server, "communes", {"epci_siren": "200069672"}))
    com = reference("communes")
    assert got == set(com[com.epci_siren == "200069672"].insee)
    # a property with an enumeration (its queryable's enum) takes one of its values only
    queryables = server.json("/collections/friches/queryables")["properties"]
    allowed = queryables["site_type"]["enum"]
    assert set(ref.site_type.dropna()) <= set(allowed)
    bad = server.get("/collections/friches/items", params={"site_type": "[invalid-value]"})
    assert bad.status_code == 400 and bad.json()["description_fr"], bad.text[:200]
    for value in set(ref.site_type.dropna()):
        got = ids(all_items(server, "friches", {"site_type": value}))
        assert got == set(ref[ref.site_type == value].site_id), value


def test_sortby_properties_skipgeometry(server):
    desc = server.json("/collections/communes/items", params={
        "sortby": "-population_municipale", "limit": 5, "properties": "nom,population_municipale",
        "skipGeometry": "true"})
    ref = reference("communes").sort_values("population_municipale", ascending=False)
    assert [f["properties"]["nom"] for f in desc["features"]] == list(ref.nom[:5])
    assert all(f["geometry"] is None for f in desc["features"])
    assert all(set(f["properties"]) <= {"nom", "population_municipale", "insee"}
               for f in desc["features"])
    asc = server.json("/collections/communes/items", params={"sortby": "+nom", "limit": 3})
    assert [f["properties"]["nom"] for f in asc["features"]] == sorted(ref.nom)[:3]


def test_get_item(server):
    item = server.json("/collections/communes/items/62119")
    assert item["id"] == "62119" and item["properties"]["nom"] == "Béthune"
    geom = shapely.geometry.shape(item["geometry"])
    assert geom.bounds[0] > 2 and geom.bounds[1] > 50  # CRS84 by default


# ---------------------------------------------------------------------------- Part 2
def test_output_crs(server):
    ref = reference("friches").set_index("site_id")
    fid = ref.index[0]
    x, y = ref.loc[fid].geometry.x, ref.loc[fid].geometry.y
    r = server.get(f"/collections/friches/items/{fid}", params={"crs": LAMBERT})
    assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{LAMBERT}>"
    cx, cy = r.json()["geometry"]["coordinates"]
    assert abs(cx - x) < 0.02 and abs(cy - y) < 0.02  # Lambert-93 metres
    lonlat = server.json(f"/collections/friches/items/{fid}")["geometry"]["coordinates"]
    latlon = server.get(f"/collections/friches/items/{fid}", params={"crs": EPSG + "4326"})
    assert latlon.headers["Content-Crs"] == f"<{EPSG}4326>"
    assert latlon.json()["geometry"]["coordinates"] == pytest.approx(lonlat[::-1], abs=1e-6)
    assert 50 < lonlat[1] < 51 and 1.5 < lonlat[0] < 3.5
    merc = server.json("/collections/friches/items", params={"crs": EPSG + "3857", "limit": 1})
    mx, my = merc["features"][0]["geometry"]["coordinates"]
    assert 150_000 < mx < 400_000 and 6_450_000 < my < 6_600_000


# ---------------------------------------------------------------------------- Part 3
def test_cql2_text_filters(server):
    ref = reference("friches")
    cases = [
        ("site_statut = 'friche sans projet'", ref.site_statut == "friche sans projet"),
        ("unite_fonciere_surface > 20000 AND epci_siren = '200072460'",
         (ref.unite_fonciere_surface > 20000) & (ref.epci_siren == "200072460")),
        ("site_nom LIKE 'Fosse%'", ref.site_nom.fillna("").str.startswith("Fosse")),
        ("comm_insee IN ('62119','62498')", ref.comm_insee.isin(["62119", "62498"])),
        ("unite_fonciere_surface BETWEEN 5000 AND 10000",
         ref.unite_fonciere_surface.between(5000, 10000)),
        ("NOT (site_statut = 'friche potentielle')", ref.site_statut != "friche potentielle"),
        ("site_projet IS NULL", ref.site_projet.isna()),
        ("site_actu_date >= DATE('2023-06-01')", ref.site_actu_date.astype(str) >= "2023-06-01"),
        ("CASEI(comm_nom) = casei('Bethune')", ref.comm_nom.str.lower() == "bethune"),
        ("ACCENTI(CASEI(comm_nom)) = accenti(casei('Béthune'))",
         ref.comm_nom.str.lower() == "bethune"),
    ]
    for text, mask in cases:
        got = ids(all_items(server, "friches", {"filter": text, "filter-lang": "cql2-text"}))
        assert got == set(ref[mask].site_id), text
        assert got, text


def test_cql2_spatial(server):
    poly = "POLYGON((2.58 50.49, 2.70 50.49, 2.70 50.56, 2.58 50.56, 2.58 50.49))"
    got = ids(all_items(server, "friches", {"filter": f"S_INTERSECTS(geometry, {poly})"}))
    # A CQL2 literal is reprojected as a polygon (not as a box of corners).
    import numpy as np
    import pyproj
    tr = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    poly_2154 = shapely.transform(shapely.from_wkt(poly),
                                  lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    assert got == ids_intersecting("friches", poly_2154) and got
    bbox = ids(all_items(server, "friches", {"filter": "S_INTERSECTS(geometry, BBOX(2.58,50.49,2.70,50.56))"}))
    assert bbox == got
    lambert = ids(all_items(server, "friches", {
        "filter": "S_WITHIN(geometry, ENVELOPE(670000, 684000, 7048000, 7040000))"
        if False else "S_INTERSECTS(geometry, POLYGON((670000 7040000, 684000 7040000, 684000 7048000, 670000 7048000, 670000 7040000)))",
        "filter-crs": LAMBERT}))
    assert lambert == ids_intersecting("friches", shapely.box(*BETHUNE_L93))


def test_cql2_json_by_post(server):
    ref = reference("friches")
    body = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "site_statut"}, "friche potentielle"]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(BETHUNE)}]},
    ]}
    r = server.post("/collections/friches/items", params={"limit": 1000},
                    data=json.dumps(body), headers={"Content-Type": "application/query-cql-json"})
    assert r.status_code == 200, r.text
    got = ids(r.json()["features"])
    inside = ids_intersecting("friches", box_in_2154(*BETHUNE))
    expected = set(ref[(ref.site_statut == "friche potentielle")].site_id) & inside
    assert got == expected and got


def test_cql2_json_by_get_with_filter_lang(server):
    """filter-lang=cql2-json on GET (declared in /conformance): the same features as the same
    expression in CQL2 text and by POST; the page is GeoJSON, named application/geo+json."""
    body = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "site_statut"}, "friche potentielle"]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(BETHUNE)}]},
    ]}
    r = server.get("/collections/friches/items", params={
        "limit": 1000, "filter-lang": "cql2-json", "filter": json.dumps(body)})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/geo+json"
    text = server.get("/collections/friches/items", params={
        "limit": 1000, "filter-lang": "cql2-text",
        "filter": "site_statut = 'friche potentielle' AND S_INTERSECTS(geometry, BBOX({}))".format(
            ",".join(map(str, BETHUNE)))})
    assert text.status_code == 200, text.text
    assert ids(r.json()["features"]) == ids(text.json()["features"]) and ids(text.json()["features"])
    # a box outside CRS84's domain reprojects to no finite coordinate: 400 in both languages
    far = {"op": "s_intersects", "args": [{"property": "geometry"},
                                          {"bbox": [1000000, 1000000, 2000000, 2000000]}]}
    for lang, expr in (("cql2-json", json.dumps(far)),
                       ("cql2-text", "S_INTERSECTS(geometry,BBOX(1000000,1000000,2000000,2000000))")):
        bad = server.get("/collections/communes/items", params={"filter-lang": lang, "filter": expr})
        assert bad.status_code == 400, (lang, bad.text[:200])
        assert bad.json()["description_fr"] and bad.json()["description_en"]
    # CQL2 text sent as cql2-json, and JSON sent as cql2-text, are refused
    for lang, expr in (("cql2-json", "site_statut = 'x'"), ("cql2-text", json.dumps(body))):
        bad = server.get("/collections/friches/items", params={"filter-lang": lang, "filter": expr})
        assert bad.status_code == 400, (lang, bad.text[:200])


def test_cql2_text_by_post(server):
    r = server.post("/collections/communes/items", params={"limit": 1000},
                    data=json.dumps({"op": ">", "args": [{"property": "population_municipale"}, 20000]}),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    com = reference("communes")
    assert ids(r.json()["features"]) == set(com[com.population_municipale > 20000].insee)


# ---------------------------------------------------------------------------- formats
def test_html_french_and_english(server):
    fr = server.get("/collections/friches/items", params={"f": "html", "lang": "fr"})
    assert fr.status_code == 200 and "text/html" in fr.headers["Content-Type"]
    assert "Friches (Cartofriches)" in fr.text
    en = server.get("/collections/friches/items", params={"f": "html", "lang": "en"})
    assert "Brownfields (Cartofriches)" in en.text
    landing = server.get("/", params={"f": "html", "lang": "fr"})
    assert "Accueil" in landing.text and "Données territoriales de l&#39;Artois" in landing.text
    landing_en = server.get("/", params={"f": "html", "lang": "en"})
    assert "Home" in landing_en.text and "Artois territorial data" in landing_en.text


def test_csv_output(server):
    r = server.get("/collections/communes/items", params={"f": "csv", "limit": 10000})
    assert r.status_code == 200 and "csv" in r.headers["Content-Type"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(reference("communes"))
    assert {"insee", "nom"} <= set(rows[0])


# ---------------------------------------------------------------------------- bad input
BAD_REQUESTS = [
    ("/collections/friches/items?bbox=1,2,3", 400),
    ("/collections/friches/items?bbox=a,b,c,d", 400),
    ("/collections/friches/items?bbox=2,51,3,50", 400),
    ("/collections/friches/items?crs=http://www.opengis.net/def/crs/EPSG/0/9999", 400),
    ("/collections/friches/items?bbox=1,2,3,4&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/9999", 400),
    ("/collections/friches/items?filter=site_statut%20%3D%3D", 400),
    ("/collections/friches/items?filter=nope%20%3D%201", 400),
    ("/collections/friches/items?filter=S_INTERSECTS(geometry,%20POINT(1))", 400),
    ("/collections/friches/items?filter-lang=sql&filter=a%3D1", 400),
    ("/collections/friches/items?limit=0", 400),
    ("/collections/friches/items?limit=-1", 400),
    ("/collections/friches/items?limit=1000000000", 400),
    ("/collections/friches/items?limit=abc", 400),
    ("/collections/friches/items?offset=-3", 400),
    ("/collections/friches/items?datetime=notadate", 400),
    ("/collections/friches/items?sortby=nope", 400),
    ("/collections/friches/items?properties=nope", 400),
    ("/collections/friches/items?bati_nombre=abc", 400),
    ("/collections/friches/items?f=xyz", 400),
    ("/collections/friches?f=xyz", 400),
    ("/collections/nope", 404),
    ("/collections/nope/items", 404),
    ("/collections/friches/items/nope", 404),
    ("/collections/communes/items/99999", 404),
    ("/nope", 404),
]


@pytest.mark.parametrize("path,status", BAD_REQUESTS)
def test_bad_input_gets_ogc_exception(server, path, status):
    r = server.get(path)
    assert r.status_code == status, (path, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] and body["description"]
    assert body["description_fr"] and body["description_en"]
    assert "Traceback" not in r.text


def test_post_without_content_type(server):
    r = server.http.post(server.url + "/collections/friches/items", data=b"{}", timeout=30,
                         headers={"Content-Type": ""})
    assert 400 <= r.status_code < 500 and r.json()["description_fr"]


def test_error_language_follows_request(server):
    en = server.get("/collections/nope", params={"lang": "en"}).json()
    fr = server.get("/collections/nope", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).json()
    assert en["description"] == en["description_en"] != fr["description"] == fr["description_fr"]


# ---------------------------------------------------------------------------- coverage
@pytest.mark.parametrize("cid", COVERAGES)
def test_coverage_subset_geotiff(server, cid, tmp_path):
    import rasterio
    meta = server.json(f"/collections/{cid}")
    assert "démonstration" in meta["description"].lower()
    r = server.get(f"/collections/{cid}/coverage",
                   params={"bbox": "2.60,50.50,2.66,50.54", "f": "GTiff"})
    assert r.status_code == 200, r.text[:300]
    path = tmp_path / "subset.tif"
    path.write_bytes(r.content)
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 2154
        assert abs(ds.res[0] - 25) < 1e-6
        assert 100 < ds.width < 400 and 100 < ds.height < 400
        data = ds.read(1, masked=True)
        assert data.count() > 0 and -10 < float(data.mean()) < 15


def test_a_crs84_bbox_selects_what_intersects_the_box_itself(server):
    """A CRS84 box over a Lambert-93 table is a curved shape there: the items are those that
    intersect the box, not its reprojected envelope (the same count as a direct shapely
    computation on every item)."""
    from shapely.geometry import box, shape

    bbox = (2.6, 50.2, 2.9, 50.4)
    every = server.json("/collections/amenagements-cyclables/items",
                        params={"limit": 10000})["features"]
    expected = {f["id"] for f in every if shape(f["geometry"]).intersects(box(*bbox))}
    got = server.json("/collections/amenagements-cyclables/items",
                      params={"bbox": ",".join(map(str, bbox)), "limit": 10000})
    assert {f["id"] for f in got["features"]} == expected
    assert got["numberMatched"] == len(expected)
