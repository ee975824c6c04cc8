"""History over HTTP (issue 17 point 4, services/history.py), on both stores:
``GET /collections/{collectionId}/items/{featureId}/history``.

A business park is created in the editable `zae` collection through Part 4 (editor key of
conftest.py: `eddie`), patched by `eddie` then by `ada` (admin, who may edit too), and its
history is read back: versions newest first, their operations, authors, dates, changed
properties (computed here from the Part 4 answers, not from the history) and properties;
`datetime=` between the two patches gives the middle version; the author is shown to a
reader only. The shared servers' data is left as it was: every park made here is deleted
at the end (its history stays, as for any deleted feature).

Writes may queue derived recomputations (services/jobs/triggers.py); a process that rewrites
a park would add versions of source `process`: the checks below are on the versions of source
`api` and accept only `process` ones beside them.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import uuid

import pytest
import shapely
from babel.messages.pofile import read_po
from shapely.geometry import mapping

from conftest import ADMIN, EDITOR, KEYS, PROJECT, READER, STORES
from test_transactions import open_stack

CID = "zae"
GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
BETHUNE = (2.6400, 50.5300)
HISTORY = "/collections/{cid}/items/{fid}/history"
USERS = {EDITOR: "eddie", ADMIN: "ada", READER: "rita"}  # conftest.KEYS


@pytest.fixture(scope="module", params=STORES)
def server(request, tmp_path_factory):
    """A private copy of the store with its own server (test_transactions.open_stack): these
    tests create, patch and delete parks, which the shared servers must never see."""
    with open_stack(request, tmp_path_factory, keys=KEYS) as stack:
        yield stack.server


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def catalogue(lang: str) -> dict[str, str]:
    path = PROJECT / "services" / "locale" / lang / "LC_MESSAGES" / "errors.po"
    with path.open("rb") as fp:
        return {m.id: m.string for m in read_po(fp, locale=lang) if m.id}


def square(lon: float, lat: float, half: float = 0.0007) -> dict:
    return mapping(shapely.box(lon - half, lat - half, lon + half, lat + half))


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def parse(date: str) -> dt.datetime:
    return dt.datetime.fromisoformat(date.replace("Z", "+00:00"))


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def diff(before: dict | None, after: dict | None) -> list[str]:
    """Names of the properties that differ between two Part 4 answers, then geometry."""
    b = (before or {}).get("properties") or {}
    a = (after or {}).get("properties") or {}
    names = [k for k in dict.fromkeys([*b, *a]) if b.get(k) != a.get(k)]
    if (before or {}).get("geometry") != (after or {}).get("geometry"):
        names.append("geometry")
    return names


def history(server, fid: str, key: str | None = None, cid: str = CID, **params):
    return server.get(HISTORY.format(cid=cid, fid=fid), params=params or None,
                      headers=auth(key) if key else None)


def api_versions(doc: dict) -> list[dict]:
    others = {v["source"] for v in doc["versions"] if v["source"] != "api"}
    assert others <= {"process"}, doc["versions"]
    return [v for v in doc["versions"] if v["source"] == "api"]


def assert_bilingual(r, status: int, key: str | None = None, **params) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:800])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["description_fr"] and body["description_en"], body
    assert body["description_fr"] != body["description_en"], body
    if key is not None:
        assert body["description_fr"] == catalogue("fr")[key].format(**params)
        assert body["description_en"] == catalogue("en")[key].format(**params)
    return body


def create(server, key: str = EDITOR) -> tuple[str, dict, dt.datetime, dt.datetime]:
    """A new park (an existing one's properties under a new id): (id, answer, before, after)."""
    base = server.json(f"/collections/{CID}/items", params={"limit": 1})["features"][0]
    fid = f"ZAE-H-{uuid.uuid4().hex[:8]}"
    feature = {"type": "Feature", "geometry": square(*BETHUNE),
               "properties": {**base["properties"], "id": fid, "nom": "Parc historique 1"}}
    before = now()
    r = server.post(f"/collections/{CID}/items", data=json.dumps(feature),
                    headers={**GEOJSON, **auth(key)})
    after = now()
    assert r.status_code == 201, r.text
    return fid, {**r.json(), "etag": r.headers["ETag"]}, before, after


def patch(server, fid: str, etag: str, key: str, body: dict) -> tuple[dict, dt.datetime,
                                                                        dt.datetime]:
    before = now()
    r = server.http.patch(f"{server.url}/collections/{CID}/items/{fid}", data=json.dumps(body),
                          headers={**MERGE, **auth(key), "If-Match": etag}, timeout=60)
    after = now()
    assert r.status_code == 200, r.text
    return {**r.json(), "etag": r.headers["ETag"]}, before, after


def remove(server, fid: str) -> None:
    """Delete the park if it is still there (clean-up)."""
    r = server.get(f"/collections/{CID}/items/{fid}")
    if r.status_code == 200:
        gone = server.http.delete(f"{server.url}/collections/{CID}/items/{fid}", timeout=60,
                                  headers={**auth(ADMIN), "If-Match": r.headers["ETag"]})
        assert gone.status_code == 204, gone.text


@pytest.fixture(scope="module")
def edited(server):
    """A park created by eddie, patched by eddie (name) then by ada (manager and outline),
    one second apart so that an instant between the patches is unambiguous."""
    fid, created, c0, c1 = create(server)
    try:
        time.sleep(1.1)
        first, p0, p1 = patch(server, fid, created["etag"], EDITOR,
                              {"properties": {"nom": "Parc historique 2"}})
        time.sleep(1.1)
        middle = now()
        time.sleep(1.1)
        second, q0, q1 = patch(server, fid, first["etag"], ADMIN,
                               {"properties": {"gestionnaire": "Gestionnaire historique"},
                                "geometry": square(BETHUNE[0] + 0.01, BETHUNE[1])})
        yield {"fid": fid, "answers": [created, first, second],
               "windows": [(c0, c1), (p0, p1), (q0, q1)], "middle": middle,
               "authors": ["eddie", "eddie", "ada"], "roles": ["editor", "editor", "admin"]}
    finally:
        remove(server, fid)


# ---------------------------------------------------------------------------- versions
def test_versions_newest_first_with_their_changes(server, edited):
    r = history(server, edited["fid"], READER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["collection"] == CID and doc["featureId"] == edited["fid"]
    assert doc["numberReturned"] == len(doc["versions"]) == doc["numberMatched"]
    numbers = [v["version"] for v in doc["versions"]]
    assert numbers == list(range(len(numbers), 0, -1))  # newest first, 1 the creation
    versions = list(reversed(api_versions(doc)))  # oldest first, as written
    assert [v["operation"] for v in versions] == ["create", "patch", "patch"]
    assert versions[0]["version"] == 1
    answers = edited["answers"]
    for i, (version, answer) in enumerate(zip(versions, answers)):
        assert version["author"] == edited["authors"][i]
        assert version["role"] == edited["roles"][i]
        assert version["etag"] == answer["etag"]
        assert version["properties"] == answer["properties"]
        low, high = edited["windows"][i]
        moment = parse(version["date"])
        assert moment.tzinfo is not None and version["date"].endswith("Z")
        # the server's clock is this machine's: the write happened during the request
        assert low - dt.timedelta(seconds=1) <= moment <= high + dt.timedelta(seconds=1)
    dates = [parse(v["date"]) for v in versions]
    assert dates == sorted(dates) and len(set(dates)) == 3
    # what changed, computed from the Part 4 answers themselves
    assert versions[1]["changes"] == diff(answers[0], answers[1])
    assert versions[2]["changes"] == diff(answers[1], answers[2])
    assert "nom" in versions[1]["changes"] and "geometry" not in versions[1]["changes"]
    assert {"gestionnaire", "geometry"} <= set(versions[2]["changes"])
    assert "nom" not in versions[2]["changes"]
    created = {k for k, v in answers[0]["properties"].items() if v is not None}
    assert set(versions[0]["changes"]) == created | {"geometry"}


def test_links(server, edited):
    doc = history(server, edited["fid"]).json()
    rels = {link["rel"]: link["href"] for link in doc["links"]}
    item = f"/collections/{CID}/items/{edited['fid']}"
    assert rels["self"].split("?")[0].endswith(item + "/history")
    assert rels["original"].endswith(item)
    assert rels["collection"].endswith(f"/collections/{CID}")
    assert rels["alternate"].split("?")[0] == rels["self"].split("?")[0]
    assert "f=csv" in rels["alternate"]


def test_datetime_gives_the_version_valid_then(server, edited):
    answers = edited["answers"]
    doc = history(server, edited["fid"], READER, datetime=stamp(edited["middle"])).json()
    assert doc["numberReturned"] == 1
    (version,) = doc["versions"]
    assert version["operation"] == "patch" and version["author"] == "eddie"
    assert version["properties"] == answers[1]["properties"]
    # before the creation: nothing yet; now: the latest version
    before = edited["windows"][0][0] - dt.timedelta(seconds=5)
    assert history(server, edited["fid"], datetime=stamp(before)).json()["versions"] == []
    latest = history(server, edited["fid"], datetime=stamp(now() + dt.timedelta(seconds=5)))
    assert latest.json()["versions"][0]["properties"] == \
        history(server, edited["fid"]).json()["versions"][0]["properties"]
    # an offset is read as such (the same instant written in UTC+02:00)
    local = edited["middle"].astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    assert history(server, edited["fid"], READER, datetime=local).json()["versions"] == \
        doc["versions"]


def test_limit_keeps_the_newest(server, edited):
    full = history(server, edited["fid"]).json()
    doc = history(server, edited["fid"], limit=1).json()
    assert doc["numberReturned"] == 1 and doc["numberMatched"] == full["numberMatched"]
    assert doc["versions"] == full["versions"][:1]


def test_author_only_for_a_reader_or_above(server, edited):
    anonymous = history(server, edited["fid"])
    assert anonymous.status_code == 200
    assert all(v["author"] is None for v in anonymous.json()["versions"])
    assert "authorization" in anonymous.headers["vary"].lower()
    for key in (READER, EDITOR, ADMIN):
        r = history(server, edited["fid"], key)
        authors = [v["author"] for v in reversed(api_versions(r.json()))]
        assert authors == edited["authors"], USERS[key]
        assert "private" in r.headers["cache-control"]
    # everything but the author is the same for everyone
    blank = [{**v, "author": None} for v in history(server, edited["fid"], READER).json()["versions"]]
    assert blank == anonymous.json()["versions"]
    r = server.get(HISTORY.format(cid=CID, fid=edited["fid"]),
                   headers={"X-API-Key": "no-such-key"})
    assert_bilingual(r, 401)


def test_csv(server, edited):
    r = history(server, edited["fid"], READER, f="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    doc = history(server, edited["fid"], READER).json()
    assert [int(row["version"]) for row in rows] == [v["version"] for v in doc["versions"]]
    for row, version in zip(rows, doc["versions"]):
        assert row["operation"] == version["operation"]
        assert row["author"] == version["author"]
        assert row["changes"].split(";") == version["changes"]
        assert row["nom"] == version["properties"]["nom"]


def test_delete_is_the_newest_version(server):
    fid, created, _, _ = create(server)
    try:
        r = server.http.delete(f"{server.url}/collections/{CID}/items/{fid}", timeout=60,
                               headers={**auth(EDITOR), "If-Match": created["etag"]})
        assert r.status_code == 204, r.text
        assert server.get(f"/collections/{CID}/items/{fid}").status_code == 404
        doc = history(server, fid, READER).json()
        versions = api_versions(doc)
        assert [v["operation"] for v in versions] == ["delete", "create"]
        gone = versions[0]
        assert gone["properties"] is None and gone["etag"] is None
        assert gone["author"] == "eddie" and gone["version"] == doc["numberMatched"]
        assert set(gone["changes"]) == \
            {k for k, v in created["properties"].items() if v is not None} | {"geometry"}
        assert parse(gone["date"]) >= parse(versions[1]["date"])
    finally:
        remove(server, fid)


def test_a_feature_as_built(server):
    """A park of the source data: its oldest version is version 1, and its newest is the
    one served now (same ETag as Part 4 gives; one `build` version when never changed)."""
    item = server.json(f"/collections/{CID}/items", params={"limit": 1})["features"][0]
    fid = str(item["id"])
    doc = history(server, fid).json()
    assert doc["versions"][-1]["version"] == 1
    oldest = doc["versions"][-1]
    if oldest["operation"] == "build":
        assert oldest["source"] == "source" and oldest["date"] is None
        assert oldest["author"] is None and oldest["changes"] == []
    newest = doc["versions"][0]
    assert newest["etag"] == server.get(f"/collections/{CID}/items/{fid}").headers["ETag"]
    assert newest["properties"]["nom"] == item["properties"]["nom"]


# ---------------------------------------------------------------------------- refusals
def test_unknown_feature_and_non_editable_collection_are_404(server):
    fid = "ZAE-NO-SUCH-0000"
    body = assert_bilingual(history(server, fid), 404, "history_not_found", id=fid,
                            collection=CID)
    assert body["code"] == "NotFound"
    for odd in ("%00x", "x" * 300):
        assert history(server, odd).status_code == 404
    commune = server.json("/collections/communes/items", params={"limit": 1})["features"][0]
    assert_bilingual(history(server, str(commune["id"]), cid="communes"), 404,
                     "history_not_editable", collection="communes")
    assert history(server, "x", cid="no-such-collection").status_code == 404


@pytest.mark.parametrize("params", [
    {"limit": "0"}, {"limit": "1001"}, {"limit": "abc"}, {"limit": "-1"},
    {"datetime": "2025-01-01/2025-06-01"}, {"datetime": "../2025-01-01"},
    {"datetime": "yesterday"}, {"datetime": "2025-13-01"},
    {"f": "xml"}, {"bbox": "0,0,1,1"}, {"unknown": "1"}])
def test_bad_parameters_are_400(server, params):
    item = server.json(f"/collections/{CID}/items", params={"limit": 1})["features"][0]
    assert_bilingual(history(server, str(item["id"]), **params), 400)


def test_openapi_lists_the_path(server):
    from services.catalog import load_catalog
    editable = {s.id for s in load_catalog(PROJECT / "collections") if s.editable}
    oas = server.json("/openapi", params={"f": "json"})
    op = oas["paths"]["/collections/{collectionId}/items/{featureId}/history"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"collectionId", "featureId", "limit", "datetime", "f"} <= names
    ids = next(p for p in op["parameters"] if p["name"] == "collectionId")["schema"]["enum"]
    assert set(ids) == editable and CID in ids
    assert {"200", "400", "404"} <= set(op["responses"])
    assert set(op["responses"]["200"]["content"]) == {"application/json", "text/csv"}


def test_part4_still_answers_the_feature_itself(server, edited):
    """The history route does not hide the feature's own routes (Part 4 layer, pygeoapi)."""
    r = server.get(f"/collections/{CID}/items/{edited['fid']}")
    assert r.status_code == 200 and r.headers["ETag"] == edited["answers"][2]["etag"]
    assert r.json()["properties"]["gestionnaire"] == "Gestionnaire historique"
    options = server.http.options(f"{server.url}/collections/{CID}/items/{edited['fid']}",
                                  timeout=60)
    assert "PATCH" in options.headers.get("allow", "")


def test_the_errors_are_in_both_catalogues():
    fr, en = catalogue("fr"), catalogue("en")
    for key in ("history_not_editable", "history_not_found", "history_limit",
                "history_datetime", "history_format"):
        assert fr.get(key) and en.get(key) and fr[key] != en[key], key


def test_pure_core_on_audit_rows():
    """services.history on hand-made audit rows: a feature built before the audit, patched,
    replaced, then deleted."""
    from services import history as h
    g1, g2 = {"type": "Point", "coordinates": [1, 2]}, {"type": "Point", "coordinates": [1, 3]}
    built = {"type": "Feature", "geometry": g1, "properties": {"id": "A", "n": 1, "s": "x"}}
    v2 = {**built, "properties": {"id": "A", "n": 2, "s": "x"}}
    v3 = {**built, "geometry": g2, "properties": {"id": "A", "n": 2, "s": "y"}}
    rows = [
        {"at": "2026-01-01T10:00:00.000000Z", "username": "u1", "role": "editor",
         "source": "import", "action": "patch", "previous": built, "new": v2,
         "etag_before": "e1", "etag_after": "e2"},
        {"at": "2026-01-02T10:00:00.000000Z", "username": "u2", "role": "admin",
         "source": "api", "action": "replace", "previous": v2, "new": v3,
         "etag_before": "e2", "etag_after": "e3"},
        {"at": "2026-01-03T10:00:00.000000Z", "username": "u2", "role": "admin",
         "source": "api", "action": "delete", "previous": v3, "new": None,
         "etag_before": "e3", "etag_after": None}]
    versions = h.versions_of(rows)
    assert [v["operation"] for v in versions] == ["build", "patch", "replace", "delete"]
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert versions[0]["properties"] == built["properties"] and versions[0]["etag"] == "e1"
    assert [v["changes"] for v in versions] == [[], ["n"], ["s", "geometry"],
                                                ["id", "n", "s", "geometry"]]
    at = h.parse_instant
    assert [v["version"] for v in h.select(versions, instant=at("2025-12-31"))] == [1]
    assert [v["version"] for v in h.select(versions, instant=at("2026-01-01"))] == [2]
    assert [v["version"] for v in h.select(versions, instant=at("2026-01-02T09:59:59Z"))] == [2]
    assert [v["version"] for v in h.select(versions, instant=at("2026-01-02T10:00:00Z"))] == [3]
    assert [v["version"] for v in h.select(versions, limit=2)] == [4, 3]
    created = [{**rows[0], "action": "insert", "previous": None, "etag_before": None}]
    assert h.versions_of(created)[0]["operation"] == "create"
    assert h.versions_of([], built, "now")[0]["operation"] == "build"
    assert h.versions_of([]) == []
    header = next(csv.reader(io.StringIO(h.to_csv(versions))))
    assert header[:8] == list(h.FIXED_COLUMNS) and header[8:] == ["id", "n", "s"]
