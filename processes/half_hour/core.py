"""The half-hour territory indicator: pure numpy/scipy/shapely, no web or store import.

Given the inhabited cells (centres in Lambert-93, population), the open facilities (points,
type codes), the bundles (:func:`load_bundles`) and a ``reach`` function (travel times,
:mod:`.routing` in production, hand-made matrices in the tests), :func:`compute` says which
function each cell reaches at each level and the shares of the population:

- a cell reaches a *group* of a bundle when at least one facility of one of its types is
  within the level's minutes by one of the level's modes (a stored entry <= minutes of the
  reach matrix);
- it reaches a *function* when it reaches every group of the function's bundle;
- ``share[level][function]`` = population of the cells reaching it / population;
  ``share[level]["all"]`` = population of the cells reaching every requested function.

``reach(origins, targets, mode, minutes)`` -> scipy.sparse matrix (n x m) of minutes, stored
only where reachable (entries above ``minutes`` are ignored, explicit zeros count).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import shapely
from processes import yaml_data

BUNDLES_PATH = Path(__file__).parent / "data" / "bundles.yaml"
MODES = ("walk", "bike", "transit")
MAX_MINUTES = 120

Reach = Callable[[np.ndarray, np.ndarray, str, float], sp.spmatrix]


@dataclass(frozen=True)
class Level:
    id: str
    title: dict[str, str]
    modes: tuple[str, ...]
    minutes: float


@dataclass(frozen=True)
class Bundles:
    levels: dict[str, Level]
    titles: dict[str, dict[str, str]]                      # function -> {fr, en}
    groups: dict[str, dict[str, tuple[tuple[str, ...], ...]]]  # function -> level -> groups

    @property
    def functions(self) -> list[str]:
        return list(self.titles)

    def types(self, level: str, functions: Sequence[str]) -> list[str]:
        """The facility types any group of these functions needs at this level (sorted)."""
        return sorted({t for f in functions for g in self.groups[f][level] for t in g})


def load_bundles(path: Path = BUNDLES_PATH) -> Bundles:
    """Read and check the bundles file (ValueError naming what is wrong)."""
    raw = yaml_data.load(Path(path).read_text(encoding="utf-8")) or {}
    levels: dict[str, Level] = {}
    for lid, spec in (raw.get("levels") or {}).items():
        modes = tuple(spec.get("modes") or ())
        minutes = float(spec.get("minutes", 0))
        if not modes or any(m not in MODES for m in modes):
            raise ValueError(f"bundles: level {lid}: modes must be among {MODES}")
        if not 0 < minutes <= MAX_MINUTES:
            raise ValueError(f"bundles: level {lid}: minutes must be in ]0, {MAX_MINUTES}]")
        levels[lid] = Level(lid, dict(spec.get("title") or {"fr": lid, "en": lid}), modes,
                            minutes)
    titles, groups = {}, {}
    for fid, spec in (raw.get("functions") or {}).items():
        titles[fid] = dict(spec.get("title") or {"fr": fid, "en": fid})
        groups[fid] = {}
        for lid in levels:
            gs = (spec.get("bundles") or {}).get(lid)
            if not gs or not all(isinstance(g, list) and g for g in gs):
                raise ValueError(f"bundles: function {fid}: level {lid} needs a non-empty list "
                                 "of non-empty groups of types")
            groups[fid][lid] = tuple(tuple(str(t) for t in g) for g in gs)
    if not levels or not titles:
        raise ValueError("bundles: no level or no function")
    return Bundles(levels, titles, groups)


@dataclass
class Result:
    levels: list[str]
    functions: list[str]
    population: float
    cell_pop: np.ndarray
    #: level -> (n cells x len(functions)) bool: the functions each cell reaches
    reached: dict[str, np.ndarray] = field(default_factory=dict)

    def all_reached(self, level: str) -> np.ndarray:
        return self.reached[level].all(axis=1)

    def shares(self, decimals: int = 4) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        total = self.population
        for lid in self.levels:
            r = self.reached[lid]
            row = {f: (float(self.cell_pop[r[:, j]].sum() / total) if total else 0.0)
                   for j, f in enumerate(self.functions)}
            row["all"] = float(self.cell_pop[self.all_reached(lid)].sum() / total) if total \
                else 0.0
            out[lid] = {k: round(v, decimals) for k, v in row.items()}
        return out


def _reached_matrix(matrix: sp.spmatrix, minutes: float) -> sp.csr_matrix:
    """The stored entries within `minutes` as a 0/1 int matrix (explicit zeros kept)."""
    m = sp.csr_matrix(matrix)
    ok = (m.data <= minutes + 1e-9).astype(np.int32)
    return sp.csr_matrix((ok, m.indices, m.indptr), shape=m.shape)


def types_reached(reach: Reach, origins: np.ndarray, fac_xy: np.ndarray, fac_types: np.ndarray,
                  types: Sequence[str], modes: Sequence[str], minutes: float) -> np.ndarray:
    """(n origins x len(types)) bool: a facility of that type within `minutes` by any mode."""
    n = len(origins)
    out = np.zeros((n, len(types)), dtype=bool)
    idx = np.flatnonzero(np.isin(fac_types, list(types)))
    if n == 0 or len(idx) == 0:
        return out
    col = {t: k for k, t in enumerate(types)}
    incidence = sp.csr_matrix((np.ones(len(idx), np.int32),
                               (np.arange(len(idx)), [col[t] for t in fac_types[idx]])),
                              shape=(len(idx), len(types)))
    targets = fac_xy[idx]
    for mode in modes:
        r = reach(origins, targets, mode, minutes)
        if r.shape != (n, len(idx)):
            raise ValueError(f"reach returned {r.shape}, expected {(n, len(idx))}")
        out |= (_reached_matrix(r, minutes) @ incidence).toarray() > 0
    return out


def compute(cell_xy: np.ndarray, cell_pop: np.ndarray, fac_xy: np.ndarray,
            fac_types: Sequence[str], bundles: Bundles, reach: Reach,
            levels: Sequence[str] | None = None,
            functions: Sequence[str] | None = None) -> Result:
    """Which functions every cell reaches per level (see the module docstring)."""
    levels = list(levels or bundles.levels)
    functions = list(functions or bundles.functions)
    for lid in levels:
        if lid not in bundles.levels:
            raise ValueError(f"unknown level {lid}")
    for f in functions:
        if f not in bundles.titles:
            raise ValueError(f"unknown function {f}")
    cell_xy = np.asarray(cell_xy, dtype=float).reshape(-1, 2)
    cell_pop = np.asarray(cell_pop, dtype=float)
    fac_xy = np.asarray(fac_xy, dtype=float).reshape(-1, 2)
    fac_types = np.asarray([str(t) for t in fac_types], dtype=object)
    result = Result(levels, functions, float(cell_pop.sum()), cell_pop)
    for lid in levels:
        level = bundles.levels[lid]
        types = bundles.types(lid, functions)
        got = types_reached(reach, cell_xy, fac_xy, fac_types, types, level.modes,
                            level.minutes)
        col = {t: k for k, t in enumerate(types)}
        reached = np.ones((len(cell_xy), len(functions)), dtype=bool)
        for j, f in enumerate(functions):
            for group in bundles.groups[f][lid]:
                reached[:, j] &= got[:, [col[t] for t in group]].any(axis=1)
        result.reached[lid] = reached
    return result


def compare(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]],
            decimals: int = 4) -> dict[str, dict[str, float]]:
    """Shares gained (> 0) or lost (< 0) per level and function, `after` - `before`."""
    return {lid: {k: round(after[lid][k] - before[lid].get(k, 0.0), decimals)
                  for k in after[lid]}
            for lid in after if lid in before}


def sectors(cell_polygons: Sequence, covered: np.ndarray):
    """The union of the covered cells (a shapely (Multi)Polygon, empty when none)."""
    polys = np.asarray(cell_polygons, dtype=object)[np.asarray(covered, dtype=bool)]
    if len(polys) == 0:
        return shapely.MultiPolygon()
    return shapely.union_all(polys)
