"""Pure core of the ``risk-matrix`` process: indicator values -> classes -> criticity grid.

Every figure (class scales, thresholds, the gravity x probability grid, parameters of the
indicators, the accepted societal inputs) is read from ``data/rules.yaml``; this module only
applies the rules.  No web framework, no store, no I/O besides reading a rules file, and it
never mutates its arguments.

Public API
----------
``load_rules(path=None) -> dict``            read and validate a rules file (default: packaged)
``classify(value, rule, scale) -> str|None`` class label of one value for one rule
``criticity(rules, gravity, probability)``  criticity of a grid cell
``assess(risk, indicators, sources, rules)`` one matrix entry
``societal_indicators(inputs, population, rules)``  validated inputs + derived counts
``build_matrix(...) -> dict``                the whole ``matrix`` output
``societal_input_schema(rules) -> dict``      JSON Schema of the ``societal_indicators`` input
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "RULES_PATH",
    "InvalidInput",
    "RulesError",
    "assess",
    "build_matrix",
    "classify",
    "criticity",
    "grid",
    "load_rules",
    "societal_indicators",
    "societal_input_schema",
]

RULES_PATH = Path(__file__).resolve().parent / "data" / "rules.yaml"
NOT_ASSESSED = "non évalué"


class RulesError(ValueError):
    """The rules file is inconsistent (a data error, not a user error)."""


class InvalidInput(ValueError):
    """A user input is invalid; carries a French and an English message."""

    def __init__(self, fr: str, en: str):
        super().__init__(f"{fr} / {en}")
        self.fr, self.en = fr, en


# --------------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------------
_RULES_CACHE: dict[tuple[str, float], dict] = {}


def load_rules(path: str | Path | None = None) -> dict[str, Any]:
    """Read and validate a rules file; a deep copy, so callers may change it freely.

    Cached by (path, modification time): an edited file is read again.
    """
    p = Path(path) if path is not None else RULES_PATH
    key = (str(p.resolve()), p.stat().st_mtime)
    if key not in _RULES_CACHE:
        with p.open(encoding="utf-8") as fh:
            rules = yaml.safe_load(fh)
        validate_rules(rules)
        _RULES_CACHE[key] = rules
    return copy.deepcopy(_RULES_CACHE[key])


def _check_rule(where: str, rule: Mapping[str, Any], scale: Sequence[str]) -> None:
    if not isinstance(rule, Mapping):
        raise RulesError(f"{where}: a mapping is expected")
    if "fixed" in rule:
        if rule["fixed"] not in scale:
            raise RulesError(f"{where}: fixed class {rule['fixed']!r} not in {list(scale)}")
        return
    if not isinstance(rule.get("indicator"), str):
        raise RulesError(f"{where}: `indicator` (a name) is required")
    th = rule.get("thresholds")
    if (not isinstance(th, list) or len(th) != len(scale) - 1
            or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in th)):
        raise RulesError(f"{where}: `thresholds` must be {len(scale) - 1} numbers")
    direction = rule.get("direction", "increasing")
    if direction == "increasing":
        ok = all(a < b for a, b in zip(th, th[1:]))
    elif direction == "decreasing":
        ok = all(a > b for a, b in zip(th, th[1:]))
    else:
        raise RulesError(f"{where}: direction must be increasing or decreasing")
    if not ok:
        raise RulesError(f"{where}: thresholds must be strictly monotonic ({direction})")
    if "cap" in rule and rule["cap"] not in scale:
        raise RulesError(f"{where}: cap {rule['cap']!r} not in {list(scale)}")


def validate_rules(rules: Any) -> None:
    """Raise :class:`RulesError` if the rules are incomplete or inconsistent."""
    if not isinstance(rules, Mapping):
        raise RulesError("the rules file must be a mapping")
    for key in ("scales", "grid", "environmental", "societal", "parameters", "colours"):
        if key not in rules:
            raise RulesError(f"missing section {key!r}")
    scales = rules["scales"]
    prob, grav, crit = scales.get("probability"), scales.get("gravity"), scales.get("criticity")
    for name, sc in (("probability", prob), ("gravity", grav), ("criticity", crit)):
        if not isinstance(sc, list) or len(set(sc)) != len(sc) or len(sc) < 2:
            raise RulesError(f"scales.{name} must be a list of distinct labels")
    grid_ = rules["grid"]
    if set(grid_) != set(grav):
        raise RulesError(f"grid rows must be exactly the gravity classes {grav}")
    for g in grav:
        row = grid_[g]
        if not isinstance(row, list) or len(row) != len(prob):
            raise RulesError(f"grid.{g} needs one criticity per probability class ({len(prob)})")
        for c in row:
            if c not in crit:
                raise RulesError(f"grid.{g}: {c!r} is not a criticity class {crit}")
    for c in crit:
        if c not in rules["colours"]:
            raise RulesError(f"colours: no colour for {c!r}")
    inputs = rules["societal"].get("inputs") or {}
    counts = {spec["count"] for spec in inputs.values() if spec.get("count")}
    for section, risks in (("environmental", rules["environmental"]),
                           ("societal", rules["societal"].get("risks"))):
        if not isinstance(risks, list) or not risks:
            raise RulesError(f"{section}: a list of risks is required")
        seen = set()
        for risk in risks:
            rid = risk.get("id")
            if not rid or rid in seen:
                raise RulesError(f"{section}: missing or duplicate id {rid!r}")
            seen.add(rid)
            for k in ("label_fr", "label_en", "probability", "gravity"):
                if k not in risk:
                    raise RulesError(f"{section}.{rid}: missing {k!r}")
            _check_rule(f"{section}.{rid}.probability", risk["probability"], prob)
            _check_rule(f"{section}.{rid}.gravity", risk["gravity"], grav)
            if section == "societal":
                for axis in ("probability", "gravity"):
                    ind = risk[axis].get("indicator")
                    if ind is not None and ind not in inputs and ind not in counts:
                        raise RulesError(f"societal.{rid}.{axis}: {ind!r} is neither an input "
                                         f"nor a derived count")


# --------------------------------------------------------------------------------------------
# classes
# --------------------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def classify(value: Any, rule: Mapping[str, Any], scale: Sequence[str]) -> str | None:
    """The class of ``value`` under ``rule`` (see the header of rules.yaml); None if missing."""
    if "fixed" in rule:
        return rule["fixed"]
    v = _number(value)
    if v is None:
        return None
    th = rule["thresholds"]
    if rule.get("direction", "increasing") == "decreasing":
        k = sum(1 for t in th if v < t)
    else:
        k = sum(1 for t in th if v >= t)
    if "cap" in rule:
        k = min(k, list(scale).index(rule["cap"]))
    return scale[k]


def criticity(rules: Mapping[str, Any], gravity: str | None, probability: str | None) -> str | None:
    if gravity is None or probability is None:
        return None
    col = rules["scales"]["probability"].index(probability)
    return rules["grid"][gravity][col]


def _en(rules: Mapping[str, Any], label: str | None) -> str | None:
    if label is None:
        return None
    return rules.get("labels_en", {}).get(label, label)


def assess(risk: Mapping[str, Any], indicators: Mapping[str, Any],
           sources: Sequence[Mapping[str, Any]], rules: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of the matrix: classes of ``risk`` for these indicator values."""
    scales = rules["scales"]
    basis, classes = {}, {}
    for axis, scale in (("probability", scales["probability"]), ("gravity", scales["gravity"])):
        rule = risk[axis]
        value = None if "fixed" in rule else indicators.get(rule["indicator"])
        cls = classify(value, rule, scale)
        classes[axis] = cls
        b: dict[str, Any] = {"class": cls}
        if "fixed" in rule:
            b["fixed"] = rule["fixed"]
        else:
            b.update(indicator=rule["indicator"], value=value, unit=rule.get("unit"),
                     thresholds=list(rule["thresholds"]),
                     direction=rule.get("direction", "increasing"))
            if "cap" in rule:
                b["cap"] = rule["cap"]
        basis[axis] = b
    crit = criticity(rules, classes["gravity"], classes["probability"])
    return {
        "id": risk["id"],
        "label_fr": risk["label_fr"],
        "label_en": risk["label_en"],
        "probability": classes["probability"],
        "gravity": classes["gravity"],
        "criticity": crit,
        "probability_en": _en(rules, classes["probability"]),
        "gravity_en": _en(rules, classes["gravity"]),
        "criticity_en": _en(rules, crit),
        "assessed": crit is not None,
        "indicators": dict(indicators),
        "basis": basis,
        "sources": [dict(s) for s in sources],
    }


