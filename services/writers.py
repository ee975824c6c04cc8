"""Writing features, whatever the store: one `Writer` = one transaction.

    with open_writer(settings, "friches", user="alice", role="editor") as w:
        current = w.get("62846_8397")                 # locked for the transaction
        w.patch("62846_8397", {"site_statut": "friche avec projet"})

Leaving the block commits; any exception rolls everything back (all-or-nothing). The
embedded store writes the collection's GeoPackage with Python's sqlite3 (`BEGIN IMMEDIATE`,
proper GeoPackage geometry blobs, the R*Tree kept by GDAL's triggers); the PostGIS store uses
psycopg (`SELECT ... FOR UPDATE` before every read-modify-write). Identifiers are quoted and
values are bound parameters.

Every change writes an audit record in the same transaction: who, role, when (UTC), the
collection, the feature id, the action, and the previous and new versions as GeoJSON in
EPSG:2154 (PostGIS: table `<schema>.audit`; embedded: a plain `audit` table in the
collection's GeoPackage).

The ETag of a feature is a strong hash of its canonical stored form (properties sorted as
JSON + WKB of the EPSG:2154 geometry): it depends neither on the output CRS nor on the
number formatting of a response, and needs no column in the tables.

`validate_feature` is the one validation shared by the API (services/transactions.py) and
`artois-geo import` (services/importer.py): column types, required fields, code lists,
geometry type (single promoted to multi), validity and the territory (communes + 1 km).
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import math
import os
import re
import sqlite3
import struct
import threading
import time
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Iterable

import shapely
from shapely.geometry import mapping, shape

from services.catalog import CollectionSpec, load_catalog
from services.i18n import message
from services.settings import Settings

STORAGE_SRID = 2154
TERRITORY_COLLECTION = "communes"
TERRITORY_BUFFER_M = 1000.0
CRS_2154 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}
AUDIT_COLUMNS = ("id", "at", "username", "role", "source", "collection", "feature_id",
                 "action", "previous", "new", "etag_before", "etag_after", "detail")


# ---------------------------------------------------------------------------- errors
@dataclass
class Problem:
    """One reason a feature is refused, in French and English."""
    code: str
    field: str | None = None
    params: dict[str, Any] = dc_field(default_factory=dict)

    @property
    def texts(self) -> dict[str, str]:
        return message(self.code, **({"field": self.field} if self.field else {}),
                       **self.params)

    def to_dict(self) -> dict[str, Any]:
        texts = self.texts
        return {"code": self.code, "field": self.field, "fr": texts["fr"], "en": texts["en"]}


class WriterError(Exception):
    """A refused change; `status` is the HTTP status the API answers with."""
    status = 400
    ogc_code = "InvalidParameterValue"

    def __init__(self, key: str, status: int | None = None, **params: Any):
        self.key = key
        self.params = params
        if status is not None:
            self.status = status
        self.texts = message(key, **params)
        super().__init__(self.texts["en"])


class CollectionNotFound(WriterError):
    status, ogc_code = 404, "NotFound"


class NotEditable(WriterError):
    status, ogc_code = 405, "MethodNotAllowed"


class FeatureNotFound(WriterError):
    status, ogc_code = 404, "NotFound"


class FeatureExists(WriterError):
    status, ogc_code = 409, "Conflict"


class InvalidFeature(WriterError):
    """The feature breaks the collection's schema: every reason is in `problems`."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        head = message("feature_rejected")
        texts = [p.texts for p in self.problems]
        self.key = "feature_rejected"
        self.params = {}
        sep = {"fr": " : ", "en": ": "}
        self.texts = {lang: head[lang] + sep[lang] + "; ".join(t[lang] for t in texts)
                      for lang in head}
        Exception.__init__(self, self.texts["en"])


# ---------------------------------------------------------------------------- features
@dataclass
class Feature:
    """A stored feature: its identifier, every column, the geometry in EPSG:2154.
    Also readable as a dict: feature["id"], feature["properties"], feature["geometry"]."""
    id: Any
    properties: dict[str, Any]
    geometry: shapely.Geometry

    def __getitem__(self, key: str) -> Any:
        if key not in ("id", "properties", "geometry"):
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> tuple[str, ...]:
        return ("id", "properties", "geometry")

    def etag(self) -> str:
        return feature_etag(self)

    def to_geojson(self, transform=None, decimals: int | None = None) -> dict[str, Any]:
        """GeoJSON Feature; in EPSG:2154 (with a `crs` member) unless `transform` is given."""
        geom = self.geometry
        if transform is not None:
            geom = transform(geom)
        if decimals is not None:
            geom = _round(geom, decimals)
        out = {"type": "Feature", "id": self.id, "geometry": mapping(geom),
               "properties": dict(self.properties)}
        if transform is None:
            out["crs"] = CRS_2154
        return json.loads(json.dumps(out))  # tuples -> lists


def _round(geom: shapely.Geometry, decimals: int) -> shapely.Geometry:
    import numpy as np
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def canonical_wkb(geom: shapely.Geometry) -> bytes:
    return shapely.to_wkb(geom, byte_order=1, output_dimension=2, flavor="iso")


def feature_etag(feature: Feature) -> str:
    """Strong ETag: sha256 of the sorted properties (JSON) and the EPSG:2154 WKB."""
    props = json.dumps(feature.properties, sort_keys=True, ensure_ascii=False,
                       separators=(",", ":"), default=str).encode("utf-8")
    digest = hashlib.sha256(props + b"\x00" + canonical_wkb(feature.geometry)).hexdigest()
    return f'"{digest}"'


def feature_from_geojson(obj: dict[str, Any], id_field: str) -> Feature:
    props = dict(obj.get("properties") or {})
    return Feature(props.get(id_field, obj.get("id")), props, shape(obj["geometry"]))


