"""Pure scoring core of the ``mutability`` process (Mutafriches-compatible).

Rates how well a brownfield site ("friche") suits seven future uses, following the method of
Mutafriches (ADEME / beta.gouv.fr, https://github.com/incubateur-ademe/mutafriches) as described
in ``/work/shared/mutability/METHOD.md``.  Everything that is a figure (weights, impact matrix,
numeric bands, labels, thresholds, reliability bands, derivation and exclusion rules) is read
from ``data/matrix.yaml``; this module only implements the rules that *use* those figures.

This module is pure: no web framework, no pygeoapi, no I/O besides reading the packaged data
file once, and it never mutates its arguments.

Public API
----------
``score(criteria, algorithm_version=None) -> dict``
    ``criteria`` is shaped like a scenario's ``input``::

        {"auto": {...}, "user": {...}, "derived": {...}, "unavailable": [...], "context": {...}}

    * ``auto``: automatic criteria as delivered by the enrichment step (distances in metres).
      A key missing from ``auto`` is *absent* (no data); ``null`` means "searched, nothing found".
    * ``user``: the user's answers (``"ne-sait-pas"`` = "I don't know").
    * ``derived``: optional; ``raccordementEau`` is always recomputed from ``surfaceBati``
      (the given value is validated, then overridden).
    * ``unavailable``: optional list of absent automatic criteria (must not also carry a value).
    * ``context``: informational, ignored by the score.

    Returns ``{"reliability": {...}, "results": [...], "algorithm_version": "vX.Y"}``.
``evaluate(given=None, *, stored=None, derived=None, details=None, algorithm_version=None)``,
``combine(given=None, *, stored=None, derived=None)``, ``explain(criteria, ...)``, ``SOURCES``
    Explained results (where each value comes from): :mod:`processes.mutability.explain`,
    re-exported here.
``supported_versions() -> list[str]``
``criteria_schema(version=None) -> dict``  JSON Schema of the ``criteria`` object
    (:mod:`processes.mutability.schema`, re-exported here).
``effective_criteria(criteria, algorithm_version=None) -> dict``  values actually scored.
``USES``  ordered list of ``{"id", "label_fr"}`` for the seven uses (canonical/tie-break order).
``DEFAULT_VERSION``  newest version present in the data.

The bilingual errors are in :mod:`processes.mutability.errors` and the classes of the compiled
data model in :mod:`processes.mutability.model`; this module compiles ``matrix.yaml`` into them
(:func:`_model`), validates the criteria and scores them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import InvalidCriterion, MatrixDataError, MutabilityError, UnknownAlgorithmVersion
from .model import _Band, _Criterion, _frac, _Model, _Rule, _Version, _version_key
from processes import yaml_data

__all__ = [
    "DEFAULT_VERSION",
    "InvalidCriterion",
    "MATRIX_PATH",
    "MatrixDataError",
    "MutabilityError",
    "USES",
    "UnknownAlgorithmVersion",
    "criteria_schema",
    "combine",
    "effective_criteria",
    "evaluate",
    "explain",
    "score",
    "supported_versions",
]

MATRIX_PATH = Path(__file__).resolve().parent / "data" / "matrix.yaml"

#: Top-level keys accepted in the ``criteria`` object (shape of a scenario's ``input``).
_SECTIONS = ("auto", "user", "derived", "unavailable", "context")

_ABSENT = object()  # sentinel: key missing / listed as unavailable


# --------------------------------------------------------------------------------------------
# Data model compiled once from matrix.yaml (classes in model.py)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _model() -> _Model:
    with open(MATRIX_PATH, encoding="utf-8") as fh:
        raw = yaml_data.load(fh)

    uses = tuple((u["id"], u["label_fr"]) for u in raw["usages"])
    use_ids = [u for u, _ in uses]
    if len(set(use_ids)) != len(use_ids):
        raise MatrixDataError("duplicate usage ids")
    scale_points = {_frac(v, "impact_scale") for v in raw["impact_scale"].values()}
    neutral = _frac(raw["neutral_value"], "neutral_value")
    if neutral not in scale_points:
        raise MatrixDataError("neutral_value is not on the impact scale")
    meta = raw["criteria_meta"]

    def impacts(d: Mapping, where: str) -> dict[str, Fraction]:
        if set(d) != set(use_ids):
            raise MatrixDataError(f"{where}: usages {sorted(d)} != {sorted(use_ids)}")
        out = {u: _frac(d[u], where) for u in use_ids}
        bad = [p for p in out.values() if p not in scale_points]
        if bad:
            raise MatrixDataError(f"{where}: points {bad} not on the impact scale")
        return out

    versions: dict[str, _Version] = {}
    for vid, vraw in raw["versions"].items():
        _version_key(vid)
        crits: dict[str, _Criterion] = {}
        for cid, craw in vraw["criteria"].items():
            if cid not in meta:
                raise MatrixDataError(f"{vid}: criterion {cid} missing from criteria_meta")
            m = meta[cid]
            unit = m.get("unit")
            div = re.search(r"divide by (\d+)", unit or "")
            bands: tuple[_Band, ...] = ()
            values: dict[str, dict[str, Fraction]] = {}
            if "bands" in craw:
                if m["kind"] != "numeric":
                    raise MatrixDataError(f"{vid}/{cid}: bands on a non-numeric criterion")
                bands = tuple(
                    _Band(b["op"], None if b["bound"] is None else _frac(b["bound"], cid),
                          impacts(b["impacts"], f"{vid}/{cid}/band{i}"))
                    for i, b in enumerate(craw["bands"]))
                if bands[-1].op != "else":
                    raise MatrixDataError(f"{vid}/{cid}: last band must be 'else'")
            else:
                values = {str(k): impacts(v, f"{vid}/{cid}/{k}") for k, v in craw["values"].items()}
                if m["kind"] == "boolean" and set(values) != {"true", "false"}:
                    raise MatrixDataError(f"{vid}/{cid}: boolean rows must be true/false")
            crits[cid] = _Criterion(
                id=cid, label_fr=m["label_fr"], origin=m["origin"], kind=m["kind"],
                weight=_frac(craw["weight"], f"{vid}/{cid}/weight"), unit=unit,
                divisor=int(div.group(1)) if div else 1, bands=bands, values=values)
        total = sum((c.weight for c in crits.values()), Fraction(0))
        if total != _frac(vraw["total_weight"], f"{vid}/total_weight"):
            raise MatrixDataError(f"{vid}: weights sum to {total}, not {vraw['total_weight']}")
        if len(crits) != vraw["criteria_count"]:
            raise MatrixDataError(f"{vid}: {len(crits)} criteria, not {vraw['criteria_count']}")
        rules = []
        for r in vraw.get("exclusion_rules") or ():
            conds = tuple((c["criterion"], str(c["equals"])) for c in r["all_of"])
            for cid, _ in conds:
                if cid not in crits:
                    raise MatrixDataError(f"{vid}/{r['id']}: unknown criterion {cid}")
            if not set(r["usages"]) <= set(use_ids):
                raise MatrixDataError(f"{vid}/{r['id']}: unknown usage")
            rules.append(_Rule(r["id"], tuple(r["usages"]), conds))
        versions[vid] = _Version(vid, crits, total, tuple(rules))

    latest = raw["latest_version"]
    if latest not in versions:
        raise MatrixDataError(f"latest_version {latest} has no data")
    newest = max(versions, key=_version_key)
    if latest != newest:
        raise MatrixDataError(f"latest_version {latest} is not the newest version ({newest})")

    for target, rule in (raw.get("derived_rules") or {}).items():
        if target not in meta or rule["from"] not in meta:
            raise MatrixDataError(f"derived rule {target}: unknown criterion")

    return _Model(
        uses=uses,
        neutral=neutral,
        unknown=raw["unknown_token"],
        potential_labels=tuple(
            (None if p["min"] is None else _frac(p["min"], "potential_labels"), p["label"])
            for p in raw["potential_labels"]),
        excluded_label=raw["excluded_label"],
        reliability_scale=raw["reliability"]["scale"],
        reliability_levels=tuple((_frac(lv["min"], "reliability"), lv["text"])
                                 for lv in raw["reliability"]["levels"]),
        derived_rules=dict(raw.get("derived_rules") or {}),
        meta=meta,
        versions=versions,
        latest=latest,
    )


# --------------------------------------------------------------------------------------------
# Public helpers
# --------------------------------------------------------------------------------------------
def supported_versions() -> list[str]:
    """Algorithm versions with complete data in ``matrix.yaml``, oldest first."""
    return sorted(_model().versions, key=_version_key)


DEFAULT_VERSION: str = _model().latest

#: The seven uses in canonical order (also the tie-break order), with their French label.
USES: list[dict[str, str]] = [{"id": u, "label_fr": lbl} for u, lbl in _model().uses]


def _version(version: str | None) -> _Version:
    m = _model()
    if version is None:
        return m.versions[m.latest]
    if isinstance(version, str):
        v = version.strip()
        if v and not v.startswith("v"):
            v = "v" + v
        if v in m.versions:
            return m.versions[v]
    raise UnknownAlgorithmVersion(version, supported_versions())


def _criterion_def(cid: str, version: _Version) -> _Criterion | None:
    """Definition of ``cid`` in ``version``, else in the newest version that has it."""
    if cid in version.criteria:
        return version.criteria[cid]
    for vid in sorted(_model().versions, key=_version_key, reverse=True):
        c = _model().versions[vid].criteria.get(cid)
        if c is not None:
            return c
    return None


# --------------------------------------------------------------------------------------------
# Input validation and preparation (METHOD.md §3)
# --------------------------------------------------------------------------------------------
_NUMERIC_ALLOWED = ("un nombre ≥ 0 (ou null si aucune donnée trouvée)",
                    "a number ≥ 0 (or null when nothing was found)")
_BOOLEAN_ALLOWED = ("true, false (ou null si aucune donnée trouvée)",
                    "true, false (or null when nothing was found)")


def _validate_value(c: _Criterion, value: Any) -> None:
    if value is None:
        if c.origin == "auto":
            return  # "searched, nothing found"
        raise InvalidCriterion(c.id, value, c.allowed_values(), label_fr=c.label_fr)
    if c.kind == "numeric":
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value) and value >= 0)
        if not ok:
            raise InvalidCriterion(c.id, value, _NUMERIC_ALLOWED, label_fr=c.label_fr)
    elif c.kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidCriterion(c.id, value, _BOOLEAN_ALLOWED, label_fr=c.label_fr)
    else:
        if not isinstance(value, str) or value not in c.allowed_values():
            raise InvalidCriterion(c.id, value, c.allowed_values(), label_fr=c.label_fr)


def _section_ids(section: str) -> list[str]:
    origins = {"auto": ("auto",), "user": ("user", "derived"), "derived": ("derived",)}[section]
    return [cid for cid, m in _model().meta.items() if m["origin"] in origins]


def _resolve(criteria: Any, version: _Version) -> dict[str, Any]:
    """Map every criterion of ``version`` to its effective value (or ``_ABSENT``)."""
    m = _model()
    if not isinstance(criteria, Mapping):
        raise InvalidCriterion(
            "criteria", criteria, list(_SECTIONS),
            fr="Les critères doivent être un objet avec les clés : " + ", ".join(_SECTIONS) + ".",
            en="The criteria must be an object with the keys: " + ", ".join(_SECTIONS) + ".")
    for key in criteria:
        if key not in _SECTIONS:
            raise InvalidCriterion(
                str(key), criteria[key], list(_SECTIONS),
                fr=f"Clé inconnue « {key} » dans les critères. Clés autorisées : "
                   + ", ".join(_SECTIONS) + ".",
                en=f"Unknown key '{key}' in the criteria. Allowed keys: "
                   + ", ".join(_SECTIONS) + ".")

    given: dict[str, Any] = {}
    for section in ("auto", "user", "derived"):
        block = criteria.get(section)
        if block is None:
            continue
        if not isinstance(block, Mapping):
            raise InvalidCriterion(
                section, block, ("un objet {critère: valeur}", "an object {criterion: value}"))
        allowed_ids = _section_ids(section)
        for cid, value in block.items():
            if cid not in allowed_ids:
                where = m.meta.get(cid, {}).get("origin")
                hint_fr = f" (critère de la section « {where} »)" if where else ""
                hint_en = f" (it belongs to the '{where}' section)" if where else ""
                raise InvalidCriterion(
                    str(cid), value, allowed_ids,
                    fr=f"Critère inconnu « {cid} » dans « {section} »{hint_fr}. "
                       f"Critères autorisés : {', '.join(allowed_ids)}.",
                    en=f"Unknown criterion '{cid}' in '{section}'{hint_en}. "
                       f"Allowed criteria: {', '.join(allowed_ids)}.")
            c = _criterion_def(cid, version)
            if c is None:  # known to criteria_meta but to no version: cannot validate
                raise MatrixDataError(f"criterion {cid} has no matrix data")
            _validate_value(c, value)
            if cid in given:
                raise InvalidCriterion(
                    cid, value, [],
                    fr=f"Le critère « {cid} » est fourni deux fois.",
                    en=f"Criterion '{cid}' is given twice.")
            given[cid] = value

    unavailable = criteria.get("unavailable") or []
    auto_ids = _section_ids("auto")
    if isinstance(unavailable, (str, bytes)) or not isinstance(unavailable, (list, tuple)):
        raise InvalidCriterion("unavailable", unavailable,
                               ("une liste d'identifiants de critères automatiques",
                                "a list of automatic criterion ids"))
    for cid in unavailable:
        if cid not in auto_ids:
            raise InvalidCriterion("unavailable", cid, auto_ids)
        if cid in given:
            raise InvalidCriterion(
                cid, given[cid], [],
                fr=f"Le critère « {cid} » est à la fois fourni et déclaré indisponible.",
                en=f"Criterion '{cid}' is both given and listed as unavailable.")

    resolved = {cid: given.get(cid, _ABSENT) for cid in version.criteria}

    # Derived criteria (METHOD.md §3): always recomputed, overriding any given value.
    for target, rule in m.derived_rules.items():
        if target not in resolved:
            continue
        src = resolved.get(rule["from"], _ABSENT)
        if src is _ABSENT:
            resolved[target] = m.unknown
        elif src is not None and src > rule["threshold_m2"]:
            resolved[target] = "oui"
        else:  # includes 0 and null ("searched, no building"), as upstream does
            resolved[target] = "non"
    return resolved


def effective_criteria(criteria: Mapping, algorithm_version: str | None = None) -> dict:
    """Flat ``{criterion: value}`` of the values used by :func:`score` (absent ones omitted)."""
    version = _version(algorithm_version)
    return {cid: v for cid, v in _resolve(criteria, version).items() if v is not _ABSENT}


# --------------------------------------------------------------------------------------------
# Scoring (METHOD.md §4)
# --------------------------------------------------------------------------------------------
def _num(x: Fraction) -> int | float:
    """Exact Fraction -> JSON-friendly number (61, not 61.0)."""
    return int(x) if x.denominator == 1 else float(x)


def _key(value: Any) -> str:
    """Matrix row key of a categorical value (booleans are looked up as "true"/"false")."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _row(c: _Criterion, value: Any) -> dict[str, Fraction] | None:
    """Matrix row used for a present, known value; None when it contributes nothing."""
    if c.bands:
        x = Fraction(value) / c.divisor
        return next((b.impacts for b in c.bands if b.matches(x)), None)
    return c.values.get(_key(value))


