"""OGC API Processes over real HTTP, on both stores (the shared servers of conftest.py): the
`mutability` process (golden scenarios, a real friche, bad inputs) and the job API (OWSLib,
synchronous and asynchronous execution, job documents, paging, results, callbacks).

Tests that write (batch mode), restart servers or slow workers down are in test_jobs.py, on
private servers.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from conftest import ADMIN, EDITOR, PROJECT, READER

SCENARIOS = sorted((PROJECT / "processes" / "mutability" / "data" / "scenarios").glob("*.json"))
USES = {"residentiel", "equipements", "culture", "tertiaire", "industrie", "renaturation",
        "photovoltaique"}
FRICHE = "62846_8397"  # Fosse n° 3 de Béthune (Cartofriches)
EXECUTE = "/processes/mutability/execution"


def scenario(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def execute(server, inputs: dict, prefer: str | None = None, **body) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if prefer:
        headers["Prefer"] = prefer
    return server.post(EXECUTE, data=json.dumps({"inputs": inputs, **body}), headers=headers)


def owner(r: requests.Response) -> dict:
    """The header that reads or deletes the anonymous job created by `r`."""
    return {"X-Job-Token": r.headers["X-Job-Token"]}


def wait_job(server, job_id: str, headers: dict, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = server.json(f"/jobs/{job_id}", headers=headers)
        if job["status"] in ("successful", "failed", "dismissed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def assert_bilingual(r: requests.Response, status: int, *needles: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:800])
    body = r.json()
    fr, en = body["description_fr"], body["description_en"]
    assert fr and en and fr != en, body
    for needle in needles:
        assert needle in fr and needle in en, (needle, body)
    return body


# ---------------------------------------------------------------------------- description
def test_process_is_listed_and_described_in_both_languages(server):
    listed = {p["id"]: p for p in server.json("/processes")["processes"]}
    assert "mutability" in listed
    fr = server.json("/processes/mutability", params={"lang": "fr"})
    en = server.json("/processes/mutability", params={"lang": "en"})
    assert fr["title"].startswith("Mutabilité") and en["title"].startswith("Brownfield")
    assert set(fr["inputs"]) == {"friche", "criteria", "algorithm_version", "batch"}
    assert {"sync-execute", "async-execute"} <= set(fr["jobControlOptions"])
    assert set(fr["outputs"]) >= {"result", "derivation", "batch"}
    assert "v1.16" in fr["inputs"]["algorithm_version"]["schema"]["enum"]
    crit = fr["inputs"]["criteria"]["schema"]
    assert set(crit["properties"]) == {"auto", "user", "derived", "unavailable", "context"}
    assert fr["inputs"]["friche"]["title"] == "Friche" and \
        en["inputs"]["friche"]["title"] == "Brownfield site"


# ---------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_golden_scenarios_give_exactly_expected(server, path):
    sc = scenario(path)
    r = execute(server, {"criteria": sc["input"], "algorithm_version": sc["algorithm_version"]})
    assert r.status_code == 200, r.text[:800]
    result = r.json()["result"]
    assert result.pop("algorithm_version") == sc["algorithm_version"] == "v1.16"
    explained = result.pop("criteria")  # every criterion of the version, explained
    assert result == sc["expected"]
    assert {c["source"] for c in explained} <= {"given", "unavailable", "derived"}
    # "derived" here only by the method's own rules, from a given criterion
    assert all(c["rule"].startswith("from ") for c in explained if c["source"] == "derived")
    given = {c["id"] for c in explained if c["source"] == "given"}
    sent = {cid for section in ("auto", "user", "derived") for cid in sc["input"].get(section, {})}
    assert given and given <= sent
    assert len(explained) == result["reliability"]["criteria_total"]


def test_default_version_is_the_newest(server):
    sc = scenario(SCENARIOS[0])
    r = execute(server, {"criteria": sc["input"]})
    assert r.status_code == 200, r.text[:500]
    newest = server.json("/processes/mutability")["inputs"]["algorithm_version"]["schema"]
    assert r.json()["result"]["algorithm_version"] == newest["default"] == "v1.19"
    assert r.json()["result"]["reliability"]["criteria_total"] == 32


def test_a_real_friche_gets_seven_uses_and_its_derived_criteria(server):
    r = execute(server, {"friche": FRICHE})
    assert r.status_code == 200, r.text[:800]
    body = r.json()
    result, derivation = body["result"], body["derivation"]
    assert {u["use"] for u in result["results"]} == USES
    assert [u["rank"] for u in result["results"]] == list(range(1, 8))
    assert set(result["reliability"]) == {"score", "label", "criteria_informed", "criteria_total",
                                          "weight_informed", "weight_total"}
    derived = derivation["derived"]
    assert derived["surfaceSite"]["layer"] == "friches" and derived["surfaceSite"]["value"] > 0
    assert derived["zonageReglementaire"] == {"value": "zone-urbaine-u", "layer": "friches",
                                              "rule": "urba_zone_type = U"}
    assert derived["siteEnCentreVille"]["layer"] == "communes"
    assert derived["risqueCavitesSouterraines"]["value"] == "oui"  # a shaft of Fosse n° 3
    assert "siteEnZae" in derived  # v1.19 has the business-park criterion
    assert "surfaceBati" in derivation["unavailable"]  # issue 15: transport stops now derived
    assert not set(derived) & set(derivation["unavailable"])
    assert result["reliability"]["criteria_informed"] == len(derived)


def test_caller_criteria_complete_the_derived_ones(server):
    user = {"typeProprietaire": "public", "etatBatiInfrastructure": "pas-de-bati",
            "presencePollution": "oui-autres-composes", "valeurArchitecturaleHistorique":
            "pas-de-bati", "qualitePaysage": "ordinaire", "qualiteVoieDesserte": "accessible",
            "trameVerteEtBleue": "hors-trame", "presenceEspecesProtegees": "non",
            "presenceZoneHumide": "non"}
    alone = execute(server, {"friche": FRICHE}).json()
    r = execute(server, {"friche": FRICHE, "algorithm_version": "v1.16",
                         "criteria": {"user": user, "auto": {"siteEnQpv": True},
                                      "unavailable": ["zonageReglementaire"]}})
    assert r.status_code == 200, r.text[:800]
    body = r.json()
    assert body["result"]["algorithm_version"] == "v1.16"
    der = body["derivation"]
    assert "siteEnZae" not in der["derived"]  # not a criterion of v1.16
    assert {"siteEnQpv", "zonageReglementaire", "typeProprietaire"} <= set(der["given"])
    assert "zonageReglementaire" in der["unavailable"] and "siteEnQpv" not in der["unavailable"]
    assert der["criteria"]["auto"]["siteEnQpv"] is True
    assert body["result"]["reliability"]["weight_informed"] > \
        alone["result"]["reliability"]["weight_informed"]


def test_the_described_example_runs(server):
    example = server.json("/processes/mutability")["example"]
    r = server.post(EXECUTE, data=json.dumps(example), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text[:800]
    assert "typeProprietaire" in r.json()["derivation"]["given"]


def test_unknown_friche_is_a_bilingual_400(server):
    r = execute(server, {"friche": "nope-42"})
    body = assert_bilingual(r, 400, "nope-42", "friche")
    assert body["code"] == "InvalidParameterValue"


@pytest.mark.parametrize("inputs, name", [
    ({"friche": FRICHE, "colour": "red"}, "colour"),
    ({"friche": FRICHE, "algorithm_version": "v9"}, "algorithm_version"),
    ({"friche": 62846}, "friche"),
    ({"batch": "yes"}, "batch"),
    ({"criteria": "all"}, "criteria"),
    ({"criteria": {"user": {"typeProprietaire": "x"}}}, "criteria.user.typeProprietaire"),
    ({"criteria": {"auto": {"surfaceSite": -3}}}, "criteria.auto.surfaceSite"),
    ({"criteria": {"auto": {"nope": 1}}}, "nope"),
    ({"criteria": {"unavailable": ["surfaceSite"], "auto": {"surfaceSite": 3}}}, "surfaceSite"),
    ({"criteria": {"moon": {}}}, "moon"),
    ({}, "friche"),
])
def test_invalid_inputs_are_400_naming_the_input(server, inputs, name):
    if "batch" in inputs:  # batch mode needs an editor, whose inputs are then checked
        r = server.post(EXECUTE, data=json.dumps({"inputs": inputs}),
                        headers={"Content-Type": "application/json", "X-API-Key": EDITOR})
    else:
        r = execute(server, inputs)
    assert_bilingual(r, 400, name)


def test_batch_mode_writes_so_it_needs_the_editor_role(server):
    """Batch mode writes every friche: 401 anonymous, 403 for a reader; an editor's request
    is then checked like any other (here refused before anything is written)."""
    body = json.dumps({"inputs": {"batch": True, "friche": FRICHE}})
    anonymous = server.post(EXECUTE, data=body, headers={"Content-Type": "application/json"})
    assert_bilingual(anonymous, 401)
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    reader = server.post(EXECUTE, data=body, headers={"Content-Type": "application/json",
                                                     "X-API-Key": READER})
    assert_bilingual(reader, 403, "editor")
    editor = server.post(EXECUTE, data=body, headers={"Content-Type": "application/json",
                                                     "Authorization": f"Bearer {EDITOR}"})
    assert_bilingual(editor, 400, "batch")
    wrong = server.post(EXECUTE, data=json.dumps({"inputs": {"friche": FRICHE}}),
                        headers={"Content-Type": "application/json", "X-API-Key": "nope"})
    assert_bilingual(wrong, 401)  # an unknown key is refused even where none is needed


def test_body_that_is_not_an_object_is_400(server):
    r = server.post(EXECUTE, data="[1, 2]", headers={"Content-Type": "application/json"})
    assert_bilingual(r, 400, '"inputs"')


# ---------------------------------------------------------------------------- jobs
def test_async_execution_job_document_and_results(server):
    r = execute(server, {"friche": FRICHE}, prefer="respond-async")
    assert r.status_code == 201, r.text[:500]
    job_id = r.json()["jobID"]
    assert r.headers["Location"] == f"{server.url}/jobs/{job_id}"
    assert r.headers["Preference-Applied"] == "respond-async"
    assert r.json()["status"] in ("accepted", "running")
    assert any(lk["rel"] == "monitor" for lk in r.json()["links"])
    mine = owner(r)
    assert r.json()["jobToken"] == mine["X-Job-Token"]
    job = wait_job(server, job_id, mine)
    assert job["status"] == "successful" and job["progress"] == 100, job
    for key in ("created", "started", "finished", "updated"):
        assert job[key], key
    rels = {lk["rel"]: lk["href"] for lk in job["links"]}
    assert rels["status"] == f"{server.url}/jobs/{job_id}"
    results_href = rels["http://www.opengis.net/def/rel/ogc/1.0/results"]
    # OWSLib and curl send no Accept header (requests' default */* neither names a type)
    plain = requests.get(results_href.split("?")[0], headers={"Accept": None, **mine},
                         timeout=60)
    assert plain.status_code == 200 and plain.headers["Content-Type"].startswith(
        "application/json"), plain.headers
    assert {u["use"] for u in plain.json()["result"]["results"]} == USES
    html = server.get(f"/jobs/{job_id}/results", headers={"Accept": "text/html", **mine})
    assert html.status_code == 200 and "text/html" in html.headers["Content-Type"]
    assert server.get(f"/jobs/{job_id}", params={"f": "html"}, headers=mine).status_code == 200
    # a finished job is deleted with its results
    d = server.http.delete(f"{server.url}/jobs/{job_id}", headers=mine, timeout=60)
    assert d.status_code == 200 and d.json()["status"] == "dismissed", d.text[:300]
    assert_bilingual(server.get(f"/jobs/{job_id}", headers=mine), 404, job_id)
    assert_bilingual(server.get(f"/jobs/{job_id}/results", headers=mine), 404, job_id)


def test_job_messages_follow_the_language(server):
    r = execute(server, {"criteria": scenario(SCENARIOS[0])["input"]}, prefer="respond-async")
    job_id = r.json()["jobID"]
    mine = owner(r)
    wait_job(server, job_id, mine)
    assert server.json(f"/jobs/{job_id}", params={"lang": "fr"},
                       headers=mine)["message"] == "Tâche terminée"
    assert server.json(f"/jobs/{job_id}", params={"lang": "en"},
                       headers=mine)["message"] == "Job complete"


def test_jobs_list_pages_with_next_links(server):
    """A user's jobs, paged (the jobs of the reader key: others may submit meanwhile)."""
    reader = {"X-API-Key": READER}
    for path in SCENARIOS[:3]:
        r = server.post(EXECUTE, data=json.dumps({"inputs": {"criteria": scenario(path)[
            "input"]}}), headers={"Content-Type": "application/json", **reader})
        assert r.status_code == 200 and "X-Job-Token" not in r.headers
    first = server.json("/jobs", params={"limit": 2}, headers=reader)
    assert len(first["jobs"]) == 2 and first["numberMatched"] >= 3
    nxt = [lk["href"] for lk in first["links"] if lk["rel"] == "next"]
    assert nxt and "offset=2" in nxt[0] and "limit=2" in nxt[0]
    second = requests.get(nxt[0], headers=reader, timeout=60).json()
    assert second["jobs"] and any(lk["rel"] == "prev" for lk in second["links"])
    if second["numberMatched"] == first["numberMatched"]:  # no job created meanwhile
        assert not {j["jobID"] for j in first["jobs"]} & {j["jobID"] for j in second["jobs"]}
    total = first["numberMatched"]
    last = server.json("/jobs", params={"limit": 2, "offset": max(total - 2, 0)},
                       headers=reader)
    if max(total - 2, 0) + 2 >= last["numberMatched"]:
        assert not any(lk["rel"] == "next" for lk in last["links"])
    every = server.json("/jobs", params={"limit": 10000}, headers=reader)
    assert len(every["jobs"]) == min(every["numberMatched"], 10000)
    assert every["numberMatched"] >= total
    everybody = server.json("/jobs", params={"limit": 10000}, headers={"X-API-Key": ADMIN})
    assert everybody["numberMatched"] >= every["numberMatched"]
    assert server.json("/jobs")["jobs"] == []  # anonymous: nobody's jobs
    assert server.get("/jobs", params={"f": "html"}, headers=reader).status_code == 200


