"""pygeoapi providers of the project, loaded by dotted path from the configuration."""
from __future__ import annotations

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
