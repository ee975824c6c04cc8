"""The solar cadastre (issue 18 point 2), over real HTTP on both stores: the collection
`cadastre-solaire`, its public and métier tiers, the per-EPCI totals, and its recompute
(`cadastre-solaire-calcul`) when the buildings change.

Expected values are not computed here from the cadastre's own code: each sampled roof is sent
to the `solar-potential` process over HTTP (one building per request, as a user would ask),
the tiers are read from the collection file, and the totals are summed with pandas from the
items. Every test runs against a private server per store (its own keys, among them one of the
group `metier`), whose store is a copy of the shared one for the tables it writes (embedded: a
temp var dir; PostGIS: a scratch schema), as tests/test_chiffres_cles.py does.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import requests
import yaml

from conftest import PROJECT, VAR, Server, start_server

CID = "cadastre-solaire"
ITEMS = f"/collections/{CID}/items"
EXECUTE = "/processes/cadastre-solaire-calcul/execution"
SOLAR = "/processes/solar-potential/execution"
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
KEYS = ("cs-reader-key:reader:rita,cs-metier-key:reader:mona:metier,"
        "cs-editor-key:editor:eddie,cs-admin-key:admin:ada")
READER, METIER, EDITOR, ADMIN = ({"X-API-Key": f"cs-{r}-key"}
                                 for r in ("reader", "metier", "editor", "admin"))
SPEC = yaml.safe_load((PROJECT / "collections" / f"{CID}.yml").read_text(encoding="utf-8"))
METIER_FIELDS = sorted(n for n, f in SPEC["fields"].items() if f.get("access") == "metier")
PUBLIC_FIELDS = sorted(n for n, f in SPEC["fields"].items() if not f.get("access"))
ISSUE_PUBLIC = {"classe", "irradiation_kwh_m2_an", "production_indicative_kwh_an",
                "batiment_id", "insee", "epci_siren"}
ISSUE_METIER = {"surface_utile_m2", "puissance_kwc", "production_kwh_an", "inclinaison_deg",
                "azimut_deg", "perte_ombrage_pct"}
# the cadastre's names -> the solar-potential process's
SAME = {"irradiation_kwh_m2_an": "irradiation_kwh_m2_yr", "surface_utile_m2": "usable_area_m2",
        "puissance_kwc": "peak_power_kwc", "production_kwh_an": "production_kwh_yr",
        "productible_kwh_kwc_an": "specific_yield_kwh_kwc_yr", "inclinaison_deg": "tilt_deg",
        "azimut_deg": "azimuth_deg", "classe": "class", "classe_libelle_fr": "class_label_fr",
        "classe_libelle_en": "class_label_en", "type_toit": "roof_type", "insee": "insee",
        "commune": "commune"}
WAIT = 300  # seconds, bound of every wait on a recompute (about 15 s on one core)
# the tables a stack writes, copied into its store: the cadastre, and the buildings and
# communes that the recompute test rebuilds (at the same place, as a real rebuild does)
COPIED = (CID, "batiments", "communes")
NEW_SEED = 777  # the buildings after the change (collections/batiments.yml has another)


# ---------------------------------------------------------------------------- the stacks
@dataclass
class Stack:
    kind: str
    env: dict
    server: Server
    collections: Path

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str, headers: dict | None = None, **params) -> requests.Response:
        return self.server.http.get(self.url + path, params=params, headers=headers or {},
                                    timeout=WAIT)

    def post(self, path: str, inputs: dict, headers: dict | None = None) -> requests.Response:
        return self.server.http.post(self.url + path, data=json.dumps({"inputs": inputs}),
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})}, timeout=WAIT)

    def rows(self, headers: dict | None = None, **params) -> pd.DataFrame:
        r = self.get(ITEMS, headers, limit=10000, skipGeometry="true", **params)
        assert r.status_code == 200, r.text[:300]
        feats = r.json()["features"]
        return pd.DataFrame([{**f["properties"], "_id": str(f["id"])} for f in feats]
                            ).set_index("_id", drop=False)

    def layer(self, cid: str) -> gpd.GeoDataFrame:
        r = self.get(f"/collections/{cid}/items", ADMIN, limit=10000, crs=L93)
        assert r.status_code == 200, r.text[:300]
        feats = r.json()["features"]
        gdf = gpd.GeoDataFrame.from_features(feats, crs=2154)
        gdf["_id"] = [str(f["id"]) for f in feats]
        return gdf.set_index("_id", drop=False)

    def settle(self) -> None:
        """Wait until no job waits or runs."""
        deadline = time.monotonic() + WAIT
        while True:
            jobs = self.get("/jobs", ADMIN, limit=1000).json()
            if not any(j["status"] in ("accepted", "running") for j in jobs["jobs"]):
                return
            assert time.monotonic() < deadline, jobs
            time.sleep(0.5)


def _cli(env: dict, *args: str) -> None:
    out = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=PROJECT,
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, (args, out.stdout[-2000:], out.stderr[-3000:])


def _collections(tmp: Path) -> Path:
    """A copy of the collection files whose buildings have another seed (NEW_SEED): what the
    `batiments` change of the recompute test builds. The data folder is linked."""
    folder = tmp / "collections"
    folder.mkdir()
    for path in (PROJECT / "collections").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        if path.name == "batiments.yml":
            assert "seed: 20260105" in text
            text = text.replace("seed: 20260105", f"seed: {NEW_SEED}")
        (folder / path.name).write_text(text, encoding="utf-8")
    (folder / "data").symlink_to(PROJECT / "collections" / "data")
    return folder


def _coverages_in(store: Path, kind: str) -> None:
    """The coverages' files inside the stack's store (the server serves no raster outside
    its store: the web map's overheating layer and legend need them)."""
    name = "manifest.json" if kind == "embedded" else "manifest-postgis.json"
    manifest = json.loads((store / name).read_text())
    for entry in manifest.values():
        if not isinstance(entry, dict) or entry.get("kind") != "coverage":
            continue
        moved = {}
        for path in {entry.get("data"), *(entry.get("files") or {}).values()} - {None}:
            target = store / Path(path).name
            if not target.exists():
                try:
                    os.link(path, target)
                except OSError:
                    shutil.copy(path, target)
            moved[path] = str(target)
        entry["data"] = moved.get(entry.get("data"), entry.get("data"))
        if entry.get("files"):
            entry["files"] = {k: moved[v] for k, v in entry["files"].items()}
    (store / name).write_text(json.dumps(manifest))


@contextlib.contextmanager
def open_stack(kind: str, request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"cadastre-{kind}")
    var = tmp / "var"
    store = var / "store"
    store.mkdir(parents=True)
    collections = _collections(tmp)
    env = {"ARTOIS_VAR_DIR": str(var), "DATABASE_URL": "", "ARTOIS_API_KEYS": KEYS,
           "ARTOIS_JOB_SYNC_WAIT": str(WAIT), "ARTOIS_COLLECTIONS_DIR": str(collections)}
    schema = url = None
    if kind == "embedded":
        request.getfixturevalue("manifest")
        manifest = json.loads((VAR / "store" / "manifest.json").read_text())
        for cid in COPIED:  # the tables written (the server's paths never change); rest read
            target = store / Path(manifest[cid]["data"]).name
            shutil.copy(manifest[cid]["data"], target)
            manifest[cid]["data"] = str(target)
        (store / "manifest.json").write_text(json.dumps(manifest))
    else:
        import psycopg
        url = request.getfixturevalue("database_url")
        schema = f"test_cs_{uuid.uuid4().hex[:8]}"
        env.update(DATABASE_URL=url, ARTOIS_DB_SCHEMA=schema)
        manifest = json.loads((VAR / "store" / "manifest-postgis.json").read_text())
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            for cid in COPIED:
                shared = manifest[cid]["table"]
                name = shared.rpartition(".")[2]
                conn.execute(f'CREATE TABLE "{schema}".{name} (LIKE {shared} INCLUDING ALL)')
                conn.execute(f'INSERT INTO "{schema}".{name} SELECT * FROM {shared}')
                manifest[cid]["table"] = f"{schema}.{name}"
        (store / "manifest-postgis.json").write_text(json.dumps(manifest))
    _coverages_in(store, kind)
    try:
        stack = Stack(kind, env, start_server(env, f"cadastre-{kind}"), collections)
        try:
            yield stack
        finally:
            stack.server.stop()
    finally:
        if schema:
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def stack(request, tmp_path_factory):
    with open_stack(request.param, request, tmp_path_factory) as s:
        yield s


def sample(ids, n: int, seed: int) -> list[str]:
    ids = sorted(ids)
    rng = np.random.default_rng(seed)
    return [ids[i] for i in sorted(rng.choice(len(ids), size=min(n, len(ids)), replace=False))]


def process_roof(stack: Stack, fid: str) -> dict:
    r = stack.post(SOLAR, {"batiments": [fid]})
    assert r.status_code == 200, r.text[:500]
    feats = r.json()["features"]
    assert len(feats) == 1 and feats[0]["id"] == fid
    return feats[0]["properties"]


def assert_roof_is_the_process(stack: Stack, row: pd.Series, fid: str) -> None:
    got = process_roof(stack, fid)
    for ours, theirs in SAME.items():
        assert row[ours] == got[theirs], (fid, ours, row[ours], got[theirs])
    kwh = got["production_kwh_yr"]
    assert row["production_indicative_kwh_an"] == float(f"{kwh:.2g}"), fid
    assert row["perte_ombrage_pct"] is None or np.isnan(row["perte_ombrage_pct"])  # no dsm


# ---------------------------------------------------------------------------- tests
def test_the_issue_names_and_tiers_are_declared():
    assert ISSUE_PUBLIC <= set(PUBLIC_FIELDS) | {SPEC["id_field"]}
    assert ISSUE_METIER <= set(METIER_FIELDS)
    assert SPEC["demo"] is True  # the buildings are modelled


def test_one_roof_per_building_equal_to_the_process(stack):
    """Every building has its roof; sampled roofs (per class and roof type) are what
    POST /processes/solar-potential/execution returns for that one building."""
    batiments = stack.layer("batiments")
    rows = stack.rows(ADMIN)
    assert set(rows.index) == set(batiments.index)
    assert (rows["batiment_id"] == rows.index).all()
    # the geometry is the building's footprint
    cad = stack.layer(CID)
    some = sample(cad.index, 50, 1)
    for fid in some:
        assert cad.loc[fid].geometry.equals_exact(batiments.loc[fid].geometry, 0.01), fid
    # classes 1-5 only; per class and roof type, one sampled roof, plus random ones
    assert set(rows["classe"].unique()) <= {1, 2, 3, 4, 5}
    chosen = set(sample(rows.index, 4, 7))
    for _, group in rows.groupby(["classe", "type_toit"]):
        chosen.add(sample(group.index, 1, 3)[0])
    for fid in sorted(chosen):
        assert_roof_is_the_process(stack, rows.loc[fid], fid)
    # the EPCI of each roof is its commune's
    communes = stack.layer("communes").set_index("insee")
    assert (rows["epci_siren"] == rows["insee"].map(communes["epci_siren"])).all()


def test_public_and_metier_tiers(stack):
    """Anonymous and reader keys see the public properties; a key of the group metier and
    admins see everything. The public cannot filter or sort on métier properties."""
    fid = sorted(stack.rows().index)[0]
    for headers, allowed in ((None, False), (READER, False), (METIER, True), (ADMIN, True)):
        r = stack.get(f"{ITEMS}/{fid}", headers)
        assert r.status_code == 200, r.text[:300]
        props = set(r.json()["properties"])
        assert set(PUBLIC_FIELDS) <= props, (headers, set(PUBLIC_FIELDS) - props)
        if allowed:
            assert set(METIER_FIELDS) <= props, headers
        else:
            assert not set(METIER_FIELDS) & props, (headers, set(METIER_FIELDS) & props)
        page = stack.rows(headers)
        assert bool(set(METIER_FIELDS) & set(page.columns)) == allowed, headers
    # queryables: the tier's properties only
    q = stack.get(f"/collections/{CID}/queryables").json()["properties"]
    assert "classe" in q and not set(METIER_FIELDS) & set(q)
    qm = stack.get(f"/collections/{CID}/queryables", METIER).json()["properties"]
    assert set(METIER_FIELDS) <= set(qm)
    # filter and sort on a métier property: refused to the public, answered to metier
    for params in ({"filter": "puissance_kwc > 5"}, {"sortby": "-production_kwh_an"}):
        r = stack.get(ITEMS, None, limit=5, **params)
        assert r.status_code == 400, (params, r.status_code, r.text[:300])
        body = r.json()
        assert body["description_fr"] != body["description_en"]
        assert stack.get(ITEMS, METIER, limit=5, **params).status_code == 200, params
    # the public filters on the class
    r = stack.get(ITEMS, None, limit=10000, skipGeometry="true", filter="classe = 5")
    assert r.status_code == 200
    all_rows = stack.rows(ADMIN)
    assert r.json()["numberReturned"] == int((all_rows["classe"] == 5).sum())


def test_per_epci_totals_for_metier(stack):
    """Per-EPCI totals: /collections/cadastre-solaire/aggregate, métier sums for métier keys
    (equal to the items summed here), counts and public figures for everyone."""
    rows = stack.rows(ADMIN)
    expected = rows.groupby("epci_siren").agg(n=("batiment_id", "size"),
                                              kwc=("puissance_kwc", "sum"),
                                              kwh=("production_kwh_an", "sum"),
                                              m2=("surface_utile_m2", "sum"))
    metrics = "sum(puissance_kwc),sum(production_kwh_an),sum(surface_utile_m2)"
    r = stack.get(f"/collections/{CID}/aggregate", METIER, groupby="epci_siren",
                  metrics=metrics)
    assert r.status_code == 200, r.text[:500]
    groups = {g["key"]["epci_siren"]: g for g in r.json()["groups"]}
    assert set(groups) == set(expected.index)
    for siren, want in expected.iterrows():
        got = groups[siren]
        assert got["count"] == want["n"]
        assert got["sum(puissance_kwc)"] == pytest.approx(want["kwc"], rel=1e-9)
        assert got["sum(production_kwh_an)"] == pytest.approx(want["kwh"], rel=1e-9)
        assert got["sum(surface_utile_m2)"] == pytest.approx(want["m2"], rel=1e-9)
    public = stack.get(f"/collections/{CID}/aggregate", None, groupby="epci_siren",
                       metrics="sum(production_kwh_an)")
    assert public.status_code == 400, public.text[:300]
    ok = stack.get(f"/collections/{CID}/aggregate", None, groupby="epci_siren",
                   metrics="sum(production_indicative_kwh_an)")
    assert ok.status_code == 200, ok.text[:300]
    for g in ok.json()["groups"]:
        assert g["count"] == expected.loc[g["key"]["epci_siren"], "n"]


def test_the_process_is_for_editors(stack):
    for headers, status in ((None, 401), (READER, 403), (METIER, 403)):
        r = stack.post(EXECUTE, {}, headers)
        assert r.status_code == status, (headers, r.status_code, r.text[:300])
        assert r.json()["description_fr"] != r.json()["description_en"]
    r = stack.post(EXECUTE, {"nope": 1}, EDITOR)
    assert r.status_code == 400, r.text[:300]


def test_a_buildings_change_recomputes_the_cadastre(stack):
    """`artois-geo build batiments` with other buildings (another seed) on the stack's store
    queues `cadastre-solaire-calcul` (services/jobs/triggers.py); the job rewrites the
    collection: one roof per new building, each equal to the process's answer."""
    stack.settle()
    before = stack.rows(ADMIN)
    old = stack.layer("batiments")
    _cli(stack.env, "build", "batiments")  # communes and batiments into the stack's store
    new = stack.layer("batiments")
    changed = [i for i in sorted(set(old.index) & set(new.index))
               if not old.loc[i].geometry.equals_exact(new.loc[i].geometry, 0.01)]
    assert len(changed) > len(new) // 2  # the buildings did change
    deadline = time.monotonic() + WAIT
    while True:  # the job queued by the build rewrites the cadastre
        after = stack.rows(ADMIN)
        if set(after.index) == set(new.index) and \
                after["date_calcul"].min() > before["date_calcul"].max():
            break
        assert time.monotonic() < deadline, "no recompute after the buildings changed"
        time.sleep(1)
    jobs = stack.get("/jobs", ADMIN, limit=1000).json()["jobs"]
    assert any(j.get("processID") == "cadastre-solaire-calcul" and j["status"] == "successful"
               for j in jobs), jobs
    cad = stack.layer(CID)
    for fid in sample(changed, 3, 11):
        assert cad.loc[fid].geometry.equals_exact(new.loc[fid].geometry, 0.01), fid
        assert_roof_is_the_process(stack, after.loc[fid], fid)
    # an explicit run by an editor writes the same figures
    r = stack.post(EXECUTE, {}, EDITOR)
    assert r.status_code == 200, r.text[:500]
    done = r.json()["recalcul"]
    assert done["toitures"] == len(new) and done["ecrit"] is True
    again = stack.rows(ADMIN)
    cols = [c for c in again.columns if c not in ("date_calcul", "_id")]
    pd.testing.assert_frame_equal(again.loc[sorted(again.index), cols],
                                  after.loc[sorted(after.index), cols])


# ---------------------------------------------------------------------------- the web map
@pytest.fixture(scope="module")
def browser():
    from test_webmap import ARGS, CHROMIUM, NO_MAPLIBRE
    from services import webmap
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is installed by scripts/setup.sh --test-tools")
    if not webmap.maplibre_installed():
        pytest.skip(NO_MAPLIBRE)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_web_map_popup_shows_the_tier_of_the_signed_in_key(stack, browser):
    """The "Cadastre solaire" layer: a click on a roof shows the public fields; signed in
    with a métier key (the header's field, kept in sessionStorage), the métier ones too."""
    from test_webmap import MapPage
    from shapely.geometry import shape
    rows = stack.rows(ADMIN)
    fid = sorted(rows.index[rows["surface_utile_m2"] > 40])[0]
    feature = stack.get(f"{ITEMS}/{fid}", None, f="json").json()
    point = shape(feature["geometry"]).representative_point()
    mp = MapPage(stack.server, browser)
    layer_row = mp.page.locator(f"li[data-collection={CID}]")
    assert layer_row.count() == 1 and "Cadastre solaire" in layer_row.inner_text()

    def popup(tier: str):
        mp.show_only(CID)
        mp.show(point.x, point.y, 18)
        mp.click_centre()
        sheet = mp.page.locator(f".cadastre-popup article[data-tier={tier}]")
        sheet.locator("dl.fields").first.wait_for()
        return sheet

    sheet = popup("public")
    text = sheet.inner_text()
    assert fid in text and str(int(rows.loc[fid, "classe"])) in text
    assert sheet.locator("[data-field=irradiation_kwh_m2_an]").count() == 1
    assert sheet.locator("[data-field=surface_utile_m2]").count() == 0
    mp.page.fill("#api-key", METIER["X-API-Key"])
    mp.page.click("#sign-in button[type=submit]")  # reloads the page with the key
    mp.page.wait_for_selector("body[data-ready=true]")
    mp.page.wait_for_selector("#sign-out")
    mp.idle()
    sheet = popup("metier")
    area = sheet.locator("[data-field=surface_utile_m2]").inner_text()
    number = area.split(" m²")[0].replace("\u202f", "").replace("\xa0", "").replace(",", ".")
    assert float(number) == pytest.approx(rows.loc[fid, "surface_utile_m2"], abs=0.05), area
    assert sheet.locator("[data-field=puissance_kwc]").count() == 1
    # the item and tile requests carried the key; it never appears in an address
    assert not any(METIER["X-API-Key"] in url for _, url, _ in mp.responses)
    mp.idle()  # nothing loading when the page reloads (an aborted request is a problem)
    mp.page.click("#sign-out")
    mp.page.wait_for_selector("body[data-ready=true]")
    mp.page.wait_for_selector("#api-key")
    mp.idle()
    mp.close()
    assert not mp.problems, mp.problems
