"""The one error model (services/errors.py): catalogue keys, rendering, and one representative
error of each family (edge, auth, Part 4, jobs, tiles, processes) over real HTTP, in both
languages, on both stores."""
from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from services.errors import OGCError, exception_body
from services.i18n import MESSAGES, SUPPORTED_LANGUAGES, catalogue

PROJECT = Path(__file__).resolve().parent.parent
EDITOR = "test-editor-key"  # tests/conftest.py KEYS

# calls whose first string argument is a message key of the `errors` catalogues
_KEY_CALLS = re.compile(
    r'\b(?:OGCError|EdgeError|HTTPProblem|ProcessError(?:\.of)?|CoverageError|message|texts|'
    r'status_message|Problem|AuthError\(\d{3},)\(?\s*"([a-z][a-z0-9_]+)"')
_RASTER_CALLS = re.compile(r'\b(?:bad_text|not_found_text|error)\(\s*"([a-z][a-z0-9_]+)"')


def _sources():
    for folder in ("services", "processes"):
        for path in sorted((PROJECT / folder).rglob("*.py")):
            yield path, path.read_text(encoding="utf-8")


def test_every_raised_key_is_in_both_catalogues():
    keys = {lang: set(catalogue(lang)) for lang in SUPPORTED_LANGUAGES}
    missing = []
    for path, text in _sources():
        used = set(_KEY_CALLS.findall(text))
        if path.parent.name == "tiles" and path.name.startswith("raster_"):
            used |= {f"raster_{k}" for k in _RASTER_CALLS.findall(text)}
        for key in used:
            for lang in SUPPORTED_LANGUAGES:
                if key not in keys[lang]:
                    missing.append(f"{path.relative_to(PROJECT)}: {key} ({lang})")
    assert not missing, missing


def test_catalogues_agree():
    fr, en = catalogue("fr"), catalogue("en")
    assert set(fr) == set(en), set(fr) ^ set(en)
    for key in fr:
        assert fr[key].strip() and en[key].strip(), key
        names = [sorted(re.findall(r"\{(\w+)(?::[^}]*)?\}", t)) for t in (fr[key], en[key])]
        assert names[0] == names[1], key
    assert len(MESSAGES) == len(fr)


def test_error_api():
    err = OGCError("feature_not_found", status=404, id=7, collection="friches",
                   headers={"Retry-After": "3"})
    assert (err.status, err.code, err.key) == (404, "NotFound", "feature_not_found")
    assert err.texts == {"fr": "Élément 7 introuvable dans la collection friches",
                         "en": "Item 7 not found in collection friches"}
    assert str(err) == err.en
    body = json.loads(err.body("en"))
    assert body == {"type": "NotFound", "code": "NotFound", "status": 404,
                    "title": err.en, "description": err.en,
                    "description_fr": err.fr, "description_en": err.en}
    assert json.loads(err.body("fr"))["description"] == err.fr
    assert (b"retry-after", b"3") in err.header_list()
    again = pickle.loads(pickle.dumps(err))
    assert (again.texts, again.status, again.headers) == (err.texts, 404, err.headers)
    # a placeholder named like a keyword of the constructor
    assert "7" in OGCError("job_crashed", status=500, params={"code": 7}).en
    with pytest.raises(KeyError):
        OGCError("no_such_key").texts
    assert json.loads(exception_body(400, None, err.texts, "en"))["code"] == \
        "InvalidParameterValue"


def test_pygeoapi_errors_keep_their_french():
    """An OGCError that is also a pygeoapi exception tells pygeoapi its status, code and
    English text, and the handler gives its French back."""
    from pygeoapi.process.base import ProcessorExecuteError

    from services.jobs.errors import ProcessError
    from services.pygeoapi_messages import bilingual

    err = ProcessError.of("job_not_found", 404, "NoSuchJob", id="abc")
    assert isinstance(err, ProcessorExecuteError) and isinstance(err, OGCError)
    assert (err.http_status_code, err.ogc_exception_code) == (404, "NoSuchJob")
    assert err.message == "Job not found: abc"
    assert bilingual(err.message) == {"fr": "Tâche introuvable : abc", "en": err.message}


# ---------------------------------------------------------------------------- over HTTP
def _both_languages(send, status: int, code: str | None = None) -> dict:
    bodies = {}
    for lang, headers in (("fr", {"Accept-Language": "fr-FR"}), ("en", {"Accept-Language": "en"})):
        r = send(headers)
        assert r.status_code == status, (lang, r.status_code, r.text[:500])
        assert r.headers["content-type"].startswith("application/json"), r.headers
        body = r.json()
        assert body["description_fr"] and body["description_en"], body
        assert body["description_fr"] != body["description_en"], body
        assert body["description"] == body["title"] == body[f"description_{lang}"], body
        assert body["status"] == status
        if code:
            assert body["code"] == body["type"] == code, body
        bodies[lang] = body
    return bodies["en"]


def test_edge_error(server):
    body = _both_languages(lambda h: server.get("/collections/communes/items",
                                                params={"limit": "abc"}, headers=h), 400,
                           "InvalidParameterValue")
    assert "limit" in body["description_en"]


def test_auth_and_part4_errors(server):
    feature = {"type": "Feature", "properties": {}, "geometry": None}
    # auth: no credential
    r = server.post("/collections/friches/items", data=json.dumps(feature),
                    headers={"Content-Type": "application/geo+json"})
    assert r.status_code == 401 and r.headers.get("www-authenticate", "").startswith("Bearer")
    _both_languages(lambda h: server.post("/collections/friches/items", data=json.dumps(feature),
                                          headers={"Content-Type": "application/geo+json", **h}),
                    401, "Unauthorized")
    # Part 4: a collection that is not editable
    body = _both_languages(lambda h: server.post(
        "/collections/communes/items", data=json.dumps(feature),
        headers={"Content-Type": "application/geo+json", "X-API-Key": EDITOR, **h}),
        405, "MethodNotAllowed")
    assert body["description_en"] == "Collection communes is not editable"


def test_jobs_error(server):
    body = _both_languages(lambda h: server.get("/jobs/no-such-job", headers=h), 404,
                           "NoSuchJob")
    assert body["description_en"].startswith("Job not found")


def test_tiles_errors(server):
    body = _both_languages(lambda h: server.get("/collections/communes/tiles/Nope/1/0/0",
                                                headers=h), 404, "NotFound")
    assert "Nope" in body["description_en"]
    _both_languages(lambda h: server.get("/collections/surchauffe/map/tiles/Nope", headers=h),
                    404, "NotFound")


def test_process_error(server):
    body = _both_languages(lambda h: server.post(
        "/processes/solar-potential/execution",
        json={"inputs": {"commune": "not-a-code"}}, headers=h), 400)
    assert "commune" in body["description_en"]
