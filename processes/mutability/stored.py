"""Mutafriches criteria stored on a friche by an agent (issue 15): the `criteres_saisis` field.

An agent who has visited a site (or read its file) records the criteria that the layers cannot
give, as one flat JSON object ``{criterion: value}`` in the friche's ``criteres_saisis`` text
field, through QGIS or any Part 4 client. The ``mutability`` process then uses them before
what it derives (priority given > stored > derived, :func:`processes.mutability.core.combine`).

``check_stored(value) -> (clean, problems)``
    The validator of the field (``fields.criteres_saisis.validator`` in
    ``collections/friches.yml``), called by ``services.store.feature.validate_feature`` for
    every write of a friche (Part 4 and ``artois-geo import``). ``value`` is a JSON object or
    the JSON text of one; each key must be a criterion of the newest algorithm version entered
    by a user or read from data (``user`` and ``auto`` sections of ``core.criteria_schema()``;
    ``raccordementEau``, always derived, is not one) and each value one the criterion's schema
    allows (a code of its list, ``true``/``false``, a number ≥ 0; ``null`` for the automatic
    ones: "searched, nothing found"). At most :data:`MAX_CRITERIA` criteria and
    :data:`MAX_BYTES` bytes. ``clean`` is the canonical JSON text (sorted keys, UTF-8, no
    spaces), or None for null, an empty text or ``{}`` (which clear the field).
``read_stored(value) -> (criteria, problems)``
    The flat ``{criterion: value}`` of a stored field for the process (``{}`` when empty);
    a value that does not pass :func:`check_stored` (written around the API, or made invalid by
    a newer algorithm version) is not used and its problems are returned instead.

No web framework: the problems are ``services.store.feature.Problem`` (code and parameters of
the bilingual catalogue ``errors.po``).
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from services.store.feature import Problem

FIELD = "criteres_saisis"
MAX_CRITERIA = 64
MAX_BYTES = 8192

_NUMBER = {"fr": "un nombre ≥ 0", "en": "a number ≥ 0"}
_BOOLEAN = {"fr": "true, false", "en": "true, false"}
_NULL = {"fr": " (ou null : recherché, rien trouvé)", "en": " (or null: searched, nothing found)"}


@lru_cache(maxsize=1)
def criterion_schemas() -> dict[str, dict[str, Any]]:
    """``{criterion: JSON schema}`` of the criteria an agent may store: the ``auto`` and
    ``user`` criteria of the newest algorithm version (``core.criteria_schema()``)."""
    from processes.mutability import core
    props = core.criteria_schema()["properties"]
    out: dict[str, dict[str, Any]] = {}
    for section in ("user", "auto"):
        out.update(props[section]["properties"])
    return out


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _types(schema: Mapping[str, Any]) -> tuple[str, ...]:
    kind = schema.get("type", "string")
    return tuple(kind) if isinstance(kind, list) else (kind,)


def allowed(value: Any, schema: Mapping[str, Any]) -> bool:
    """Whether ``value`` is one that a criterion's schema allows (the subset of JSON Schema
    that ``core.criteria_schema`` writes: type, enum, minimum)."""
    types = _types(schema)
    if value is None:
        return "null" in types
    if "enum" in schema:
        return isinstance(value, str) and value in schema["enum"]
    if "boolean" in types:
        return isinstance(value, bool)
    if "number" in types:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and value >= schema.get("minimum", -math.inf))
    return isinstance(value, str)


def describe(schema: Mapping[str, Any]) -> dict[str, str]:
    """The allowed values of a criterion, in French and English (message parameter)."""
    types = _types(schema)
    null = "null" in types
    if "enum" in schema:
        codes = " | ".join(str(v) for v in schema["enum"] if v is not None)
        return {"fr": codes + (_NULL["fr"] if null else ""),
                "en": codes + (_NULL["en"] if null else "")}
    base = _BOOLEAN if "boolean" in types else _NUMBER
    return {lang: base[lang] + (_NULL[lang] if null else "") for lang in ("fr", "en")}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


class _Duplicate(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _too_large() -> Problem:
    return Problem("stored_criteria_too_large", params={"max": MAX_CRITERIA,
                                                         "max_bytes": MAX_BYTES})


def check_stored(value: Any) -> tuple[str | None, list[Problem]]:
    """The canonical JSON text of stored criteria, or None (cleared), and the problems."""
    if value is None:
        return None, []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None, []
        if len(text.encode("utf-8")) > MAX_BYTES:
            return None, [_too_large()]
        try:
            obj = json.loads(text, object_pairs_hook=_pairs, parse_constant=_reject_constant)
        except _Duplicate as dup:
            return None, [Problem("stored_criteria_duplicate", params={"criterion": _show(dup.key)})]
        except (ValueError, RecursionError):
            return None, [Problem("stored_criteria_not_json", params={"value": _show(value)})]
    elif isinstance(value, Mapping):
        obj = dict(value)
    else:
        return None, [Problem("stored_criteria_not_json", params={"value": _show(value)})]
    if not isinstance(obj, dict):
        return None, [Problem("stored_criteria_not_json", params={"value": _show(value)})]
    if not obj:
        return None, []
    if len(obj) > MAX_CRITERIA:
        return None, [_too_large()]
    schemas = criterion_schemas()
    problems: list[Problem] = []
    for cid, criterion_value in obj.items():
        schema = schemas.get(cid) if isinstance(cid, str) else None
        if schema is None:
            problems.append(Problem("stored_criteria_unknown", params={
                "criterion": _show(cid), "allowed": ", ".join(schemas)}))
        elif not allowed(criterion_value, schema):
            problems.append(Problem("stored_criteria_value", params={
                "criterion": cid, "value": _show(criterion_value),
                "allowed": describe(schema)}))
    if problems:
        return None, problems
    try:
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
    except (TypeError, ValueError):
        return None, [Problem("stored_criteria_not_json", params={"value": _show(value)})]
    if len(text.encode("utf-8")) > MAX_BYTES:
        return None, [_too_large()]
    return text, []


def read_stored(value: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``({criterion: value}, problems)`` of a stored field, for the process: ``{}`` when it is
    empty or does not pass :func:`check_stored` (then its problems, as dictionaries with the
    French and English texts, say why it was left out)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}, []
    text, problems = check_stored(value)
    if problems:
        for p in problems:
            p.field = p.field or FIELD
        return {}, [p.to_dict() for p in problems]
    return (json.loads(text) if text else {}), []
