"""The PostGIS store (one table per collection in one schema) behind
services.store.base.Backend."""
from __future__ import annotations

from typing import Any

from services.store.base import Backend
from services.store.postgis import frames, pool, schema, tiles
from services.store.postgis.features import PostGISFeatures
from services.store.postgis.tables import read_table, split
from services.store.postgis.writer import PostGISWriter


class PostGISBackend(Backend):
    name = "postgis"

    def reader(self, provider_def, id_field=None, time_field=None) -> PostGISFeatures:
        return PostGISFeatures(provider_def, id_field, time_field)

    def writer(self, spec, entry, **kwargs) -> PostGISWriter:
        return PostGISWriter(spec, entry["table"], **kwargs)

    def layer_table(self, entry):
        return read_table(*split(entry["table"]))

    async def render(self, layers, box) -> bytes:
        return await tiles.render(layers, box)

    def read_frame(self, entry, bbox=None):
        return frames.read_frame(entry["table"], bbox)

    def get_feature(self, entry, key, feature_id) -> dict[str, Any] | None:
        return frames.get_feature(entry["table"], key, feature_id)

    def geometries(self, entry):
        return frames.geometries(entry["table"])

    def add_columns(self, entry, columns) -> None:
        schema.add_columns(entry["table"], {name: types[1] for name, types in columns.items()})

    def version(self, entry) -> tuple:
        return ("postgis", pool.database_url(), entry["table"])

    def replace_rows(self, spec, entry, gdf, date_columns, newer=None) -> dict:
        return schema.replace_rows(spec, gdf, date_columns, newer, split(entry["table"])[0])
