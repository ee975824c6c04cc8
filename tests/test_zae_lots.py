"""The lots of the business parks and their sales (issue 17, points 1 and 3), read over real
HTTP from the shared servers of both stores, checked with geopandas against the layers
themselves; and the seeded lot generator (services/demo/zae_lots.py) on a hand-made park.
The writes (sales, undo, imports, QGIS) are in tests/test_zae_sales.py.
"""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from services.demo.zae_lots import park_lots
from services.zae import park_figures

STATUTS = {"disponible", "réservé", "cédé", "occupé"}


def layer(server, cid: str) -> gpd.GeoDataFrame:
    body = server.json(f"/collections/{cid}/items", params={"limit": 10000})
    assert body["numberReturned"] == body["numberMatched"], cid
    return gpd.GeoDataFrame.from_features(body["features"], crs="OGC:CRS84").to_crs(2154)


def test_collections_are_demo_and_editable(server):
    for cid in ("zae-lots", "cessions"):
        meta = server.json(f"/collections/{cid}")
        assert "démonstration" in meta["title"].lower() or "demonstration" in \
            meta["title"].lower(), meta["title"]
        r = server.http.options(f"{server.url}/collections/{cid}/items")
        assert "POST" in r.headers["Allow"], r.headers


def test_lots_lie_in_their_parks_with_valid_attributes(server):
    parks = layer(server, "zae").set_index("id")
    lots = layer(server, "zae-lots")
    assert set(lots["zae_id"]) == set(parks.index)  # every park has lots
    assert set(lots["statut"]) <= STATUTS and lots["id"].is_unique
    assert lots["amenage"].map(lambda v: isinstance(v, bool)).all()
    occupied = lots["statut"] == "occupé"
    assert lots.loc[occupied, "activite"].notna().all()
    assert lots.loc[~occupied, "activite"].isna().all()
    # each lot inside its park (1 m for the round trip through CRS84 coordinates)
    outline = parks.geometry.buffer(1.0).reindex(lots["zae_id"]).values
    inside = [o.contains(g) for o, g in zip(outline, lots.geometry)]
    assert all(inside), lots.loc[[not i for i in inside], "id"].tolist()[:5]
    # the stored surface is the lot's area (to the same 1 m tolerance around its outline)
    ratio = lots["surface_m2"] / lots.geometry.area
    assert ratio.between(0.99, 1.01).all()
    # the lots cover the park's usable area (roads and green space left out)
    cover = lots.groupby("zae_id")["surface_m2"].sum() / 1e4
    assert (cover <= parks["surface_totale_ha"].reindex(cover.index) + 0.01).all()


def test_park_figures_are_derived_from_lots_and_friches(server):
    parks = layer(server, "zae").set_index("id")
    lots = layer(server, "zae-lots")
    friches = layer(server, "friches")
    counts = gpd.sjoin(friches, parks.reset_index()[["id", "geometry"]], predicate="intersects"
                       ).groupby("id").size()
    for zae_id, park in parks.iterrows():
        mine = lots[lots["zae_id"] == zae_id]
        by = mine.groupby("statut")["surface_m2"].sum() / 1e4
        assert park["surface_disponible_ha"] == pytest.approx(by.get("disponible", 0), abs=2e-4)
        assert park["surface_cedee_ha"] == pytest.approx(by.get("cédé", 0), abs=2e-4)
        assert park["surface_occupee_ha"] == pytest.approx(by.get("occupé", 0), abs=2e-4)
        assert park["lots_disponibles"] == int((mine["statut"] == "disponible").sum())
        assert park["lots_nombre"] == len(mine)
        assert park["sites_actifs"] == int((mine["statut"] == "occupé").sum())
        reserve = mine[mine["statut"].isin(["disponible", "réservé"])]
        developed = reserve.loc[reserve["amenage"], "surface_m2"].sum() / 1e4
        assert park["reserve_amenagee_ha"] == pytest.approx(developed, abs=2e-4)
        assert park["reserve_non_amenagee_ha"] == pytest.approx(
            reserve["surface_m2"].sum() / 1e4 - developed, abs=2e-4)
        assert park["friches_nombre"] == int(counts.get(zae_id, 0)), zae_id
    assert parks["friches_nombre"].sum() > 0  # some parks hold friches


def test_demo_sales_are_the_sold_lots(server):
    lots = layer(server, "zae-lots").set_index("id")
    sales = layer(server, "cessions")
    sold = lots[lots["statut"] == "cédé"]
    assert len(sales) == len(sold) > 0 and set(sales["lot_id"]) == set(sold.index)
    for _, sale in sales.iterrows():
        lot = lots.loc[sale["lot_id"]]
        assert sale["zae_id"] == lot["zae_id"]
        assert sale["surface_m2"] == pytest.approx(lot["surface_m2"])
        assert sale["date"] == lot["date_cession"]
    assert set(sales["acquereur_type"]) <= {"entreprise", "investisseur immobilier",
                                            "collectivité", "établissement public", "autre"}


@pytest.mark.parametrize("etat,dispo", [("existant et actif", 3.21), ("en projet", 17.5),
                                        ("création", 0.0)])
def test_generator_on_a_hand_made_park(etat, dispo):
    """An L-shaped park of 30 ha (usable 24 ha): the available lots add up to its available
    area, the lots cover its usable area inside its outline; same seed, same lots."""
    outline = shapely.union(shapely.box(0, 0, 600, 300), shapely.box(0, 300, 300, 700))
    outline = shapely.MultiPolygon([outline])
    park = {"id": "ZAE-TEST", "surface_utile_ha": 24.0, "surface_disponible_ha": dispo,
            "etat": etat, "vocation": "industrielle", "date_creation": "2001-05-01"}
    lots = park_lots(park, outline, 7)
    assert lots == park_lots(park, outline, 7)
    assert len({lot["id"] for lot in lots}) == len(lots) > 3
    available = sum(lot["geometry"].area for lot in lots if lot["statut"] == "disponible")
    assert available / 1e4 == pytest.approx(dispo, abs=1e-3)
    total = sum(lot["geometry"].area for lot in lots)
    assert total / 1e4 == pytest.approx(24.0, rel=0.02)
    grown = outline.buffer(1e-6)
    assert all(grown.contains(lot["geometry"]) for lot in lots)
    if etat == "en projet":
        assert not any(lot["statut"] == "occupé" for lot in lots)
    figures = park_figures(((lot, lot["geometry"]) for lot in lots), 0)
    assert figures["surface_disponible_ha"] == pytest.approx(dispo, abs=1e-3)
    assert figures["lots_nombre"] == len(lots)