# --------------------------------------------------------------------------------------------
# societal inputs
# --------------------------------------------------------------------------------------------
def societal_input_schema(rules: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Schema of the ``societal_indicators`` input, generated from the rules."""
    props = {}
    for key, spec in rules["societal"]["inputs"].items():
        p: dict[str, Any] = {"type": "number", "title": spec["label_fr"],
                             "description": spec["label_en"]}
        for bound in ("minimum", "maximum"):
            if bound in spec:
                p[bound] = spec[bound]
        props[key] = p
    return {"type": "object", "properties": props, "additionalProperties": False}


def societal_indicators(inputs: Mapping[str, Any] | None, population: float | None,
                        rules: Mapping[str, Any]) -> dict[str, float]:
    """Validate the societal inputs and add the derived counts (value % x population / 100)."""
    if inputs is None:
        return {}
    if not isinstance(inputs, Mapping):
        raise InvalidInput("societal_indicators doit être un objet {nom: nombre}",
                           "societal_indicators must be an object {name: number}")
    specs = rules["societal"]["inputs"]
    unknown = sorted(set(inputs) - set(specs))
    if unknown:
        raise InvalidInput(
            f"indicateur(s) sociétal(aux) inconnu(s) : {', '.join(unknown)} ; "
            f"acceptés : {', '.join(specs)}",
            f"unknown societal indicator(s): {', '.join(unknown)}; accepted: {', '.join(specs)}")
    out: dict[str, float] = {}
    for key, value in inputs.items():
        spec = specs[key]
        if value is None:
            continue
        v = _number(value)
        if v is None or isinstance(value, str) or math.isinf(v):
            raise InvalidInput(f"{key} doit être un nombre", f"{key} must be a number")
        lo, hi = spec.get("minimum"), spec.get("maximum")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise InvalidInput(f"{key} doit être compris entre {lo} et {hi}",
                               f"{key} must be between {lo} and {hi}")
        out[key] = v
        if spec.get("count") and population is not None:
            out[spec["count"]] = round(v * float(population) / 100.0)
    return out


def _societal_sources(risk: Mapping[str, Any], rules: Mapping[str, Any],
                      population_sources: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    specs = rules["societal"]["inputs"]
    by_count = {s["count"]: k for k, s in specs.items() if s.get("count")}
    out, seen = [], set()
    for axis in ("probability", "gravity"):
        ind = risk[axis].get("indicator")
        if ind is None:
            continue
        key = by_count.get(ind, ind)
        if key not in seen:
            seen.add(key)
            out.append({"input": f"indicators.{key}", "nature": "saisie",
                        "nature_fr": "valeur saisie par l'utilisateur",
                        "nature_en": "value entered by the user",
                        "reference": specs[key].get("source")})
        if ind in by_count and "population" not in seen:
            seen.add("population")
            out.extend(dict(s) for s in population_sources)
    return out


# --------------------------------------------------------------------------------------------
# the matrix
# --------------------------------------------------------------------------------------------
def grid(rules: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The gravity x probability grid with the risk codes placed in their cells."""
    scales = rules["scales"]
    cells = []
    for g in reversed(scales["gravity"]):  # most severe first (top row of the picture)
        for p in scales["probability"]:
            cells.append({
                "gravity": g, "probability": p, "criticity": criticity(rules, g, p),
                "risks": [e["id"] for e in entries if e["gravity"] == g and e["probability"] == p],
            })
    return {
        "rows": "gravity",
        "columns": "probability",
        "gravity": list(scales["gravity"]),
        "probability": list(scales["probability"]),
        "criticity": list(scales["criticity"]),
        "labels_en": {k: v for k, v in rules.get("labels_en", {}).items()},
        "colours": dict(rules["colours"]),
        "cells": cells,
        "not_assessed": [e["id"] for e in entries if not e["assessed"]],
    }


def build_matrix(subject: Mapping[str, Any],
                 environmental: Mapping[str, Mapping[str, Any]],
                 environmental_sources: Mapping[str, Sequence[Mapping[str, Any]]],
                 societal_inputs: Mapping[str, Any] | None,
                 population: float | None,
                 population_sources: Sequence[Mapping[str, Any]],
                 rules: Mapping[str, Any],
                 subject_key: str = "commune",
                 notes: Sequence[str] = ()) -> dict[str, Any]:
    """The ``matrix`` output: both matrices and the grid.

    ``environmental`` maps a risk id (R1..) to its indicator values, ``environmental_sources``
    to the sources of those values; ``societal_inputs`` is the user's object (validated here).
    """
    if subject_key not in ("commune", "area"):
        raise ValueError("subject_key must be 'commune' or 'area'")
    env_entries = []
    for risk in rules["environmental"]:
        rid = risk["id"]
        env_entries.append(assess(risk, environmental.get(rid, {}),
                                  environmental_sources.get(rid, []), rules))
    values = societal_indicators(societal_inputs, population, rules)
    counts = {s["count"] for s in rules["societal"]["inputs"].values() if s.get("count")}
    soc_entries = []
    for risk in rules["societal"]["risks"]:
        used = {risk[a]["indicator"]: values.get(risk[a]["indicator"])
                for a in ("probability", "gravity") if "indicator" in risk[a]}
        if any(k in counts for k in used):
            used["population"] = None if population is None else round(float(population))
        soc_entries.append(assess(risk, used, _societal_sources(risk, rules, population_sources),
                                  rules))
    return {
        subject_key: dict(subject),
        "environmental": env_entries,
        "societal": soc_entries,
        "grid": grid(rules, env_entries + soc_entries),
        "rules_version": rules.get("version"),
        "parameters": copy.deepcopy(rules["parameters"]),
        "notes": list(notes),
    }
