"""pygeoapi providers of the project, loaded by dotted path from the configuration."""
from __future__ import annotations

from pygeoapi.provider.base import BaseProvider, SchemaType

from services.access import hidden_of, restrict_reader

GEOMETRY_FORMATS = {
    "POINT": "geometry-point", "MULTIPOINT": "geometry-multipoint",
    "LINESTRING": "geometry-linestring", "MULTILINESTRING": "geometry-multilinestring",
    "POLYGON": "geometry-polygon", "MULTIPOLYGON": "geometry-multipolygon",
}


def feature_schema(fields: dict[str, dict], geometry_type: str, id_field: str) -> tuple[str, dict]:
    """The JSON Schema of a collection's features (pygeoapi's /schema), for both stores."""
    props = {}
    for name, spec in fields.items():
        props[name] = {"title": name, **{k: v for k, v in spec.items() if k != "values"}}
        if "values" in spec:
            props[name]["enum"] = spec["values"]
    props["geometry"] = {"format": GEOMETRY_FORMATS.get(geometry_type.upper(), "geometry-any"),
                         "x-ogc-role": "primary-geometry"}
    if id_field in props:
        props[id_field]["x-ogc-role"] = "id"
    return ("application/schema+json",
            {"$schema": "https://json-schema.org/draft/2020-12/schema",
             "type": "object", "properties": props})


class StoreProvider(BaseProvider):
    """A pygeoapi feature provider that hands every call to a store's FeatureReader
    (services.store.base): the SQL is in services/store, not here."""
    reader_class: type  # a services.store.base.FeatureReader

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.reader = self.reader_class(provider_def, self.id_field, self.time_field)
        # properties the caller's read tier hides (services/access.py): as if absent
        restrict_reader(self.reader, hidden_of(provider_def))
        self.id_field = self.reader.id_field
        self.info = self.reader.info
        self._fields = self.reader.fields

    def get_fields(self) -> dict:
        return self._fields

    def get_schema(self, schema_type: SchemaType = SchemaType.item):
        return feature_schema(self._fields, self.info.geometry_type, self.id_field)

    def get_domains(self, properties=[], current=False):
        names = properties or [n for n, s in self._fields.items() if s["type"] == "string"]
        return self.reader.domains(names), True

    def query(self, offset=0, limit=10, resulttype="results", bbox=[], datetime_=None,
              properties=[], sortby=[], select_properties=[], skip_geometry=False, q=None,
              filterq=None, crs_transform_spec=None, **kwargs) -> dict:
        return self.reader.query(offset, limit, resulttype, bbox, datetime_, properties, sortby,
                                 select_properties, skip_geometry, q, filterq,
                                 crs_transform_spec)

    def get(self, identifier, crs_transform_spec=None, **kwargs) -> dict:
        return self.reader.get(identifier, crs_transform_spec)
