"""Determinism and schema tests of the seeded demonstration-data generators
(services.demo.*), run on the real input layers of collections/data."""

from __future__ import annotations

import datetime as dt
import hashlib
import pathlib
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from services.demo import cyclables, safn, surchauffe, zae

DATA = pathlib.Path(__file__).resolve().parents[1] / "collections" / "data"
SEED = 20260101


def _multi(g):
    return shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    com = gpd.read_file(DATA / "communes_62_artois.geojson")
    com = com[com["artois"]].to_crs(2154)
    com = com[["insee", "nom", "dep", "epci_siren", "epci_nom", "population_municipale", "geometry"]]
    com["geometry"] = [_multi(g) for g in com.geometry]
    epci = gpd.read_file(DATA / "epci_artois.geojson").to_crs(2154)
    friches = gpd.read_file(DATA / "friches_cartofriches_62.geojson")
    friches = friches[friches["artois"]].to_crs(2154)
    gpkg = DATA / "bassin_minier_artois.gpkg"
    terrils = pd.concat(
        [gpd.read_file(gpkg, layer="terrils"), gpd.read_file(gpkg, layer="zt_terrils")], ignore_index=True
    ).to_crs(2154)
    terrils["geometry"] = [_multi(g) for g in terrils.geometry]
    puits = gpd.read_file(gpkg, layer="puits_de_mines").to_crs(2154)
    return {
        "communes": com.reset_index(drop=True),
        "epci": epci,
        "friches": friches.reset_index(drop=True),
        "terrils": gpd.GeoDataFrame(terrils, geometry="geometry", crs=2154),
        "puits-miniers": puits,
    }


@pytest.fixture(scope="module")
def terr(layers):
    return shapely.union_all(layers["communes"].geometry.values)


@pytest.fixture(scope="module")
def zae_gdf(layers):
    return zae.generate(layers, SEED)


@pytest.fixture(scope="module")
def cyc_gdf(layers):
    return cyclables.generate(layers, SEED)


@pytest.fixture(scope="module")
def safn_gdf(layers):
    return safn.generate(layers, SEED)


def _check_common(gdf: gpd.GeoDataFrame, geom_type: str, terr, seed: int = SEED):
    assert gdf.crs.to_epsg() == 2154
    assert gdf["id"].is_unique and gdf["id"].map(type).eq(str).all()
    assert gdf.geometry.notna().all()
    assert set(gdf.geom_type) == {geom_type}
    assert gdf.geometry.is_valid.all()
    assert gdf.geometry.within(terr).all()
    assert (gdf["source"] == f"Données de démonstration modélisées (générateur artois-geo, graine {seed})").all()


def _is_iso_date(values) -> bool:
    for v in values:
        if not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)):
            return False
        dt.date.fromisoformat(v)
    return True


@pytest.mark.parametrize("module", [zae, cyclables, safn])
def test_vector_determinism(layers, module):
    a = module.generate(layers, SEED).to_json()
    b = module.generate(layers, SEED).to_json()
    assert a == b
    c = module.generate(layers, SEED + 1).to_json()
    assert c != a


def test_generators_do_not_touch_global_random_state(layers):
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    zae.generate(layers, SEED)
    assert np.random.random() == before


# ------------------------------------------------------------------------------- ZAE
def test_zae_schema(zae_gdf, layers, terr):
    g = zae_gdf
    _check_common(g, "MultiPolygon", terr)
    counts = g["epci_siren"].value_counts()
    assert 38 <= counts.get("200072460", 0) <= 46
    assert 26 <= counts.get("246200364", 0) <= 34
    assert g["id"].str.fullmatch(r"ZAE-62-(CABBALR|CALL)-\d{3}").all()
    assert set(g["type_site"]) <= set(zae.TYPES_SITE)
    assert set(g["vocation"]) <= set(zae.VOCATIONS)
    assert set(g["etat"]) <= set(zae.ETATS)
    assert set(g["moa_type"]) <= set(zae.MOA_TYPES)
    assert set(g["evol_urba"]) <= set(zae.EVOL_URBA)
    assert (g["surface_totale_ha"].between(5, 150)).all()
    assert (g["surface_disponible_ha"] <= g["surface_utile_ha"]).all()
    assert (g["surface_utile_ha"] <= g["surface_totale_ha"]).all()
    assert (g["surface_disponible_ha"] >= 0).all()
    assert np.allclose(g["surface_totale_ha"], g.geometry.area / 1e4, atol=0.01)
    assert (g["nb_etablissements"] >= 0).all()
    assert _is_iso_date(g["date_creation"]) and _is_iso_date(g["date_maj"])
    assert (g["date_maj"] >= g["date_creation"]).all()
    assert g["nom"].is_unique


