"""Classes of the data model compiled from ``data/matrix.yaml`` by :func:`.core._model`.

Pure: no web framework, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .errors import MatrixDataError

#: Values of the upstream enumerations that have no row in the matrix (METHOD.md §2).  They are
#: accepted, count as *informed* for the reliability, and contribute nothing to the indices
#: (METHOD.md §4.2 / §4.8).  This is input validation only, not scoring data.
_UPSTREAM_ENUM_EXTRAS: dict[str, tuple[str, ...]] = {
    "zonageEnvironnemental": ("parc-naturel-regional", "parc-naturel-national"),
    "zonagePatrimonial": ("monument-historique", "zppaup", "avap", "spr"),
}


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

