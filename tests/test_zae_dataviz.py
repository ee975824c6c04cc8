"""The business parks' dataviz (issue 17 point 5, services/zae_dataviz.py), on both stores:
``GET /dataviz/zae/{zaeId}`` and ``GET /dataviz/epci/{siren}``, JSON and CSV.

Every monthly value is recomputed here from the history endpoint
(``/collections/zae/items/{id}/history?datetime=<end of the month>``), park by park, and
summed for an EPCI. A park is created and patched through Part 4 on a private copy of the
store (test_transactions.open_stack), so that the months before its creation and the current
month differ; the pure core is also checked on hand-made versions spread over months.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

import pytest
import shapely
from shapely.geometry import mapping

from conftest import EDITOR, KEYS, STORES
from test_transactions import open_stack

from services import zae_dataviz as dv

GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
BETHUNE = (2.6400, 50.5300)


@pytest.fixture(scope="module", params=STORES)
def server(request, tmp_path_factory):
    """A private copy of the store with its own server: a park is created and patched here."""
    with open_stack(request, tmp_path_factory, keys=KEYS) as stack:
        yield stack.server


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def as_number(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def from_history(server, fid: str, end: str) -> dict | None:
    """The park's fields at `end`, read from the history endpoint (None: no version)."""
    r = server.get(f"/collections/zae/items/{fid}/history", params={"datetime": end})
    assert r.status_code == 200, r.text
    versions = r.json()["versions"]
    if not versions or versions[0]["properties"] is None:
        return None
    return {f: as_number(versions[0]["properties"].get(f)) for f in dv.FIELDS}


def summed(values: list[dict | None]) -> tuple[dict, int]:
    present = [v for v in values if v is not None]
    out = {}
    for f in dv.FIELDS:
        nums = [v[f] for v in present if v[f] is not None]
        out[f] = sum(nums) if nums else None
    return out, len(present)


def assert_same(got: dict, expected: dict) -> None:
    for f in dv.FIELDS:
        if expected[f] is None:
            assert got[f] is None, f
        else:
            assert got[f] == pytest.approx(expected[f], abs=1e-6), f


@pytest.fixture(scope="module")
def park(server):
    """A new park of an existing EPCI, created then patched by the editor."""
    base = server.json("/collections/zae/items", params={"limit": 1})["features"][0]
    fid = f"ZAE-DV-{uuid.uuid4().hex[:8]}"
    square = mapping(shapely.box(BETHUNE[0] - 0.0007, BETHUNE[1] - 0.0007,
                                 BETHUNE[0] + 0.0007, BETHUNE[1] + 0.0007))
    feature = {"type": "Feature", "geometry": square,
               "properties": {**base["properties"], "id": fid, "nom": "Parc dataviz"}}
    r = server.post("/collections/zae/items", data=json.dumps(feature),
                    headers={**GEOJSON, **auth(EDITOR)})
    assert r.status_code == 201, r.text
    etag = r.headers["ETag"]
    # a typed figure where the collection still takes one; a derived one is refused (read-only)
    for body in ({"properties": {"nom": "Parc dataviz 2", "surface_disponible_ha": 1.25}},
                 {"properties": {"nom": "Parc dataviz 2"}}):
        p = server.http.patch(f"{server.url}/collections/zae/items/{fid}",
                              data=json.dumps(body), timeout=60,
                              headers={**MERGE, **auth(EDITOR), "If-Match": etag})
        if p.status_code == 200:
            break
    assert p.status_code == 200, p.text
    yield {"id": fid, "epci": str(base["properties"]["epci_siren"])}


def test_a_new_park_month_by_month(server, park):
    r = server.get(f"/dataviz/zae/{park['id']}", params={"months": 3})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["zae"]["id"] == park["id"] and doc["fields"] == list(dv.FIELDS)
    assert [m["month"] for m in doc["months"]] == \
        [label for label, _ in dv.month_ends(dt.datetime.now(dt.timezone.utc).date(), 3)]
    for month in doc["months"]:
        expected = from_history(server, park["id"], month["end"])
        assert month["parcs"] == (0 if expected is None else 1)
        assert_same(month["values"], expected or {f: None for f in dv.FIELDS})
    # created this month: nothing before, the latest version now
    assert [m["parcs"] for m in doc["months"]] == [0, 0, 1]
    item = server.json(f"/collections/zae/items/{park['id']}")
    current = {f: as_number(item["properties"].get(f)) for f in dv.FIELDS}
    assert_same(doc["current"], current)
    assert_same(doc["months"][-1]["values"], current)
    # missing: the fields no park carries
    assert doc["missing"] == [f for f in dv.FIELDS if f not in item["properties"]]