# ---------------------------------------------------------------------------- values
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FR_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
INT_RE = re.compile(r"^[+-]?\d+$")
TRUE = {"true", "1", "oui", "vrai", "yes", "t", "o", "y"}
FALSE = {"false", "0", "non", "faux", "no", "f", "n"}


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")  # pandas.NA, pandas.NaT


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to Python ones."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and \
            type(value).__module__ == "numpy":
        return value.item()
    return value


def coerce(name: str, value: Any, schema: dict[str, Any]) -> tuple[Any, Problem | None]:
    """A value in the column's type (JSON types; dates as 'YYYY-MM-DD'), or a problem."""
    value = _plain(value)
    if _is_null(value):
        return None, None
    kind, fmt = schema.get("type", "string"), schema.get("format")
    if fmt == "date":
        if isinstance(value, dt.datetime):
            if value.time() != dt.time(0) and value.tzinfo is None:
                return None, Problem("field_not_date", name, {"value": _show(value)})
            return value.date().isoformat(), None
        if isinstance(value, dt.date):
            return value.isoformat(), None
        if isinstance(value, str):
            text = value.strip()
            m = FR_DATE_RE.match(text)
            if m:
                text = f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}"
            if DATE_RE.match(text):
                try:
                    return dt.date.fromisoformat(text).isoformat(), None
                except ValueError:
                    pass
        return None, Problem("field_not_date", name, {"value": _show(value)})
    if fmt == "date-time":
        if isinstance(value, dt.datetime):
            return value.isoformat(), None
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")
                                                 ).isoformat(), None
            except ValueError:
                pass
        return None, Problem("field_not_datetime", name, {"value": _show(value)})
    if kind == "integer":
        if isinstance(value, bool):
            return None, Problem("field_not_integer", name, {"value": _show(value)})
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str) and INT_RE.match(value.strip()):
            return int(value.strip()), None
        return None, Problem("field_not_integer", name, {"value": _show(value)})
    if kind == "number":
        if isinstance(value, bool):
            return None, Problem("field_not_number", name, {"value": _show(value)})
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value), None
        if isinstance(value, str):
            text = value.strip()
            if re.match(r"^[+-]?\d+,\d+$", text):  # French decimal comma
                text = text.replace(",", ".")
            try:
                number = float(text)
                if math.isfinite(number):
                    return number, None
            except ValueError:
                pass
        return None, Problem("field_not_number", name, {"value": _show(value)})
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int) and value in (0, 1):
            return bool(value), None
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE, None
        return None, Problem("field_not_boolean", name, {"value": _show(value)})
    # text
    if isinstance(value, str):
        return value, None
    if isinstance(value, bool) or isinstance(value, (dict, list, tuple)):
        return None, Problem("field_not_text", name, {"value": _show(value)})
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time(0) and value.tzinfo is None
                else value.isoformat()), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    return None, Problem("field_not_text", name, {"value": _show(value)})


def _as_multi(geom: shapely.Geometry, target: str) -> shapely.Geometry:
    if target.startswith("Multi") and geom.geom_type == target[len("Multi"):]:
        return getattr(shapely, target)([geom])
    return geom


def validate_feature(spec: CollectionSpec, columns: dict[str, dict], props: dict[str, Any],
                     geom: Any, territory: Any = None,
                     geometry_problems: Iterable[Problem] = ()
                     ) -> tuple[dict[str, Any], shapely.Geometry | None, list[Problem]]:
    """Check one feature against the collection; returns (clean properties with every
    column, geometry in EPSG:2154 promoted to the collection's type, problems).

    `geom` is a shapely geometry already in EPSG:2154 (or None); `geometry_problems` are
    reasons found while reading it (unreadable GeoJSON/WKT...), reported with the others.
    `territory` is a prepared shapely geometry (None: no territory check)."""
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    for name in props:
        if name not in columns:
            problems.append(Problem("field_unknown", name))
    for name, schema in columns.items():
        value, problem = coerce(name, props.get(name), schema)
        if problem:
            problems.append(problem)
            clean[name] = None
            continue
        clean[name] = value
        conf = spec.fields.get(name) or {}
        required = conf.get("required") or name == spec.id_field
        if required and (value is None or (isinstance(value, str) and not value.strip())):
            problems.append(Problem("field_required", name))
        enum = conf.get("enum")
        if enum and value is not None and value not in enum:
            problems.append(Problem("field_enum", name,
                                    {"value": _show(value), "allowed": " | ".join(map(str, enum))}))
    geometry_problems = list(geometry_problems)
    problems += geometry_problems
    if geometry_problems:
        return clean, None, problems
    if geom is None:
        problems.append(Problem("geometry_missing"))
        return clean, None, problems
    if not isinstance(geom, shapely.Geometry):
        problems.append(Problem("geometry_unreadable", params={"detail": _show(geom)}))
        return clean, None, problems
    if geom.is_empty:
        problems.append(Problem("geometry_empty"))
        return clean, None, problems
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    target = spec.geometry_type
    geom = _as_multi(geom, target)
    if geom.geom_type != target:
        problems.append(Problem("geometry_type", params={"got": geom.geom_type,
                                                         "expected": target}))
    if not shapely.is_valid(geom):
        problems.append(Problem("geometry_invalid",
                                params={"reason": shapely.is_valid_reason(geom)}))
    elif territory is not None and not territory.covers(geom):
        problems.append(Problem("geometry_outside"))
    return clean, geom, problems


# ---------------------------------------------------------------------------- catalogue
_catalogs: dict[tuple, dict[str, CollectionSpec]] = {}
_manifests: dict[Path, tuple[int, dict]] = {}
_cache_lock = threading.Lock()


def catalog(settings: Settings) -> dict[str, CollectionSpec]:
    cdir = Path(settings.collections_dir)
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in cdir.glob("*.yml")))
    key = (str(cdir), stamp)
    specs = _catalogs.get(key)
    if specs is None:
        specs = {s.id: s for s in load_catalog(cdir)}
        with _cache_lock:
            _catalogs.clear()
            _catalogs[key] = specs
    return specs


