"""pytest plugin for `ogctests` (loaded with -p, in the conformance venv, never in .venv).

ogctests 0.1.15 takes every entry of /collections for a feature collection and requests
/collections/{id}/items on each, so a server that also offers a coverage (here `surchauffe`,
itemType "coverage", no `items` link) fails features/core test_ast13/22/23 and every
features/filtering test. The official OGC ETS (ets-ogcapi-features10, since its PR #138)
tests only the collections whose itemType is "feature" (the default when it is absent), as
OGC API - Features says that other item types are outside its scope.

ogctests lets its HTTP client be replaced (its `CLIENT_OVERRIDDEN` switch, used by its own
`run_ogctests(test_client=...)`): this plugin's client is the same httpx.Client on the same
base URL, except that the `collections` array of a JSON answer to GET {root}/collections keeps
only the feature collections. Nothing else is changed: every other request and answer, and
every other member of that page (links, ...), is the server's own.
"""
from __future__ import annotations

import json
import os

import httpx
import pytest

INSTANCE_URL = os.environ.get("INSTANCE_URL", "").rstrip("/")


class FeatureCollectionsOnly(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        root = httpx.URL(INSTANCE_URL + "/collections")
        if (request.method != "GET" or request.url.copy_with(query=None) != root
                or response.status_code != 200
                or "json" not in response.headers.get("content-type", "")):
            return response
        response.read()
        try:
            page = json.loads(response.content)
        except ValueError:
            return response
        if not isinstance(page, dict) or not isinstance(page.get("collections"), list):
            return response
        page["collections"] = [c for c in page["collections"]
                               if not isinstance(c, dict) or c.get("itemType", "feature") == "feature"]
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers,
                              content=json.dumps(page).encode(), request=request,
                              extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="session")
def http_client():
    with httpx.Client(transport=FeatureCollectionsOnly()) as client:
        client.base_url = INSTANCE_URL
        yield client
