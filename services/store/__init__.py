"""The stores: each store's SQL in one package, one interface per concern (services/store/base.py).

    services/store/
      base.py        the interfaces (FeatureReader, Backend), STORAGE_SRID, the store errors
      catalog.py     Catalog: collection files + build manifest, cached; get_catalog()
      feature.py     Feature, ETag, validation, the write errors
      writer.py      Writer (one audited transaction), open_writer, the territory
      jobs.py        the job table (SQLite and PostgreSQL)
      sqlite/        the embedded store: tables, features (read), writer, tiles, frames, schema
      postgis/       PostGIS: pool, tables, features (read), writer, tiles, frames, schema (build)

`backend_for(entry)` gives the Backend of a collection's manifest entry.
"""
from __future__ import annotations

from services.store.base import STORAGE_SRID, Backend  # noqa: F401
from services.store.catalog import Catalog, get_catalog  # noqa: F401

_backends: dict[str, Backend] = {}


def backend_for(entry: dict) -> Backend:
    """The store holding a collection, from its entry of the build manifest."""
    name = "postgis" if entry.get("store") == "postgis" else "geopackage"
    backend = _backends.get(name)
    if backend is None:  # imported on first use: the embedded store never loads psycopg
        if name == "postgis":
            from services.store.postgis.backend import PostGISBackend as cls
        else:
            from services.store.sqlite.backend import SQLiteBackend as cls
        backend = _backends[name] = cls()
    return backend
