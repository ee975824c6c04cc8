"""The PostGIS store: idempotent build, schema migration without loss, estimated counts,
indexes, query plans."""
from __future__ import annotations

import json
import shutil
import uuid

import psycopg
import pytest

from conftest import PROJECT, artois_geo, start_server


@pytest.fixture()
def scratch(tmp_path, database_url):
    """A scratch schema and var dir, dropped afterwards."""
    schema = f"scratch_{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": database_url, "ARTOIS_DB_SCHEMA": schema,
           "ARTOIS_VAR_DIR": str(tmp_path / "var"),
           "ARTOIS_COLLECTIONS_DIR": str(tmp_path / "collections")}
    cdir = tmp_path / "collections"
    (cdir / "data").mkdir(parents=True)
    for name in ("communes.yml", "friches.yml"):
        shutil.copy(PROJECT / "collections" / name, cdir)
    for name in ("communes_62_artois.geojson", "friches_cartofriches_62.geojson"):
        shutil.copy(PROJECT / "collections" / "data" / name, cdir / "data")
    yield env, cdir, schema
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def manifest(env) -> dict:
    from pathlib import Path
    return json.loads((Path(env["ARTOIS_VAR_DIR"]) / "store" / "manifest-postgis.json").read_text())


def test_build_twice_changes_nothing(scratch, database_url):
    env, _, schema = scratch
    artois_geo("build", env=env, capture_output=True)
    first = manifest(env)
    assert first["communes"]["changed"] == 305 and first["friches"]["changed"] == 246
    with psycopg.connect(database_url) as conn:
        xmin_before = conn.execute(f'SELECT sum(xmin::text::bigint) FROM "{schema}".communes').fetchone()
    artois_geo("build", env=env, capture_output=True)
    second = manifest(env)
    assert second["communes"]["changed"] == 0 and second["friches"]["changed"] == 0
    with psycopg.connect(database_url) as conn:
        xmin_after = conn.execute(f'SELECT sum(xmin::text::bigint) FROM "{schema}".communes').fetchone()
        assert xmin_before == xmin_after  # no row was rewritten
        idx = {r[0] for r in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = 'communes'",
            (schema,))}
        assert any("gist (geom)" in i for i in idx) and any("UNIQUE" in i and "insee" in i for i in idx)
        srid = conn.execute("SELECT srid, type FROM geometry_columns WHERE f_table_schema = %s "
                            "AND f_table_name = 'communes'", (schema,)).fetchone()
        assert srid == (2154, "MULTIPOLYGON")


def test_changed_schema_is_migrated_not_dropped(scratch, database_url):
    env, cdir, schema = scratch
    artois_geo("build", env=env, capture_output=True)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # an editor's change through the API must survive the rebuild of an editable layer
        conn.execute(f"UPDATE \"{schema}\".friches SET site_nom = 'Nom corrigé' "
                     "WHERE site_id = '62846_8397'")
        oid = conn.execute(f"SELECT '\"{schema}\".communes'::regclass::oid").fetchone()[0]
    spec = (cdir / "communes.yml").read_text()
    spec = spec.replace("columns: [insee, nom, dep, epci_siren, epci_nom, population_municipale]",
                        "columns: [insee, nom, dep, epci_siren, epci_nom, population_municipale]\n"
                        "  rename: {dep: departement}")
    (cdir / "communes.yml").write_text(spec)
    artois_geo("build", env=env, capture_output=True)
    with psycopg.connect(database_url) as conn:
        cols = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'communes'", (schema,))}
        assert "departement" in cols  # added by migration
        assert conn.execute(f"SELECT '\"{schema}\".communes'::regclass::oid").fetchone()[0] == oid
        assert conn.execute(f'SELECT count(*) FROM "{schema}".communes WHERE departement = \'62\'').fetchone()[0] > 300
        assert conn.execute(f"SELECT site_nom FROM \"{schema}\".friches WHERE site_id = '62846_8397'"
                            ).fetchone()[0] == "Nom corrigé"


def test_estimated_counts_above_the_limit(scratch):
    env, _, _ = scratch
    artois_geo("build", env=env, capture_output=True)
    srv = start_server({**env, "ARTOIS_EXACT_COUNT_LIMIT": "100"}, "estimated-count")
    try:
        body = srv.json("/collections/communes/items", params={"limit": 10})
        assert abs(body["numberMatched"] - 305) <= 15  # pg_class.reltuples after ANALYZE
        filtered = srv.json("/collections/communes/items",
                            params={"limit": 10, "filter": "population_municipale > 10000"})
        assert filtered["numberMatched"] > 0  # planner estimate, not an exact count
        # paging still walks every row, whatever the estimate
        seen, url = [], f"{srv.url}/collections/communes/items?limit=100"
        while url:
            page = srv.http.get(url, timeout=30).json()
            seen += [f["id"] for f in page["features"]]
            url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        assert len(seen) == len(set(seen)) == 305
    finally:
        srv.stop()


def test_bbox_query_uses_the_gist_index(database_url):
    """The envelope reaches PostGIS in EPSG:2154, so the GIST index serves it."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")  # small tables: make the planner show its choice
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT fid FROM artois.communes WHERE geom && "
            "ST_MakeEnvelope(670000, 7040000, 684000, 7048000, 2154)"))
        assert "communes_geom_gist" in plan
