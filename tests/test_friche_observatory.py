"""The brownfield observatory (issue 15, parts 3-4), over real HTTP on both stores: the fields
the collection file declares (added by the build, written through Part 4 and checked), the
criteria stored by an agent (`criteres_saisis`: validator, use by `mutability`, audit), the
vocations, and the automatic recompute of the batch after an edit, an import or a build that
changed rows (services/jobs/triggers.py): queued once, within the queue limits, by `recalcul`.

The shared servers of conftest.py are only read here (their columns). Everything that writes
runs on a private copy of each store with its own server (embedded: a temp var dir with
copies of the GeoPackages; PostGIS: a scratch schema holding friches and the jobs, the other
layers read from the shared schema), as tests/test_jobs.py does: the batch writes the scores of
all 246 friches, which the shared store must not get (other tests compare with it). The copy is
built with observatory columns missing and a row edited, then rebuilt: the build adds the
columns to an already-built editable store and keeps the edit. The scores exist on the copy
before its server starts (result columns, then a first batch), so that edits are recomputed.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest
import requests
import yaml

from conftest import PROJECT, VAR, Server, start_server

STORES = ["embedded", "postgis"]
KEYS = "obs-editor-key:editor:eddie,obs-admin-key:admin:ada"
EDITOR = {"X-API-Key": "obs-editor-key"}
ADMIN = {"X-API-Key": "obs-admin-key"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
EXECUTE = "/processes/mutability/execution"
# friches that no other test file uses (grep tests for site ids): one for the stored criteria,
# one edited on the copy before it is rebuilt, one lost and rebuilt
FRICHE = "62628_4240"
EDITED = "62447_6514"
LOST = "62351_4236"  # a row deleted around the API, which a build adds back
EDITED_NAME = "Nom édité avant la reconstruction"
SPEC = yaml.safe_load((PROJECT / "collections" / "friches.yml").read_text(encoding="utf-8"))
OBSERVATORY = [n for n, c in SPEC["fields"].items() if "type" in c]
RESULTS = ("mutabilite_usage", "mutabilite_indice", "mutabilite_fiabilite",
           "mutabilite_version", "mutabilite_vocations")
VOCATIONS = yaml.safe_load((PROJECT / "processes" / "mutability" / "data" /
                            "vocations.yaml").read_text(encoding="utf-8"))
SYSTEM_USER = "recalcul"
WAIT = 120  # seconds, bound of every wait on the job queue


# ---------------------------------------------------------------------------- the stack
@dataclass
class Stack:
    kind: str
    env: dict
    var: Path
    server: Server
    schema: str | None = None
    database_url: str | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.server.http.request(method, self.url + path, timeout=120, **kwargs)

    def item(self, fid: str) -> requests.Response:
        r = self.request("GET", f"/collections/friches/items/{fid}")
        assert r.status_code == 200, r.text[:500]
        return r

    def patch(self, fid: str, props: dict, retries: int = 0) -> requests.Response:
        """PATCH with the current ETag (read just before); `retries` times again on a 412
        (a recompute job may write the friche's scores in between)."""
        for _ in range(retries + 1):
            etag = self.item(fid).headers["ETag"]
            r = self.request("PATCH", f"/collections/friches/items/{fid}",
                             data=json.dumps({"properties": props}),
                             headers={**MERGE_PATCH, **EDITOR, "If-Match": etag})
            if r.status_code != 412:
                return r
            time.sleep(0.5)
        return r

    def execute(self, inputs: dict, headers: dict | None = None,
                prefer: str | None = None) -> requests.Response:
        h = {"Content-Type": "application/json", **(headers or {}),
             **({"Prefer": prefer} if prefer else {})}
        return self.request("POST", EXECUTE, data=json.dumps({"inputs": inputs}), headers=h)

    def evaluate(self, inputs: dict) -> dict:
        r = self.execute(inputs)
        assert r.status_code == 200, r.text[:800]
        return r.json()

    def jobs(self, status: str | None = None) -> dict:
        params = {"limit": 10000, **({"status": status} if status else {})}
        r = self.request("GET", "/jobs", params=params, headers=ADMIN)
        assert r.status_code == 200, r.text[:500]
        return r.json()

    def settle(self, every: bool = False, timeout: float = WAIT) -> None:
        """Wait until no job of `mutability` (`every`: no job at all) waits or runs: the
        recomputes of earlier edits are done (other processes may recompute too, on their
        own tables)."""
        deadline = time.monotonic() + timeout

        def busy() -> bool:
            for status in ("accepted", "running"):
                jobs = self.jobs(status)["jobs"]
                if any(every or j["processID"] == "mutability" for j in jobs):
                    return True
            return False
        while busy():
            assert time.monotonic() < deadline, self.jobs()
            time.sleep(0.3)

    def wait_job(self, job_id: str, timeout: float = WAIT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.request("GET", f"/jobs/{job_id}", headers=ADMIN).json()
            if job["status"] in ("successful", "failed", "dismissed"):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.3)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=PROJECT,
                              env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=600)

    def history(self, fid: str) -> list[dict]:
        out = self.cli("history", "friches", fid, "--json")
        assert out.returncode == 0, out.stderr[-2000:]
        return json.loads(out.stdout)

    def job_rows(self) -> list[dict]:
        """The job table itself: owner, process, status of every job."""
        cols = ("identifier", "process_id", "status", "user_id")
        query = f"SELECT {', '.join(cols)} FROM {{t}} ORDER BY created"
        if self.kind == "embedded":
            with contextlib.closing(sqlite3.connect(self.var / "jobs" / "jobs.sqlite",
                                                    timeout=30)) as conn:
                rows = conn.execute(query.format(t="jobs")).fetchall()
        else:
            import psycopg
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                rows = conn.execute(query.format(t=f'"{self.schema}".jobs')).fetchall()
        return [dict(zip(cols, r)) for r in rows]

    def restart(self, **env: str | None) -> None:
        """Restart the server with these settings (None: unset)."""
        self.server.stop()
        for key, value in env.items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = value
        self.restarts += 1
        self.server = start_server(self.env, f"observatory-{self.kind}-{self.restarts}")