def test_an_epci_month_by_month(server, park):
    r = server.get(f"/dataviz/epci/{park['epci']}", params={"months": 2})
    assert r.status_code == 200, r.text
    doc = r.json()
    items = server.json("/collections/zae/items",
                        params={"limit": 1000, "epci_siren": park["epci"]})["features"]
    ids = sorted(str(f["id"]) for f in items)
    assert sorted(doc["epci"]["parcs"]) == ids and park["id"] in ids
    for month in doc["months"]:
        expected, count = summed([from_history(server, fid, month["end"]) for fid in ids])
        assert month["parcs"] == count
        assert_same(month["values"], expected)
    # the new park counts this month only
    assert doc["months"][1]["parcs"] == doc["months"][0]["parcs"] + 1
    now, _ = summed([{f: as_number(i["properties"].get(f)) for f in dv.FIELDS}
                     for i in items])
    assert_same(doc["current"], now)


def test_csv_is_the_json_as_rows(server, park):
    doc = server.json(f"/dataviz/epci/{park['epci']}", params={"months": 4})
    r = server.get(f"/dataviz/epci/{park['epci']}", params={"months": 4, "f": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["month"] for row in rows] == [m["month"] for m in doc["months"]]
    for row, month in zip(rows, doc["months"]):
        assert int(row["parcs"]) == month["parcs"] and row["end"] == month["end"]
        for f in dv.FIELDS:
            value = month["values"][f]
            assert (row[f] == "") if value is None else float(row[f]) == pytest.approx(value)
    links = {link["rel"]: link["href"] for link in doc["links"]}
    assert "f=csv" in links["alternate"] and "months=4" in links["alternate"]


def test_a_park_as_built_is_flat(server):
    item = server.json("/collections/zae/items", params={"limit": 1})["features"][0]
    doc = server.json(f"/dataviz/zae/{item['id']}", params={"months": 6})
    for month in doc["months"]:
        assert_same(month["values"], from_history(server, str(item["id"]), month["end"]))


@pytest.mark.parametrize("path,params,status", [
    ("/dataviz/zae/ZAE-NO-SUCH-PARK", {}, 404),
    ("/dataviz/epci/999999999", {}, 404),
    ("/dataviz/epci/not-a-siren", {}, 404),
    ("/dataviz/zae/{park}", {"months": "0"}, 400),
    ("/dataviz/zae/{park}", {"months": "121"}, 400),
    ("/dataviz/zae/{park}", {"months": "x"}, 400),
    ("/dataviz/zae/{park}", {"f": "xml"}, 400),
    ("/dataviz/zae/{park}", {"bbox": "0,0,1,1"}, 400),
])
def test_refusals_are_bilingual(server, park, path, params, status):
    r = server.get(path.format(park=park["id"]), params=params)
    assert r.status_code == status, r.text[:400]
    body = r.json()
    assert body["description_fr"] and body["description_en"]
    assert body["description_fr"] != body["description_en"]


def test_openapi_describes_both_paths(server):
    oas = server.json("/openapi", params={"f": "json"})
    for path in ("/dataviz/zae/{zaeId}", "/dataviz/epci/{siren}"):
        op = oas["paths"][path]["get"]
        assert {p["name"] for p in op["parameters"]} >= {"months", "f"}
        assert set(op["responses"]["200"]["content"]) == {"application/json", "text/csv"}
        assert {"400", "404"} <= set(op["responses"])


def test_pure_core_over_months():
    """Hand-made versions: built (3.0), patched in February (2.0), deleted in April."""
    versions = [
        {"version": 1, "date": None, "properties": {"surface_disponible_ha": 3.0}},
        {"version": 2, "date": "2026-02-10T08:00:00.000000Z",
         "properties": {"surface_disponible_ha": 2.0, "lots_disponibles": 4}},
        {"version": 3, "date": "2026-04-01T00:00:00.000000Z", "properties": None}]
    months = dv.month_ends(dt.date(2026, 5, 15), 5)
    assert [m for m, _ in months] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    assert months[1][1] == dt.datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)
    one = dv.park_series(versions, [end for _, end in months])
    assert [v and v["surface_disponible_ha"] for v in one] == [3.0, 2.0, 2.0, None, None]
    other = dv.park_series(versions[:2], [end for _, end in months])
    rows = dv.series([one, other], months)
    assert [r["parcs"] for r in rows] == [2, 2, 2, 1, 1]
    assert [r["values"]["surface_disponible_ha"] for r in rows] == [6.0, 4.0, 4.0, 2.0, 2.0]
    assert [r["values"]["lots_disponibles"] for r in rows] == [None, 8, 8, 4, 4]
    assert dv.month_ends(dt.date(2026, 1, 31), 2)[0][0] == "2025-12"
    header = next(csv.reader(io.StringIO(dv.to_csv(rows))))
    assert header == ["month", "end", "parcs", *dv.FIELDS]