def manifest_path(settings: Settings) -> Path:
    return settings.store_dir / ("manifest-postgis.json" if settings.database_url
                                 else "manifest.json")


def manifest(settings: Settings) -> dict[str, Any]:
    path = manifest_path(settings)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    cached = _manifests.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, json.loads(path.read_text()))
        _manifests[path] = cached
    return cached[1]


def feature_spec(settings: Settings, collection_id: str) -> CollectionSpec:
    spec = catalog(settings).get(collection_id)
    if spec is None or spec.kind != "features":
        raise CollectionNotFound("collection_not_found", collection=collection_id)
    return spec


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return os.environ.get("USER") or str(os.getuid())


def open_writer(settings: Settings, collection_id: str, *, user: str | None = None,
                role: str | None = None, source: str = "api", readonly: bool = False,
                audit: bool = True) -> "Writer":
    """The writer of one collection on the configured store (DATABASE_URL or embedded).

    Use it as a context manager: one transaction. `readonly=True` gives a reader (no
    locks, no writes) for ETags and history."""
    spec = feature_spec(settings, collection_id)
    if not readonly and not spec.editable:
        raise NotEditable("not_editable", collection=collection_id)
    entry = manifest(settings).get(collection_id)
    if entry is None:
        raise CollectionNotFound("collection_not_built", status=404, collection=collection_id)
    kwargs = dict(settings=settings, user=user, role=role, source=source, readonly=readonly,
                  audit=audit)
    if entry.get("store") == "postgis":
        return PostGISWriter(spec, entry["table"], **kwargs)
    return GeoPackageWriter(spec, entry["data"], entry.get("table") or spec.table, **kwargs)


# ---------------------------------------------------------------------------- territory
_territories: dict[tuple, Any] = {}


def territory(settings: Settings | None):
    """The union of the `communes` collection buffered by 1 km, prepared (cached)."""
    if settings is None:
        return None
    entry = manifest(settings).get(TERRITORY_COLLECTION)
    if entry is None or entry.get("kind") != "features":
        return None
    if entry.get("store") == "postgis":
        from services import db
        key = ("postgis", db.database_url(), entry["table"])
    else:
        key = ("gpkg", entry["data"], os.stat(entry["data"]).st_mtime_ns)
    geom = _territories.get(key)
    if geom is None:
        if key[0] == "postgis":
            geoms = _postgis_geometries(entry["table"])
        else:
            geoms = _gpkg_geometries(entry["data"], entry.get("table") or TERRITORY_COLLECTION)
        geom = shapely.union_all(geoms).buffer(TERRITORY_BUFFER_M)
        shapely.prepare(geom)
        _territories[key] = geom
    return geom


def _gpkg_geometries(path: str, table: str) -> list[shapely.Geometry]:
    from services.providers.geopackage import gpkg_wkb
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        col = conn.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                           (table,)).fetchone()[0]
        blobs = [r[0] for r in conn.execute(f"SELECT {_q(col)} FROM {_q(table)}")]
    return [shapely.from_wkb(w) for w in map(gpkg_wkb, blobs) if w is not None]


def _postgis_geometries(qualified: str) -> list[shapely.Geometry]:
    from psycopg import sql

    from services import db
    schema, _, table = qualified.rpartition(".")
    with db.pool().connection() as conn:
        col = conn.execute("SELECT f_geometry_column FROM geometry_columns WHERE "
                           "f_table_schema = %s AND f_table_name = %s",
                           (schema or db.schema_name(), table)).fetchone()[0]
        rows = conn.execute(sql.SQL("SELECT ST_AsBinary({}) FROM {}").format(
            sql.Identifier(col), db.qualified(schema or db.schema_name(), table))).fetchall()
    return [shapely.from_wkb(bytes(r[0])) for r in rows if r[0] is not None]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------- writer
