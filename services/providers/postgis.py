"""pygeoapi feature provider for the PostGIS store, loaded by dotted path:
``services.providers.postgis.PostGISProvider``.

A thin adapter: the SQL lives in services/store/postgis (features.py reads, tables.py holds
the table introspection shared with the writers and the tiles).
"""
from __future__ import annotations

from services.providers import StoreProvider
from services.store.base import ProviderTimeoutError, ProviderUnavailableError  # noqa: F401
from services.store.postgis.features import PostGISFeatures, RawFeatures  # noqa: F401


class PostGISProvider(StoreProvider):
    """OGC API Features provider over one PostGIS table."""
    reader_class = PostGISFeatures

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.schema, self.table_name = self.reader.schema, self.reader.table_name

    def __repr__(self) -> str:
        return f"<PostGISProvider> {self.schema}.{self.table_name}"
