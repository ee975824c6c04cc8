"""Preventive and curative actions per risk, and what to watch to anticipate its worsening.

Pure: reads ``data/actions.yaml`` (French and English texts, references), never mutates its
arguments.  ``actions_for(kind, entry, rules)`` gives the ``actions`` of one matrix entry:

* ``preventive`` and ``curative``: lists of ``{"id", "fr", "en"}`` from the data file;
* ``references``: the general references behind them (title in both languages, home page);
* ``anticipate``: computed from the entry, in both languages: for each axis not at its top
  class, the indicator value at which the class would worsen (``basis.next_threshold``), and a
  rising trend when the entry has one (the method: "anticipate the worsening of existing
  risks").
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any


from .core import KINDS, RulesError, _en
from processes import yaml_data

ACTIONS_PATH = Path(__file__).resolve().parent / "data" / "actions.yaml"
_CACHE: dict[tuple[str, float], dict] = {}
AXES = {"probability": ("la probabilité", "probability"), "gravity": ("la gravité", "gravity")}


def load_actions(path: str | Path | None = None, rules: Mapping[str, Any] | None = None
                 ) -> dict[str, Any]:
    """Read and validate the actions file (cached by modification time); with ``rules``,
    every risk of both matrices must have its actions."""
    p = Path(path) if path is not None else ACTIONS_PATH
    key = (str(p.resolve()), p.stat().st_mtime)
    if key not in _CACHE:
        with p.open(encoding="utf-8") as fh:
            data = yaml_data.load(fh)
        validate_actions(data)
        _CACHE[key] = data
    data = copy.deepcopy(_CACHE[key])
    if rules is not None:
        for kind, risks in (("environmental", rules["environmental"]),
                            ("societal", rules["societal"]["risks"])):
            missing = [r["id"] for r in risks if r["id"] not in data[kind]]
            if missing:
                raise RulesError(f"actions.{kind}: no actions for {missing}")
    return data


def validate_actions(data: Any) -> None:
    if not isinstance(data, Mapping) or not isinstance(data.get("references"), Mapping):
        raise RulesError("actions: a mapping with `references` is expected")
    for ref, spec in data["references"].items():
        if not isinstance(spec, Mapping) or not spec.get("title_fr") or not spec.get("title_en"):
            raise RulesError(f"actions.references.{ref}: title_fr and title_en are required")
    for kind in KINDS:
        risks = data.get(kind)
        if not isinstance(risks, Mapping) or not risks:
            raise RulesError(f"actions.{kind}: a mapping of risks is required")
        for rid, spec in risks.items():
            for part in ("preventive", "curative"):
                items = spec.get(part) if isinstance(spec, Mapping) else None
                if not isinstance(items, list) or not items:
                    raise RulesError(f"actions.{kind}.{rid}.{part}: a list is required")
                for item in items:
                    if not isinstance(item, Mapping) or not item.get("fr") or not item.get("en"):
                        raise RulesError(f"actions.{kind}.{rid}.{part}: fr and en texts")
            refs = spec.get("references") or []
            unknown = [r for r in refs if r not in data["references"]]
            if not refs or unknown:
                raise RulesError(f"actions.{kind}.{rid}.references: {unknown or 'none'}")


def _fmt(value: Any, lang: str) -> str:
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{int(value):,}" if isinstance(value, (int, float)) else str(value)
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def _anticipate(entry: Mapping[str, Any], rules: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    scale = {"probability": rules["scales"]["probability"],
             "gravity": rules["scales"]["gravity"]}
    for axis, (axis_fr, axis_en) in AXES.items():
        b = (entry.get("basis") or {}).get(axis) or {}
        nxt, cls = b.get("next_threshold"), b.get("class")
        if nxt is None or cls is None:
            continue
        worse = scale[axis][scale[axis].index(cls) + 1]
        below = b.get("direction") == "decreasing"
        unit = b.get("unit") or ""
        ind, value = b.get("indicator"), b.get("value")
        fr_op, en_op = ("sous", "below") if below else ("à partir de", "from")
        out.append({
            "kind": "threshold", "axis": axis, "indicator": ind, "value": value,
            "next_threshold": nxt, "next_class": worse,
            "fr": f"Surveiller {ind} (actuellement {_fmt(value, 'fr')} {unit}) : "
                  f"{axis_fr} passe à « {worse} » {fr_op} {_fmt(nxt, 'fr')} {unit}.".replace(
                      "  ", " "),
            "en": f"Watch {ind} (now {_fmt(value, 'en')} {unit}): the {axis_en} becomes "
                  f"'{_en(rules, worse)}' {en_op} {_fmt(nxt, 'en')} {unit}.".replace("  ", " "),
        })
    tb = entry.get("trend_basis")
    if entry.get("trend") == "rising" and tb:
        out.append({
            "kind": "trend", "indicator": tb["indicator"],
            "fr": f"Tendance à la hausse : {tb['indicator']} est passé de "
                  f"{_fmt(tb['from']['value'], 'fr')} ({tb['from']['year']}) à "
                  f"{_fmt(tb['to']['value'], 'fr')} ({tb['to']['year']}) ; engager les actions "
                  f"préventives avant le changement de classe.",
            "en": f"Rising trend: {tb['indicator']} went from {_fmt(tb['from']['value'], 'en')} "
                  f"({tb['from']['year']}) to {_fmt(tb['to']['value'], 'en')} "
                  f"({tb['to']['year']}); start the preventive actions before the class "
                  f"changes.",
        })
    return out


def actions_for(kind: str, entry: Mapping[str, Any], rules: Mapping[str, Any],
                data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``actions`` of one matrix entry (see the module docstring)."""
    data = data if data is not None else load_actions()
    spec = data[kind][entry["id"]]
    rid = entry["id"]
    return {
        "preventive": [{"id": f"{rid}-P{i}", "fr": a["fr"], "en": a["en"]}
                       for i, a in enumerate(spec["preventive"], 1)],
        "curative": [{"id": f"{rid}-C{i}", "fr": a["fr"], "en": a["en"]}
                     for i, a in enumerate(spec["curative"], 1)],
        "anticipate": _anticipate(entry, rules),
        "references": [{"id": r, **data["references"][r]} for r in spec["references"]],
    }