class Writer:
    """One transaction on one collection. Subclasses implement the store's SQL."""

    def __init__(self, spec: CollectionSpec, *, settings: Settings | None = None,
                 user: str | None = None, role: str | None = None, source: str = "api",
                 readonly: bool = False, audit: bool = True):
        self.spec = spec
        self.settings = settings
        self.id_field = spec.id_field or "fid"
        self.user = user or os_user()
        self.role = role
        self.source = source
        self.readonly = readonly
        self.audit_enabled = audit and not readonly
        self.columns: dict[str, dict] = {}
        self._rollback_only = False
        self._territory = None
        self._territory_loaded = False
        self.changes = {"insert": 0, "replace": 0, "patch": 0, "delete": 0, "restore": 0}

    # -- transaction ----------------------------------------------------------------
    def __enter__(self) -> "Writer":
        self._begin()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None and not self._rollback_only and not self.readonly:
                self._commit()
            else:
                self._rollback()
        finally:
            self._close()
        return False

    def rollback_only(self) -> None:
        """Roll back at the end of the block even without an error (dry runs)."""
        self._rollback_only = True

    # -- validation -----------------------------------------------------------------
    @property
    def territory(self):
        if not self._territory_loaded:
            self._territory = territory(self.settings)
            self._territory_loaded = True
        return self._territory

    def validate(self, props: dict[str, Any], geom: Any,
                 geometry_problems: Iterable[Problem] = ()):
        return validate_feature(self.spec, self.columns, props, geom, self.territory,
                                geometry_problems)

    def _checked(self, props: dict[str, Any], geom: Any, check: bool,
                 geometry_problems: Iterable[Problem] = ()):
        if check:
            clean, geom, problems = self.validate(props, geom, geometry_problems)
            if problems:
                raise InvalidFeature(problems)
            return clean, geom
        clean = {}
        for name, schema in self.columns.items():
            clean[name] = coerce(name, props.get(name), schema)[0]
        return clean, _as_multi(geom, self.spec.geometry_type)

    def key(self, fid: Any) -> Any:
        """An identifier from a URL or a file in the id column's type."""
        schema = self.columns.get(self.id_field, {"type": "integer"})
        value, problem = coerce(self.id_field, fid, schema)
        return None if problem else value

    # -- verbs ----------------------------------------------------------------------
    def get(self, fid: Any) -> Feature | None:
        key = self.key(fid)
        if key is None:
            return None
        return self._select(key)

    def etag(self, fid: Any) -> str | None:
        feature = self.get(fid)
        return feature_etag(feature) if feature else None

    def insert(self, props: dict[str, Any], geom: Any, *, check: bool = True,
               geometry_problems: Iterable[Problem] = (), action: str = "insert",
               detail: str | None = None) -> Feature:
        clean, geom = self._checked(props, geom, check, geometry_problems)
        key = clean.get(self.id_field)
        if key is not None and self._select(key) is not None:
            raise FeatureExists("feature_exists", id=key, collection=self.spec.id)
        self._insert_row(clean, geom)
        new = self._select(key)
        self._audit(action, key, None, new, detail)
        return new

    def replace(self, fid: Any, props: dict[str, Any], geom: Any, *, check: bool = True,
                current: Feature | None = None, geometry_problems: Iterable[Problem] = (),
                action: str = "replace", detail: str | None = None) -> Feature:
        current = current or self.get(fid)
        if current is None:
            raise FeatureNotFound("feature_not_found", id=fid, collection=self.spec.id)
        props = dict(props)
        given = props.get(self.id_field)
        if given is None or (isinstance(given, str) and not given.strip()):
            props[self.id_field] = current.id
        elif self.key(given) != current.id:
            raise InvalidFeature([Problem("id_mismatch", self.id_field,
                                          {"value": _show(given), "id": current.id})])
        clean, geom = self._checked(props, geom, check, geometry_problems)
        self._update_row(current.id, clean, geom)
        new = self._select(current.id)
        self._audit(action, current.id, current, new, detail)
        return new

    def patch(self, fid: Any, props: dict[str, Any], geom: Any = None, *, check: bool = True,
              current: Feature | None = None, geometry_problems: Iterable[Problem] = (),
              action: str = "patch") -> Feature:
        """Merge `props` into the stored properties (None clears a value); keep the stored
        geometry unless `geom` is given."""
        current = current or self.get(fid)
        if current is None:
            raise FeatureNotFound("feature_not_found", id=fid, collection=self.spec.id)
        merged = {**current.properties, **props}
        geometry_problems = list(geometry_problems)
        return self.replace(fid, merged, current.geometry if geom is None and
                            not geometry_problems else geom, check=check, current=current,
                            geometry_problems=geometry_problems, action=action)

    def get_many(self, fids: Iterable[Any]) -> dict[Any, Feature]:
        """``{fid: feature}`` of the given identifiers that exist (one query per chunk,
        rows locked like :meth:`get`)."""
        keys = {fid: self.key(fid) for fid in fids}
        found = self._select_many([k for k in dict.fromkeys(keys.values()) if k is not None])
        return {fid: found[k] for fid, k in keys.items() if k is not None and k in found}

    def patch_many(self, changes: Iterable[tuple[Feature, dict[str, Any]]], *,
                   action: str = "patch") -> list[Feature]:
        """Bulk :meth:`patch` with ``check=False``: merge each ``props`` into its ``current``
        feature (from :meth:`get_many`), keeping the stored geometry. Same rows and same
        audit entries as one patch per feature, with a few statements instead of several
        per feature."""
        rows, currents = [], []
        for current, props in changes:
            merged = {**current.properties, **props}
            given = merged.get(self.id_field)
            if given is None or (isinstance(given, str) and not given.strip()):
                merged[self.id_field] = current.id
            elif self.key(given) != current.id:
                raise InvalidFeature([Problem("id_mismatch", self.id_field,
                                              {"value": _show(given), "id": current.id})])
            clean, geom = self._checked(merged, current.geometry, False)
            rows.append((current.id, clean, geom))
            currents.append(current)
        if not rows:
            return []
        self._update_rows(rows)
        after = self._select_many([c.id for c in currents])
        news = [after.get(c.id) for c in currents]
        self.changes[action] = self.changes.get(action, 0) + len(currents)
        if self.audit_enabled:
            self._insert_audits([self._audit_record(action, c.id, c, new)
                                 for c, new in zip(currents, news)])
        return news

    def delete(self, fid: Any, *, current: Feature | None = None, action: str = "delete",
               detail: str | None = None) -> Feature:
        current = current or self.get(fid)
        if current is None:
            raise FeatureNotFound("feature_not_found", id=fid, collection=self.spec.id)
        self._delete_row(current.id)
        self._audit(action, current.id, current, None, detail)
        return current

    def restore(self, fid: Any, audit_id: int) -> Feature | None:
        """Bring back the previous version recorded by audit entry `audit_id` (or remove
        the feature if that entry created it). The restore is audited too."""
        entry = self.audit_entry(audit_id)
        key = self.key(fid)
        if entry is None or entry["collection"] != self.spec.id or \
                str(entry["feature_id"]) != str(key):
            raise WriterError("audit_entry_not_found", status=404, audit_id=audit_id, id=fid,
                              collection=self.spec.id)
        current = self.get(fid)
        detail = f"audit {audit_id}"
        previous = entry["previous"]
        if previous is None:
            if current is None:
                raise WriterError("nothing_to_restore", status=409, id=fid, audit_id=audit_id)
            self.delete(fid, current=current, action="restore", detail=detail)
            return None
        target = feature_from_geojson(previous, self.id_field)
        if current is None:
            return self.insert(target.properties, target.geometry, check=False,
                               action="restore", detail=detail)
        return self.replace(fid, target.properties, target.geometry, check=False,
                            current=current, action="restore", detail=detail)

    # -- audit ----------------------------------------------------------------------
    def _audit(self, action: str, fid: Any, before: Feature | None, after: Feature | None,
               detail: str | None = None) -> None:
        self.changes[action] = self.changes.get(action, 0) + 1
        if not self.audit_enabled:
            return
        self._insert_audit(self._audit_record(action, fid, before, after, detail))

    def _audit_record(self, action: str, fid: Any, before: Feature | None,
                      after: Feature | None, detail: str | None = None) -> dict[str, Any]:
        return {
            "at": dt.datetime.now(dt.timezone.utc),
            "username": self.user, "role": self.role, "source": self.source,
            "collection": self.spec.id, "feature_id": str(fid), "action": action,
            "previous": before.to_geojson() if before else None,
            "new": after.to_geojson() if after else None,
            "etag_before": feature_etag(before) if before else None,
            "etag_after": feature_etag(after) if after else None,
            "detail": detail,
        }

    def history(self, fid: Any) -> list[dict[str, Any]]:
        key = self.key(fid)
        return self._audit_rows("feature_id = {p} AND collection = {p}",
                                [str(key if key is not None else fid), self.spec.id])

    def audit_entry(self, audit_id: int) -> dict[str, Any] | None:
        rows = self._audit_rows("id = {p}", [int(audit_id)])
        return rows[0] if rows else None

    # -- store-specific -------------------------------------------------------------
    def _begin(self) -> None: raise NotImplementedError
    def _commit(self) -> None: raise NotImplementedError
    def _rollback(self) -> None: raise NotImplementedError
    def _close(self) -> None: raise NotImplementedError
    def _select(self, key: Any) -> Feature | None: raise NotImplementedError
    def _insert_row(self, props: dict, geom: shapely.Geometry) -> None: raise NotImplementedError
    def _update_row(self, key: Any, props: dict, geom: shapely.Geometry) -> None:
        raise NotImplementedError
    def _delete_row(self, key: Any) -> None: raise NotImplementedError
    def _insert_audit(self, record: dict) -> None: raise NotImplementedError

    def _select_many(self, keys: list[Any]) -> dict[Any, Feature]:
        return {k: f for k in keys if (f := self._select(k)) is not None}

    def _update_rows(self, rows: list[tuple[Any, dict, shapely.Geometry]]) -> None:
        for key, props, geom in rows:
            self._update_row(key, props, geom)

    def _insert_audits(self, records: list[dict]) -> None:
        for record in records:
            self._insert_audit(record)
    def _audit_rows(self, where: str, params: list) -> list[dict]: raise NotImplementedError


