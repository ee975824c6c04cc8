"""Key figures of every commune, EPCI and the territory: the engine (pure, no web import).

Input: the definitions (:mod:`.definitions`), one frame per source (GeoDataFrames in EPSG:2154,
or plain DataFrames for the derived tables assigned by attribute), the communes (``insee``,
``nom``, ``epci_siren``, geometry) and the EPCI names. Output: one row per territory (305
communes, 4 EPCI, the territory) with one column per indicator.

How a feature is given to a commune (one rule per kind of geometry, documented in the
definitions file too):

* points (and the point of a line or polygon for counts and sums): the commune containing it,
  else the nearest commune within ``tolerance_m`` (generalised outlines leave a few real
  points just outside); beyond, it is not counted (reported in ``unassigned``);
* ``length`` of lines, ``area`` of polygons: clipped to each commune (a section crossing a
  boundary counts in both, for its length in each);
* ``assign: {attribute: p}``: the commune whose INSEE code ``p`` holds (derived tables,
  the communes themselves).

Levels: every additive measure of an EPCI is the sum of its communes', of the territory the
sum of all communes'; shares, means and ratios are recomputed at each level from their summed
numerator and denominator, so that an EPCI's mean is the mean of its cells, not of its
communes' means. Values are rounded last, to the indicator's decimals.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .definitions import Definitions, Indicator, Measure

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
LEVELS = ("commune", "epci", "territoire")


@dataclass
class Territories:
    """The communes (index: INSEE code, in code order) and the EPCI they belong to."""
    communes: gpd.GeoDataFrame          # columns insee, nom, epci_siren, geometry
    epci_names: dict[str, str]          # SIREN -> name

    @classmethod
    def of(cls, communes: gpd.GeoDataFrame, epci: pd.DataFrame | None = None
           ) -> "Territories":
        c = communes[["insee", "nom", "epci_siren", communes.geometry.name]].copy()
        c["insee"] = c["insee"].astype(str)
        c["epci_siren"] = c["epci_siren"].astype(str)
        c = c.sort_values("insee").reset_index(drop=True)
        names: dict[str, str] = {}
        if epci is not None and len(epci):
            names = {str(k): str(v) for k, v in zip(epci["epci_siren"], epci["epci_nom"])}
        for siren in c["epci_siren"].unique():
            names.setdefault(siren, siren)
        return cls(gpd.GeoDataFrame(c, geometry=communes.geometry.name, crs=communes.crs),
                   dict(sorted(names.items())))

    @property
    def codes(self) -> pd.Index:
        return pd.Index(self.communes["insee"])


@dataclass
class Assignment:
    """Which commune each feature (row position) goes to, and with what quantity (its clipped
    length or area for `length`/`area`; 1 otherwise)."""
    rows: np.ndarray
    insee: np.ndarray
    qty: np.ndarray


@dataclass
class Engine:
    defs: Definitions
    frames: Mapping[str, pd.DataFrame]
    territories: Territories
    unassigned: dict[str, int] = field(default_factory=dict)
    _assign: dict[tuple, Assignment] = field(default_factory=dict)
    _measures: dict[tuple, pd.Series] = field(default_factory=dict)

    # -------------------------------------------------------------------- assignment
    @property
    def tolerance(self) -> float:
        return float(self.defs.parameters.get("tolerance_m", 1000.0))

    def assignment(self, source_id: str, mode: str) -> Assignment:
        """`mode`: point (counts, sums) or clip (length, area)."""
        src = self.defs.sources[source_id]
        key = (source_id, mode)
        if key in self._assign:
            return self._assign[key]
        frame = self.frame(source_id)
        if src.assign:
            out = self._by_attribute(frame, src.assign, mode)
        elif mode == "clip":
            out = self._clipped(frame)
        else:
            out = self._by_point(frame, source_id)
        self._assign[key] = out
        return out

    def frame(self, source_id: str) -> pd.DataFrame:
        frame = self.frames.get(source_id)
        if frame is None:
            raise KeyError(f"no frame for source {source_id!r}")
        return frame

    def _by_attribute(self, frame: pd.DataFrame, attribute: str, mode: str) -> Assignment:
        codes = frame[attribute].astype(str).to_numpy() if attribute in frame else \
            np.array([], dtype=str)
        known = np.isin(codes, self.territories.codes.to_numpy())
        rows = np.flatnonzero(known)
        qty = np.ones(len(rows))
        if mode == "clip" and isinstance(frame, gpd.GeoDataFrame):
            geoms = frame.geometry.to_numpy()[rows]
            kind = shapely.get_type_id(geoms)
            qty = np.where(np.isin(kind, (1, 2, 5)), shapely.length(geoms), shapely.area(geoms))
        return Assignment(rows, codes[rows], qty)

    def _points(self, frame: gpd.GeoDataFrame) -> np.ndarray:
        geoms = frame.geometry.to_numpy()
        kind = shapely.get_type_id(geoms)
        return np.where(kind == 0, geoms, shapely.point_on_surface(geoms))

    def _by_point(self, frame: gpd.GeoDataFrame, source_id: str) -> Assignment:
        communes = self.territories.communes
        if not len(frame):
            return Assignment(np.array([], int), np.array([], str), np.array([]))
        pts = gpd.GeoDataFrame({"row": np.arange(len(frame))}, geometry=self._points(frame),
                               crs=communes.crs)
        pts = pts[~pts.geometry.isna() & ~pts.geometry.is_empty]
        hit = gpd.sjoin(pts, communes[["insee", communes.geometry.name]], predicate="within",
                        how="inner")
        # a point on a shared boundary is in neither polygon; in two (never with a partition),
        # the first commune in code order
        hit = hit.sort_values(["row", "insee"]).drop_duplicates("row")
        rows, codes = list(hit["row"]), list(hit["insee"])
        missing = pts[~pts["row"].isin(hit["row"])]
        if len(missing):
            near = gpd.sjoin_nearest(missing, communes[["insee", communes.geometry.name]],
                                     how="inner", max_distance=self.tolerance,
                                     distance_col="_d")
            near = near.sort_values(["row", "_d", "insee"]).drop_duplicates("row")
            rows += list(near["row"])
            codes += list(near["insee"])
            lost = len(missing) - len(near)
            if lost:
                self.unassigned[source_id] = self.unassigned.get(source_id, 0) + lost
        order = np.argsort(rows, kind="stable")
        return Assignment(np.asarray(rows, dtype=int)[order],
                          np.asarray(codes, dtype=object)[order].astype(str),
                          np.ones(len(rows)))

    def _clipped(self, frame: gpd.GeoDataFrame) -> Assignment:
        communes = self.territories.communes
        if not len(frame):
            return Assignment(np.array([], int), np.array([], str), np.array([]))
        left = gpd.GeoDataFrame({"row": np.arange(len(frame))},
                                geometry=frame.geometry.to_numpy(), crs=communes.crs)
        pairs = gpd.sjoin(left, communes[["insee", communes.geometry.name]],
                          predicate="intersects", how="inner")
        geoms = left.geometry.to_numpy()[pairs["row"].to_numpy()]
        zones = communes.geometry.to_numpy()[pairs["index_right"].to_numpy()]
        parts = shapely.intersection(geoms, zones)
        kind = shapely.get_type_id(geoms)
        qty = np.where(np.isin(kind, (1, 2, 5)), shapely.length(parts), shapely.area(parts))
        keep = qty > 0
        return Assignment(pairs["row"].to_numpy()[keep], pairs["insee"].to_numpy()[keep]
                          .astype(str), qty[keep])

    # -------------------------------------------------------------------- measures
    def measure(self, m: Measure) -> pd.Series:
        """The measure per commune (every commune, 0 where nothing), before rounding."""
        key = m.key()
        if key in self._measures:
            return self._measures[key]
        frame = self.frame(m.source)
        a = self.assignment(m.source, "clip" if m.method in ("length", "area") else "point")
        mask = where_mask(frame, m.where)
        if m.category is not None:
            mask &= category_mask(frame, *m.category)
        if m.inside is not None:
            mask &= self.inside_mask(frame, m.inside)
        keep = mask[a.rows]
        rows, insee = a.rows[keep], a.insee[keep]
        if m.method in ("length", "area"):
            values = a.qty[keep]
        elif m.method == "count":
            values = np.ones(len(rows))
        else:
            values = _numbers(frame, m.property)[rows]
            if m.weight:
                values = values * _numbers(frame, m.weight)[rows]
        values = np.nan_to_num(values.astype(float), nan=0.0) * m.factor
        series = pd.Series(values, index=insee).groupby(level=0).sum()
        series = series.reindex(self.territories.codes, fill_value=0.0).astype(float)
        self._measures[key] = series
        return series

    def inside_mask(self, frame: gpd.GeoDataFrame, source_id: str) -> np.ndarray:
        zones = self.frame(source_id)
        if not len(frame) or not len(zones):
            return np.zeros(len(frame), dtype=bool)
        pts = gpd.GeoDataFrame({"row": np.arange(len(frame))}, geometry=self._points(frame),
                               crs=zones.crs)
        hit = gpd.sjoin(pts, zones[[zones.geometry.name]], predicate="within", how="inner")
        out = np.zeros(len(frame), dtype=bool)
        out[hit["row"].unique()] = True
        return out

    # -------------------------------------------------------------------- levels
    def table(self) -> pd.DataFrame:
        """Every indicator (columns) for every territory (rows indexed by code), unrounded."""
        t = self.territories
        members = {siren: t.communes.loc[t.communes["epci_siren"] == siren, "insee"].tolist()
                   for siren in t.epci_names}
        groups = [("commune", code, [code]) for code in t.codes] + \
                 [("epci", siren, codes) for siren, codes in members.items()] + \
                 [("territoire", self.defs.territory_code, list(t.codes))]
        index = [code for _, code, _ in groups]
        position = {code: n for n, code in enumerate(t.codes)}
        membership = np.zeros((len(groups), len(position)))  # territory x commune
        for g, (_, _, codes) in enumerate(groups):
            membership[g, [position[code] for code in codes]] = 1.0
        values: dict[str, list] = {}
        level_values: dict[str, pd.Series] = {}

        def summed(series: pd.Series) -> pd.Series:
            return pd.Series(membership @ series.to_numpy(dtype=float), index=index)

        def part(p: Measure | str) -> pd.Series:
            return level_values[p] if isinstance(p, str) else summed(self.measure(p))

        for ind in self.defs.indicators:
            if ind.additive:
                series = summed(self.measure(ind.measure))
            else:
                num, den = part(ind.numerator), part(ind.denominator)
                series = pd.Series([_ratio(n, d, ind.factor) for n, d in zip(num, den)],
                                   index=index)
            level_values[ind.id] = series
            values[ind.id] = list(series)
        out = pd.DataFrame(values, index=index)
        out.insert(0, "niveau", [level for level, _, _ in groups])
        return out


# ---------------------------------------------------------------------------- filters
def _numbers(frame: pd.DataFrame, prop: str | None) -> np.ndarray:
    if prop is None or prop not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[prop], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _column(frame: pd.DataFrame, prop: str) -> pd.Series:
    if prop in frame:
        return frame[prop].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype=object)


def _comparable(series: pd.Series, value: Any) -> tuple[pd.Series, Any]:
    """Dates compare as dates, numbers as numbers, the rest as they are."""
    if isinstance(value, str) and DATE_RE.match(value):
        return pd.to_datetime(series.astype("string").str.slice(0, 10), errors="coerce",
                              format="%Y-%m-%d"), pd.Timestamp(value[:10])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return pd.to_numeric(series, errors="coerce"), value
    return series, value


def _condition(series: pd.Series, op: str, value: Any) -> np.ndarray:
    present = series.notna().to_numpy()
    if op == "null":
        return ~present if value else present
    if op in ("in", "not_in"):
        values = list(value)
        hit = np.zeros(len(series), dtype=bool)
        for v in values:
            hit |= _condition(series, "eq", v) if v is not None else ~present
        return hit if op == "in" else ~hit
    if value is None:
        return ~present if op == "eq" else present
    s, v = _comparable(series, value)
    with np.errstate(invalid="ignore"):
        result = {"eq": lambda: s == v, "ne": lambda: s != v, "lt": lambda: s < v,
                  "lte": lambda: s <= v, "gt": lambda: s > v, "gte": lambda: s >= v}[op]()
    result = np.asarray(pd.Series(result).fillna(False), dtype=bool)
    ok = pd.Series(s).notna().to_numpy()
    return result & ok if op != "ne" else result | ~ok


def where_mask(frame: pd.DataFrame, conditions: tuple) -> np.ndarray:
    """The rows matching every condition of a measure's `where` (definitions._where)."""
    mask = np.ones(len(frame), dtype=bool)
    for prop, (kind, cond) in conditions:
        series = _column(frame, prop)
        if kind == "ops":
            for op, value in cond:
                mask &= _condition(series, op, value)
        else:
            mask &= _condition(series, kind, cond)
    return mask