def _usable(value: Any) -> bool:
    return value is not _ABSENT and value is not None and value != _model().unknown


def score(criteria: dict, algorithm_version: str | None = None) -> dict:
    """Mutability indices of the seven uses and the reliability of the evaluation.

    Raises :class:`UnknownAlgorithmVersion` or :class:`InvalidCriterion` (both ``ValueError``).
    """
    m = _model()
    version = _version(algorithm_version)
    resolved = _resolve(criteria, version)

    # §4.2-4.3: advantages A and constraints C per use, exact (Fraction) arithmetic.
    adv = {u: Fraction(0) for u, _ in m.uses}
    con = {u: Fraction(0) for u, _ in m.uses}
    for cid, c in version.criteria.items():
        value = resolved[cid]
        if not _usable(value):
            continue
        row = _row(c, value)
        if row is None:
            continue
        for u, _ in m.uses:
            points = row[u]
            weighted = points * c.weight
            if points == m.neutral:
                adv[u] += weighted
                con[u] += weighted
            elif weighted > 0:
                adv[u] += weighted
            else:
                con[u] += -weighted

    # §4.7: exclusion rules, on the values actually used.
    excluded: set[str] = set()
    for rule in version.exclusion_rules:
        if all(_usable(resolved[cid]) and _key(resolved[cid]) == expected
               for cid, expected in rule.all_of):
            excluded.update(rule.usages)

    # §4.4-4.5: rounded index (half up, one decimal) and potential label.
    rows = []
    for u, _ in m.uses:
        total = adv[u] + con[u]
        tenths = 0 if total == 0 else math.floor(1000 * adv[u] / total + Fraction(1, 2))
        index = Fraction(tenths, 10)
        if u in excluded:
            label = m.excluded_label
        else:
            label = next(lbl for lo, lbl in m.potential_labels if lo is None or index >= lo)
        rows.append((u, index, label))

    # §4.6: decreasing rounded index, stable (canonical order on ties), excluded uses last.
    ranked = sorted(rows, key=lambda r: (r[0] in excluded, -r[1]))
    results = [
        {
            "rank": rank,
            "use": u,
            "index": _num(index),
            "label": label,
            "excluded": u in excluded,
            "advantages": _num(adv[u]),
            "constraints": _num(con[u]),
        }
        for rank, (u, index, label) in enumerate(ranked, start=1)
    ]

    return {
        "reliability": _reliability(version, resolved),
        "results": results,
        "algorithm_version": version.id,
    }


def _reliability(version: _Version, resolved: dict[str, Any]) -> dict:
    """§4.8: informed = present and not "ne-sait-pas" (null and row-less values count)."""
    m = _model()
    informed = [cid for cid, v in resolved.items() if v is not _ABSENT and v != m.unknown]
    w_informed = sum((version.criteria[cid].weight for cid in informed), Fraction(0))
    w_total = version.total_weight
    x = m.reliability_scale * w_informed / w_total
    note = Fraction(math.floor(2 * x + Fraction(1, 2)), 2)
    label = next((txt for lo, txt in m.reliability_levels if note >= lo),
                 m.reliability_levels[-1][1])
    return {
        "score": _num(note),
        "label": label,
        "criteria_informed": len(informed),
        "criteria_total": len(version.criteria),
        "weight_informed": _num(w_informed),
        "weight_total": _num(w_total),
    }


# --------------------------------------------------------------------------------------------
# Re-exports: the JSON Schema of the criteria (schema.py) and the explained results
# (explain.py) build on the functions above, so they are imported last.
# --------------------------------------------------------------------------------------------
from .explain import SOURCES, combine, evaluate, explain  # noqa: E402, F401  (re-exported)
from .schema import criteria_schema  # noqa: E402