def _audit_row(row: Iterable[Any]) -> dict[str, Any]:
    out = dict(zip(AUDIT_COLUMNS, row))
    for key in ("previous", "new"):
        if isinstance(out[key], str):
            out[key] = json.loads(out[key])
    if isinstance(out["at"], dt.datetime):
        out["at"] = out["at"].astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return out


# ---------------------------------------------------------------------------- GeoPackage
def gpkg_blob(geom: shapely.Geometry, srs_id: int = STORAGE_SRID) -> bytes:
    """GeoPackage binary: 'GP', version 0, flags (little-endian, envelope [minx, maxx, miny,
    maxy]), srs_id, envelope, then ISO WKB (little-endian)."""
    if geom is None or geom.is_empty:
        flags = 0b00010001  # empty, no envelope, little-endian
        return b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) + \
            (canonical_wkb(geom) if geom is not None else b"")
    minx, miny, maxx, maxy = geom.bounds
    flags = (1 << 1) | 1
    return (b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) +
            struct.pack("<4d", minx, maxx, miny, maxy) + canonical_wkb(geom))


_SQLITE_TYPES = None


def _sqlite_schema(col_type: str) -> dict:
    global _SQLITE_TYPES
    if _SQLITE_TYPES is None:
        from services.providers.geopackage import SQLITE_TYPES
        _SQLITE_TYPES = SQLITE_TYPES
    base = (col_type or "TEXT").upper().split("(")[0]
    return dict(_SQLITE_TYPES.get(base, {"type": "string"}))