def test_a_job_is_read_and_deleted_by_its_owner_only(server):
    """An anonymous job answers to its token alone; a user's job to that user; admins see
    every job. Anyone else gets the 404 of a job that does not exist."""
    r = execute(server, {"criteria": scenario(SCENARIOS[0])["input"]}, prefer="respond-async")
    assert r.status_code == 201, r.text[:300]
    job_id, token = r.json()["jobID"], r.headers["X-Job-Token"]
    assert len(token) >= 40 and len(job_id) >= 32  # unguessable
    wait_job(server, job_id, {"X-Job-Token": token})
    others = [{}, {"X-Job-Token": token[:-1] + ("A" if token[-1] != "A" else "B")},
              {"X-API-Key": READER}, {"X-API-Key": EDITOR}]
    for headers in others:
        for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/results"):
            assert_bilingual(server.get(path, headers=headers), 404, job_id)
        d = server.http.delete(f"{server.url}/jobs/{job_id}", headers=headers, timeout=60)
        assert_bilingual(d, 404, job_id)
        listed = server.json("/jobs", params={"limit": 10000}, headers=headers)
        assert job_id not in {j["jobID"] for j in listed["jobs"]}
    mine = server.json("/jobs", headers={"X-Job-Token": token})
    assert [j["jobID"] for j in mine["jobs"]] == [job_id]
    admin = {"X-API-Key": ADMIN}
    assert server.json(f"/jobs/{job_id}", headers=admin)["status"] == "successful"
    # a reader's job: the reader's, not another user's nor an anonymous caller's
    r = server.post(EXECUTE, data=json.dumps({"inputs": {"criteria": scenario(SCENARIOS[1])[
        "input"]}}), headers={"Content-Type": "application/json", "Prefer": "respond-async",
                              "X-API-Key": READER})
    assert r.status_code == 201 and "X-Job-Token" not in r.headers
    theirs = r.json()["jobID"]
    wait_job(server, theirs, {"X-API-Key": READER})
    assert server.get(f"/jobs/{theirs}", headers={"X-API-Key": EDITOR}).status_code == 404
    assert server.get(f"/jobs/{theirs}", headers={"X-Job-Token": token}).status_code == 404
    assert server.get(f"/jobs/{theirs}").status_code == 404
    # the owner deletes it; the admin deletes the anonymous one
    assert server.http.delete(f"{server.url}/jobs/{theirs}", headers={"X-API-Key": READER},
                              timeout=60).status_code == 200
    assert server.http.delete(f"{server.url}/jobs/{job_id}", headers=admin,
                              timeout=60).status_code == 200
    assert server.get(f"/jobs/{job_id}", headers={"X-Job-Token": token}).status_code == 404


