"""The definitions file of the key figures (data/indicateurs.yaml), read, checked and expanded.

Pure: YAML in, frozen objects out, no store and no web import. Everything the file may say is
documented at its top; what it says wrong raises :class:`DefinitionError` naming the entry.

    defs = load_definitions()          # data/indicateurs.yaml
    defs.indicators                    # [Indicator], `by:` entries expanded, in file order
    defs.sources["friches"]            # Source
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from processes import yaml_data

DEFINITIONS_PATH = Path(__file__).resolve().parent / "data" / "indicateurs.yaml"

MEASURES = ("count", "sum", "length", "area")
METHODS = MEASURES + ("share", "mean", "ratio")
DERIVED = ("overheating_zones", "solar_roofs", "environmental_risks")
DEFAULT_FACTOR = {"length": 0.001, "area": 0.0001}   # m -> km, m² -> ha
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "null")
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# columns of the collection that are not indicators
RESERVED = ("code", "niveau", "nom", "epci_siren", "date_calcul")


class DefinitionError(ValueError):
    """The definitions file contradicts itself or the documented format."""


@dataclass(frozen=True)
class Source:
    id: str
    collection: str | None              # a published collection, or
    derived: str | None                 # a derived table (sources.py)
    collections: tuple[str, ...]        # what it reads (demo flag, recompute)
    assign: str | None                  # None: by geometry; else the attribute with the INSEE code
    date: Any                           # "time_field" | "build" | "derived" | {"field"} | date
    text: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Measure:
    """Something additive over communes: a count, a sum, a length or an area."""
    source: str
    method: str                         # count | sum | length | area
    property: str | None = None
    weight: str | None = None
    factor: float = 1.0
    where: tuple = ()                   # ((property, condition), ...)
    inside: str | None = None           # a source id of polygons
    category: tuple | None = None       # (properties, skip, values or None for "not set")

    def key(self) -> tuple:
        return (self.source, self.method, self.property, self.weight, self.factor,
                repr(self.where), self.inside, repr(self.category))


@dataclass(frozen=True)
class Indicator:
    id: str
    theme: str
    label: dict[str, str]
    unit: dict[str, str]
    decimals: int
    source: str                         # the source of its entry
    method: str                         # as written (count, share, ratio...)
    measure: Measure | None = None      # additive indicators
    numerator: "Measure | str | None" = None     # ratios: a measure or an indicator id
    denominator: "Measure | str | None" = None
    factor: float = 1.0
    description: dict[str, str] | None = None
    group: str | None = None            # the `by:` entry it comes from

    @property
    def additive(self) -> bool:
        return self.measure is not None

    @property
    def integer(self) -> bool:
        """Whole numbers: additive with no decimal (counts, people, jobs)."""
        return self.measure is not None and self.decimals == 0


@dataclass(frozen=True)
class Definitions:
    version: Any
    territory_code: str
    territory_name: str
    parameters: dict[str, Any]
    themes: tuple[dict[str, str], ...]
    sources: dict[str, Source]
    indicators: tuple[Indicator, ...]

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def sources_of(self, ind: Indicator) -> list[str]:
        """The source ids an indicator reads (through the indicators it divides too)."""
        out: list[str] = []

        def visit(item: Any) -> None:
            if isinstance(item, Measure):
                for sid in (item.source, item.inside):
                    if sid and sid not in out:
                        out.append(sid)
            elif isinstance(item, str):
                visit_indicator(self.indicator(item))

        def visit_indicator(i: Indicator) -> None:
            for part in (i.measure, i.numerator, i.denominator):
                visit(part)

        visit_indicator(ind)
        return out

    def collections_of(self, ind: Indicator) -> list[str]:
        out: list[str] = []
        for sid in self.sources_of(ind):
            for cid in self.sources[sid].collections:
                if cid not in out:
                    out.append(cid)
        return out

    def collections(self) -> list[str]:
        """Every collection the indicators read (the recompute triggers)."""
        out: list[str] = []
        for src in self.sources.values():
            out.extend(c for c in src.collections if c not in out)
        return out


# ---------------------------------------------------------------------------- loading
def load_definitions(path: str | Path | None = None) -> Definitions:
    path = Path(path or DEFINITIONS_PATH)
    try:
        raw = yaml_data.load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise DefinitionError(f"{path.name}: not YAML: {err}") from None
    return parse_definitions(raw, path.name)


def parse_definitions(raw: Any, name: str = "indicateurs.yaml") -> Definitions:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{name}: a mapping is expected")
    terr = _mapping(raw.get("territoire"), "territoire")
    code = terr.get("code")
    if not isinstance(code, str) or not code:
        raise DefinitionError("territoire.code: a text is expected")
    themes = tuple(_theme(t) for t in _list(raw.get("themes"), "themes"))
    theme_ids = {t["id"] for t in themes}
    sources = {}
    for sid, conf in _mapping(raw.get("sources"), "sources").items():
        sources[str(sid)] = _source(str(sid), _mapping(conf, f"sources.{sid}"))
    indicators: list[Indicator] = []
    for i, entry in enumerate(_list(raw.get("indicateurs"), "indicateurs")):
        entry = _mapping(entry, f"indicateurs[{i}]")
        indicators.extend(_indicators(entry, sources, theme_ids))
    seen: set[str] = set()
    for ind in indicators:
        if ind.id in seen:
            raise DefinitionError(f"indicator id {ind.id!r} appears twice")
        if ind.id in RESERVED or ind.id.startswith("date_"):
            raise DefinitionError(f"indicator id {ind.id!r} is reserved")
        seen.add(ind.id)
    defs = Definitions(raw.get("version"), code, str(terr.get("nom") or code),
                       dict(raw.get("parametres") or {}), themes, sources, tuple(indicators))
    _check_references(defs)
    return defs


def _mapping(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise DefinitionError(f"{where}: a mapping is expected")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list) or not value:
        raise DefinitionError(f"{where}: a non-empty list is expected")
    return value


def _texts(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value[k]
                                              for k in ("fr", "en")):
        raise DefinitionError(f"{where}: {{fr, en}} texts are expected")
    return {"fr": value["fr"], "en": value["en"]}


def _theme(value: Any) -> dict[str, str]:
    value = _mapping(value, "themes[]")
    if not isinstance(value.get("id"), str):
        raise DefinitionError("themes[]: an id is expected")
    return {"id": value["id"], **_texts(value, f"themes.{value['id']}")}


def _source(sid: str, conf: dict) -> Source:
    collection, derived = conf.get("collection"), conf.get("derived")
    if (collection is None) == (derived is None):
        raise DefinitionError(f"sources.{sid}: one of collection or derived is expected")
    if derived is not None and derived not in DERIVED:
        raise DefinitionError(f"sources.{sid}: derived must be one of {', '.join(DERIVED)}")
    collections = conf.get("collections") or ([collection] if collection else [])
    if not isinstance(collections, list) or not collections or \
            not all(isinstance(c, str) for c in collections):
        raise DefinitionError(f"sources.{sid}: collections must list collection ids")
    assign = conf.get("assign")
    if assign is not None:
        if not isinstance(assign, dict) or set(assign) != {"attribute"}:
            raise DefinitionError(f"sources.{sid}: assign must be {{attribute: <property>}}")
        assign = str(assign["attribute"])
    date = conf.get("date", "time_field")
    if isinstance(date, dict):
        if set(date) != {"field"}:
            raise DefinitionError(f"sources.{sid}: date must be {{field: <property>}}")
    elif isinstance(date, str) and date not in ("time_field", "build", "derived") and \
            not DATE_RE.match(date):
        raise DefinitionError(f"sources.{sid}: date {date!r} is not understood")
    elif not isinstance(date, (str, dict)):
        date = str(date)
        if not DATE_RE.match(date):
            raise DefinitionError(f"sources.{sid}: date {date!r} is not understood")
    known = {"collection", "derived", "collections", "assign", "date", "text"}
    return Source(sid, collection, derived, tuple(collections), assign, date,
                  _texts(conf.get("text"), f"sources.{sid}.text"),
                  {k: v for k, v in conf.items() if k not in known})


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DefinitionError(f"{where}: a number is expected")
    return float(value)


def _where(value: Any, where: str) -> tuple:
    if value is None:
        return ()
    conds = []
    for prop, cond in _mapping(value, where).items():
        if isinstance(cond, dict):
            unknown = set(cond) - set(OPERATORS)
            if unknown or not cond:
                raise DefinitionError(f"{where}.{prop}: operators are {', '.join(OPERATORS)}")
            for op in ("in", "not_in"):
                if op in cond and not isinstance(cond[op], list):
                    raise DefinitionError(f"{where}.{prop}.{op}: a list is expected")
            cond = tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                                for k, v in cond.items()))
            conds.append((str(prop), ("ops", cond)))
        elif isinstance(cond, list):
            conds.append((str(prop), ("in", tuple(cond))))
        else:
            conds.append((str(prop), ("eq", cond)))
    return tuple(conds)


def _measure(conf: dict, source: str, where: str, sources: dict[str, Source]) -> Measure:
    method = conf.get("method")
    if method not in MEASURES:
        raise DefinitionError(f"{where}: method must be one of {', '.join(MEASURES)}")
    source = conf.get("source", source)
    if source not in sources:
        raise DefinitionError(f"{where}: unknown source {source!r}")
    prop, weight = conf.get("property"), conf.get("weight")
    if method == "sum" and not isinstance(prop, str):
        raise DefinitionError(f"{where}: a sum needs a property")
    if method != "sum" and (prop is not None or weight is not None):
        raise DefinitionError(f"{where}: only a sum has a property and a weight")
    inside = conf.get("inside")
    if inside is not None and inside not in sources:
        raise DefinitionError(f"{where}: unknown source {inside!r} in inside")
    factor = conf.get("factor", DEFAULT_FACTOR.get(method, 1.0))
    return Measure(source, method, prop, weight, _number(factor, f"{where}.factor"),
                   _where(conf.get("where"), f"{where}.where"), inside)


def _indicators(entry: dict, sources: dict[str, Source], themes: set[str]) -> list[Indicator]:
    iid = entry.get("id")
    if not isinstance(iid, str) or not ID_RE.match(iid):
        raise DefinitionError(f"indicator {iid!r}: the id must match {ID_RE.pattern}")
    where = f"indicateurs.{iid}"
    if entry.get("theme") not in themes:
        raise DefinitionError(f"{where}: theme must be one of {', '.join(sorted(themes))}")
    source = entry.get("source")
    if source not in sources:
        raise DefinitionError(f"{where}: unknown source {source!r}")
    decimals = entry.get("decimals", 2)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        raise DefinitionError(f"{where}: decimals must be an integer from 0 to 6")
    method = entry.get("method")
    if method not in METHODS:
        raise DefinitionError(f"{where}: method must be one of {', '.join(METHODS)}")
    common = dict(theme=entry["theme"], unit=_texts(entry.get("unit"), f"{where}.unit"),
                  decimals=decimals, source=source, method=method,
                  description=_texts(entry["description"], f"{where}.description")
                  if entry.get("description") else None)
    label = _texts(entry.get("label"), f"{where}.label")
    by = entry.get("by")
    if by is None:
        return [_one(iid, label, entry, common, sources, where, None)]
    if method not in MEASURES + ("share",):
        raise DefinitionError(f"{where}: by applies to count, sum, length, area and share")
    by = _mapping(by, f"{where}.by")
    props = by.get("property")
    props = (props,) if isinstance(props, str) else props
    if not isinstance(props, (list, tuple)) or not props or \
            not all(isinstance(p, str) for p in props):
        raise DefinitionError(f"{where}.by.property: a property or a list is expected")
    skip = tuple(by.get("skip") or ())
    labels = by.get("labels") or {}
    out = []
    for key, values in _mapping(by.get("values"), f"{where}.by.values").items():
        key = str(key)
        values = None if values is None else tuple(values) if isinstance(values, list) \
            else (values,)
        sub_label = _texts(labels[key], f"{where}.by.labels.{key}") if key in labels else \
            {lang: f"{text} : {key}" for lang, text in label.items()}
        out.append(_one(f"{iid}_{key}", sub_label, entry, common, sources, where,
                        (tuple(props), skip, values), group=iid))
    return out


def _one(iid: str, label: dict, entry: dict, common: dict, sources: dict[str, Source],
         where: str, category: tuple | None, group: str | None = None) -> Indicator:
    if not ID_RE.match(iid):
        raise DefinitionError(f"{where}: the id {iid!r} must match {ID_RE.pattern}")
    method, source = common["method"], common["source"]
    conf = {k: v for k, v in entry.items() if k in ("source", "property", "weight", "factor",
                                                    "where", "inside")}
    if method in MEASURES:
        m = _measure({**conf, "method": method}, source, where, sources)
        if category is not None:
            m = Measure(m.source, m.method, m.property, m.weight, m.factor, m.where, m.inside,
                        category)
        return Indicator(iid, label=label, measure=m, group=group, **common)
    if method == "share":
        base = {**conf, "method": entry.get("of", "count")}
        base.pop("factor", None)
        den = _measure(base, source, where, sources)
        part = _where(entry.get("part"), f"{where}.part")
        if not part:
            raise DefinitionError(f"{where}: a share needs a part")
        if category is not None:
            den = Measure(*[getattr(den, f) for f in ("source", "method", "property", "weight",
                                                      "factor", "where", "inside")], category)
        num = Measure(den.source, den.method, den.property, den.weight, den.factor,
                      den.where + part, den.inside, den.category)
        return Indicator(iid, label=label, numerator=num, denominator=den,
                         factor=_number(entry.get("factor", 100), f"{where}.factor"),
                         group=group, **common)
    if method == "mean":
        prop = entry.get("property")
        if not isinstance(prop, str):
            raise DefinitionError(f"{where}: a mean needs a property")
        set_ = ((prop, ("ops", (("null", False),))),)
        base = _measure({k: v for k, v in conf.items() if k not in ("property", "weight",
                                                                     "factor")}
                        | {"method": "count"}, source, where, sources)
        w = entry.get("weight")
        num = Measure(base.source, "sum", prop, w, 1.0, base.where + set_, base.inside)
        den = Measure(base.source, "sum" if w else "count", w, None, 1.0, base.where + set_,
                      base.inside)
        return Indicator(iid, label=label, numerator=num, denominator=den,
                         factor=_number(entry.get("factor", 1.0), f"{where}.factor"),
                         **common)
    # ratio
    parts = []
    for name in ("numerator", "denominator"):
        value = entry.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            parts.append(_measure(value, source, f"{where}.{name}", sources))
        else:
            raise DefinitionError(f"{where}: {name} must be an indicator id or a measure")
    return Indicator(iid, label=label, numerator=parts[0], denominator=parts[1],
                     factor=_number(entry.get("factor", 1.0), f"{where}.factor"), **common)


def _check_references(defs: Definitions) -> None:
    """Ratios name known indicators, none depends on itself."""
    ids = [i.id for i in defs.indicators]
    position = {iid: n for n, iid in enumerate(ids)}
    for ind in defs.indicators:
        for part in (ind.numerator, ind.denominator):
            if isinstance(part, str):
                if part not in position:
                    raise DefinitionError(f"indicateurs.{ind.id}: unknown indicator {part!r}")
                if position[part] >= position[ind.id]:
                    raise DefinitionError(f"indicateurs.{ind.id}: {part!r} must come before it")
        for sid in defs.sources_of(ind):
            src = defs.sources[sid]
            if src.derived is None and src.collection is None:
                raise DefinitionError(f"sources.{sid}: nothing to read")