def test_zae_placement(zae_gdf, layers):
    com = layers["communes"].set_index("insee")
    for _, row in zae_gdf.iterrows():
        c = com.loc[row["insee"]]
        assert row.geometry.within(c.geometry), row["id"]
        d = row.geometry.centroid.distance(c.geometry.representative_point())
        assert 500 <= d <= 3000, (row["id"], d)
        assert c["epci_siren"] == row["epci_siren"]
    # no overlaps between parks
    geoms = list(zae_gdf.geometry)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    assert all(i == j for i, j in zip(a, b))


# ------------------------------------------------------------------------- cyclables
def test_cyclables_schema(cyc_gdf, layers, terr):
    g = cyc_gdf
    _check_common(g, "MultiLineString", terr)
    assert 1800 <= len(g) <= 2200
    assert g["id"].str.fullmatch(r"AC-\d{6}").all()
    assert (g.geometry.map(lambda m: len(m.geoms)) == 1).all()
    assert g.length.between(150, 2500).all()
    insee = set(layers["communes"]["insee"])
    assert set(g["code_com_d"]) <= insee and set(g["code_com_g"]) <= insee

    def codes(col):
        return set(g[col].dropna())

    for side in ("d", "g"):
        assert codes(f"ame_{side}") <= set(cyclables.AME)
        assert codes(f"regime_{side}") <= set(cyclables.REGIME)
        assert codes(f"sens_{side}") <= set(cyclables.SENS)
        assert codes(f"local_{side}") <= set(cyclables.LOCAL)
        assert codes(f"statut_{side}") <= set(cyclables.STATUT)
        assert codes(f"revet_{side}") <= set(cyclables.REVET)
        assert g[f"largeur_{side}"].dropna().between(0.5, 5).all()
        assert g[f"ame_{side}"].notna().all()
    assert codes("access_ame") <= set(cyclables.ACCESS)
    assert g["lumiere"].map(type).eq(bool).all()
    assert g["trafic_vit"].dropna().isin([5, 20, 30, 50, 70, 80]).all()
    # at least one facility per section, except calm streets (zone de rencontre / aire piétonne)
    none_both = (g["ame_d"] == "AUCUN") & (g["ame_g"] == "AUCUN")
    assert g.loc[none_both, "regime_d"].isin(["ZONE DE RENCONTRE", "AIRE PIETONNE"]).all()
    assert _is_iso_date(g["d_service"]) and _is_iso_date(g["date_maj"])
    assert (g["date_maj"] >= g["d_service"]).all()


def test_cyclables_epochs(cyc_gdf):
    d = pd.to_datetime(cyc_gdf["d_service"])
    n = len(d)
    before = (d < "2018-01-01").sum() / n
    middle = ((d >= "2018-01-01") & (d <= "2022-12-31")).sum() / n
    recent = ((d >= "2023-01-01") & (d <= "2026-06-30")).sum() / n
    assert abs(before - 0.35) < 0.03
    assert abs(middle - 0.40) < 0.03
    assert abs(recent - 0.25) < 0.03
    assert before + middle + recent == pytest.approx(1.0)
    # future sections are under construction
    fut = pd.to_datetime(cyc_gdf["d_service"]) > "2025-09-30"
    present = cyc_gdf["ame_d"] != "AUCUN"
    assert (cyc_gdf.loc[fut & present, "statut_d"] == "EN TRAVAUX").all()


def test_cyclables_denser_in_towns(cyc_gdf, layers):
    com = layers["communes"]
    big = set(com.loc[com["population_municipale"] >= 10000, "insee"])
    share_pop = com.loc[com["insee"].isin(big), "population_municipale"].sum() / com["population_municipale"].sum()
    share_lines = cyc_gdf["code_com_d"].isin(big).mean()
    assert share_lines > 0.6 * share_pop