def _run(args: list[str], env: dict) -> None:
    out = subprocess.run(args, cwd=PROJECT, env={**os.environ, **env}, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, (args, out.stdout[-2000:], out.stderr[-3000:])


def _cli(env: dict, *args: str) -> None:
    _run([sys.executable, "-m", "services.cli", *args], env)


def _strip_observatory_embedded(gpkg: Path) -> None:
    """The copy as an older build left it: no observatory column, and a row an editor
    changed since."""
    from services.store.sqlite.tables import register_gpkg_functions
    with contextlib.closing(sqlite3.connect(gpkg)) as conn:
        register_gpkg_functions(conn)  # GDAL's R*Tree triggers call ST_ functions
        have = {r[1] for r in conn.execute('PRAGMA table_info("friches")')}
        for name in OBSERVATORY:
            if name in have:
                conn.execute(f'ALTER TABLE "friches" DROP COLUMN "{name}"')
        conn.execute('UPDATE "friches" SET "site_nom" = ? WHERE "site_id" = ?',
                     (EDITED_NAME, EDITED))
        conn.commit()


def _strip_observatory_postgis(url: str, schema: str) -> None:
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        for name in OBSERVATORY:
            conn.execute(f'ALTER TABLE "{schema}".friches DROP COLUMN IF EXISTS "{name}"')
        conn.execute(f'UPDATE "{schema}".friches SET site_nom = %s WHERE site_id = %s',
                     (EDITED_NAME, EDITED))


@contextlib.contextmanager
def open_stack(kind: str, request, tmp_path_factory):
    var = tmp_path_factory.mktemp(f"observatory-{kind}") / "var"
    store = var / "store"
    store.mkdir(parents=True)
    # four job workers: the synchronous runs of the tests do not wait behind the recomputes
    # of other processes (chiffres-cles-calcul takes about 20 s)
    env = {"ARTOIS_VAR_DIR": str(var), "DATABASE_URL": "", "ARTOIS_API_KEYS": KEYS,
           "ARTOIS_JOB_TEST_DELAY": "0", "ARTOIS_JOB_WORKERS": "4"}
    schema = url = None
    if kind == "embedded":
        request.getfixturevalue("manifest")
        manifest = json.loads((VAR / "store" / "manifest.json").read_text())
        for entry in manifest.values():
            if str(entry.get("data", "")).endswith(".gpkg"):
                shutil.copy(entry["data"], store / Path(entry["data"]).name)
                entry["data"] = str(store / Path(entry["data"]).name)
        (store / "manifest.json").write_text(json.dumps(manifest))
        _strip_observatory_embedded(store / "friches.gpkg")
    else:
        url = request.getfixturevalue("database_url")
        schema = f"test_obs_{uuid.uuid4().hex[:8]}"
        env.update(DATABASE_URL=url, ARTOIS_DB_SCHEMA=schema)
        shutil.copy(VAR / "store" / "manifest-postgis.json", store / "manifest-postgis.json")
        _cli(env, "build", "friches")
        _strip_observatory_postgis(url, schema)
    try:
        _cli(env, "build", "friches")  # on an already-built editable collection
        # the scores' columns, as a first batch leaves them, before the server reads the table
        _run([sys.executable, "-c", "from services.settings import Settings; "
              "from processes.mutability.processor import ensure_result_columns; "
              "ensure_result_columns(Settings())"], env)
        stack = Stack(kind, env, var, start_server(env, f"observatory-{kind}"), schema, url)
        try:
            r = stack.execute({"batch": True}, EDITOR)  # the scores of every friche
            assert r.status_code == 200, r.text[:800]
            yield stack
        finally:
            stack.server.stop()
    finally:
        if schema:
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request.param, request, tmp_path_factory) as s:
        yield s