class GeoPackageWriter(Writer):
    """sqlite3 on the collection's GeoPackage; BEGIN IMMEDIATE takes the write lock."""

    def __init__(self, spec: CollectionSpec, path: str | Path, table: str, **kwargs):
        super().__init__(spec, **kwargs)
        self.path = str(path)
        self.table = table
        self.conn: sqlite3.Connection | None = None
        self._bounds: list[float] | None = None

    def _begin(self) -> None:
        from services.providers.geopackage import register_gpkg_functions
        if not os.path.isfile(self.path):
            raise CollectionNotFound("collection_not_built", status=404,
                                     collection=self.spec.id)
        from urllib.request import pathname2url
        uri = f"file:{pathname2url(self.path)}" + ("?mode=ro" if self.readonly else "")
        self.conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None,
                                    check_same_thread=False)
        register_gpkg_functions(self.conn)
        self.conn.execute("BEGIN" if self.readonly else "BEGIN IMMEDIATE")
        row = self.conn.execute("SELECT column_name, srs_id FROM gpkg_geometry_columns "
                                "WHERE table_name = ?", (self.table,)).fetchone()
        self.geom_col, self.srs_id = row
        self.columns = {}
        for _, name, col_type, _, _, pk in self.conn.execute(f"PRAGMA table_info({_q(self.table)})"):
            if pk or name == self.geom_col:
                continue
            self.columns[name] = _sqlite_schema(col_type)
        self._has_audit = bool(self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'").fetchone())

    def _commit(self) -> None:
        if self._bounds is not None:
            minx, miny, maxx, maxy = self._bounds
            self.conn.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                "min_x = min(coalesce(min_x, ?), ?), min_y = min(coalesce(min_y, ?), ?), "
                "max_x = max(coalesce(max_x, ?), ?), max_y = max(coalesce(max_y, ?), ?) "
                "WHERE table_name = ?",
                (minx, minx, miny, miny, maxx, maxx, maxy, maxy, self.table))
        elif any(self.changes.values()):
            self.conn.execute("UPDATE gpkg_contents SET last_change = "
                              "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = ?",
                              (self.table,))
        self.conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self.conn is not None and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _value(self, name: str, value: Any) -> Any:
        if value is not None and self.columns[name].get("type") == "boolean":
            return int(bool(value))
        return value

    def _select(self, key: Any) -> Feature | None:
        cols = list(self.columns)
        select = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        row = self.conn.execute(f"SELECT {select} FROM {_q(self.table)} WHERE "
                                f"{_q(self.id_field)} = ? LIMIT 1", (key,)).fetchone()
        if row is None:
            return None
        return self._feature(cols, row, key)

    def _select_many(self, keys: list[Any]) -> dict[Any, Feature]:
        cols = list(self.columns)
        select = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        id_pos = cols.index(self.id_field) if self.id_field in cols else None
        out: dict[Any, Feature] = {}
        if id_pos is None:
            return super()._select_many(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.conn.execute(
                f"SELECT {select} FROM {_q(self.table)} WHERE {_q(self.id_field)} IN "
                f"({', '.join('?' * len(chunk))})", chunk).fetchall()
            wanted = set(chunk)
            for row in rows:  # first row per key, like _select's LIMIT 1
                key = row[id_pos]
                if key in wanted and key not in out:
                    out[key] = self._feature(cols, row, key)
        return out

    def _update_rows(self, rows: list[tuple[Any, dict, shapely.Geometry]]) -> None:
        cols = list(self.columns)
        sets = ", ".join(f"{_q(c)} = ?" for c in cols + [self.geom_col])
        self.conn.executemany(
            f"UPDATE {_q(self.table)} SET {sets} WHERE {_q(self.id_field)} = ?",
            [[self._value(c, props.get(c)) for c in cols] + [gpkg_blob(geom, self.srs_id), key]
             for key, props, geom in rows])
        for _, _, geom in rows:
            self._track(geom)

    def _insert_audits(self, records: list[dict]) -> None:
        if not records:
            return
        if not self._has_audit:
            self._insert_audit(records[0])
            records = records[1:]
        cols = AUDIT_COLUMNS[1:]
        params = []
        for record in records:
            values = dict(record)
            values["at"] = record["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            for key in ("previous", "new"):
                if values[key] is not None:
                    values[key] = json.dumps(values[key], ensure_ascii=False)
            params.append([values[c] for c in cols])
        self.conn.executemany(f"INSERT INTO audit ({', '.join(cols)}) VALUES "
                              f"({', '.join('?' * len(cols))})", params)

    def _feature(self, cols: list[str], row: tuple, key: Any) -> Feature:
        from services.providers.geopackage import gpkg_wkb
        props = {}
        for name, value in zip(cols, row):
            schema = self.columns[name]
            if value is not None and schema.get("type") == "boolean":
                value = bool(value)
            props[name] = value
        wkb = gpkg_wkb(row[-1])
        geom = shapely.from_wkb(wkb) if wkb is not None else shapely.Point()
        return Feature(props.get(self.id_field, key), props, geom)

    def _track(self, geom: shapely.Geometry) -> None:
        minx, miny, maxx, maxy = geom.bounds
        if self._bounds is None:
            self._bounds = [minx, miny, maxx, maxy]
        else:
            b = self._bounds
            self._bounds = [min(b[0], minx), min(b[1], miny), max(b[2], maxx), max(b[3], maxy)]

    def _insert_row(self, props: dict, geom: shapely.Geometry) -> None:
        cols = list(self.columns)
        names = ", ".join([_q(c) for c in cols] + [_q(self.geom_col)])
        marks = ", ".join("?" * (len(cols) + 1))
        try:
            self.conn.execute(f"INSERT INTO {_q(self.table)} ({names}) VALUES ({marks})",
                              [self._value(c, props.get(c)) for c in cols] +
                              [gpkg_blob(geom, self.srs_id)])
        except sqlite3.IntegrityError as err:  # the unique index on the id field
            raise FeatureExists("feature_exists", id=props.get(self.id_field),
                                collection=self.spec.id) from err
        self._track(geom)

    def _update_row(self, key: Any, props: dict, geom: shapely.Geometry) -> None:
        cols = list(self.columns)
        sets = ", ".join(f"{_q(c)} = ?" for c in cols + [self.geom_col])
        self.conn.execute(f"UPDATE {_q(self.table)} SET {sets} WHERE {_q(self.id_field)} = ?",
                          [self._value(c, props.get(c)) for c in cols] +
                          [gpkg_blob(geom, self.srs_id), key])
        self._track(geom)

    def _delete_row(self, key: Any) -> None:
        self.conn.execute(f"DELETE FROM {_q(self.table)} WHERE {_q(self.id_field)} = ?", (key,))

    def _insert_audit(self, record: dict) -> None:
        if not self._has_audit:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "at TEXT NOT NULL, username TEXT, role TEXT, source TEXT, collection TEXT NOT NULL, "
                "feature_id TEXT NOT NULL, action TEXT NOT NULL, previous TEXT, new TEXT, "
                "etag_before TEXT, etag_after TEXT, detail TEXT)")
            self.conn.execute("CREATE INDEX IF NOT EXISTS audit_feature_idx ON audit "
                              "(collection, feature_id)")
            self._has_audit = True
        values = dict(record)
        values["at"] = record["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for key in ("previous", "new"):
            if values[key] is not None:
                values[key] = json.dumps(values[key], ensure_ascii=False)
        cols = AUDIT_COLUMNS[1:]
        self.conn.execute(f"INSERT INTO audit ({', '.join(cols)}) VALUES "
                          f"({', '.join('?' * len(cols))})", [values[c] for c in cols])

    def _audit_rows(self, where: str, params: list) -> list[dict]:
        if not self._has_audit:
            return []
        rows = self.conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit WHERE "
                                 f"{where.format(p='?')} ORDER BY id", params).fetchall()
        return [_audit_row(r) for r in rows]


# ---------------------------------------------------------------------------- PostGIS
_pg_columns: dict[tuple, tuple[float, str, dict]] = {}
_pg_audit_ready: set[tuple] = set()
PG_SCHEMA_TTL = 60.0


class PostGISWriter(Writer):
    """psycopg on a pooled connection: one transaction, rows locked with FOR UPDATE."""

    def __init__(self, spec: CollectionSpec, qualified: str, **kwargs):
        super().__init__(spec, **kwargs)
        from services import db
        schema, _, table = qualified.rpartition(".")
        self.schema = schema or db.schema_name()
        self.table_name = table
        self.conn = None
        self._cm = None

    def _t(self):
        from services import db
        return db.qualified(self.schema, self.table_name)

    def _audit_t(self):
        from services import db
        return db.qualified(self.schema, "audit")

    def _begin(self) -> None:
        from services import db
        self._ensure_audit_table()
        self._cm = db.pool().connection()
        self.conn = self._cm.__enter__()
        try:
            self.geom_col, self.columns = self._schema()
            if self.readonly:
                self.conn.execute("SET TRANSACTION READ ONLY")
        except BaseException:
            self._rollback()
            self._close()
            raise

    def _schema(self) -> tuple[str, dict]:
        from services import db
        from services.providers.postgis import PG_TYPES
        key = (db.database_url(), self.schema, self.table_name)
        cached = _pg_columns.get(key)
        if cached and time.monotonic() - cached[0] < PG_SCHEMA_TTL:
            return cached[1], dict(cached[2])
        geo = self.conn.execute("SELECT f_geometry_column FROM geometry_columns WHERE "
                                "f_table_schema = %s AND f_table_name = %s",
                                (self.schema, self.table_name)).fetchone()
        if geo is None:
            raise CollectionNotFound("collection_not_built", status=404,
                                     collection=self.spec.id)
        pk = self.conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (f'"{self.schema}"."{self.table_name}"',)).fetchone()
        rows = self.conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE "
            "table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (self.schema, self.table_name)).fetchall()
        skip = {geo[0], pk[0] if pk else "fid"}
        columns = {name: dict(PG_TYPES.get(dtype, {"type": "string"}))
                   for name, dtype in rows if name not in skip}
        self.conn.rollback()  # end the catalogue read; the work starts a fresh transaction
        _pg_columns[key] = (time.monotonic(), geo[0], columns)
        return geo[0], dict(columns)

    def _ensure_audit_table(self) -> None:
        """Create <schema>.audit once, outside the writers' transactions (no lock held)."""
        if not self.audit_enabled:
            return
        from psycopg import sql

        from services import db
        key = (db.database_url(), self.schema)
        if key in _pg_audit_ready:
            return
        with db.pool().connection() as conn:
            exists = conn.execute("SELECT to_regclass(%s)",
                                  (f'"{self.schema}".audit',)).fetchone()[0]
            if exists is None:
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                             (f"artois-audit-{self.schema}",))
                conn.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id bigint GENERATED ALWAYS AS IDENTITY "
                    "PRIMARY KEY, at timestamptz NOT NULL, username text, role text, source text, "
                    "collection text NOT NULL, feature_id text NOT NULL, action text NOT NULL, "
                    "previous jsonb, new jsonb, etag_before text, etag_after text, detail text)"
                ).format(self._audit_t()))
                conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (collection, feature_id)")
                             .format(sql.Identifier("audit_feature_idx"), self._audit_t()))
            conn.commit()
        _pg_audit_ready.add(key)

    def _commit(self) -> None:
        self.conn.commit()

    def _rollback(self) -> None:
        # a connection lost with the database has nothing to roll back: the server ends the
        # transaction itself; raising here would hide the error that lost it
        if self.conn is not None and not self.conn.broken:
            self.conn.rollback()

    def _close(self) -> None:
        if self._cm is not None:
            self._cm.__exit__(None, None, None)
            self._cm = None
            self.conn = None

    def _param(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        fmt = self.columns[name].get("format")
        if fmt == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if fmt == "date-time" and isinstance(value, str):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value

    @staticmethod
    def _canonical(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
            return float(value)  # Decimal
        return value

    def _select(self, key: Any) -> Feature | None:
        from psycopg import sql
        cols = list(self.columns)
        query = sql.SQL("SELECT {}, ST_AsBinary({}, 'NDR') FROM {} WHERE {} = %s LIMIT 1{}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(self.geom_col),
            self._t(), sql.Identifier(self.id_field),
            sql.SQL("" if self.readonly else " FOR UPDATE"))
        row = self.conn.execute(query, (key,)).fetchone()
        if row is None:
            return None
        return self._feature(cols, row, key)

    def _feature(self, cols: list[str], row: tuple, key: Any) -> Feature:
        props = {name: self._canonical(value) for name, value in zip(cols, row)}
        geom = shapely.from_wkb(bytes(row[-1]))
        return Feature(props.get(self.id_field, key), props, geom)

    def _select_many(self, keys: list[Any]) -> dict[Any, Feature]:
        from psycopg import sql
        cols = list(self.columns)
        if self.id_field not in cols or not keys:
            return super()._select_many(keys)
        id_pos = cols.index(self.id_field)
        query = sql.SQL("SELECT {}, ST_AsBinary({}, 'NDR') FROM {} WHERE {} = ANY(%s){}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(self.geom_col),
            self._t(), sql.Identifier(self.id_field),
            sql.SQL("" if self.readonly else " FOR UPDATE"))
        out: dict[Any, Feature] = {}
        wanted = set(keys)
        for row in self.conn.execute(query, (list(keys),)).fetchall():
            key = row[id_pos]
            if key in wanted and key not in out:
                out[key] = self._feature(cols, row, key)
        return out

    def _update_rows(self, rows: list[tuple[Any, dict, shapely.Geometry]]) -> None:
        from psycopg import sql
        cols = list(self.columns)
        sets = [sql.SQL("{} = %s").format(sql.Identifier(c)) for c in cols]
        sets.append(sql.SQL("{} = ST_GeomFromWKB(%s, {})").format(
            sql.Identifier(self.geom_col), sql.Literal(STORAGE_SRID)))
        query = sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(
            self._t(), sql.SQL(", ").join(sets), sql.Identifier(self.id_field))
        with self.conn.cursor() as cur:
            cur.executemany(query, [[self._param(c, props.get(c)) for c in cols] +
                                    [canonical_wkb(geom), key] for key, props, geom in rows])

    def _insert_audits(self, records: list[dict]) -> None:
        from psycopg import sql
        from psycopg.types.json import Jsonb
        if not records:
            return
        cols = AUDIT_COLUMNS[1:]
        params = []
        for record in records:
            values = dict(record)
            for key in ("previous", "new"):
                if values[key] is not None:
                    values[key] = Jsonb(values[key])
            params.append([values[c] for c in cols])
        with self.conn.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                self._audit_t(), sql.SQL(", ").join(sql.Identifier(c) for c in cols),
                sql.SQL(", ").join(sql.Placeholder() * len(cols))), params)

    def _insert_row(self, props: dict, geom: shapely.Geometry) -> None:
        from psycopg import sql
        cols = list(self.columns)
        query = sql.SQL("INSERT INTO {} ({}, {}) VALUES ({}, ST_GeomFromWKB(%s, {}))").format(
            self._t(), sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            sql.Identifier(self.geom_col), sql.SQL(", ").join(sql.Placeholder() * len(cols)),
            sql.Literal(STORAGE_SRID))
        from psycopg import errors
        try:
            self.conn.execute(query, [self._param(c, props.get(c)) for c in cols] +
                              [canonical_wkb(geom)])
        except errors.UniqueViolation as err:  # inserted meanwhile by another transaction
            raise FeatureExists("feature_exists", id=props.get(self.id_field),
                                collection=self.spec.id) from err

    def _update_row(self, key: Any, props: dict, geom: shapely.Geometry) -> None:
        from psycopg import sql
        cols = list(self.columns)
        sets = [sql.SQL("{} = %s").format(sql.Identifier(c)) for c in cols]
        sets.append(sql.SQL("{} = ST_GeomFromWKB(%s, {})").format(
            sql.Identifier(self.geom_col), sql.Literal(STORAGE_SRID)))
        query = sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(
            self._t(), sql.SQL(", ").join(sets), sql.Identifier(self.id_field))
        self.conn.execute(query, [self._param(c, props.get(c)) for c in cols] +
                          [canonical_wkb(geom), key])

    def _delete_row(self, key: Any) -> None:
        from psycopg import sql
        self.conn.execute(sql.SQL("DELETE FROM {} WHERE {} = %s").format(
            self._t(), sql.Identifier(self.id_field)), (key,))

    def _insert_audit(self, record: dict) -> None:
        from psycopg import sql
        from psycopg.types.json import Jsonb
        values = dict(record)
        for key in ("previous", "new"):
            if values[key] is not None:
                values[key] = Jsonb(values[key])
        cols = AUDIT_COLUMNS[1:]
        self.conn.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self._audit_t(), sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            sql.SQL(", ").join(sql.Placeholder() * len(cols))), [values[c] for c in cols])

    def _audit_rows(self, where: str, params: list) -> list[dict]:
        from psycopg import sql
        exists = self.conn.execute("SELECT to_regclass(%s)",
                                   (f'"{self.schema}".audit',)).fetchone()[0]
        if exists is None:
            return []
        query = sql.SQL("SELECT {} FROM {} WHERE " + where.format(p="%s") + " ORDER BY id").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in AUDIT_COLUMNS), self._audit_t())
        return [_audit_row(r) for r in self.conn.execute(query, params).fetchall()]


