"""Part 4 writes by an editor who may not read every property (issue 18, read tiers).

The servers of this module run on a private copy of each store (test_transactions.open_stack)
with `friches.projet_epci_description` readable by the `metier` group only. An editor outside
the group must never read that property through a write's answer, cannot write it (refused
as an unknown property is), and does not erase it by replacing the whole feature; their own
ETag (suffixed for their view) is the one their If-Match carries.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest

from conftest import STORES
from test_transactions import open_stack

CID, PROP = "friches", "projet_epci_description"
KEYS = "w-editor:editor:eddie,w-member:editor:mia:metier"
OUTSIDE = {"X-API-Key": "w-editor"}
MEMBER = {"X-API-Key": "w-member"}
MERGE = {"Content-Type": "application/merge-patch+json"}
GEOJSON = {"Content-Type": "application/geo+json"}


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request, tmp_path_factory, keys=KEYS,
                    extra_env={"ARTOIS_READ_ACCESS": f"{CID}.{PROP}=metier"}) as stack:
        yield stack


def _item(stack, fid: str, headers: dict):
    r = stack.request("GET", f"/collections/{CID}/items/{quote(fid, safe='')}",
                      headers={**headers, "Accept": "application/geo+json"})
    assert r.status_code == 200, r.text[:300]
    return r


def _first_id(stack) -> str:
    r = stack.request("GET", f"/collections/{CID}/items", params={"limit": 1, "f": "json"},
                      headers=MEMBER)
    return str(r.json()["features"][0]["id"])


def test_an_editor_outside_the_tier_neither_reads_writes_nor_erases_it(stack):
    fid = _first_id(stack)
    path = f"/collections/{CID}/items/{quote(fid, safe='')}"
    # a member of the group fills the property in
    etag = _item(stack, fid, MEMBER).headers["etag"]
    r = stack.request("PATCH", path, json={"properties": {PROP: "Projet de parc urbain"}},
                      headers={**MEMBER, **MERGE, "If-Match": etag})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["properties"][PROP] == "Projet de parc urbain"

    # the editor outside the group: not in their GET, and their ETag differs from the member's
    mine = _item(stack, fid, OUTSIDE)
    assert PROP not in mine.json()["properties"]
    assert mine.headers["etag"] != _item(stack, fid, MEMBER).headers["etag"]

    # a PATCH of another property with their own ETag: accepted, the answer hides PROP
    r = stack.request("PATCH", path, json={"properties": {"site_nom": "Friche renommée"}},
                      headers={**OUTSIDE, **MERGE, "If-Match": mine.headers["etag"]})
    assert r.status_code == 200, r.text[:300]
    assert PROP not in r.json()["properties"] and r.json()["properties"]["site_nom"] == \
        "Friche renommée"

    # writing the property: the same 400 as a property that does not exist
    etag = _item(stack, fid, OUTSIDE).headers["etag"]
    unknown = stack.request("PATCH", path, json={"properties": {"pas_une_colonne": "x"}},
                            headers={**OUTSIDE, **MERGE, "If-Match": etag})
    hidden = stack.request("PATCH", path, json={"properties": {PROP: "x"}},
                           headers={**OUTSIDE, **MERGE, "If-Match": etag})
    assert unknown.status_code == hidden.status_code == 400
    assert [e["code"] for e in hidden.json()["errors"]] == \
        [e["code"] for e in unknown.json()["errors"]]

    # a PUT of what they read (without PROP) keeps the member's value
    mine = _item(stack, fid, OUTSIDE)
    body = mine.json()
    r = stack.request("PUT", path, json={"type": "Feature", "geometry": body["geometry"],
                                         "properties": body["properties"]},
                      headers={**OUTSIDE, **GEOJSON, "If-Match": mine.headers["etag"]})
    assert r.status_code == 200, r.text[:300]
    assert PROP not in r.json()["properties"]
    assert _item(stack, fid, MEMBER).json()["properties"][PROP] == "Projet de parc urbain"


def test_the_member_etag_does_not_match_for_the_editor_outside(stack):
    """An ETag of the fuller view is not the outsider's: their If-Match with it is a 412."""
    fid = _first_id(stack)
    path = f"/collections/{CID}/items/{quote(fid, safe='')}"
    full = _item(stack, fid, MEMBER).headers["etag"]
    r = stack.request("PATCH", path, json={"properties": {"site_nom": "Autre nom"}},
                      headers={**OUTSIDE, **MERGE, "If-Match": full})
    assert r.status_code == 412, r.text[:300]
