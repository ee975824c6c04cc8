"""Grouped aggregation on the embedded store (services/aggregate.py): one SQL statement.

SQLite groups and sums; what it cannot compute without SpatiaLite (which the embedded store
does not load) are SQLite user functions over shapely, registered on the read connection:

    artois_length(geom)   length of a GeoPackage geometry, metres (EPSG:2154)
    artois_area(geom)     its area, square metres
    artois_commune(geom)  INSEE code of the commune containing its representative point
                          (GEOS PointOnSurface, as PostGIS ST_PointOnSurface), the smallest
                          code when the point is on a shared boundary, NULL outside
    artois_epci(insee)    SIREN of a commune's EPCI

The communes come from the `communes` collection's GeoPackage (an R-tree of shapely
geometries, rebuilt when the file changes). The filter is the items reader's own WHERE
clause (bbox, datetime, CQL2), rows are read once and never held: memory is SQLite's
grouping, at most `max_groups + 1` groups come back.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from services.store.sqlite.tables import connect, deadline, gpkg_wkb, quote, read_table_info

if TYPE_CHECKING:  # pragma: no cover
    from services.aggregate import Metric, Plan, Term
    from services.store.sqlite.features import GeoPackageFeatures

YEAR_GLOB = "[0-9][0-9][0-9][0-9]*"
MONTH_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]*"


def _geometry(blob: bytes | None) -> Any:
    wkb = gpkg_wkb(blob) if isinstance(blob, bytes) else None
    if wkb is None:
        return None
    try:
        return shapely.from_wkb(wkb)
    except shapely.errors.GEOSException:
        return None


def _length(blob: bytes | None) -> float | None:
    geom = _geometry(blob)
    return None if geom is None else float(shapely.length(geom))


def _area(blob: bytes | None) -> float | None:
    geom = _geometry(blob)
    return None if geom is None else float(shapely.area(geom))


class Communes:
    """The communes of one GeoPackage file: codes, names, EPCI, an R-tree of outlines."""

    def __init__(self, path: str, table: str | None):
        info = read_table_info(path, table)
        conn = connect(path)
        rows = conn.execute(
            f"SELECT insee, nom, epci_siren, epci_nom, {quote(info.geometry_column)} "
            f"FROM {quote(info.table)} WHERE insee IS NOT NULL ORDER BY insee").fetchall()
        self.codes = [r[0] for r in rows]
        self.names = {r[0]: r[1] for r in rows}
        self.epci = {r[0]: r[2] for r in rows}
        self.epci_names = {r[2]: r[3] for r in rows if r[2] is not None}
        geoms = [_geometry(r[4]) for r in rows]
        self.tree = shapely.STRtree([g if g is not None else shapely.Point() for g in geoms])
        # a row's geometry is asked for by each territory term (GROUP BY and SELECT): the
        # last few answers are kept
        self.commune = functools.lru_cache(maxsize=16)(self._commune)

    def _commune(self, blob: bytes | None) -> str | None:
        geom = _geometry(blob)
        if geom is None or geom.is_empty:
            return None
        point = shapely.point_on_surface(geom)
        hits = self.tree.query(point, predicate="intersects")
        return self.codes[int(np.min(hits))] if len(hits) else None

    def epci_of(self, insee: str | None) -> str | None:
        return self.epci.get(insee) if insee is not None else None


_communes: dict[str, tuple[int, Communes]] = {}
_lock = threading.Lock()


def communes(entry: dict) -> Communes:
    """The communes of the `communes` collection (its manifest entry), cached by file."""
    path = entry["data"]
    stamp = os.stat(path).st_mtime_ns
    cached = _communes.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, Communes(path, entry.get("table")))
        with _lock:
            _communes[path] = cached
    return cached[1]


def _key_sql(term: "Term", geom: str, territory: str) -> str:
    if term.kind == "property":
        return quote(term.prop)
    col = quote(term.prop) if term.prop else ""
    if term.kind == "year":
        return f"CASE WHEN {col} GLOB '{YEAR_GLOB}' THEN CAST(substr({col}, 1, 4) AS INTEGER) END"
    if term.kind == "month":
        return f"CASE WHEN {col} GLOB '{MONTH_GLOB}' THEN substr({col}, 1, 7) END"
    if term.kind == "commune":
        return f"artois_commune({geom})"
    if term.kind == "epci":
        return f"artois_epci(artois_commune({geom}))"
    if term.kind == "territoire":
        return f"CASE WHEN artois_commune({geom}) IS NULL THEN NULL ELSE '{territory}' END"
    raise ValueError(term.kind)


def _metric_sql(metric: "Metric", geom: str) -> str:
    if metric.kind == "count":
        return "count(*)"
    if metric.kind == "length_km":
        return f"coalesce(sum(artois_length({geom})), 0) / 1000.0"
    if metric.kind == "area_ha":
        return f"coalesce(sum(artois_area({geom})), 0) / 10000.0"
    fn = {"sum": "sum", "mean": "avg", "min": "min", "max": "max"}[metric.kind]
    return f"{fn}({quote(metric.prop)})"


def _label(term: "Term", code: Any, index: Communes | None, plan: "Plan") -> Any:
    if index is None or code is None:
        return None
    if term.kind == "commune":
        return index.names.get(code)
    if term.kind == "epci":
        return index.epci_names.get(code)
    if term.kind == "territoire":
        return plan.territory[1]
    return None


def aggregate(reader: "GeoPackageFeatures", plan: "Plan") -> list[tuple]:
    """Rows of `plan` (services.store.base.Backend.aggregate)."""
    where, params = reader.where(plan.bbox, plan.datetime_, [], plan.filterq, None)
    geom = quote(reader.info.geometry_column)
    territory = plan.territory[0].replace("'", "''")
    keys = [_key_sql(t, geom, territory) for t in plan.groups]
    metrics = [_metric_sql(m, geom) for m in plan.metrics]
    sql = f"SELECT {', '.join(keys + metrics)} FROM {quote(reader.info.table)}{where}"
    if keys:
        sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
    index = communes(plan.communes) if any(t.territorial for t in plan.groups) else None
    conn = connect(reader.data)
    conn.create_function("artois_length", 1, _length, deterministic=True)
    conn.create_function("artois_area", 1, _area, deterministic=True)
    if index is not None:
        conn.create_function("artois_commune", 1, index.commune, deterministic=True)
        conn.create_function("artois_epci", 1, index.epci_of, deterministic=True)
    with deadline(conn, reader.timeout):
        rows = conn.execute(sql, params).fetchmany(plan.max_groups + 1)
    n = len(keys)
    return [(*row[:n], *(_label(t, row[i], index, plan) for i, t in enumerate(plan.groups)),
             *row[n:]) for row in rows]