# ---------------------------------------------------------------------------- build
def add_missing_rows(spec: CollectionSpec, path: Path, gdf, date_columns: Iterable[str] = ()
                     ) -> dict[str, int]:
    """`artois-geo build` on an editable collection whose GeoPackage exists: insert only the
    source rows whose identifier is missing, so edits made since are never lost."""
    writer = GeoPackageWriter(spec, path, spec.table, audit=False)
    geom_name = gdf.geometry.name
    props = [c for c in gdf.columns if c != geom_name]
    added = 0
    with writer:
        existing = {r[0] for r in writer.conn.execute(
            f"SELECT {_q(writer.id_field)} FROM {_q(writer.table)}")}
        if writer._has_audit:  # a feature deleted through the API stays deleted
            existing |= {writer.key(r[0]) for r in writer.conn.execute(
                "SELECT feature_id FROM audit a WHERE collection = ? AND action = 'delete' "
                "AND id = (SELECT max(id) FROM audit b WHERE b.collection = a.collection "
                "AND b.feature_id = a.feature_id)", (spec.id,))}
        for values, geom in zip(gdf[props].itertuples(index=False, name=None), gdf.geometry):
            row = dict(zip(props, values))
            key = writer.key(row.get(writer.id_field))
            if key is None or key in existing:
                continue
            writer.insert({k: v for k, v in row.items() if k in writer.columns}, geom,
                          check=False, action="build")
            existing.add(key)
            added += 1
        count = writer.conn.execute(f"SELECT count(*) FROM {_q(writer.table)}").fetchone()[0]
    return {"added": added, "count": count}
