"""Pure core of the ``risk-matrix`` process: indicator values -> classes -> criticity grid.

Every figure (class scales, thresholds, the gravity x probability grid, parameters of the
indicators, the societal indicators and how each is computed or derived, the trends) is read
from ``data/rules.yaml``; this module only applies the rules.  No web framework, no store, no
I/O besides reading a rules file, and it never mutates its arguments.  The societal
indicators themselves (computed from layers, overridden by the caller, derived) are in
:mod:`.societal`; the actions per risk in :mod:`.actions`.

Public API
----------
``load_rules(path=None) -> dict``            read and validate a rules file (default: packaged)
``classify(value, rule, scale) -> str|None`` class label of one value for one rule
``criticity(rules, gravity, probability)``  criticity of a grid cell
``assess(risk, indicators, sources, rules)`` one matrix entry
``trend(risk, current, past) -> str|None``   rising / stable / falling
``environmental_entries(values, sources, rules)``  the entries of R1..R8
``build_matrix(...) -> dict``                the whole ``matrix`` output of one kind
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from processes import yaml_data

__all__ = [
    "COMPUTE_KINDS",
    "KINDS",
    "RULES_PATH",
    "InvalidInput",
    "RulesError",
    "assess",
    "build_matrix",
    "classify",
    "criticity",
    "environmental_entries",
    "grid",
    "load_rules",
    "trend",
]

RULES_PATH = Path(__file__).resolve().parent / "data" / "rules.yaml"
NOT_ASSESSED = "non évalué"
KINDS = ("environmental", "societal")
#: how a societal indicator may be computed from the layers (implemented in .societal)
COMPUTE_KINDS = ("population", "zone_population_pct", "field", "nearest_km", "count",
                 "length_km", "max", "sum")
FIELD_AGGREGATES = ("mean", "sum", "max")
DERIVE_OPS = ("product", "ratio", "sum")
TRENDS = {"rising": "hausse", "stable": "stable", "falling": "baisse"}


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
            rules = yaml_data.load(fh)
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
    for risk in _risks(rules["environmental"], "environmental"):
        _check_risk("environmental", risk, prob, grav)
    _validate_societal(rules["societal"], prob, grav)


def _risks(risks: Any, section: str) -> list:
    if not isinstance(risks, list) or not risks:
        raise RulesError(f"{section}: a list of risks is required")
    seen = set()
    for risk in risks:
        rid = risk.get("id") if isinstance(risk, Mapping) else None
        if not rid or rid in seen:
            raise RulesError(f"{section}: missing or duplicate id {rid!r}")
        seen.add(rid)
    return risks


def _check_risk(section: str, risk: Mapping[str, Any], prob, grav) -> None:
    rid = risk["id"]
    for k in ("label_fr", "label_en", "probability", "gravity"):
        if k not in risk:
            raise RulesError(f"{section}.{rid}: missing {k!r}")
    _check_rule(f"{section}.{rid}.probability", risk["probability"], prob)
    _check_rule(f"{section}.{rid}.gravity", risk["gravity"], grav)
    tr = risk.get("trend")
    if tr is not None:
        band = tr.get("stable_band") if isinstance(tr, Mapping) else None
        if not isinstance(tr, Mapping) or not isinstance(tr.get("indicator"), str) \
                or not isinstance(band, (int, float)) or isinstance(band, bool) or band < 0:
            raise RulesError(f"{section}.{rid}.trend: `indicator` and a `stable_band` >= 0 "
                             f"are required")


def _check_indicator(name: str, spec: Any, declared: set[str]) -> None:
    where = f"societal.indicators.{name}"
    if not isinstance(spec, Mapping) or ("compute" in spec) == ("derive" in spec):
        raise RulesError(f"{where}: exactly one of `compute` or `derive` is required")
    for k in ("label_fr", "label_en", "unit"):
        if not isinstance(spec.get(k), str):
            raise RulesError(f"{where}: missing {k!r}")
    if "compute" in spec:
        c = spec["compute"]
        if not isinstance(c, Mapping) or c.get("kind") not in COMPUTE_KINDS:
            raise RulesError(f"{where}: compute.kind must be one of {list(COMPUTE_KINDS)}")
        if not isinstance(c.get("collection"), str):
            raise RulesError(f"{where}: compute.collection (a collection id) is required")
        if c["kind"] in ("zone_population_pct", "field", "max", "sum") \
                and not isinstance(c.get("field"), str):
            raise RulesError(f"{where}: compute.field is required for {c['kind']}")
        if c["kind"] == "field" and c.get("aggregate") not in FIELD_AGGREGATES:
            raise RulesError(f"{where}: compute.aggregate must be one of {list(FIELD_AGGREGATES)}")
        if "where" in c and not isinstance(c["where"], Mapping):
            raise RulesError(f"{where}: compute.where must be a mapping {{field: value(s)}}")
        return
    d = spec["derive"]
    ops = [op for op in DERIVE_OPS if op in d] if isinstance(d, Mapping) else []
    if len(ops) != 1:
        raise RulesError(f"{where}: derive needs exactly one of {list(DERIVE_OPS)}")
    operands = d[ops[0]]
    if not isinstance(operands, list) or len(operands) < 2 or \
            (ops[0] == "ratio" and len(operands) != 2):
        raise RulesError(f"{where}: derive.{ops[0]} needs a list of operands")
    for o in operands:
        if o not in declared:
            raise RulesError(f"{where}: operand {o!r} is not declared above it")


def _validate_societal(soc: Any, prob, grav) -> None:
    if not isinstance(soc, Mapping):
        raise RulesError("societal must be a mapping")
    specs = soc.get("indicators")
    if not isinstance(specs, Mapping) or not specs:
        raise RulesError("societal.indicators: a mapping of indicators is required")
    declared: set[str] = set()
    for name, spec in specs.items():
        _check_indicator(name, spec, declared)
        declared.add(name)
    reserved = set(soc.get("reserved") or [])
    risks = _risks(soc.get("risks"), "societal")
    for risk in risks:
        rid = risk["id"]
        if rid in reserved:
            raise RulesError(f"societal.{rid}: a reserved id (not named in the source)")
        _check_risk("societal", risk, prob, grav)
        for axis in ("probability", "gravity"):
            ind = risk[axis].get("indicator")
            if ind is not None and ind not in declared:
                raise RulesError(f"societal.{rid}.{axis}: {ind!r} is not a declared indicator")
        for ind in risk.get("indicators") or []:
            if ind not in declared:
                raise RulesError(f"societal.{rid}.indicators: {ind!r} is not declared")
        tr = risk.get("trend")
        if tr is not None:
            if tr["indicator"] not in declared or "compute" not in specs[tr["indicator"]]:
                raise RulesError(f"societal.{rid}.trend: {tr['indicator']!r} is not a "
                                 f"computed indicator")
            for k in ("past_field", "past_year", "year"):
                if k not in tr:
                    raise RulesError(f"societal.{rid}.trend: missing {k!r}")
    ids = {r["id"] for r in risks}
    dep = soc.get("deprecated") or {}
    for old, new in (dep.get("risks") or {}).items():
        if new not in ids:
            raise RulesError(f"societal.deprecated.risks: {old} -> {new!r}, not a risk")
        if old in ids or old in declared:
            raise RulesError(f"societal.deprecated.risks: {old} is still in use")
    for old, spec in (dep.get("indicators") or {}).items():
        if old in declared:
            raise RulesError(f"societal.deprecated.indicators: {old} is still declared")
        if not isinstance(spec, Mapping) or not spec.get("note_fr") or not spec.get("note_en"):
            raise RulesError(f"societal.deprecated.indicators.{old}: note_fr and note_en")
        if spec.get("replaced_by") is not None and spec["replaced_by"] not in declared:
            raise RulesError(f"societal.deprecated.indicators.{old}: unknown replacement")


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


def _next_threshold(rule: Mapping[str, Any], cls: str | None, scale: Sequence[str]):
    """The indicator value at which the class would worsen (None at the top or the cap):
    what to watch to anticipate the worsening of a risk."""
    if cls is None:
        return None
    k = list(scale).index(cls)
    top = list(scale).index(rule["cap"]) if "cap" in rule else len(scale) - 1
    return rule["thresholds"][k] if k < top else None


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
            b["next_threshold"] = _next_threshold(rule, cls, scale)
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
# trends
# --------------------------------------------------------------------------------------------
def trend(risk: Mapping[str, Any], current: Any, past: Any) -> str | None:
    """``rising`` / ``stable`` / ``falling`` of ``risk`` from two values of its trend
    indicator (None when one is missing or the risk has no trend rule).

    Rising = the indicator moved towards the worse classes by at least ``stable_band``: up for
    an increasing rule, down for a decreasing one (the rule of the axis the indicator sets,
    increasing if it sets none)."""
    spec = risk.get("trend")
    now, before = _number(current), _number(past)
    if spec is None or now is None or before is None:
        return None
    sign = 1.0
    for axis in ("probability", "gravity"):
        if risk[axis].get("indicator") == spec["indicator"]:
            sign = -1.0 if risk[axis].get("direction") == "decreasing" else 1.0
            break
    change = sign * (now - before)
    band = float(spec["stable_band"])
    if change >= band and change > 0:
        return "rising"
    if change <= -band and change < 0:
        return "falling"
    return "stable"


def trend_basis(risk: Mapping[str, Any], current: Any, past: Any, past_year: Any,
                year: Any, source: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``trend_basis`` of an output entry (what the trend was read from), or None."""
    direction = trend(risk, current, past)
    if direction is None:
        return None
    spec = risk["trend"]
    return {
        "trend": direction, "trend_fr": TRENDS[direction], "indicator": spec["indicator"],
        "from": {"year": past_year, "value": _number(past)},
        "to": {"year": year, "value": _number(current)},
        "change": round(_number(current) - _number(past), 3),
        "stable_band": spec["stable_band"], "computed": True, "source": dict(source),
    }


