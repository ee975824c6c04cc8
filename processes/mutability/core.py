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
``evaluate(given=None, *, stored=None, derived=None, details=None, algorithm_version=None)``
    :func:`score` of the criteria assembled from three provenances (priority given > stored >
    derived, :func:`combine`), plus ``criteria``: every criterion of the version explained
    (:func:`explain`).
``explain(criteria, algorithm_version=None, *, provenance=None, details=None) -> list``
    One ``{id, value, source, weight, informed, label, origin, layer?, rule?}`` per criterion
    of the version, ``source`` in ``derived | given | stored | unavailable``; the weights of
    the informed ones sum to ``reliability.weight_informed``.
``supported_versions() -> list[str]``
``criteria_schema(version=None) -> dict``  JSON Schema of the ``criteria`` object.
``effective_criteria(criteria, algorithm_version=None) -> dict``  values actually scored.
``USES``  ordered list of ``{"id", "label_fr"}`` for the seven uses (canonical/tie-break order).
``DEFAULT_VERSION``  newest version present in the data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

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

#: Values of the upstream enumerations that have no row in the matrix (METHOD.md §2).  They are
#: accepted, count as *informed* for the reliability, and contribute nothing to the indices
#: (METHOD.md §4.2 / §4.8).  This is input validation only, not scoring data.
_UPSTREAM_ENUM_EXTRAS: dict[str, tuple[str, ...]] = {
    "zonageEnvironnemental": ("parc-naturel-regional", "parc-naturel-national"),
    "zonagePatrimonial": ("monument-historique", "zppaup", "avap", "spr"),
}

_ABSENT = object()  # sentinel: key missing / listed as unavailable


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
class MutabilityError(ValueError):
    """Base class of the bilingual errors of this module (``.fr`` and ``.en`` messages)."""

    def __init__(self, fr: str, en: str):
        self.fr = fr
        self.en = en
        super().__init__(f"{en} / {fr}")


class UnknownAlgorithmVersion(MutabilityError):
    """The requested algorithm version is not in ``matrix.yaml``."""

    def __init__(self, version: Any, supported: list[str]):
        self.version = version
        self.supported = list(supported)
        shown = _show(version)
        listing = ", ".join(supported)
        super().__init__(
            fr=f"Version d'algorithme inconnue : {shown}. Versions prises en charge : {listing}.",
            en=f"Unknown algorithm version: {shown}. Supported versions: {listing}.",
        )


class InvalidCriterion(MutabilityError):
    """A criterion (or a section of the ``criteria`` object) has an invalid name or value.

    Attributes: ``criterion`` (id), ``value`` (offending value), ``allowed`` (list of allowed
    values or a short description), ``fr`` / ``en`` (messages).
    """

    def __init__(self, criterion: str, value: Any, allowed: Any, *, fr: str | None = None,
                 en: str | None = None, label_fr: str | None = None):
        self.criterion = criterion
        self.value = value
        self.allowed = allowed
        if isinstance(allowed, (list, tuple)):
            allowed_fr = allowed_en = ", ".join(_show(a) for a in allowed)
        else:
            allowed_fr, allowed_en = allowed  # (fr, en) descriptions
            self.allowed = allowed_en
        name_fr = f"« {criterion} »" + (f" ({label_fr})" if label_fr else "")
        name_en = f"'{criterion}'" + (f" ({label_fr})" if label_fr else "")
        super().__init__(
            fr=fr or (f"Valeur invalide {_show(value)} pour le critère {name_fr}. "
                      f"Valeurs autorisées : {allowed_fr}."),
            en=en or (f"Invalid value {_show(value)} for criterion {name_en}. "
                      f"Allowed values: {allowed_en}."),
        )


class MatrixDataError(RuntimeError):
    """``matrix.yaml`` is inconsistent (a packaging/data bug, not a caller error)."""


def _show(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


# --------------------------------------------------------------------------------------------
# Data model (compiled once from matrix.yaml)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Band:
    op: str
    bound: Fraction | None
    impacts: dict[str, Fraction]

    def matches(self, x: Fraction) -> bool:
        if self.op == "lt":
            return x < self.bound
        if self.op == "le":
            return x <= self.bound
        if self.op == "lt_or_zero":
            return x == 0 or x < self.bound
        if self.op == "else":
            return True
        raise MatrixDataError(f"unknown band op {self.op!r}")


@dataclass(frozen=True)
class _Criterion:
    id: str
    label_fr: str
    origin: str  # auto | user | derived
    kind: str  # numeric | boolean | enum
    weight: Fraction
    unit: str | None
    divisor: int  # numeric input is divided by this before band comparison (m -> km)
    bands: tuple[_Band, ...] = ()
    values: dict[str, dict[str, Fraction]] = field(default_factory=dict)

    def allowed_values(self) -> list[str]:
        """Allowed string values of an enum criterion (matrix rows + upstream extras)."""
        out = list(self.values)
        out += [v for v in _UPSTREAM_ENUM_EXTRAS.get(self.id, ()) if v not in out]
        return out


@dataclass(frozen=True)
class _Rule:
    id: str
    usages: tuple[str, ...]
    all_of: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Version:
    id: str
    criteria: dict[str, _Criterion]
    total_weight: Fraction
    exclusion_rules: tuple[_Rule, ...]


@dataclass(frozen=True)
class _Model:
    uses: tuple[tuple[str, str], ...]
    neutral: Fraction
    unknown: str
    potential_labels: tuple[tuple[Fraction | None, str], ...]
    excluded_label: str
    reliability_scale: int
    reliability_levels: tuple[tuple[Fraction, str], ...]
    derived_rules: dict[str, dict[str, Any]]
    meta: dict[str, dict[str, Any]]
    versions: dict[str, _Version]
    latest: str


def _frac(x: Any, what: str) -> Fraction:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise MatrixDataError(f"{what}: expected a number, got {x!r}")
    return Fraction(x)


def _version_key(v: str) -> tuple[int, ...]:
    m = re.fullmatch(r"v(\d+(?:\.\d+)*)", v)
    if not m:
        raise MatrixDataError(f"malformed version string {v!r}")
    return tuple(int(p) for p in m.group(1).split("."))


@lru_cache(maxsize=1)
def _model() -> _Model:
    with open(MATRIX_PATH, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)

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
