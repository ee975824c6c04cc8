"""CQL2 (a pygeofilter AST) to a SQL WHERE clause with bound parameters.

Every value becomes a bound parameter and every identifier is checked against the
collection's fields and quoted: a filter can never inject SQL. The dialect object
decides how spatial predicates, case/accent folding and placeholders are written, so
the same translator serves the GeoPackage (SQLite) store and PostGIS.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import shapely
from pygeofilter import ast, values

from services.errors import OGCError, texts
from services.pygeoapi_messages import remember


class FilterError(OGCError, ValueError):
    """The filter is well-formed CQL2 but cannot be applied (unknown property, unsupported
    operator): a 400 of message ``cql2_*`` (services/locale/*/LC_MESSAGES/errors.po), e.g.
    ``FilterError("cql2_unknown_property", name=name)``; ``str()`` is the English text.

    The providers answer it as pygeoapi's ProviderInvalidQueryError ``Invalid CQL2 filter:
    <English>`` (pygeoapi's 400): the message ``invalid_filter`` of this error is recorded
    (services.pygeoapi_messages.remember) so that the error handler gives that answer its
    French text from the catalogue."""

    def __init__(self, key: str, /, **params: Any):
        super().__init__(key, params=params)
        remember(texts("invalid_filter", detail=self.texts))


SPATIAL_OPS = {
    ast.GeometryIntersects: "intersects",
    ast.GeometryDisjoint: "disjoint",
    ast.GeometryContains: "contains",
    ast.GeometryWithin: "within",
    ast.GeometryTouches: "touches",
    ast.GeometryCrosses: "crosses",
    ast.GeometryOverlaps: "overlaps",
    ast.GeometryEquals: "equals",
}

COMPARISON_OPS = {
    ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
    ast.GreaterThan: ">", ast.GreaterEqual: ">=",
}

ARITHMETIC_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mul: "*", ast.Div: "/"}


class Dialect(Protocol):
    """What differs between SQL engines."""

    def quote(self, name: str) -> str: ...

    def placeholder(self) -> str: ...

    def geometry_param(self, geom: shapely.Geometry) -> tuple[str, Any]:
        """SQL for a geometry literal in the storage CRS, and the value to bind."""

    def spatial(self, op: str, column_sql: str, geom_sql: str, envelope: tuple | None) -> str:
        """SQL for a spatial predicate between the feature geometry and a literal."""

    def dwithin(self, column_sql: str, geom_sql: str, distance_sql: str, envelope: tuple) -> str: ...

    def casei(self, sql: str) -> str: ...

    def accenti(self, sql: str) -> str: ...

    def like(self, lhs: str, pattern_sql: str, not_: bool) -> str: ...


class SQLDialect:
    """What SQLite and PostGIS write alike; each store's dialect adds placeholders and the
    spatial predicates."""

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def casei(self, sql: str) -> str:
        return f"lower({sql})"

    def accenti(self, sql: str) -> str:
        return f"unaccent({sql})"

    def like(self, lhs: str, pattern_sql: str, not_: bool) -> str:
        return f"{lhs} {'NOT ' if not_ else ''}LIKE {pattern_sql} ESCAPE '\\'"


@dataclass
class Translation:
    """Accumulates bound parameters while SQL text is produced."""

    dialect: Dialect
    fields: dict[str, dict]
    geometry_names: set[str]
    geometry_column: str
    params: list[Any] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return self.dialect.placeholder()


def to_sql(node: ast.Node, dialect: Dialect, fields: dict[str, dict],
           geometry_column: str) -> tuple[str, list[Any]]:
    """Translate a parsed CQL2 expression. Returns (sql, params)."""
    tr = Translation(dialect, fields, {"geometry", geometry_column}, geometry_column)
    sql = _node(node, tr)
    return sql, tr.params


def _attribute(name: str, tr: Translation) -> str:
    if name in tr.geometry_names:
        return tr.dialect.quote(tr.geometry_column)
    if name not in tr.fields:
        raise FilterError("cql2_unknown_property", name=name)
    return tr.dialect.quote(name)


def _is_date_field(node: Any, tr: Translation) -> bool:
    return (isinstance(node, ast.Attribute) and
            tr.fields.get(node.name, {}).get("format") == "date")


def _literal(value: Any, tr: Translation) -> Any:
    """Python value to bind for a scalar literal."""
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _expr(node: Any, tr: Translation, date_context: bool = False) -> str:
    """Scalar expression: attribute, literal, function or arithmetic."""
    if isinstance(node, ast.Attribute):
        return _attribute(node.name, tr)
    if isinstance(node, ast.Function):
        name = node.name.lower()
        if name in ("lower", "casei") and len(node.arguments) == 1:
            return tr.dialect.casei(_expr(node.arguments[0], tr))
        if name == "accenti" and len(node.arguments) == 1:
            return tr.dialect.accenti(_expr(node.arguments[0], tr))
        raise FilterError("cql2_unsupported_function", name=node.name)
    if type(node) in ARITHMETIC_OPS:
        return (f"({_expr(node.lhs, tr)} {ARITHMETIC_OPS[type(node)]} "
                f"{_expr(node.rhs, tr)})")
    if isinstance(node, (values.Geometry, values.Envelope)):
        raise FilterError("cql2_geometry_literal")
    if isinstance(node, (list, tuple, values.Interval)):
        raise FilterError("cql2_unsupported_literal")
    value = _literal(node, tr)
    if date_context and isinstance(value, str) and len(value) > 10:
        value = value[:10]  # a timestamp compared with a date column: compare the day
    return tr.bind(value)


def _geometry_literal(node: Any) -> shapely.Geometry:
    if isinstance(node, values.Geometry):
        geom = shapely.geometry.shape(node.geometry)
    elif isinstance(node, values.Envelope):
        geom = shapely.box(node.x1, node.y1, node.x2, node.y2)
    else:
        raise FilterError("cql2_spatial_literal")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def _spatial_operands(node: Any, tr: Translation) -> tuple[str, shapely.Geometry, bool]:
    """Return (column sql, literal geometry, swapped) for `op(geometry, literal)`."""
    lhs, rhs = node.lhs, node.rhs
    swapped = False
    if not isinstance(lhs, ast.Attribute):
        lhs, rhs, swapped = rhs, lhs, True
    if not isinstance(lhs, ast.Attribute) or lhs.name not in tr.geometry_names:
        raise FilterError("cql2_spatial_operands")
    return tr.dialect.quote(tr.geometry_column), _geometry_literal(rhs), swapped


def _temporal_bounds(node: Any) -> tuple[Any, Any]:
    if isinstance(node, values.Interval):
        return node.start, node.end
    return node, node


def _node(node: Any, tr: Translation) -> str:
    d = tr.dialect
    if isinstance(node, ast.And):
        return f"({_node(node.lhs, tr)} AND {_node(node.rhs, tr)})"
    if isinstance(node, ast.Or):
        return f"({_node(node.lhs, tr)} OR {_node(node.rhs, tr)})"
    if isinstance(node, ast.Not):
        return f"(NOT {_node(node.sub_node, tr)})"
    if isinstance(node, ast.Include):
        return "1 = 0" if node.not_ else "1 = 1"
    if isinstance(node, bool):  # a bare boolean literal as a condition
        return "1 = 1" if node else "1 = 0"
    if type(node) in COMPARISON_OPS:
        date_ctx = _is_date_field(node.lhs, tr) or _is_date_field(node.rhs, tr)
        return (f"{_expr(node.lhs, tr, date_ctx)} {COMPARISON_OPS[type(node)]} "
                f"{_expr(node.rhs, tr, date_ctx)}")
    if isinstance(node, ast.Between):
        date_ctx = _is_date_field(node.lhs, tr)
        sql = (f"{_expr(node.lhs, tr)} BETWEEN {_expr(node.low, tr, date_ctx)} "
               f"AND {_expr(node.high, tr, date_ctx)}")
        return f"(NOT ({sql}))" if node.not_ else sql
    if isinstance(node, ast.Like):
        lhs = _expr(node.lhs, tr)
        pattern = node.pattern
        if not isinstance(pattern, str):
            raise FilterError("cql2_like_pattern")
        # CQL2 wildcards are % and _ as in SQL; escape is a backslash.
        return d.like(lhs, tr.bind(pattern), node.not_)
    if isinstance(node, ast.In):
        if not node.sub_nodes:
            return "1 = 0" if not node.not_ else "1 = 1"
        date_ctx = _is_date_field(node.lhs, tr)
        items = ", ".join(_expr(v, tr, date_ctx) for v in node.sub_nodes)
        return f"{_expr(node.lhs, tr)} {'NOT IN' if node.not_ else 'IN'} ({items})"
    if isinstance(node, ast.IsNull):
        return f"{_expr(node.lhs, tr)} IS {'NOT ' if node.not_ else ''}NULL"
    if type(node) in SPATIAL_OPS:
        column, geom, swapped = _spatial_operands(node, tr)
        op = SPATIAL_OPS[type(node)]
        if swapped and op in ("within", "contains"):
            op = "contains" if op == "within" else "within"
        geom_sql, value = d.geometry_param(geom)
        tr.params.append(value)
        envelope = None if op == "disjoint" else tuple(geom.bounds)
        return d.spatial(op, column, geom_sql, envelope)
    if isinstance(node, ast.DistanceWithin):
        column = _attribute(node.lhs.name, tr) if isinstance(node.lhs, ast.Attribute) else None
        if column is None:
            raise FilterError("cql2_dwithin_geometry")
        geom = _geometry_literal(node.rhs)
        geom_sql, value = d.geometry_param(geom)
        tr.params.append(value)
        dist = float(node.distance)
        minx, miny, maxx, maxy = geom.bounds
        return d.dwithin(column, geom_sql, tr.bind(dist),
                         (minx - dist, miny - dist, maxx + dist, maxy + dist))
    if isinstance(node, ast.TemporalPredicate):
        return _temporal(node, tr)
    raise FilterError("cql2_unsupported_operator", name=type(node).__name__)


def _temporal(node: ast.TemporalPredicate, tr: Translation) -> str:
    if not isinstance(node.lhs, ast.Attribute):
        raise FilterError("cql2_temporal_operands")
    column = _attribute(node.lhs.name, tr)
    date_ctx = _is_date_field(node.lhs, tr)
    start, end = _temporal_bounds(node.rhs)

    def bound(v: Any) -> str | None:
        if v is None or v == "..":
            return None
        return _expr(v, tr, date_ctx)

    lo, hi = bound(start), bound(end)
    if isinstance(node, ast.TimeAfter):
        return f"{column} > {hi}" if hi else "1 = 0"
    if isinstance(node, ast.TimeBefore):
        return f"{column} < {lo}" if lo else "1 = 0"
    if isinstance(node, ast.TimeEquals):
        return f"{column} = {lo}"
    if isinstance(node, ast.TimeDuring):
        parts = [f"{column} >= {lo}"] if lo else []
        parts += [f"{column} <= {hi}"] if hi else []
        return "(" + " AND ".join(parts) + ")" if parts else f"{column} IS NOT NULL"
    if isinstance(node, ast.TimeDisjoint):
        parts = [f"{column} < {lo}"] if lo else []
        parts += [f"{column} > {hi}"] if hi else []
        return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"
    raise FilterError("cql2_unsupported_temporal", name=type(node).__name__)
