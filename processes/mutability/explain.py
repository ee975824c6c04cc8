"""Explained results of the ``mutability`` process: where each value comes from (issue 15).

Re-exported by :mod:`.core`.

``evaluate(given=None, *, stored=None, derived=None, details=None, algorithm_version=None)``
    :func:`score` of the criteria assembled from three provenances (priority given > stored >
    derived, :func:`combine`), plus ``criteria``: every criterion of the version explained
    (:func:`explain`).
``explain(criteria, algorithm_version=None, *, provenance=None, details=None) -> list``
    One ``{id, value, source, weight, informed, label, origin, layer?, rule?}`` per criterion
    of the version, ``source`` in ``derived | given | stored | unavailable``; the weights of
    the informed ones sum to ``reliability.weight_informed``.
``combine(given=None, *, stored=None, derived=None) -> (criteria, provenance)``
    One ``criteria`` object for :func:`.core.score` from three provenances (priority given >
    stored > derived), and the provenance of each value.
``SOURCES``  the provenances ``explain`` reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core import _ABSENT, _SECTIONS, _model, _num, _resolve, _section_ids, _version, score
from .errors import InvalidCriterion


# --------------------------------------------------------------------------------------------
# Explained results: where each value comes from (issue 15)
# --------------------------------------------------------------------------------------------
SOURCES = ("derived", "given", "stored", "unavailable")


def _flat(criteria: Mapping | None, what: str) -> tuple[dict[str, Any], list[str]]:
    """``{criterion: value}`` and the unavailable list of a criteria object (sections auto,
    user, derived, unavailable) or of a flat ``{criterion: value}`` mapping."""
    if criteria is None:
        return {}, []
    if not isinstance(criteria, Mapping):
        raise InvalidCriterion(what, criteria, ("un objet", "an object"))
    if not any(k in _SECTIONS for k in criteria):
        return dict(criteria), []
    flat: dict[str, Any] = {}
    for section in ("auto", "user", "derived"):
        block = criteria.get(section)
        if isinstance(block, Mapping):
            flat.update(block)
    unavailable = criteria.get("unavailable") or []
    return flat, list(unavailable) if isinstance(unavailable, (list, tuple)) else []


def combine(given: Mapping | None = None, *, stored: Mapping | None = None,
            derived: Mapping | None = None) -> tuple[dict, dict[str, str]]:
    """One ``criteria`` object for :func:`score` from three provenances, and the provenance of
    each value (``given`` | ``stored`` | ``derived``).

    ``given`` is the caller's criteria object (sections auto, user, derived, unavailable,
    context); ``stored`` and ``derived`` are criteria objects or flat ``{criterion: value}``
    mappings. For each criterion the caller's value wins, then a criterion the caller lists as
    ``unavailable`` stays unavailable, then the stored value, then the derived one. The
    sections of the result follow each criterion's origin (``criteria_meta``); unknown ids are
    kept in their original section so that :func:`score` reports them."""
    meta = _model().meta
    values: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    g_flat, g_unavailable = _flat(given, "criteria")
    for name, block in (("derived", derived), ("stored", stored)):
        flat, _ = _flat(block, name)
        for cid, value in flat.items():
            values[cid] = value
            provenance[cid] = name
    for cid in g_unavailable:
        values.pop(cid, None)
        provenance.pop(cid, None)
    for cid, value in g_flat.items():
        values[cid] = value
        provenance[cid] = "given"
    out: dict[str, Any] = {"auto": {}, "user": {}}
    given_sections = {}
    if isinstance(given, Mapping) and any(k in _SECTIONS for k in given):
        for section in ("auto", "user", "derived"):
            for cid in (given.get(section) or {}):
                given_sections[cid] = section
    for cid, value in values.items():
        origin = meta.get(cid, {}).get("origin")
        section = given_sections.get(cid) or {"auto": "auto", "user": "user",
                                              "derived": "derived"}.get(origin, "auto")
        out.setdefault(section, {})[cid] = value
    auto_ids = set(_section_ids("auto"))
    derived_unavailable = []
    for block in (derived, stored):
        derived_unavailable += _flat(block, "criteria")[1]
    out["unavailable"] = sorted({c for c in list(g_unavailable) + derived_unavailable
                                 if c in auto_ids and c not in values})
    context: dict[str, Any] = {}
    for block in (derived, stored, given):
        if isinstance(block, Mapping) and isinstance(block.get("context"), Mapping):
            context.update(block["context"])
    if context:
        out["context"] = context
    return out, provenance


def explain(criteria: Mapping, algorithm_version: str | None = None, *,
            provenance: Mapping[str, str] | None = None,
            details: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict]:
    """Every criterion of the version with its value and where it comes from.

    ``provenance`` maps a criterion id to ``given`` | ``stored`` | ``derived`` (default
    ``given``: the values of ``criteria`` are the caller's); ``details`` maps a criterion id to
    ``{"layer": ..., "rule": ...}`` (how a derived value was obtained, or why an unavailable
    one is missing). A criterion without value is ``unavailable``; a criterion of
    ``derived_rules`` (``raccordementEau``) is ``derived`` from its source criterion, or
    ``unavailable`` when that one is. ``informed`` says whether the value counts for the
    reliability (present and not « ne-sait-pas », METHOD.md §4.8)."""
    m = _model()
    version = _version(algorithm_version)
    resolved = _resolve(criteria, version)
    provenance = provenance or {}
    details = details or {}
    out = []
    for cid, c in version.criteria.items():
        value = resolved[cid]
        informed = value is not _ABSENT and value != m.unknown
        entry: dict[str, Any] = {"id": cid, "value": None if value is _ABSENT else value}
        extra: dict[str, Any] = dict(details.get(cid) or {})
        rule = m.derived_rules.get(cid)
        if rule is not None:
            src = resolved.get(rule["from"], _ABSENT)
            source = "unavailable" if src is _ABSENT else "derived"
            extra = {"rule": f"from {rule['from']}: {rule['rule']}"}
        elif value is _ABSENT:
            source = "unavailable"
        else:
            source = provenance.get(cid, "given")
            if source not in SOURCES:
                raise ValueError(f"unknown provenance {source!r} for {cid}")
        entry["source"] = source
        entry["weight"] = _num(c.weight)
        entry["informed"] = informed
        entry["label"] = c.label_fr
        entry["origin"] = c.origin
        for key in ("layer", "rule"):
            if extra.get(key):
                entry[key] = extra[key]
        out.append(entry)
    return out


def evaluate(given: Mapping | None = None, *, stored: Mapping | None = None,
             derived: Mapping | None = None,
             details: Mapping[str, Mapping[str, Any]] | None = None,
             algorithm_version: str | None = None) -> dict:
    """:func:`score` of ``combine(given, stored=stored, derived=derived)`` with ``criteria``
    (:func:`explain`) added after the keys of :func:`score` (nothing renamed).

    ``details`` (layer and rule of each derived value, or why one is unavailable) applies to
    derived and unavailable criteria only: a given or stored value is reported without the
    rule that a derived value would have had."""
    if given is not None:
        _resolve(given, _version(algorithm_version))  # the caller's object, as score() checks it
    criteria, provenance = combine(given, stored=stored, derived=derived)
    result = score(criteria, algorithm_version)
    shown = {cid: d for cid, d in (details or {}).items()
             if provenance.get(cid, "derived") == "derived"}
    result["criteria"] = explain(criteria, result["algorithm_version"],
                                 provenance=provenance, details=shown)
    return result
