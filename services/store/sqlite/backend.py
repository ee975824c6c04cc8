"""The embedded store (one GeoPackage per collection) behind services.store.base.Backend."""
from __future__ import annotations

import os
from typing import Any

from services.store.base import Backend
from services.store.sqlite import frames, schema, tiles
from services.store.sqlite.features import GeoPackageFeatures
from services.store.sqlite.tables import read_table_info
from services.store.sqlite.writer import GeoPackageWriter


class SQLiteBackend(Backend):
    name = "geopackage"

    def reader(self, provider_def, id_field=None, time_field=None) -> GeoPackageFeatures:
        return GeoPackageFeatures(provider_def, id_field, time_field)

    def writer(self, spec, entry, **kwargs) -> GeoPackageWriter:
        return GeoPackageWriter(spec, entry["data"], entry.get("table") or spec.table, **kwargs)

    def layer_table(self, entry):
        return read_table_info(entry["data"], entry.get("table"))

    def render(self, layers, box) -> bytes:
        return tiles.render(layers, box)

    def read_frame(self, entry, bbox=None):
        return frames.read_frame(entry["data"], entry["table"], bbox)

    def get_feature(self, entry, key, feature_id) -> dict[str, Any] | None:
        return frames.get_feature(entry["data"], entry["table"], key, feature_id)

    def geometries(self, entry):
        return frames.geometries(entry["data"], entry["table"])

    def add_columns(self, entry, columns) -> None:
        schema.add_columns(entry["data"], entry["table"],
                           {name: types[0] for name, types in columns.items()})

    def version(self, entry) -> tuple:
        return ("gpkg", entry["data"], os.stat(entry["data"]).st_mtime_ns)

    def replace_rows(self, spec, entry, gdf, date_columns, newer=None) -> dict:
        return schema.replace_rows(entry["data"], entry["table"], gdf, date_columns, newer)
