"""JSON Schema of the ``criteria`` object of the ``mutability`` process (for the OGC process
description); re-exported by :mod:`.core`.

``criteria_schema(version=None) -> dict``  JSON Schema (draft 2020-12) of the ``criteria``
argument of :func:`.core.score`.
"""

from __future__ import annotations

from typing import Any

from .core import _model, _num, _section_ids, _version
from .model import _Criterion


# --------------------------------------------------------------------------------------------
# JSON Schema of the criteria object (for the OGC process description)
# --------------------------------------------------------------------------------------------
def _criterion_schema(c: _Criterion) -> dict:
    desc_unit = f" Unité / unit: {c.unit}." if c.unit else ""
    s: dict[str, Any] = {
        "title": c.label_fr,
        "description": f"{c.label_fr} — poids / weight {_num(c.weight)}, "
                       f"origine / origin: {c.origin}.{desc_unit}",
        "x-weight": _num(c.weight),
        "x-origin": c.origin,
    }
    nullable = c.origin == "auto"
    if c.kind == "numeric":
        s["type"] = ["number", "null"] if nullable else "number"
        s["minimum"] = 0
    elif c.kind == "boolean":
        s["type"] = ["boolean", "null"] if nullable else "boolean"
    else:
        s["type"] = ["string", "null"] if nullable else "string"
        s["enum"] = c.allowed_values() + ([None] if nullable else [])
    return s


def criteria_schema(version: str | None = None) -> dict:
    """JSON Schema (draft 2020-12) of the ``criteria`` argument of :func:`score`."""
    m = _model()
    v = _version(version)
    by_origin: dict[str, dict[str, Any]] = {"auto": {}, "user": {}, "derived": {}}
    for cid, c in v.criteria.items():
        by_origin[c.origin][cid] = _criterion_schema(c)
    auto_ids = list(by_origin["auto"])
    other_auto = [cid for cid in _section_ids("auto") if cid not in auto_ids]
    derived_note = {
        t: (f"Dérivé de {r['from']} (règle : {r['rule']}) ; toute valeur fournie est remplacée. "
            f"Derived from {r['from']}; any given value is overridden.")
        for t, r in m.derived_rules.items()
    }
    for t, note in derived_note.items():
        if t in by_origin["derived"]:
            by_origin["derived"][t]["description"] += " " + note
    auto_schema: dict[str, Any] = {
        "type": "object",
        "title": "Critères automatiques / automatic criteria",
        "description": "Données d'enrichissement (distances en mètres). Clé absente = donnée "
                       "indisponible ; null = recherche sans résultat. / Enrichment data "
                       "(distances in metres). Missing key = unavailable; null = nothing found.",
        "properties": by_origin["auto"],
    }
    if other_auto:
        # criteria of other algorithm versions are accepted and ignored
        auto_schema["propertyNames"] = {"enum": auto_ids + other_auto}
    else:
        auto_schema["additionalProperties"] = False
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Critères de mutabilité / mutability criteria ({v.id})",
        "type": "object",
        "properties": {
            "auto": auto_schema,
            "user": {
                "type": "object",
                "title": "Réponses de l'utilisateur / user answers",
                "description": f"« {m.unknown} » = ne sait pas / don't know.",
                "properties": by_origin["user"],
                "additionalProperties": False,
            },
            "derived": {
                "type": "object",
                "title": "Critères dérivés / derived criteria",
                "properties": by_origin["derived"],
                "additionalProperties": False,
            },
            "unavailable": {
                "type": "array",
                "description": "Critères automatiques indisponibles (sans valeur dans « auto ») "
                               "/ unavailable automatic criteria (not given in 'auto').",
                "items": {"type": "string", "enum": auto_ids + other_auto},
                "uniqueItems": True,
            },
            "context": {
                "type": "object",
                "description": "Informatif, non utilisé par le calcul / informational, "
                               "not used by the score.",
            },
        },
        "additionalProperties": False,
        "x-algorithm-version": v.id,
        "x-criteria-count": len(v.criteria),
        "x-total-weight": _num(v.total_weight),
    }