def category_of(frame: pd.DataFrame, props: tuple, skip: tuple) -> pd.Series:
    """The first of `props` whose value is set and not in `skip`, per row (None if none)."""
    out = pd.Series([None] * len(frame), dtype=object)
    for prop in reversed(props):
        col = _column(frame, prop)
        usable = col.notna() & ~col.isin(list(skip))
        out = col.where(usable, out)
    return out


def category_mask(frame: pd.DataFrame, props: tuple, skip: tuple,
                  values: tuple | None) -> np.ndarray:
    cat = category_of(frame, props, skip)
    if values is None:
        return cat.isna().to_numpy()
    hit = np.zeros(len(frame), dtype=bool)
    for v in values:
        hit |= _condition(cat, "eq", v)
    return hit


def _ratio(num: float, den: float, factor: float) -> float | None:
    if den is None or num is None or not math.isfinite(den) or den == 0:
        return None
    return float(num) / float(den) * factor


# ---------------------------------------------------------------------------- the table
def rounded(value: Any, ind: Indicator) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if ind.integer:
        return int(round(value))
    return round(float(value), ind.decimals)


def compute(defs: Definitions, frames: Mapping[str, pd.DataFrame],
            communes: gpd.GeoDataFrame, epci: pd.DataFrame | None = None,
            dates: Mapping[str, str | None] | None = None,
            date_calcul: str | None = None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Every indicator for every territory: (GeoDataFrame of the collection `chiffres-cles`,
    report). Columns: code, niveau, nom, epci_siren, one per indicator, date_calcul, then
    date_donnees_<source> per source (the date of the data of each source). Geometries: the
    commune; the union of its communes for an EPCI; of all communes for the territory."""
    territories = Territories.of(communes, epci)
    engine = Engine(defs, frames, territories)
    table = engine.table()
    c = territories.communes
    geoms = dict(zip(c["insee"], c.geometry))
    names = dict(zip(c["insee"], c["nom"]))
    rows = []
    for code, record in table.iterrows():
        level = record["niveau"]
        if level == "commune":
            geom, name, epci_code = geoms[code], names[code], \
                c.loc[c["insee"] == code, "epci_siren"].iloc[0]
        elif level == "epci":
            geom = shapely.union_all(c.loc[c["epci_siren"] == code].geometry.to_numpy())
            name, epci_code = territories.epci_names.get(code, code), code
        else:
            geom, name, epci_code = shapely.union_all(c.geometry.to_numpy()), \
                defs.territory_name, None
        row = {"code": code, "niveau": level, "nom": name, "epci_siren": epci_code}
        for ind in defs.indicators:
            row[ind.id] = rounded(record[ind.id], ind)
        row["date_calcul"] = date_calcul
        for sid in defs.sources:
            row[date_column(sid)] = (dates or {}).get(sid)
        row["geometry"] = geom
        rows.append(row)
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=c.crs)
    for ind in defs.indicators:
        if ind.integer:
            out[ind.id] = out[ind.id].astype("Int64")
        else:
            out[ind.id] = pd.to_numeric(out[ind.id], errors="coerce").astype("float64")
    report = {"communes": int((out["niveau"] == "commune").sum()),
              "epci": int((out["niveau"] == "epci").sum()),
              "territoire": int((out["niveau"] == "territoire").sum()),
              "indicateurs": len(defs.indicators),
              "hors_territoire": dict(engine.unassigned)}
    return out, report


def date_column(source_id: str) -> str:
    """The column holding the date of a source's data."""
    return "date_donnees_" + re.sub(r"[^a-z0-9]+", "_", source_id.lower()).strip("_")
