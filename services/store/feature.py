"""A stored feature and what a change must satisfy, whatever the store.

`Feature` is one row (identifier, every column, the EPSG:2154 geometry); its ETag is a
strong hash of its canonical stored form (properties sorted as JSON + WKB of the EPSG:2154
geometry): it depends neither on the output CRS nor on the number formatting of a response,
and needs no column in the tables.

`validate_feature` is the one validation shared by the API (services/transactions.py) and
`artois-geo import` (services/importer.py): column types, required fields, code lists,
geometry type (single promoted to multi), validity and the territory (communes + 1 km); a
field may name its own check in the collection file (`validator: "module:function"`, run
before the type check: it gets the given value and returns the value to store and its
problems, e.g. processes.mutability.stored:check_stored).
The errors carry the HTTP status and OGC code the API answers with.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import math
import re
from dataclasses import dataclass, field as dc_field
from typing import Any, Callable, Iterable

import shapely
from shapely.geometry import mapping, shape

from services.catalog import CollectionSpec
from services.errors import OGCError
from services.i18n import message

CRS_2154 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}


# ---------------------------------------------------------------------------- errors
@dataclass
class Problem:
    """One reason a feature is refused, in French and English."""
    code: str
    field: str | None = None
    params: dict[str, Any] = dc_field(default_factory=dict)

    @property
    def texts(self) -> dict[str, str]:
        return message(self.code, **({"field": self.field} if self.field else {}),
                       **self.params)

    def to_dict(self) -> dict[str, Any]:
        texts = self.texts
        return {"code": self.code, "field": self.field, "fr": texts["fr"], "en": texts["en"]}


class WriterError(OGCError):
    """A refused change (the one error type: status, OGC code, message key and parameters);
    the API answers with its status, `artois-geo import` prints its texts."""
    status = 400
    code = "InvalidParameterValue"

    def __init__(self, key: str, status: int | None = None, **params: Any):
        super().__init__(key, status=status, params=params)

    @property
    def ogc_code(self) -> str:
        return self.code


class CollectionNotFound(WriterError):
    status, code = 404, "NotFound"


class NotEditable(WriterError):
    status, code = 405, "MethodNotAllowed"


class FeatureNotFound(WriterError):
    status, code = 404, "NotFound"


class FeatureExists(WriterError):
    status, code = 409, "Conflict"


class InvalidFeature(WriterError):
    """The feature breaks the collection's schema: every reason is in `problems`."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        texts = [p.texts for p in self.problems]
        super().__init__("feature_rejected_because", reasons={
            lang: "; ".join(t[lang] for t in texts) for lang in ("fr", "en")})


# ---------------------------------------------------------------------------- features
@dataclass
class Feature:
    """A stored feature: its identifier, every column, the geometry in EPSG:2154.
    Also readable as a dict: feature["id"], feature["properties"], feature["geometry"]."""
    id: Any
    properties: dict[str, Any]
    geometry: shapely.Geometry

    def __getitem__(self, key: str) -> Any:
        if key not in ("id", "properties", "geometry"):
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        return ("id", "properties", "geometry")

    def etag(self) -> str:
        return feature_etag(self)

    def to_geojson(self, transform=None, decimals: int | None = None) -> dict[str, Any]:
        """GeoJSON Feature; in EPSG:2154 (with a `crs` member) unless `transform` is given."""
        geom = self.geometry
        if transform is not None:
            geom = transform(geom)
        if decimals is not None:
            geom = _round(geom, decimals)
        out = {"type": "Feature", "id": self.id, "geometry": mapping(geom),
               "properties": dict(self.properties)}
        if transform is None:
            out["crs"] = CRS_2154
        return json.loads(json.dumps(out))  # tuples -> lists


def _round(geom: shapely.Geometry, decimals: int) -> shapely.Geometry:
    import numpy as np
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def canonical_wkb(geom: shapely.Geometry) -> bytes:
    return shapely.to_wkb(geom, byte_order=1, output_dimension=2, flavor="iso")


def feature_etag(feature: Feature) -> str:
    """Strong ETag: sha256 of the sorted properties (JSON) and the EPSG:2154 WKB."""
    props = json.dumps(feature.properties, sort_keys=True, ensure_ascii=False,
                       separators=(",", ":"), default=str).encode("utf-8")
    digest = hashlib.sha256(props + b"\x00" + canonical_wkb(feature.geometry)).hexdigest()
    return f'"{digest}"'


def feature_from_geojson(obj: dict[str, Any], id_field: str) -> Feature:
    props = dict(obj.get("properties") or {})
    return Feature(props.get(id_field, obj.get("id")), props, shape(obj["geometry"]))


# ---------------------------------------------------------------------------- values
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FR_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
INT_RE = re.compile(r"^[+-]?\d+$")
TRUE = {"true", "1", "oui", "vrai", "yes", "t", "o", "y"}
FALSE = {"false", "0", "non", "faux", "no", "f", "n"}


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")  # pandas.NA, pandas.NaT


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to Python ones."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and \
            type(value).__module__ == "numpy":
        return value.item()
    return value