def test_execute_needs_a_json_body(server):
    """text/plain (which a browser sends cross-site without a preflight) and form bodies are
    refused with 415; malformed bodies and subscribers with 400."""
    body = json.dumps({"inputs": {"friche": FRICHE}})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                  None):
        headers = {"Content-Type": ctype} if ctype else {}
        r = server.post(EXECUTE, data=body, headers=headers)
        assert_bilingual(r, 415)
    cases = [b"null", b"[]", b'"x"', b"{", b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000,
             json.dumps({"inputs": {"friche": "a\u0000b"}}).encode(),
             json.dumps({"inputs": {"friche": FRICHE}, "colour": 1}).encode(),
             json.dumps({"inputs": {"friche": FRICHE}, "subscriber": "http://x"}).encode(),
             json.dumps({"inputs": {"friche": FRICHE}, "subscriber": ["a"]}).encode(),
             json.dumps({"inputs": {"friche": FRICHE},
                         "subscriber": {"failedUri": "http://x/"}}).encode(),
             json.dumps({"inputs": {"friche": FRICHE}, "response": "both"}).encode()]
    for raw in cases:
        r = server.post(EXECUTE, data=raw, headers={"Content-Type": "application/json"})
        assert_bilingual(r, 400)


def test_execute_body_limit_holds_whatever_the_transfer_encoding(server):
    """6 MB sent chunked (no Content-Length) is cut at the 5 MB limit with a 413."""
    def chunks():
        yield b'{"inputs": {"criteria": "'
        for _ in range(6 * 16):
            yield b"x" * 65536
        yield b'"}}'
    r = server.post(EXECUTE, data=chunks(), headers={"Content-Type": "application/json"})
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_bilingual(r, 413)