def environmental_entries(values: Mapping[str, Mapping[str, Any]],
                          sources: Mapping[str, Sequence[Mapping[str, Any]]],
                          rules: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of the environmental risks; ``values`` maps a risk id (R1..) to its
    indicator values, ``sources`` to the sources of those values."""
    return [assess(risk, values.get(risk["id"], {}), sources.get(risk["id"], []), rules)
            for risk in rules["environmental"]]


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


def build_matrix(subject: Mapping[str, Any], kind: str, entries: Sequence[Mapping[str, Any]],
                 rules: Mapping[str, Any], subject_key: str = "commune",
                 notes: Sequence[str] = ()) -> dict[str, Any]:
    """The ``matrix`` output of one kind: its entries and its grid.

    ``entries`` are those of :func:`environmental_entries` or ``.societal.entries``; the
    other kind's list is empty (the two matrices reuse ids R1.. and never share a grid)."""
    if subject_key not in ("commune", "area"):
        raise ValueError("subject_key must be 'commune' or 'area'")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    out = {
        subject_key: dict(subject),
        "kind": kind,
        "environmental": [],
        "societal": [],
        "grid": grid(rules, entries),
        "rules_version": rules.get("version"),
        "parameters": copy.deepcopy(rules["parameters"]),
        "notes": list(notes),
    }
    out[kind] = [dict(e) for e in entries]
    return out
