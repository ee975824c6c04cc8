"""The embedded store: spatial index use, query timeouts, and adding a layer with no code."""
from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile

import geopandas as gpd
import pytest
import shapely

from conftest import PROJECT, VAR, artois_geo, start_server
from services.providers.geopackage import (GeoPackageProvider, ProviderTimeoutError, connect,
                                           deadline)


def provider(cid: str, table: str | None = None) -> GeoPackageProvider:
    manifest = json.loads((VAR / "store" / "manifest.json").read_text())
    return GeoPackageProvider({"name": "test", "type": "feature",
                               "data": manifest[cid]["data"],
                               "table": table or manifest[cid]["table"]})


def test_bbox_query_uses_the_rtree_index(manifest):
    p = provider("communes")
    where, params = p._where([670000, 7040000, 684000, 7048000], None, [], None, None)
    plan = connect(p.data).execute(
        f'EXPLAIN QUERY PLAN SELECT fid FROM "{p.info.table}"{where}', params).fetchall()
    details = " | ".join(row[-1] for row in plan)
    assert f"rtree_{p.info.table}_geom" in details and "VIRTUAL TABLE INDEX" in details
    # and the candidates come from the index, not a scan of the table's geometries
    assert f"SEARCH {p.info.table} USING INTEGER PRIMARY KEY" in details


def test_query_timeout_aborts_long_statements(manifest):
    p = provider("communes")
    conn = connect(p.data)
    with pytest.raises(ProviderTimeoutError):
        with deadline(conn, 0.05):
            conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                         "SELECT count(*) FROM n").fetchone()


def test_geopackage_is_valid_for_other_readers(manifest):
    """QGIS/GDAL read what we built: EPSG:2154, DATE columns, a spatial index."""
    import pyogrio
    info = pyogrio.read_info(manifest["friches"]["data"], layer="friches")
    assert info["crs"] == "EPSG:2154" and info["geometry_type"] == "Point"
    dtypes = dict(zip(info["fields"], info["dtypes"]))
    assert dtypes["site_actu_date"].startswith("datetime64") or dtypes["site_actu_date"] == "object"
    with sqlite3.connect(manifest["friches"]["data"]) as conn:
        col_types = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(friches)")}
        assert col_types["site_actu_date"] == "DATE"
        assert conn.execute("SELECT count(*) FROM rtree_friches_geom").fetchone()[0] == 246


def test_a_new_layer_needs_only_a_collection_file(tmp_path):
    """Drop a Shapefile (zipped), a GeoPackage and a GeoJSON with one YAML file each:
    the next build publishes them with the whole Features API."""
    cdir = tmp_path / "collections"
    (cdir / "data").mkdir(parents=True)
    shutil.copy(PROJECT / "collections" / "communes.yml", cdir)
    shutil.copy(PROJECT / "collections" / "data" / "communes_62_artois.geojson", cdir / "data")
    communes = gpd.read_file(cdir / "data" / "communes_62_artois.geojson")
    communes = communes[communes.artois]
    # A Lambert-93 point layer in a zipped Shapefile, a polygon layer in a GeoPackage (other CRS)
    pts = gpd.GeoDataFrame({"code": [f"P{i}" for i in range(30)], "valeur": range(30)},
                           geometry=list(communes.to_crs(2154).representative_point()[:30]),
                           crs=2154)
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    pts.to_file(shp_dir / "equipements.shp", engine="pyogrio")
    with zipfile.ZipFile(cdir / "data" / "equipements.shp.zip", "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    zones = communes.head(12)[["insee", "nom", "geometry"]].to_crs(3857)
    zones.to_file(cdir / "data" / "zones.gpkg", layer="zones_test", engine="pyogrio")
    for name, path, layer, gtype, id_field in [
            ("equipements", "data/equipements.shp.zip", None, "Point", "code"),
            ("zones", "data/zones.gpkg", "zones_test", "MultiPolygon", "insee")]:
        text = (f"id: {name}\n"
                f"title: {{fr: Couche {name}, en: Layer {name}}}\n"
                f"description: {{fr: Couche ajoutée sans code, en: Layer added without code}}\n"
                f"keywords: {{fr: [test], en: [test]}}\n"
                f"source: {{path: {path}" + (f", layer: {layer}" if layer else "") + "}\n"
                f"geometry_type: {gtype}\nid_field: {id_field}\n"
                f"licence: {{title: Licence Ouverte 2.0, href: https://www.etalab.gouv.fr/licence-ouverte-open-licence/}}\n")
        (cdir / f"{name}.yml").write_text(text)
    env = {"ARTOIS_COLLECTIONS_DIR": str(cdir), "ARTOIS_VAR_DIR": str(tmp_path / "var")}
    artois_geo("build", env=env, capture_output=True)
    srv = start_server(env, "new-layer")
    try:
        listed = {c["id"] for c in srv.json("/collections")["collections"]}
        assert listed == {"communes", "equipements", "zones"}
        eq = srv.json("/collections/equipements/items", params={"limit": 100})
        assert eq["numberMatched"] == 30
        q = srv.json("/collections/equipements/queryables")["properties"]
        assert q["valeur"]["type"] == "integer"
        hit = srv.json("/collections/equipements/items", params={"filter": "valeur >= 25"})
        assert hit["numberMatched"] == 5
        zone = srv.json("/collections/zones/items/" + zones.insee.iloc[0],
                        params={"crs": "http://www.opengis.net/def/crs/EPSG/0/2154"})
        expected = zones.to_crs(2154).geometry.iloc[0]
        got = shapely.geometry.shape(zone["geometry"])
        assert abs(got.area - expected.area) / expected.area < 1e-6
        meta = srv.json("/collections/zones")
        assert meta["storageCrs"].endswith("/2154")
    finally:
        srv.stop()


def test_building_one_layer_builds_what_it_requires_transitively(tmp_path):
    """sites-icpe requires zae, which requires communes and epci: `artois-geo build sites-icpe`
    on an empty store builds the four (and nothing else)."""
    env = {"ARTOIS_VAR_DIR": str(tmp_path / "var")}
    artois_geo("build", "sites-icpe", env=env, capture_output=True)
    manifest = json.loads((tmp_path / "var" / "store" / "manifest.json").read_text())
    assert set(manifest) == {"communes", "epci", "zae", "sites-icpe"}
    assert manifest["sites-icpe"]["count"] > 0
