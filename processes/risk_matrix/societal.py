"""Indicators of the societal matrix: computed from the layers, overridden, derived, scored.

Pure functions (no web framework, no store): the processor reads the layers with
:mod:`services.layers` and passes them in.  What each indicator is, how it is computed
(``compute: {kind: ...}``) or derived (``derive: {...}``), and which risk reads it are
declared in ``data/rules.yaml`` (``societal``); this module implements the compute kinds of
:data:`.core.COMPUTE_KINDS` and applies the declarations, in four steps:

``compute(parts, layers, rules)``       every ``compute`` indicator from the layers
``parse_overrides(inputs, rules)``      the caller's ``indicators`` input, checked, with the
                                        deprecated forms of the former S1..S7 matrix noted
``resolve(computed, overrides, rules, sources)``  caller values win, ``derive`` indicators
                                        follow: one ``{value, source, computed, ...}`` each
``entries(details, trends, rules)``     the matrix entries (classes by :func:`.core.assess`)

The area is a commune or a polygon split by commune (:class:`.indicators.Part`, uniform
density inside each commune, as for the environmental side).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from . import core
from .indicators import MIN_PART_M2, Layer, Part, covered, population

__all__ = ["collections_read", "compute", "entries", "input_schema", "parse_overrides",
           "past_values", "resolve"]

#: number of decimals of each value kind in the output
DIGITS = {"habitants": 0, "personnes": 0, "jeunes": 0, "infractions": 0, "emplois": 0}


# --------------------------------------------------------------------------------------------
# what is read
# --------------------------------------------------------------------------------------------
def collections_read(rules: Mapping[str, Any]) -> list[str]:
    """Collections the societal indicators read (sorted), ``communes`` first."""
    cids = {spec["compute"]["collection"] for spec in rules["societal"]["indicators"].values()
            if "compute" in spec}
    return ["communes"] + sorted(cids - {"communes"})


def whole_layer_collections(rules: Mapping[str, Any]) -> list[str]:
    """Collections read whole (nearest features may lie outside the area's box)."""
    return sorted({spec["compute"]["collection"]
                   for spec in rules["societal"]["indicators"].values()
                   if spec.get("compute", {}).get("kind") == "nearest_km"})


# --------------------------------------------------------------------------------------------
# compute kinds
# --------------------------------------------------------------------------------------------
def _round(value: float | None, unit: str | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    digits = DIGITS.get(unit or "", 3)
    return int(round(float(value))) if digits == 0 else float(round(float(value), digits))


def _where(layer: Layer, where: Mapping[str, Any] | None) -> Layer:
    if not where or len(layer) == 0:
        return layer
    keep = np.ones(len(layer), dtype=bool)
    for column, wanted in where.items():
        if column not in layer:
            return layer.take(np.zeros(len(layer), dtype=bool))
        values = wanted if isinstance(wanted, list) else [wanted]
        keep &= np.isin(np.asarray(layer[column], dtype=object), values)
    return layer.take(keep)


def _meeting(layer: Layer, area) -> tuple[Layer, np.ndarray]:
    """Rows meeting ``area`` (polygons: by more than a sliver) and the share of each row's
    geometry inside it (areas for polygons, 1 for points and lines)."""
    rows = layer.within(area)
    if len(rows) == 0:
        return rows, np.array([], dtype=float)
    shares = np.ones(len(rows), dtype=float)
    keep = np.ones(len(rows), dtype=bool)
    for i, g in enumerate(rows.geometry):
        if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0:
            inside = shapely.intersection(g, area).area
            keep[i] = inside > MIN_PART_M2
            shares[i] = inside / g.area
    return rows.take(keep), shares[keep]


def _numbers(values) -> np.ndarray:
    out = np.array([np.nan if v is None else v for v in values], dtype=float)
    return out


def _weights(parts: Sequence[Part]) -> np.ndarray:
    """Population of each piece (its area share when the area holds nobody)."""
    w = np.array([p.population * p.fraction for p in parts], dtype=float)
    return w if w.sum() > 0 else np.array([p.fraction for p in parts], dtype=float)


def _by_insee(layer: Layer, field: str) -> dict[str, float]:
    if len(layer) == 0 or field not in layer or "insee" not in layer:
        return {}
    return {str(i): v for i, v in zip(layer["insee"], _numbers(layer[field]))}


def _field(parts: Sequence[Part], layer: Layer, spec: Mapping[str, Any]) -> float | None:
    table = _by_insee(layer, spec["field"])
    values = np.array([table.get(p.insee, np.nan) for p in parts], dtype=float)
    ok = ~np.isnan(values)
    if not ok.any():
        return None
    how = spec["aggregate"]
    if how == "max":
        return float(values[ok].max())
    if how == "sum":
        fractions = np.array([p.fraction for p in parts], dtype=float)
        return float((values[ok] * fractions[ok]).sum())
    w = _weights(parts)[ok]
    return float(np.average(values[ok], weights=w)) if w.sum() > 0 else None


def _nearest_km(parts: Sequence[Part], layer: Layer) -> float | None:
    if len(layer) == 0:
        return None
    dist = []
    for p in parts:
        centre = p.geometry.representative_point()
        dist.append(centre.distance(layer.geometry[int(layer.tree.nearest(centre))]))
    return float(np.average(np.asarray(dist, dtype=float), weights=_weights(parts)) / 1000.0)


def compute_one(spec: Mapping[str, Any], parts: Sequence[Part], layers: Mapping[str, Layer],
                field: str | None = None) -> float | None:
    """Value of one ``compute`` indicator for the area (``field`` replaces the spec's field:
    the past value of a dated series)."""
    c = dict(spec["compute"])
    if field is not None:
        c["field"] = field
    kind = c["kind"]
    if kind == "population":
        return population(parts)
    layer = _where(Layer.of(layers.get(c["collection"])), c.get("where"))
    if kind == "field":
        return _field(parts, layer, c)
    if kind == "nearest_km":
        return _nearest_km(parts, layer)
    area = covered(parts)
    rows, shares = _meeting(layer, area)
    if kind == "count":
        return float(len(rows))
    if kind == "length_km":
        return float(sum(shapely.intersection(g, area).length for g in rows.geometry) / 1000.0)
    values = _numbers(rows[c["field"]]) if len(rows) and c["field"] in rows else np.array([])
    ok = ~np.isnan(values)
    if kind == "max":
        return float(values[ok].max()) if ok.any() else 0.0
    if kind == "sum":
        return float((values[ok] * shares[ok]).sum())
    if kind == "zone_population_pct":
        pop = population(parts)
        if pop <= 0:
            return None
        return float(min(100.0 * (values[ok] * shares[ok]).sum() / pop, 100.0))
    raise ValueError(f"unknown compute kind {kind!r}")  # the rules validation prevents it


def compute(parts: Sequence[Part], layers: Mapping[str, Any],
            rules: Mapping[str, Any]) -> dict[str, float | None]:
    """Every ``compute`` indicator of the rules for the area split in ``parts``.

    ``layers`` maps collection ids to GeoDataFrames (EPSG:2154) or to the
    :class:`.indicators.Layer` of ``prepare_layers`` (a batch); the ``nearest_km`` ones must
    be whole, the others cover at least the area."""
    prepared = {cid: Layer.of(gdf) for cid, gdf in layers.items()}
    return {name: _round(compute_one(spec, parts, prepared), spec.get("unit"))
            for name, spec in rules["societal"]["indicators"].items() if "compute" in spec}


def past_values(parts: Sequence[Part], layers: Mapping[str, Any],
                rules: Mapping[str, Any]) -> dict[str, float | None]:
    """The earlier value of each risk's dated trend indicator (risk id -> value)."""
    prepared = {cid: Layer.of(gdf) for cid, gdf in layers.items()}
    specs = rules["societal"]["indicators"]
    out = {}
    for risk in rules["societal"]["risks"]:
        tr = risk.get("trend")
        if tr:
            spec = specs[tr["indicator"]]
            out[risk["id"]] = _round(compute_one(spec, parts, prepared, tr["past_field"]),
                                     spec.get("unit"))
    return out


# --------------------------------------------------------------------------------------------
# the caller's values
# --------------------------------------------------------------------------------------------
def input_schema(rules: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Schema of the ``indicators`` input, generated from the rules."""
    soc = rules["societal"]
    props: dict[str, Any] = {}
    for key, spec in soc["indicators"].items():
        number: dict[str, Any] = {"type": "number"}
        for bound in ("minimum", "maximum"):
            if bound in spec:
                number[bound] = spec[bound]
        props[key] = {"title": spec["label_fr"], "description": spec["label_en"],
                      "oneOf": [number, {"type": "object", "required": ["value"],
                                         "additionalProperties": False,
                                         "properties": {"value": number,
                                                        "source": {"type": "string",
                                                                   "maxLength": 300}}}]}
    dep = soc.get("deprecated") or {}
    for key, spec in (dep.get("indicators") or {}).items():
        props[key] = {"type": "number", "deprecated": True, "description": spec["note_en"]}
    for old, new in (dep.get("risks") or {}).items():
        props[old] = {"type": "object", "deprecated": True,
                      "description": f"Deprecated group of the former risk {old} (now {new}): "
                                     f"its indicators are read as top-level keys."}
    return {"type": "object", "properties": props, "additionalProperties": False}


def _value(key: str, raw: Any, spec: Mapping[str, Any]) -> tuple[float, str | None]:
    source = None
    if isinstance(raw, Mapping):
        extra = sorted(set(raw) - {"value", "source"})
        if "value" not in raw or extra:
            raise core.InvalidInput(f"{key} : un nombre ou {{value, source}} est attendu",
                                    f"{key}: a number or {{value, source}} is expected")
        source, raw = raw.get("source"), raw["value"]
        if source is not None and (not isinstance(source, str) or len(source) > 300):
            raise core.InvalidInput(f"{key}.source doit être un texte (300 caractères au plus)",
                                    f"{key}.source must be a text (300 characters at most)")
    v = core._number(raw)
    if v is None or isinstance(raw, str) or math.isinf(v):
        raise core.InvalidInput(f"{key} doit être un nombre", f"{key} must be a number")
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise core.InvalidInput(f"{key} doit être compris entre {lo} et {hi}",
                                f"{key} must be between {lo} and {hi}")
    return v, source


def parse_overrides(inputs: Any, rules: Mapping[str, Any]
                    ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The caller's values ``{name: {"value", "source"}}`` and the deprecated inputs used.

    Accepted: ``{name: number}`` or ``{name: {"value": number, "source": text}}`` for any
    declared indicator; the former matrix's groups ``{"S3": {name: ...}}`` (read as the same
    keys, the note names the risk it became) and its indicators without a successor
    (accepted, not used, noted). Raises :class:`.core.InvalidInput`."""
    if inputs is None:
        return {}, []
    if not isinstance(inputs, Mapping):
        raise core.InvalidInput("indicators doit être un objet {nom: nombre}",
                                "indicators must be an object {name: number}")
    soc = rules["societal"]
    specs = soc["indicators"]
    dep = soc.get("deprecated") or {}
    old_risks, old_inds = dep.get("risks") or {}, dep.get("indicators") or {}
    flat: list[tuple[str, Any, str | None]] = []  # (name, raw value, deprecated group)
    deprecated: list[dict[str, Any]] = []
    for key, raw in inputs.items():
        if key in old_risks:
            if not isinstance(raw, Mapping):
                raise core.InvalidInput(f"{key} doit être un objet {{nom: nombre}}",
                                        f"{key} must be an object {{name: number}}")
            new = old_risks[key]
            deprecated.append({
                "input": f"indicators.{key}", "replaced_by": new,
                "note_fr": f"{key} est l'identifiant de l'ancienne matrice sociétale (S1..S7), "
                           f"retiré après la version {dep.get('until')} : ce risque est "
                           f"désormais {new} ; donner ses indicateurs au premier niveau.",
                "note_en": f"{key} is an id of the former societal matrix (S1..S7), withdrawn "
                           f"after release {dep.get('until')}: this risk is now {new}; give "
                           f"its indicators at the top level."})
            flat.extend((k, v, key) for k, v in raw.items())
        else:
            flat.append((key, raw, None))
    accepted = list(specs) + list(old_inds)
    unknown = sorted({k for k, _, _ in flat if k not in specs and k not in old_inds})
    if unknown:
        raise core.InvalidInput(
            f"indicateur(s) sociétal(aux) inconnu(s) : {', '.join(unknown)} ; "
            f"acceptés : {', '.join(accepted)}",
            f"unknown societal indicator(s): {', '.join(unknown)}; accepted: "
            f"{', '.join(accepted)}")
    out: dict[str, dict[str, Any]] = {}
    for key, raw, group in flat:
        if key in old_inds:
            spec = old_inds[key]
            if raw is not None:
                _value(key, raw, {})
            deprecated.append({"input": f"indicators.{key}", "replaced_by": spec.get("replaced_by"),
                               "used": False, "note_fr": spec["note_fr"],
                               "note_en": spec["note_en"]})
            continue
        if raw is None:
            continue
        value, source = _value(key, raw, specs[key])
        if key in out and out[key]["value"] != value:
            raise core.InvalidInput(f"{key} est donné deux fois avec deux valeurs",
                                    f"{key} is given twice with two values")
        out[key] = {"value": value, "source": source, "group": group}
    return out, deprecated


# --------------------------------------------------------------------------------------------
# values, derivations and entries
# --------------------------------------------------------------------------------------------
def _derive(spec: Mapping[str, Any], values: Mapping[str, float | None]) -> float | None:
    d = spec["derive"]
    op = next(k for k in core.DERIVE_OPS if k in d)
    args = [values.get(o) for o in d[op]]
    if any(a is None for a in args):
        return None
    if op == "sum":
        value = float(sum(args))
    elif op == "product":
        value = float(np.prod(args)) * float(d.get("scale", 1.0))
    else:
        if args[1] == 0:
            return None
        value = args[0] / args[1] * float(d.get("scale", 1.0))
    if "maximum" in d:
        value = min(value, float(d["maximum"]))
    return value


def resolve(computed: Mapping[str, float | None], overrides: Mapping[str, Mapping[str, Any]],
            rules: Mapping[str, Any],
            sources: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """One ``{value, source, computed, ...}`` per indicator: the caller's value if given
    (``computed: false``), else the computed one, else derived from those above it.

    ``sources`` maps a collection id to its description (title, demo) for the output."""
    values: dict[str, float | None] = {}
    out: dict[str, dict[str, Any]] = {}
    for name, spec in rules["societal"]["indicators"].items():
        d: dict[str, Any] = {"label_fr": spec["label_fr"], "label_en": spec["label_en"],
                             "unit": spec["unit"]}
        if name in overrides:
            given = overrides[name]
            value = given["value"]
            d.update(value=value, computed=False, source="input", demo=False,
                     reference=given.get("source") or "valeur donnée par l'appelant / value "
                                                        "given by the caller")
            if given.get("group"):
                d["deprecated_group"] = given["group"]
        elif "compute" in spec:
            cid = spec["compute"]["collection"]
            value = computed.get(name)
            info = sources.get(cid, {})
            d.update(value=value, computed=True, source=cid, demo=bool(info.get("demo")),
                     reference=spec.get("reference"))
            if spec.get("year") is not None:
                d["year"] = spec["year"]
        else:
            value = _round(_derive(spec, values), spec["unit"])
            op = next(k for k in core.DERIVE_OPS if k in spec["derive"])
            operands = spec["derive"][op]
            d.update(value=value, computed=True, source="derived",
                     demo=any(out[o]["demo"] for o in operands),
                     derived_from=list(operands), operation=op)
        values[name] = value
        out[name] = d
    return out


def _risk_sources(names: Sequence[str], details: Mapping[str, Mapping[str, Any]],
                  sources: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The collections and caller inputs behind ``names`` (through their derivations)."""
    seen, out, stack = set(), [], list(names)
    order: list[str] = []
    while stack:
        name = stack.pop(0)
        if name in seen:
            continue
        seen.add(name)
        d = details[name]
        if d["source"] == "derived":
            stack.extend(d["derived_from"])
        order.append(name)
    keys = set()
    for name in order:
        d = details[name]
        if d["source"] == "input":
            key = f"indicators.{name}"
            if key not in keys:
                keys.add(key)
                out.append({"input": key, "nature": "saisie",
                            "nature_fr": "valeur saisie par l'utilisateur",
                            "nature_en": "value entered by the user",
                            "reference": d.get("reference")})
        elif d["source"] != "derived" and d["source"] not in keys:
            keys.add(d["source"])
            out.append(dict(sources.get(d["source"], {"collection": d["source"]})))
    return out


def entries(details: Mapping[str, Mapping[str, Any]],
            past: Mapping[str, float | None], computed: Mapping[str, float | None],
            rules: Mapping[str, Any],
            sources: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The matrix entries of the societal risks (core.assess + indicators + trend)."""
    out = []
    for risk in rules["societal"]["risks"]:
        names = [risk[a]["indicator"] for a in ("probability", "gravity")
                 if "indicator" in risk[a]]
        names += [n for n in risk.get("indicators") or [] if n not in names]
        flat = {n: details[n]["value"] for n in names}
        entry = core.assess(risk, flat, _risk_sources(names, details, sources), rules)
        entry["indicator_details"] = {n: dict(details[n]) for n in names}
        if risk.get("replaces"):
            entry["replaces"] = risk["replaces"]
        tr = risk.get("trend")
        if tr:
            spec = rules["societal"]["indicators"][tr["indicator"]]
            basis = core.trend_basis(risk, computed.get(tr["indicator"]), past.get(risk["id"]),
                                     tr["past_year"], tr["year"],
                                     sources.get(spec["compute"]["collection"], {}))
            if basis is not None:
                entry["trend"] = basis["trend"]
                entry["trend_basis"] = basis
        out.append(entry)
    return out
