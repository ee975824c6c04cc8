"""Inputs of an execute request checked against the process description: names, occurrences
and each input's JSON Schema (400 in both languages, naming the input and the problem)."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from services.jobs.errors import ProcessError, show as _show, texts

_TYPE_NAMES = {"string": ("texte", "string"), "number": ("nombre", "number"),
               "integer": ("entier", "integer"), "boolean": ("booléen", "boolean"),
               "object": ("objet", "object"), "array": ("liste", "array"),
               "null": ("null", "null")}


def _path(name: str, parts) -> str:
    out = name
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _schema_problem(err) -> tuple[list, dict[str, str]]:
    """(path below the input, bilingual problem) of a jsonschema ValidationError."""
    path = list(err.absolute_path)
    v, value, schema = err.validator, err.instance, err.schema
    if "propertyNames" in err.absolute_schema_path:  # an unknown key of an object
        allowed = err.validator_value if v == "enum" else []
        return path, texts("schema_unknown_property", name=_show(value),
                           allowed=", ".join(str(a) for a in allowed) or "-")
    if v == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) \
            else [err.validator_value]
        names = {"fr": " ou ".join(_TYPE_NAMES.get(t, (t, t))[0] for t in expected),
                 "en": " or ".join(_TYPE_NAMES.get(t, (t, t))[1] for t in expected)}
        return path, texts("schema_type", value=_show(value), expected=names)
    if v in ("enum", "const"):
        allowed = err.validator_value if v == "enum" else [err.validator_value]
        return path, texts("schema_enum", value=_show(value),
                           allowed=", ".join(_show(a) for a in allowed))
    if v == "required":
        missing = [p for p in err.validator_value if isinstance(value, dict) and p not in value]
        return path, texts("schema_required", name=", ".join(missing) or err.message)
    if v == "additionalProperties" and isinstance(value, dict):
        known = list((schema.get("properties") or {}).keys())
        extra = [k for k in value if k not in known]
        return path + extra[:1], texts("schema_unknown_property", name=", ".join(extra),
                                       allowed=", ".join(known) or "-")
    if v in ("minimum", "exclusiveMinimum"):
        return path, texts("schema_minimum", value=_show(value), limit=err.validator_value)
    if v in ("maximum", "exclusiveMaximum"):
        return path, texts("schema_maximum", value=_show(value), limit=err.validator_value)
    return path, texts("schema_other", value=_show(value), detail=err.message)


def unwrap(value: Any) -> Any:
    """An OGC qualified input value {"value": v, "mediaType": ...} gives v (the one reading,
    for every process)."""
    if isinstance(value, dict) and "value" in value and \
            set(value) <= {"value", "mediaType", "encoding", "schema"}:
        return value["value"]
    return value


def validate_inputs(process_id: str, metadata: dict, data: Any) -> dict[str, Any]:
    """Check `data` against the process description (names, occurrences, JSON Schema).

    Returns the inputs with qualified values unwrapped; raises ProcessError (400)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProcessError.of("job_inputs_not_object")
    described = metadata.get("inputs") or {}
    for name in data:
        if name not in described:
            raise ProcessError.of("job_input_unknown", input=name, process=process_id,
                                  allowed=", ".join(described) or "-")
    out: dict[str, Any] = {}
    for name, desc in described.items():
        if name not in data:
            if int(desc.get("minOccurs", 1)) > 0:
                raise ProcessError.of("job_input_missing", 400, "MissingParameterValue",
                                      input=name, process=process_id)
            continue
        schema = desc.get("schema") or {}
        max_occurs = desc.get("maxOccurs", 1)
        raw = data[name]
        many = isinstance(raw, list) and schema.get("type") != "array" and max_occurs != 1
        values = [unwrap(v) for v in raw] if many else [unwrap(raw)]
        if max_occurs not in ("unbounded", None) and len(values) > int(max_occurs):
            raise ProcessError.of("job_input_too_many", input=name, max=max_occurs,
                                  count=len(values))
        validator = Draft202012Validator(schema)
        for i, value in enumerate(values):
            err = best_match(validator.iter_errors(value))
            if err is not None:
                sub, problem = _schema_problem(err)
                where = _path(name + (f"[{i}]" if many else ""), sub)
                raise ProcessError.of("job_input_invalid", input=where, problem=problem)
        out[name] = values if many else values[0]
    return out

