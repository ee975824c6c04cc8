"""Writing features, whatever the store: one `Writer` = one transaction.

    with open_writer(settings, "friches", user="alice", role="editor") as w:
        current = w.get("62846_8397")                 # locked for the transaction
        w.patch("62846_8397", {"site_statut": "friche avec projet"})

Leaving the block commits; any exception rolls everything back (all-or-nothing). The
embedded store writes the collection's GeoPackage with Python's sqlite3 (`BEGIN IMMEDIATE`,
proper GeoPackage geometry blobs, the R*Tree kept by GDAL's triggers:
services/store/sqlite/writer.py); the PostGIS store uses psycopg (`SELECT ... FOR UPDATE`
before every read-modify-write: services/store/postgis/writer.py). Identifiers are quoted and
values are bound parameters.

A collection file may name a write hook, ``on_write: "package.module:Class"`` (see
`load_hook`): the writer opens the hook's `related` collections of the same store in the SAME
transaction (GeoPackage: ATTACHed databases; PostGIS: the same connection) and calls the hook
before validating an insert (`prepare`), after every change (`changed`) and before the commit
(`before_commit`), e.g. a land sale that changes a lot and its park's figures (services/zae.py).

Every change writes an audit record in the same transaction: who, role, when (UTC), the
collection, the feature id, the action, and the previous and new versions as GeoJSON in
EPSG:2154 (PostGIS: table `<schema>.audit`; embedded: a plain `audit` table in the
collection's GeoPackage).
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from typing import Any, Iterable

import shapely

from services.catalog import CollectionSpec
from services.settings import Settings
from services.store.catalog import get_catalog
from services.store.feature import (CollectionNotFound, Feature, FeatureExists,
                                    FeatureNotFound, InvalidFeature, NotEditable, Problem,
                                    WriterError, _as_multi, _show, coerce, feature_etag,
                                    feature_from_geojson, validate_feature)

TERRITORY_COLLECTION = "communes"
TERRITORY_BUFFER_M = 1000.0
AUDIT_COLUMNS = ("id", "at", "username", "role", "source", "collection", "feature_id",
                 "action", "previous", "new", "etag_before", "etag_after", "detail")


def feature_spec(settings: Settings, collection_id: str) -> CollectionSpec:
    spec = get_catalog(settings).spec(collection_id)
    if spec is None or spec.kind != "features":
        raise CollectionNotFound("collection_not_found", collection=collection_id)
    return spec


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry (getpass reads $USER first)
        return str(os.getuid())


def open_writer(settings: Settings, collection_id: str, *, user: str | None = None,
                role: str | None = None, source: str = "api", readonly: bool = False,
                audit: bool = True, hooks: bool = True) -> "Writer":
    """The writer of one collection on the configured store (DATABASE_URL or embedded).

    Use it as a context manager: one transaction. `readonly=True` gives a reader (no
    locks, no writes) for ETags and history."""
    from services.store import backend_for
    spec = feature_spec(settings, collection_id)
    if not readonly and not spec.editable:
        raise NotEditable("not_editable", collection=collection_id)
    entry = get_catalog(settings).entry(collection_id)
    if entry is None:
        raise CollectionNotFound("collection_not_built", status=404, collection=collection_id)
    writer = backend_for(entry).writer(spec, entry, settings=settings, user=user, role=role,
                                       source=source, readonly=readonly, audit=audit)
    if hooks and not readonly:
        writer.attach_hook(settings)
    return writer


# ---------------------------------------------------------------------------- write hooks
def write_hooks(spec: CollectionSpec) -> dict[str, Any]:
    """The hook keys of a collection file that it declares (`on_write`, `after_build`,
    `refresh_after`: services/catalog.py CollectionSpec)."""
    return {k: getattr(spec, k) for k in ("on_write", "after_build", "refresh_after")
            if getattr(spec, k)}


def refresh_dependents(settings: Settings, changed: Iterable[str],
                       user: str | None = None) -> int:
    """After a committed write of the collections `changed` (Part 4, import): the
    ``refresh_after: {collection: "module:function"}`` of the collection files whose derived
    figures read them (e.g. a park's friches count), each function called once as
    ``function(settings, user=user)`` in its own transaction. Returns how many ran."""
    changed, done = set(changed), set()
    for spec in get_catalog(settings).specs.values():
        for cid, dotted in (write_hooks(spec).get("refresh_after") or {}).items():
            if cid in changed and dotted not in done:
                done.add(dotted)
                load_hook(dotted)(settings, user=user)
    return len(done)


def load_hook(dotted: str):
    """The object named by ``package.module:name``."""
    import importlib
    module, _, name = dotted.partition(":")
    if not module or not name:
        raise ValueError(f"hook {dotted!r}: 'package.module:name' expected")
    return getattr(importlib.import_module(module), name)


# ---------------------------------------------------------------------------- territory
_territories: dict[tuple, Any] = {}


def territory(settings: Settings | None):
    """The union of the `communes` collection buffered by 1 km, prepared (cached)."""
    from services.store import backend_for
    if settings is None:
        return None
    entry = get_catalog(settings).entry(TERRITORY_COLLECTION)
    if entry is None or entry.get("kind") != "features":
        return None
    backend = backend_for(entry)
    key = backend.version(entry)
    geom = _territories.get(key)
    if geom is None:
        geom = shapely.union_all(backend.geometries(entry)).buffer(TERRITORY_BUFFER_M)
        shapely.prepare(geom)
        _territories[key] = geom
    return geom


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
        self.hook = None                                  # the collection's write hook
        self.related_entries: dict[str, tuple] = {}       # {id: (spec, entry)} to open too
        self.siblings: dict[str, "Writer"] = {}           # their writers, same transaction
        self.parent: "Writer | None" = None               # set on a sibling

    def attach_hook(self, settings: Settings) -> None:
        """Load the collection's `on_write` hook and note the related collections it needs
        (opened with this writer, in its transaction, by the store's `_begin`)."""
        dotted = write_hooks(self.spec).get("on_write")
        if not dotted:
            return
        catalog = get_catalog(settings)
        store = (catalog.entry(self.spec.id) or {}).get("store")
        hook = load_hook(dotted)(self)
        for cid in getattr(hook, "related", ()):
            if cid == self.spec.id:
                continue
            entry = catalog.entry(cid)
            if entry is None or entry.get("store") != store:  # not built (yet), or in
                continue                                       # another store: done without
            self.related_entries[cid] = (feature_spec(settings, cid), entry)
        self.hook = hook

    def related(self, collection_id: str) -> "Writer":
        """The writer of a related collection, in this writer's transaction."""
        return self if collection_id == self.spec.id else self.siblings[collection_id]

    def _sibling_kwargs(self) -> dict[str, Any]:
        return {"settings": self.settings, "user": self.user, "role": self.role,
                "source": self.source, "audit": self.audit_enabled}

    # -- transaction ----------------------------------------------------------------
    def __enter__(self) -> "Writer":
        self._begin()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is None and not self._rollback_only and not self.readonly:
                try:
                    if self.hook is not None:
                        self.hook.before_commit()
                    self._commit()
                except BaseException:
                    self._rollback()
                    raise
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
                 geometry_problems: Iterable[Problem] = (), current: Feature | None = None,
                 readonly: bool = True):
        clean, geom, problems = validate_feature(self.spec, self.columns, props, geom,
                                                 self.territory, geometry_problems)
        if readonly:
            problems = problems + self.readonly_problems(clean, current)
        if self.hook is not None:
            problems += self.hook.check(clean, current)
        return clean, geom, problems

    def readonly_problems(self, props: dict[str, Any], current: Feature | None) -> list[Problem]:
        """Fields declared `readonly: true` (derived figures, filled by the write hook) that
        a change would set to another value than the stored one (a creation's are computed:
        the write hook replaces them). Checked on the caller's values, before the hook."""
        problems = []
        if current is None:
            return problems
        for name, conf in (self.spec.fields or {}).items():
            if not isinstance(conf, dict) or not conf.get("readonly") or name not in props \
                    or name not in self.columns:
                continue
            value, problem = coerce(name, props[name], self.columns[name])
            if problem:  # reported by the validation
                continue
            stored = current.properties.get(name)
            same = value == stored or (isinstance(value, (int, float)) and
                                       isinstance(stored, (int, float)) and
                                       abs(value - stored) <= 1e-9 * max(1.0, abs(stored)))
            if value is not None and not same:
                problems.append(Problem("field_readonly", name, {"value": _show(value)}))
        return problems

    def _checked(self, props: dict[str, Any], geom: Any, check: bool,
                 geometry_problems: Iterable[Problem] = (), current: Feature | None = None,
                 early: Iterable[Problem] = ()):
        if check:
            clean, geom, problems = self.validate(props, geom, geometry_problems, current,
                                                  readonly=False)
            problems = list(early) + problems
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
        if self.hook is not None:
            props, geom = self.hook.prepare(dict(props), geom, None)
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
        props = self._keep_id(props, current)
        early = self.readonly_problems(props, current) if check else []
        if self.hook is not None:
            props, geom = self.hook.prepare(props, geom, current)
        clean, geom = self._checked(props, geom, check, geometry_problems, current, early)
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

    def _keep_id(self, props: dict[str, Any], current: Feature) -> dict[str, Any]:
        """`props` with the identifier of `current` (given empty: filled in; another one:
        refused)."""
        props = dict(props)
        given = props.get(self.id_field)
        if given is None or (isinstance(given, str) and not given.strip()):
            props[self.id_field] = current.id
        elif self.key(given) != current.id:
            raise InvalidFeature([Problem("id_mismatch", self.id_field,
                                          {"value": _show(given), "id": current.id})])
        return props

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
            merged = self._keep_id({**current.properties, **props}, current)
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
        if self.hook is not None:
            for c, new in zip(currents, news):
                self.hook.changed(action, c, new)
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
        if self.audit_enabled:
            self._insert_audit(self._audit_record(action, fid, before, after, detail))
        if self.hook is not None:
            self.hook.changed(action, before, after)

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

    @staticmethod
    def _audit_params(record: dict[str, Any], encode_json, encode_time=None) -> list[Any]:
        """The values of an audit record in AUDIT_COLUMNS order (without `id`), the
        versions encoded by `encode_json`, the time by `encode_time` if given."""
        values = dict(record)
        if encode_time is not None:
            values["at"] = encode_time(record["at"])
        for key in ("previous", "new"):
            if values[key] is not None:
                values[key] = encode_json(values[key])
        return [values[c] for c in AUDIT_COLUMNS[1:]]

    def history(self, fid: Any) -> list[dict[str, Any]]:
        key = self.key(fid)
        return self._audit_rows("feature_id = {p} AND collection = {p}",
                                [str(key if key is not None else fid), self.spec.id])

    def select_where(self, field: str | None = None, value: Any = None) -> list[Feature]:
        """The features whose `field` equals `value` (every feature without `field`), not
        locked: a hook reads a park's lots after locking the park row."""
        if field is not None and field not in self.columns:
            raise ValueError(f"{self.spec.id}: no column {field!r}")
        return self._select_where(field, value)

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
    def _select_where(self, field: str | None, value: Any) -> list[Feature]:
        raise NotImplementedError

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
