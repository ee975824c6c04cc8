"""pygeoapi feature provider for the embedded store (GeoPackage files), loaded by dotted path:
``services.providers.geopackage.GeoPackageProvider``.

A thin adapter: the SQL lives in services/store/sqlite (features.py reads, tables.py holds
the connections and the table introspection).
"""
from __future__ import annotations

import os

from services.providers import StoreProvider
from services.store.base import ProviderTimeoutError  # noqa: F401  (re-exported)
from services.store.sqlite.features import GeoPackageFeatures
from services.store.sqlite.tables import connect, deadline  # noqa: F401  (re-exported)


class GeoPackageProvider(StoreProvider):
    """OGC API Features provider over one GeoPackage feature table."""
    reader_class = GeoPackageFeatures

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.data = str(provider_def["data"])

    def _where(self, bbox, datetime_, properties, filterq, q) -> tuple[str, list]:
        return self.reader.where(bbox, datetime_, properties, filterq, q)

    def __repr__(self) -> str:
        return f"<GeoPackageProvider> {os.path.basename(self.data)}:{self.info.table}"