def test_unknown_job_is_a_bilingual_404(server):
    assert_bilingual(server.get("/jobs/no-such-job"), 404, "no-such-job")
    assert_bilingual(server.get("/jobs/no-such-job/results"), 404, "no-such-job")
    r = server.http.delete(f"{server.url}/jobs/no-such-job", timeout=60)
    assert_bilingual(r, 404, "no-such-job")


def test_callback_to_a_host_not_allowed_is_refused(server):
    r = execute(server, {"friche": FRICHE}, prefer="respond-async",
                subscriber={"successUri": "http://callbacks.example.org/done"})
    assert_bilingual(r, 400, "callbacks.example.org", "ARTOIS_CALLBACK_HOSTS", "successUri")
    r = execute(server, {"friche": FRICHE},
                subscriber={"successUri": "ftp://127.0.0.1/x"})
    assert_bilingual(r, 400, "successUri")


# ---------------------------------------------------------------------------- OWSLib
def wait_for_job(client, job_id: str, seconds: float) -> dict:
    """Poll an OWSLib job until it leaves accepted/running."""
    deadline = time.monotonic() + seconds
    while True:
        job = client._request(path=f"jobs/{job_id}")
        if job["status"] not in ("accepted", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.3)


def test_owslib_lists_describes_and_executes(server):
    from owslib.ogcapi.processes import Processes

    client = Processes(server.url, headers={"X-API-Key": READER})  # its jobs are rita's
    assert "mutability" in [p["id"] for p in client.processes()]
    description = client.process("mutability")
    assert "criteria" in description["inputs"]
    sc = scenario(SCENARIOS[0])
    # synchronous (OWSLib asks for a 'document' response: the outputs keyed by id)
    done = client.execute("mutability", {"criteria": sc["input"], "algorithm_version": "v1.16"})
    got = dict(done["result"])
    got.pop("algorithm_version")
    got.pop("criteria")
    assert got == sc["expected"]
    # asynchronous: 201 + Location, poll the job, fetch its results
    accepted = client.execute("mutability", {"friche": FRICHE}, async_=True)
    job_id = accepted["jobID"]
    assert client.response_headers["Location"].endswith(f"/jobs/{job_id}")
    job = wait_for_job(client, job_id, 60)
    assert job["status"] == "successful", job
    results = client._request(path=f"jobs/{job_id}/results")
    assert {u["use"] for u in results["result"]["results"]} == USES
    assert results["derivation"]["friche"] == FRICHE


ROOF = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"tilt": 35, "azimuth": 180},
    "geometry": {"type": "Polygon", "coordinates": [[[2.6400, 50.5300], [2.6402, 50.5300],
                                                     [2.6402, 50.5301], [2.6400, 50.5301],
                                                     [2.6400, 50.5300]]]}}]}


@pytest.mark.parametrize("process_id,inputs,key", [
    ("risk-matrix", {"commune": "62119"}, "risks"),
    ("solar-potential", {"roofs": ROOF}, "features"),
])
def test_owslib_runs_the_other_processes_sync_and_async(server, process_id, inputs, key):
    from owslib.ogcapi.processes import Processes

    client = Processes(server.url, headers={"X-API-Key": READER})
    description = client.process(process_id)
    assert set(inputs) <= set(description["inputs"])
    done = client.execute(process_id, inputs)
    assert key in done, list(done)
    accepted = client.execute(process_id, inputs, async_=True)
    job_id = accepted["jobID"]
    job = wait_for_job(client, job_id, 120)
    assert job["status"] == "successful", job
    results = client._request(path=f"jobs/{job_id}/results")
    assert key in results and results[key] == done[key]