def coerce(name: str, value: Any, schema: dict[str, Any]) -> tuple[Any, Problem | None]:
    """A value in the column's type (JSON types; dates as 'YYYY-MM-DD'), or a problem."""
    value = _plain(value)
    if _is_null(value):
        return None, None
    kind, fmt = schema.get("type", "string"), schema.get("format")
    if fmt == "date":
        if isinstance(value, dt.datetime):
            if value.time() != dt.time(0) and value.tzinfo is None:
                return None, Problem("field_not_date", name, {"value": _show(value)})
            return value.date().isoformat(), None
        if isinstance(value, dt.date):
            return value.isoformat(), None
        if isinstance(value, str):
            text = value.strip()
            m = FR_DATE_RE.match(text)
            if m:
                text = f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}"
            if DATE_RE.match(text):
                try:
                    return dt.date.fromisoformat(text).isoformat(), None
                except ValueError:
                    pass
        return None, Problem("field_not_date", name, {"value": _show(value)})
    if fmt == "date-time":
        if isinstance(value, dt.datetime):
            return value.isoformat(), None
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")
                                                 ).isoformat(), None
            except ValueError:
                pass
        return None, Problem("field_not_datetime", name, {"value": _show(value)})
    if kind == "integer":
        if isinstance(value, bool):
            return None, Problem("field_not_integer", name, {"value": _show(value)})
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str) and INT_RE.match(value.strip()):
            return int(value.strip()), None
        return None, Problem("field_not_integer", name, {"value": _show(value)})
    if kind == "number":
        if isinstance(value, bool):
            return None, Problem("field_not_number", name, {"value": _show(value)})
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value), None
        if isinstance(value, str):
            text = value.strip()
            if re.match(r"^[+-]?\d+,\d+$", text):  # French decimal comma
                text = text.replace(",", ".")
            try:
                number = float(text)
                if math.isfinite(number):
                    return number, None
            except ValueError:
                pass
        return None, Problem("field_not_number", name, {"value": _show(value)})
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int) and value in (0, 1):
            return bool(value), None
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE, None
        return None, Problem("field_not_boolean", name, {"value": _show(value)})
    # text
    if isinstance(value, str):
        return value, None
    if isinstance(value, bool) or isinstance(value, (dict, list, tuple)):
        return None, Problem("field_not_text", name, {"value": _show(value)})
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time(0) and value.tzinfo is None
                else value.isoformat()), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    return None, Problem("field_not_text", name, {"value": _show(value)})


# ---------------------------------------------------------------------------- validators
_validators: dict[str, Callable[[Any], tuple[Any, list[Problem]]]] = {}


def load_validator(dotted: str) -> Callable[[Any], tuple[Any, list[Problem]]]:
    """The function named by a field's `validator: "package.module:function"` in a collection
    file, imported once. It takes the value given for the field and returns (the value to
    store, a list of Problem)."""
    fn = _validators.get(dotted)
    if fn is None:
        module, _, name = str(dotted).partition(":")
        if not module or not name:
            raise ValueError(f"validator {dotted!r}: 'package.module:function' expected")
        fn = getattr(importlib.import_module(module), name)
        if not callable(fn):
            raise ValueError(f"validator {dotted!r} is not callable")
        _validators[dotted] = fn
    return fn


def run_validator(dotted: str, name: str, value: Any) -> tuple[Any, list[Problem]]:
    """(value to store, problems) of a field's validator; each problem names the field."""
    clean, problems = load_validator(dotted)(_plain(value))
    problems = list(problems or [])
    for problem in problems:
        problem.field = problem.field or name
    return clean, problems


def _as_multi(geom: shapely.Geometry, target: str) -> shapely.Geometry:
    if target.startswith("Multi") and geom.geom_type == target[len("Multi"):]:
        return getattr(shapely, target)([geom])
    return geom


def validate_feature(spec: CollectionSpec, columns: dict[str, dict], props: dict[str, Any],
                     geom: Any, territory: Any = None,
                     geometry_problems: Iterable[Problem] = ()
                     ) -> tuple[dict[str, Any], shapely.Geometry | None, list[Problem]]:
    """Check one feature against the collection; returns (clean properties with every
    column, geometry in EPSG:2154 promoted to the collection's type, problems).

    `geom` is a shapely geometry already in EPSG:2154 (or None); `geometry_problems` are
    reasons found while reading it (unreadable GeoJSON/WKT...), reported with the others.
    `territory` is a prepared shapely geometry (None: no territory check)."""
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    for name in props:
        if name not in columns:
            problems.append(Problem("field_unknown", name))
    for name, schema in columns.items():
        conf = spec.fields.get(name) or {}
        value = props.get(name)
        if conf.get("validator") and not _is_null(value):
            value, found = run_validator(conf["validator"], name, value)
            if found:
                problems += found
                clean[name] = None
                continue
        value, problem = coerce(name, value, schema)
        if problem:
            problems.append(problem)
            clean[name] = None
            continue
        clean[name] = value
        required = conf.get("required") or name == spec.id_field
        if required and (value is None or (isinstance(value, str) and not value.strip())):
            problems.append(Problem("field_required", name))
        enum = conf.get("enum")
        if enum and value is not None and value not in enum:
            problems.append(Problem("field_enum", name,
                                    {"value": _show(value), "allowed": " | ".join(map(str, enum))}))
    geometry_problems = list(geometry_problems)
    problems += geometry_problems
    if geometry_problems:
        return clean, None, problems
    if geom is None:
        problems.append(Problem("geometry_missing"))
        return clean, None, problems
    if not isinstance(geom, shapely.Geometry):
        problems.append(Problem("geometry_unreadable", params={"detail": _show(geom)}))
        return clean, None, problems
    if geom.is_empty:
        problems.append(Problem("geometry_empty"))
        return clean, None, problems
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    target = spec.geometry_type
    geom = _as_multi(geom, target)
    if geom.geom_type != target:
        problems.append(Problem("geometry_type", params={"got": geom.geom_type,
                                                         "expected": target}))
    if not shapely.is_valid(geom):
        problems.append(Problem("geometry_invalid",
                                params={"reason": shapely.is_valid_reason(geom)}))
    elif territory is not None and not territory.covers(geom):
        problems.append(Problem("geometry_outside"))
    return clean, geom, problems
