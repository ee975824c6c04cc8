"""Grouped aggregation on PostGIS (services/aggregate.py): one SQL statement.

    SELECT <keys>, <labels>, count(*), sum(t."p"), …
    FROM (SELECT * FROM <table> WHERE <the items reader's filter>) t
    [LEFT JOIN LATERAL (SELECT insee, nom, epci_siren, epci_nom FROM <communes> c
                        WHERE ST_Intersects(c.geom, ST_PointOnSurface(t.geom))
                        ORDER BY insee LIMIT 1) c ON true]       -- territory levels only
    GROUP BY <keys, labels> LIMIT max_groups + 1

The filter is the reader's own WHERE clause (bound parameters), written on the table alone
so that its column names stay unambiguous beside the communes'; identifiers come from the
table's introspected columns and are quoted. Lengths and areas are ST_Length and ST_Area in
the storage CRS (EPSG:2154), in kilometres and hectares.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from services.store.postgis import pool as db
from services.store.postgis.tables import read_table, split

if TYPE_CHECKING:  # pragma: no cover
    from services.aggregate import Metric, Plan, Term
    from services.store.postgis.features import PostGISFeatures


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _date_sql(term: "Term") -> str:
    col = f"t.{_q(term.prop)}"
    year = term.kind == "year"
    if term.format in ("date", "date-time"):
        value = col if term.format == "date" else f"({col} AT TIME ZONE 'UTC')"
        return f"extract(year FROM {value})::integer" if year else f"to_char({value}, 'YYYY-MM')"
    if year:
        return f"CASE WHEN {col} ~ '^[0-9]{{4}}' THEN substr({col}, 1, 4)::integer END"
    return f"CASE WHEN {col} ~ '^[0-9]{{4}}-[0-9]{{2}}' THEN substr({col}, 1, 7) END"


def _key_sql(term: "Term", territory: str) -> tuple[str, str | None]:
    """(key SQL, label SQL or None)."""
    if term.kind == "property":
        return f"t.{_q(term.prop)}", None
    if term.kind in ("year", "month"):
        return _date_sql(term), None
    if term.kind == "commune":
        return "c.insee", "c.nom"
    if term.kind == "epci":
        return "c.epci_siren", "c.epci_nom"
    if term.kind == "territoire":
        code, name = territory
        return (f"CASE WHEN c.insee IS NULL THEN NULL ELSE {_literal(code)} END",
                f"CASE WHEN c.insee IS NULL THEN NULL ELSE {_literal(name)} END")
    raise ValueError(term.kind)


def _metric_sql(metric: "Metric", geom: str) -> str:
    if metric.kind == "count":
        return "count(*)"
    if metric.kind == "length_km":
        return f"coalesce(sum(ST_Length({geom})), 0) / 1000.0"
    if metric.kind == "area_ha":
        return f"coalesce(sum(ST_Area({geom})), 0) / 10000.0"
    col = f"t.{_q(metric.prop)}"
    if metric.kind == "mean":
        return f"avg({col})::double precision"
    return f"{metric.kind}({col})"


def aggregate(reader: "PostGISFeatures", plan: "Plan") -> list[tuple]:
    """Rows of `plan` (services.store.base.Backend.aggregate)."""
    where, params = reader._where(plan.bbox, plan.datetime_, [], plan.filterq, None)
    geom = f"t.{_q(reader.info.geometry_column)}"
    keys, labels, grouped = [], [], []
    for term in plan.groups:
        key, label = _key_sql(term, plan.territory)
        keys.append(key)
        labels.append(label or "NULL")
    n = len(keys)
    grouped = [str(i + 1) for i in range(n)] + \
        [str(n + i + 1) for i, label in enumerate(labels) if label != "NULL"]
    metrics = [_metric_sql(m, geom) for m in plan.metrics]
    source = f"(SELECT * FROM {reader._table().as_string(None)}{where}) t"
    with reader._connection() as conn:
        if any(t.territorial for t in plan.groups):
            communes = read_table(*split(plan.communes["table"]), conn=conn)
            table = db.qualified(communes.schema, communes.table).as_string(None)
            source += (f" LEFT JOIN LATERAL (SELECT c.insee, c.nom, c.epci_siren, c.epci_nom "
                       f"FROM {table} c WHERE ST_Intersects(c.{_q(communes.geometry_column)}, "
                       f"ST_PointOnSurface({geom})) ORDER BY c.insee LIMIT 1) c ON true")
        sql = f"SELECT {', '.join(keys + labels + metrics)} FROM {source}"
        if grouped:
            sql += " GROUP BY " + ", ".join(grouped)
        sql += f" LIMIT {int(plan.max_groups) + 1}"
        rows = conn.execute(sql, params).fetchall()
    return [tuple(row) for row in rows]