# ------------------------------------------------------------------------------ SAFN
def test_safn_schema(safn_gdf, layers, terr):
    g = safn_gdf
    _check_common(g, "Point", terr)
    assert 60 <= len(g) <= 80
    assert g["id"].str.fullmatch(r"SAFN-\d{3}").all()
    assert set(g["type_solution"]) == set(safn.TYPES)
    assert (g["cout_min_eur_m2"] < g["cout_max_eur_m2"]).all()
    assert (g["cout_min_eur_m2"] > 0).all()
    assert g["photo_url"].str.startswith("https://").all()
    for col in ("nom", "description", "benefices", "limites", "gestion", "financements"):
        assert g[col].map(lambda s: isinstance(s, str) and len(s) > 10).all(), col
    assert g["description"].nunique() == len(g)  # per-site wording
    assert g["duree_vie_ans"].between(10, 100).all()
    assert g["annee_realisation"].between(2000, 2026).all()
    assert (g["surface_m2"] > 0).all()
    assert set(g["insee"]) <= set(layers["communes"]["insee"])
    # every point lies in its commune
    com = layers["communes"].set_index("insee")
    assert all(com.loc[i].geometry.covers(p) for i, p in zip(g["insee"], g.geometry))


def test_safn_friches(safn_gdf, layers):
    on_friche = safn_gdf[safn_gdf["friche_site_id"].notna()]
    assert len(on_friche) >= 1
    assert (on_friche["type_solution"] == "renaturation de friche").all()
    fr = layers["friches"].set_index("site_id")
    for sid, p in zip(on_friche["friche_site_id"], on_friche.geometry):
        assert fr.loc[sid].geometry.distance(p) < 0.01


# ------------------------------------------------------------------------ surchauffe
@pytest.fixture(scope="module")
def raster_inputs(layers, zae_gdf):
    return {**layers, "zae": zae_gdf}


@pytest.fixture(scope="module")
def raster_2024(raster_inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("surchauffe") / "surchauffe_2024.tif"
    return surchauffe.generate_raster(raster_inputs, SEED, out, year=2024)


def _sha(path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def test_surchauffe_cog(raster_2024):
    import rasterio
    from rio_cogeo.cogeo import cog_validate

    valid, errors, _warnings = cog_validate(str(raster_2024), quiet=True)
    assert valid, errors
    with rasterio.open(raster_2024) as src:
        assert src.crs.to_epsg() == 2154
        assert src.res == (25.0, 25.0)
        assert src.count == 1 and src.dtypes[0] == "float32"
        assert src.nodata == -9999
        assert src.overviews(1) == [2, 4, 8, 16, 32]
        assert src.block_shapes[0] == (512, 512)
        assert src.compression.name.upper() == "DEFLATE"
        assert src.descriptions[0] == "anomalie de température de surface (°C)"


def test_surchauffe_values(raster_2024, raster_inputs, terr):
    import rasterio
    from rasterio.features import geometry_mask

    with rasterio.open(raster_2024) as src:
        a = src.read(1)
        tr, shape = src.transform, (src.height, src.width)
    nodata = a == -9999
    inner = geometry_mask([terr.buffer(-50)], shape, tr, invert=True)
    outer = geometry_mask([terr.buffer(50)], shape, tr, invert=True)
    assert not nodata[inner].any()
    assert nodata[~outer].all()
    vals = a[~nodata]
    assert -5 <= vals.min() and vals.max() <= 9
    assert vals.min() < -2 and vals.max() > 5
    mean = float(vals.mean())

    def mean_on(gdf):
        m = geometry_mask(list(gdf.geometry), shape, tr, invert=True) & ~nodata
        return float(a[m].mean())

    assert mean_on(raster_inputs["zae"]) > mean + 2
    terrils = raster_inputs["terrils"]
    assert mean_on(terrils[terrils.within(terr)]) > mean + 2
    # populous town centres are hotter than small villages
    com = raster_inputs["communes"]
    rows_cols = [rasterio.transform.rowcol(tr, p.x, p.y) for p in com.geometry.representative_point()]
    centre_vals = np.array([a[r, c] for r, c in rows_cols])
    pop = com["population_municipale"].to_numpy()
    assert centre_vals[pop > 15000].mean() > centre_vals[pop < 500].mean() + 2


def test_surchauffe_determinism_and_years(raster_2024, raster_inputs, tmp_path):
    again = surchauffe.generate_raster(raster_inputs, SEED, tmp_path / "again.tif", year=2024)
    assert _sha(again) == _sha(raster_2024)
    import rasterio

    with rasterio.open(raster_2024) as src:
        a24 = src.read(1)
    a22, _, inside = surchauffe.model(raster_inputs, SEED, year=2022)
    assert np.array_equal(a24 == -9999, ~inside)
    assert not np.array_equal(a22, a24)
    assert a22[inside].mean() > a24[inside].mean()  # summer 2022 hotter than 2024