def assert_bilingual_400(r: requests.Response, *codes: str) -> dict:
    assert r.status_code == 400, (r.status_code, r.text[:800])
    body = r.json()
    assert body["description_fr"] and body["description_en"], body
    assert body["description_fr"] != body["description_en"], body
    got = [e["code"] for e in body.get("errors", [])]
    assert sorted(got) == sorted(codes), body
    for e in body["errors"]:
        assert e["fr"] and e["en"] and e["fr"] != e["en"], e
    return body


def canonical(criteria: dict) -> str:
    return json.dumps(criteria, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def reliability_note(weight_informed: float, weight_total: float) -> float:
    """METHOD.md §4.8: the nearest half point of 10 x informed / total (halves up)."""
    x = Fraction(10) * Fraction(str(weight_informed)) / Fraction(str(weight_total))
    return math.floor(2 * x + Fraction(1, 2)) / 2


def expected_vocations(result: dict) -> list[str]:
    """The rule of data/vocations.yaml, computed here from the ranked uses."""
    rows = [r for r in result["results"] if not r["excluded"]]
    best = max((Fraction(str(r["index"])) for r in rows), default=Fraction(0))
    if best <= 0:
        return []
    margin = Fraction(str(VOCATIONS["rule"]["margin"]))
    out: list[str] = []
    for r in rows:
        if best - Fraction(str(r["index"])) <= margin:
            out += [v for v in VOCATIONS["uses"][r["use"]] if v not in out]
    return out


def criteria_schema(stack: Stack) -> dict:
    desc = stack.request("GET", "/processes/mutability").json()
    return desc["inputs"]["criteria"]["schema"]["properties"]


# ---------------------------------------------------------------------------- the fields
def test_the_declared_fields_are_columns_on_the_shared_servers(server):
    """items, queryables, CSV of the shared stores (built from the collection file)."""
    items = server.json("/collections/friches/items", params={"limit": 3})
    for f in items["features"]:
        assert set(OBSERVATORY) <= set(f["properties"]), sorted(f["properties"])
    queryables = server.json("/collections/friches/queryables")["properties"]
    for name in OBSERVATORY:
        assert queryables[name]["type"] == "string", (name, queryables[name])
    assert queryables["controle_terrain_date"].get("format") == "date"
    assert queryables["projet_epci_statut"]["enum"] == \
        SPEC["fields"]["projet_epci_statut"]["enum"]
    csv = server.get("/collections/friches/items", params={"f": "csv", "limit": 2})
    assert csv.status_code == 200
    header = csv.text.splitlines()[0]
    assert all(name in header for name in OBSERVATORY), header


def test_the_build_adds_the_columns_to_a_built_store_and_keeps_edits(stack):
    """The copy lost the columns and had a row edited; `artois-geo build friches` put the
    columns back, empty, and kept the edit (and the 246 rows)."""
    edited = stack.item(EDITED).json()["properties"]
    assert edited["site_nom"] == EDITED_NAME
    assert all(edited[name] is None for name in OBSERVATORY), edited
    queryables = stack.request("GET", "/collections/friches/queryables").json()["properties"]
    assert set(OBSERVATORY) <= set(queryables)
    hits = stack.request("GET", "/collections/friches/items",
                         params={"limit": 1, "resulttype": "hits"}).json()
    assert hits["numberMatched"] == 246


def test_field_check_fields_are_written_and_checked(stack):
    stack.settle()
    before = stack.item(FRICHE)
    # a date outside the calendar and a status outside the code list: 400, nothing written
    r = stack.patch(FRICHE, {"controle_terrain_date": "2025-13-45",
                             "projet_epci_statut": "abandonné"})
    assert_bilingual_400(r, "field_not_date", "field_enum")
    after = stack.item(FRICHE)
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.json()["properties"] == before.json()["properties"]
    try:
        values = {"controle_terrain_date": "12/03/2025",  # the French form is accepted
                  "controle_terrain_auteur": "Agent de l'observatoire",
                  "projet_epci_statut": SPEC["fields"]["projet_epci_statut"]["enum"][2],
                  "projet_epci_description": "Étude de reconversion en cours"}
        r = stack.patch(FRICHE, values)
        assert r.status_code == 200, r.text[:800]
        got = stack.item(FRICHE).json()["properties"]
        assert got["controle_terrain_date"] == "2025-03-12"
        for name in ("controle_terrain_auteur", "projet_epci_statut", "projet_epci_description"):
            assert got[name] == values[name]
        # filterable like the source's fields
        found = stack.request("GET", "/collections/friches/items", params={
            "filter": "controle_terrain_date = DATE('2025-03-12')", "limit": 10}).json()
        assert [f["id"] for f in found["features"]] == [FRICHE]
    finally:
        r = stack.patch(FRICHE, {name: None for name in OBSERVATORY}, retries=5)
        assert r.status_code == 200, r.text[:800]
    assert all(stack.item(FRICHE).json()["properties"][n] is None for n in OBSERVATORY)


def test_the_stored_criteria_are_checked(stack):
    stack.settle()
    before = stack.item(FRICHE)
    schemas = criteria_schema(stack)
    user = schemas["user"]["properties"]
    cases = [
        ("pas du JSON", ["stored_criteria_not_json"]),
        ('["etatBatiInfrastructure"]', ["stored_criteria_not_json"]),
        ({"critereInconnu": "oui"}, ["stored_criteria_unknown"]),
        ({"raccordementEau": "oui"}, ["stored_criteria_unknown"]),  # always derived
        ({"qualitePaysage": "magnifique"}, ["stored_criteria_value"]),
        ({"surfaceBati": -5}, ["stored_criteria_value"]),
        ({"qualitePaysage": "ordinaire", "presenceZoneHumide": 1, "nope": 2},
         ["stored_criteria_value", "stored_criteria_unknown"]),
        ('{"qualitePaysage": "ordinaire", "qualitePaysage": "ordinaire"}',
         ["stored_criteria_duplicate"]),
        ({cid: user[cid]["enum"][0] for cid in user} |
         {f"x{i}": 1 for i in range(70)}, ["stored_criteria_too_large"]),
        ("x" * 9000, ["stored_criteria_too_large"]),
        (12, ["stored_criteria_not_json"]),
    ]
    for value, codes in cases:
        body = assert_bilingual_400(stack.patch(FRICHE, {"criteres_saisis": value}), *codes)
        for e in body["errors"]:
            assert e["field"] == "criteres_saisis", e
    # the messages name what is allowed: the valid ids, the allowed values
    body = stack.patch(FRICHE, {"criteres_saisis": {"critereInconnu": "oui"}}).json()
    assert all(cid in body["errors"][0]["en"] for cid in user)
    body = stack.patch(FRICHE, {"criteres_saisis": {"qualitePaysage": "magnifique"}}).json()
    assert all(v in body["errors"][0]["fr"] for v in user["qualitePaysage"]["enum"])
    after = stack.item(FRICHE)
    assert after.headers["ETag"] == before.headers["ETag"]  # nothing written
    # a JSON object or its text, stored as canonical JSON; {} clears it
    try:
        chosen = {"qualitePaysage": user["qualitePaysage"]["enum"][1],
                  "etatBatiInfrastructure": user["etatBatiInfrastructure"]["enum"][0]}
        r = stack.patch(FRICHE, {"criteres_saisis": chosen})
        assert r.status_code == 200, r.text[:800]
        assert r.json()["properties"]["criteres_saisis"] == canonical(chosen)
        text = json.dumps(chosen, indent=2, ensure_ascii=True)
        r = stack.patch(FRICHE, {"criteres_saisis": text}, retries=5)
        assert r.status_code == 200 and \
            r.json()["properties"]["criteres_saisis"] == canonical(chosen), r.text[:500]
    finally:
        r = stack.patch(FRICHE, {"criteres_saisis": {}}, retries=5)
        assert r.status_code == 200, r.text[:800]
    assert stack.item(FRICHE).json()["properties"]["criteres_saisis"] is None


def _stored_choice(stack: Stack, first: dict) -> dict:
    """Values for the user criteria that the layers leave unavailable for FRICHE: the first
    answer of each one's code list in the process description that is not « ne-sait-pas »."""
    user = criteria_schema(stack)["user"]["properties"]
    unavailable = [c["id"] for c in first["result"]["criteria"]
                   if c["source"] == "unavailable" and c["origin"] == "user"]
    assert len(unavailable) >= 2, first["result"]["criteria"]
    return {cid: next(v for v in user[cid]["enum"] if v != "ne-sait-pas")
            for cid in unavailable[:3]}


def test_stored_criteria_feed_the_process_and_are_audited(stack):
    stack.settle()
    first = stack.evaluate({"friche": FRICHE})
    rel0 = first["result"]["reliability"]
    fills = _stored_choice(stack, first)
    weights = {c["id"]: c["weight"] for c in first["result"]["criteria"]}
    # and one criterion the layers derive, corrected by the agent: the stored value wins
    derived = next(c for c in first["result"]["criteria"]
                   if c["source"] == "derived" and isinstance(c["value"], bool))
    stored = {**fills, derived["id"]: not derived["value"]}
    try:
        r = stack.patch(FRICHE, {"criteres_saisis": stored})
        assert r.status_code == 200, r.text[:800]
        out = stack.evaluate({"friche": FRICHE})
        result, derivation = out["result"], out["derivation"]
        by = {c["id"]: c for c in result["criteria"]}
        for cid, value in stored.items():
            assert by[cid]["source"] == "stored" and by[cid]["value"] == value, by[cid]
            assert by[cid]["informed"] is True
        assert sorted(derivation["stored"]) == sorted(stored)
        assert not set(stored) & set(derivation["unavailable"])
        assert by[derived["id"]]["value"] is (not derived["value"])  # stored over derived
        # the reliability rises by the weights of the criteria they fill (the corrected
        # derived one was informed already)
        rel = result["reliability"]
        assert rel["weight_informed"] == pytest.approx(
            rel0["weight_informed"] + sum(weights[c] for c in fills))
        assert rel["score"] == reliability_note(rel["weight_informed"], rel["weight_total"])
        assert rel["score"] > rel0["score"] or rel0["score"] == 10
        assert rel["criteria_informed"] == rel0["criteria_informed"] + len(fills)
        informed = sum(c["weight"] for c in result["criteria"] if c["informed"])
        assert informed == pytest.approx(rel["weight_informed"])
        # the vocations follow the documented rule
        assert [v["id"] for v in result["vocations"]] == expected_vocations(result)
        for v in result["vocations"]:
            assert v["label_fr"] == VOCATIONS["vocations"][v["id"]]["fr"]
        # a criterion given by the caller wins over the stored one
        cid, value = next(iter(stored.items()))
        other = next(v for v in criteria_schema(stack)["user"]["properties"][cid]["enum"]
                     if v not in (value, "ne-sait-pas"))
        given = stack.evaluate({"friche": FRICHE, "criteria": {"user": {cid: other}}})
        line = next(c for c in given["result"]["criteria"] if c["id"] == cid)
        assert line["source"] == "given" and line["value"] == other
        assert cid in given["derivation"]["given"] and cid not in given["derivation"]["stored"]
        # the change is in the audit trail, with the previous version, under the editor
        mine = [e for e in stack.history(FRICHE) if e["username"] == "eddie"]
        last = mine[-1]
        assert last["action"] == "patch" and last["source"] == "api" and last["role"] == "editor"
        assert last["new"]["properties"]["criteres_saisis"] == canonical(stored)
        assert last["previous"]["properties"]["criteres_saisis"] is None
    finally:
        r = stack.patch(FRICHE, {"criteres_saisis": None}, retries=5)
        assert r.status_code == 200, r.text[:800]
    again = stack.evaluate({"friche": FRICHE})
    assert again["result"]["reliability"] == rel0 and again["derivation"]["stored"] == []


# ---------------------------------------------------------------------------- recompute
def _scores(stack: Stack, fid: str) -> dict:
    props = stack.item(fid).json()["properties"]
    return {k: props[k] for k in RESULTS}


def _expected_scores(out: dict) -> dict:
    result = out["result"]
    best = result["results"][0]
    return {"mutabilite_usage": best["use"], "mutabilite_indice": best["index"],
            "mutabilite_fiabilite": result["reliability"]["score"],
            "mutabilite_version": result["algorithm_version"],
            "mutabilite_vocations": ", ".join(v["id"] for v in result["vocations"]) or None}


def mutability_jobs(stack: Stack, seen: set[str]) -> list[dict]:
    """The jobs of `mutability` not in `seen` (other processes may recompute too)."""
    return [j for j in stack.jobs()["jobs"] if j["jobID"] not in seen
            and j["processID"] == "mutability"]


def _wait_scores(stack: Stack, fid: str, expected: dict) -> None:
    deadline = time.monotonic() + WAIT
    while (got := _scores(stack, fid)) != expected:
        assert time.monotonic() < deadline, (got, expected)
        time.sleep(0.5)


def test_an_edit_is_recomputed_by_the_system_user(stack):
    stack.settle()
    baseline = stack.evaluate({"friche": FRICHE})
    assert _scores(stack, FRICHE) == _expected_scores(baseline)  # the first batch's
    stored = _stored_choice(stack, baseline)
    seen = {j["jobID"] for j in stack.jobs()["jobs"]}
    try:
        r = stack.patch(FRICHE, {"criteres_saisis": stored})
        assert r.status_code == 200, r.text[:800]
        deadline = time.monotonic() + WAIT
        while not (new := mutability_jobs(stack, seen)):
            assert time.monotonic() < deadline, "no recompute job"
            time.sleep(0.2)
        assert len(new) == 1, new
        job = stack.wait_job(new[0]["jobID"])
        assert job["status"] == "successful", job
        rows = {row["identifier"]: row for row in stack.job_rows()}
        assert rows[job["jobID"]]["user_id"] == SYSTEM_USER
        summary = stack.request("GET", f"/jobs/{job['jobID']}/results", headers=ADMIN).json()
        assert summary["batch"]["stored"]["friches"] >= 1 and summary["batch"]["updated"] >= 1
        # the friche's scores are those of the process with the stored criteria
        with_stored = stack.evaluate({"friche": FRICHE})
        assert sorted(with_stored["derivation"]["stored"]) == sorted(stored)
        _wait_scores(stack, FRICHE, _expected_scores(with_stored))
        assert with_stored["result"]["reliability"]["score"] > \
            baseline["result"]["reliability"]["score"]
        # written by the recompute, audited under the system user
        entries = stack.history(FRICHE)
        assert entries[-1]["username"] == SYSTEM_USER and entries[-1]["source"] == "process"
        assert entries[-1]["new"]["properties"]["mutabilite_fiabilite"] == \
            with_stored["result"]["reliability"]["score"]
    finally:
        stack.settle()
        r = stack.patch(FRICHE, {"criteres_saisis": None}, retries=5)
        assert r.status_code == 200, r.text[:800]
    _wait_scores(stack, FRICHE, _expected_scores(baseline))  # recomputed back
    stack.settle()


def test_a_batch_on_unchanged_data_writes_and_queues_nothing(stack):
    stack.settle()
    before = stack.jobs()["numberMatched"]
    r = stack.execute({"batch": True}, EDITOR)
    assert r.status_code == 200, r.text[:800]
    batch = r.json()["batch"]
    assert batch["updated"] == 0 and batch["unchanged"] == batch["scored"] == 246, batch
    # the batch itself, nothing else: a batch's writes queue no recompute
    assert stack.jobs()["numberMatched"] == before + 1


def _delete_around_the_api(stack: Stack, fid: str) -> None:
    """A row lost outside the API (no audit entry): the next build adds it back."""
    if stack.kind == "embedded":
        from services.store.sqlite.tables import register_gpkg_functions
        with contextlib.closing(sqlite3.connect(stack.var / "store" / "friches.gpkg")) as conn:
            register_gpkg_functions(conn)
            conn.execute('DELETE FROM "friches" WHERE "site_id" = ?', (fid,))
            conn.commit()
    else:
        import psycopg
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            conn.execute(f'DELETE FROM "{stack.schema}".friches WHERE site_id = %s', (fid,))


def test_a_build_queues_a_recompute_when_it_changed_rows(stack):
    stack.settle()
    fid = LOST
    before = {j["jobID"] for j in stack.jobs()["jobs"]}
    out = stack.cli("build", "friches")  # nothing changed: nothing queued
    assert out.returncode == 0, out.stderr[-2000:]
    assert not mutability_jobs(stack, before)
    scores = _scores(stack, fid)
    _delete_around_the_api(stack, fid)
    out = stack.cli("build", "friches")  # the row comes back: the scores are recomputed
    assert out.returncode == 0, out.stderr[-2000:]
    new = mutability_jobs(stack, before)
    assert len(new) == 1, new
    assert stack.wait_job(new[0]["jobID"])["status"] == "successful"
    _wait_scores(stack, fid, scores)


def test_import_shares_the_validator_and_queues_a_recompute(stack, tmp_path):
    stack.settle()
    feature = stack.item(FRICHE).json()
    user = criteria_schema(stack)["user"]["properties"]

    def write(criteria) -> Path:
        path = tmp_path / f"maj-{uuid.uuid4().hex[:6]}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": feature["geometry"],
            "properties": {"site_id": FRICHE, "criteres_saisis": criteria}}]}))
        return path

    before = {j["jobID"] for j in stack.jobs()["jobs"]}
    bad = stack.cli("import", "friches", str(write(json.dumps({"qualitePaysage": "x"}))),
                    "--mode", "upsert", "--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert [e["code"] for e in report["rejected"][0]["errors"]] == ["stored_criteria_value"]
    assert not mutability_jobs(stack, before)  # nothing written: no job
    good = {"qualitePaysage": user["qualitePaysage"]["enum"][0]}
    try:
        out = stack.cli("import", "friches", str(write(json.dumps(good))), "--mode", "upsert",
                        "--user", "agent", "--json")
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        assert stack.item(FRICHE).json()["properties"]["criteres_saisis"] == canonical(good)
        new = mutability_jobs(stack, before)
        assert len(new) == 1, new  # queued by the import
        assert stack.wait_job(new[0]["jobID"])["status"] == "successful"
    finally:
        stack.settle()
        r = stack.patch(FRICHE, {"criteres_saisis": None}, retries=5)
        assert r.status_code == 200, r.text[:800]
        stack.settle()


def test_recompute_jobs_are_not_queued_twice_nor_beyond_the_queue(stack):
    """Without job workers, queued jobs stay queued: a full queue queues no recompute (and the
    edit succeeds), and several edits queue one recompute per process."""
    from services.jobs.triggers import declarations
    readers = [pid for pid, d in declarations().items() if "friches" in d["on"]]
    assert "mutability" in readers
    stack.settle(every=True)
    stack.restart(ARTOIS_JOB_WORKERS="0", ARTOIS_JOB_MAX_QUEUED=str(len(readers)))
    try:
        fillers = []
        for _ in readers:  # the queue is full
            r = stack.execute({"friche": FRICHE}, prefer="respond-async")
            assert r.status_code == 201, r.text[:500]
            fillers.append((r.json()["jobID"], {"X-Job-Token": r.headers["X-Job-Token"]}))
        r = stack.patch(FRICHE, {"controle_terrain_auteur": "File pleine"})
        assert r.status_code == 200, r.text[:800]  # the edit is done all the same
        waiting = [j for j in stack.job_rows() if j["status"] == "accepted"]
        assert sorted(j["identifier"] for j in waiting) == sorted(f for f, _ in fillers)
        log = stack.server.log.read_text(encoding="utf-8", errors="replace")
        assert "recompute of mutability after PATCH" in log and "limit is reached" in log
        for job_id, token in fillers:
            d = stack.request("DELETE", f"/jobs/{job_id}", headers=token)
            assert d.status_code == 200, d.text[:300]
        for i in range(3):  # quick edits: one recompute waits
            r = stack.patch(FRICHE, {"controle_terrain_auteur": f"Agent {i}"})
            assert r.status_code == 200, r.text[:800]
        waiting = [j for j in stack.job_rows() if j["status"] == "accepted"
                   and j["process_id"] == "mutability"]
        assert [j["user_id"] for j in waiting] == [SYSTEM_USER], waiting
    finally:
        stack.restart(ARTOIS_JOB_WORKERS="4", ARTOIS_JOB_MAX_QUEUED=None)
        stack.settle()  # the waiting recompute runs now
        r = stack.patch(FRICHE, {"controle_terrain_auteur": None}, retries=5)
        assert r.status_code == 200, r.text[:800]
        stack.settle()
    assert [j for j in stack.job_rows() if j["process_id"] == "mutability"][-1]["status"] == \
        "successful"
