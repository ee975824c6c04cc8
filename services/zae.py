"""The business-park observatory's consistency (issue 17, points 2 and 3): land sales,
lots and the parks' derived figures, kept together in ONE store transaction.

The collection files of `zae`, `zae-lots` and `cessions` name `ParkFigures` as their write
hook (``on_write: services.zae:ParkFigures``, services/store/writer.py). Whatever writes
one of them (Part 4, `artois-geo import`, `restore`), the writer opens the other two in the
same transaction and this hook:

- fills a sale in (`prepare`): its identifier, park, surface, date and geometry from its
  lot when not given, so that ``{"lot_id": …, "acquereur_type": …}`` is a whole sale;
- checks it (`check`, with the validation: 400): the lot exists, the park matches;
- applies it (`changed`, under the lot's lock: 409 when refused): a sale makes its lot
  `cédé` (only a `disponible` or `réservé` lot can be sold); undoing a sale (DELETE)
  makes the lot `disponible` again; a sale cannot move to another lot;
- recomputes (`before_commit`) the derived figures of every park touched, after locking the
  park's row (PostGIS: FOR UPDATE, so two sales in one park never lose a figure; GeoPackage:
  the group lock), audited on the park with source ``derived`` (its history gives its
  availability at any past date).

The figures (`park_figures`, pure) come from the park's lots and the friches layer; the
collection file of `zae` declares them ``readonly: true`` (a write changing one: 400).
`recompute_all` runs after a build (``after_build``); `recompute_friches` after a committed
Part 4 write or import of friches (``refresh_after`` in zae.yml: its own transaction, the
changed parks locked, audited with source ``derived``). Never raises for lots of a park that does not exist (figures only for parks).
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Iterable

import shapely

from services.store.feature import Feature, Problem, WriterError

PARKS, LOTS, SALES, FRICHES = "zae", "zae-lots", "cessions", "friches"
STATUTS = ("disponible", "réservé", "cédé", "occupé")
SELLABLE = ("disponible", "réservé")
PLURAL = {"disponible": "disponibles", "réservé": "reserves", "cédé": "cedes",
          "occupé": "occupes"}
SURFACE = {"disponible": "surface_disponible_ha", "réservé": "surface_reservee_ha",
           "cédé": "surface_cedee_ha", "occupé": "surface_occupee_ha"}
DERIVED = (*SURFACE.values(), *(f"lots_{p}" for p in PLURAL.values()), "lots_nombre",
           "reserve_amenagee_ha", "reserve_non_amenagee_ha", "sites_actifs", "friches_nombre")
DERIVED_SOURCE = "derived"
DERIVED_ACTION = "derive"
MAX_PARKS_PER_WRITE = 10_000  # bound of the parks recomputed by one transaction


class SaleConflict(WriterError):
    """A sale or an undo refused by the lot's state: 409."""
    status, code = 409, "Conflict"


# ---------------------------------------------------------------------------- pure core
def lot_surface_m2(props: dict[str, Any], geom: shapely.Geometry | None = None) -> float:
    value = props.get("surface_m2")
    if isinstance(value, (int, float)) and value >= 0:
        return float(value)
    return float(geom.area) if geom is not None and not geom.is_empty else 0.0


def park_figures(lots: Iterable[tuple[dict[str, Any], Any]], friches: int) -> dict[str, Any]:
    """The derived figures of one park from its lots ``(properties, geometry)`` and the
    number of friches intersecting it. Surfaces in ha (4 decimals: 1 m²); the reserve is
    the land not yet sold (`disponible` + `réservé`), developed (`amenage`) or not; the
    active sites are the occupied lots."""
    surface = dict.fromkeys(STATUTS, 0.0)
    count = dict.fromkeys(STATUTS, 0)
    reserve = {True: 0.0, False: 0.0}
    for props, geom in lots:
        statut = props.get("statut")
        if statut not in surface:
            continue
        m2 = lot_surface_m2(props, geom)
        surface[statut] += m2
        count[statut] += 1
        if statut in SELLABLE:
            reserve[bool(props.get("amenage"))] += m2
    out: dict[str, Any] = {SURFACE[s]: round(surface[s] / 1e4, 4) for s in STATUTS}
    out.update({f"lots_{PLURAL[s]}": count[s] for s in STATUTS})
    out["lots_nombre"] = sum(count.values())
    out["reserve_amenagee_ha"] = round(reserve[True] / 1e4, 4)
    out["reserve_non_amenagee_ha"] = round(reserve[False] / 1e4, 4)
    out["sites_actifs"] = count["occupé"]
    out["friches_nombre"] = int(friches)
    return out


def friches_count(park: shapely.Geometry | None, friches: list[shapely.Geometry]) -> int:
    if park is None or park.is_empty:
        return 0
    shapely.prepare(park)
    return int(sum(1 for g in friches if g is not None and park.intersects(g)))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))
    return a == b


# ---------------------------------------------------------------------------- the hook
def _friches_geometries(settings) -> list[shapely.Geometry]:
    """The friches layer's geometries (committed data, read outside the transaction)."""
    from services.store import backend_for
    from services.store.catalog import get_catalog
    if settings is None:
        return []
    entry = get_catalog(settings).entry(FRICHES)
    if entry is None or entry.get("kind") != "features":
        return []
    return list(backend_for(entry).geometries(entry))


class ParkFigures:
    """The write hook of `zae`, `zae-lots` and `cessions` (see the module's text)."""

    related = (PARKS, LOTS, SALES)

    def __init__(self, writer):
        self.w = writer
        self.dirty: set[Any] = set()
        self._friches: list | None = None
        self._deriving = False  # writing the figures themselves (before_commit)

    def _writer(self, cid: str):
        if cid == self.w.spec.id:
            return self.w
        return self.w.siblings.get(cid)

    # -- prepare / check --------------------------------------------------------------
    def prepare(self, props: dict[str, Any], geom: Any,
                current: Feature | None) -> tuple[dict[str, Any], Any]:
        """Before the validation of a creation (`current` None) or a change."""
        if self.w.spec.id == PARKS:
            if self._deriving:
                return props, geom
            return self._park_prepared(props, geom, current), geom
        if self.w.spec.id != SALES or current is not None:
            return props, geom
        lots = self._writer(LOTS)
        lot = lots.get(props.get("lot_id")) if lots is not None and \
            props.get("lot_id") not in (None, "") else None
        if lot is None:
            return props, geom
        if props.get("id") in (None, ""):
            props["id"] = f"CES-{lot.id}-{uuid.uuid4().hex[:8]}"
        if props.get("zae_id") in (None, ""):
            props["zae_id"] = lot.properties.get("zae_id")
        if props.get("surface_m2") is None:
            props["surface_m2"] = lot_surface_m2(lot.properties, lot.geometry)
        if props.get("date") in (None, ""):
            props["date"] = dt.datetime.now(dt.timezone.utc).date().isoformat()
        if geom is None:
            geom = lot.geometry
        return props, geom

    def _park_prepared(self, props: dict[str, Any], geom: Any,
                       current: Feature | None) -> dict[str, Any]:
        """A park's derived figures, in the row written (no separate version): computed on a
        creation (whatever was given) and when its outline changes (friches inside); else
        the stored ones (a PUT may leave them out; other values were refused before)."""
        moved = current is not None and isinstance(geom, shapely.Geometry) and \
            not geom.equals(current.geometry)
        if current is not None and not moved:
            for name in DERIVED:
                if name in current.properties:
                    props[name] = current.properties[name]
            return props
        lots = self._writer(LOTS)
        members = [] if lots is None or props.get("id") in (None, "") else \
            lots.select_where("zae_id", str(props["id"]))  # ids are text, even if typed 12
        if self._friches is None:
            self._friches = _friches_geometries(self.w.settings)
        figures = park_figures(((f.properties, f.geometry) for f in members),
                               friches_count(geom if isinstance(geom, shapely.Geometry)
                                             else None, self._friches))
        props.update({k: v for k, v in figures.items() if k in self.w.columns})
        return props

    def check(self, clean: dict[str, Any], current: Feature | None) -> list[Problem]:
        """Problems of a sale or a lot that the validation reports (400, import rows)."""
        if self.w.spec.id == SALES:
            lots = self._writer(LOTS)
            lot_id = clean.get("lot_id")
            if lots is None or lot_id is None:
                return []
            lot = lots.get(lot_id)
            if lot is None:
                return [Problem("sale_lot_unknown", "lot_id", {"lot": lot_id})]
            if clean.get("zae_id") is not None and clean["zae_id"] != lot.properties.get("zae_id"):
                return [Problem("sale_park_mismatch", "zae_id", {
                    "lot": lot_id, "zae": clean["zae_id"],
                    "lot_zae": lot.properties.get("zae_id")})]
        elif self.w.spec.id == LOTS:
            parks = self._writer(PARKS)
            zae_id = clean.get("zae_id")
            if parks is not None and zae_id is not None and parks.get(zae_id) is None:
                return [Problem("lot_park_unknown", "zae_id", {"zae": zae_id})]
        return []

    # -- changes ------------------------------------------------------------------------
    def changed(self, action: str, before: Feature | None, after: Feature | None) -> None:
        cid = self.w.spec.id
        if cid == SALES:
            self._sale_changed(before, after)
        elif cid == LOTS:
            for f in (before, after):
                if f is not None and f.properties.get("zae_id") is not None:
                    self.dirty.add(f.properties["zae_id"])
        if len(self.dirty) > MAX_PARKS_PER_WRITE:
            raise WriterError("zae_too_many_parks", max=MAX_PARKS_PER_WRITE)

    def _sale_changed(self, before: Feature | None, after: Feature | None) -> None:
        lots = self._writer(LOTS)
        if lots is None:
            return
        old_lot = before.properties.get("lot_id") if before is not None else None
        new_lot = after.properties.get("lot_id") if after is not None else None
        if before is not None and after is not None:  # a corrected sale: same lot only
            if old_lot != new_lot:
                raise SaleConflict("sale_lot_change", id=after.id, lot=old_lot)
            return
        if after is not None:  # a sale: the lot must be for sale (locked until commit)
            lot = lots.get(new_lot)
            if lot is None:
                raise SaleConflict("sale_lot_unknown", lot=new_lot)
            statut = lot.properties.get("statut")
            if statut not in SELLABLE:
                raise SaleConflict("lot_not_available", lot=lot.id, statut=statut or "-")
            date = after.properties.get("date")
            lots.patch(lot.id, {"statut": "cédé", "date_maj": date, "date_cession": date},
                       check=False, current=lot)
        elif before is not None:  # a sale undone: the lot is for sale again
            lot = lots.get(old_lot)
            if lot is None:
                return
            if lot.properties.get("statut") != "cédé":
                raise SaleConflict("sale_undo_conflict", lot=lot.id,
                                   statut=lot.properties.get("statut") or "-")
            today = dt.datetime.now(dt.timezone.utc).date().isoformat()
            lots.patch(lot.id, {"statut": "disponible", "date_maj": today,
                                "date_cession": None}, check=False, current=lot)
        self.dirty.add(lot.properties.get("zae_id"))

    # -- derived figures ----------------------------------------------------------------
    def before_commit(self) -> None:
        parks, lots = self._writer(PARKS), self._writer(LOTS)
        if parks is None or lots is None or not self.dirty:
            return
        if self._friches is None:
            self._friches = _friches_geometries(self.w.settings)
        for zae_id in sorted(self.dirty, key=str):
            park = parks.get(zae_id)  # locked first: the lots are read after
            if park is None:
                continue
            figures = park_figures(((f.properties, f.geometry) for f in
                                    lots.select_where("zae_id", str(park.id))),
                                   friches_count(park.geometry, self._friches))
            update = {k: v for k, v in figures.items() if k in parks.columns and
                      not _same(v, park.properties.get(k))}
            if not update:
                continue
            source = parks.source
            parks.source, self._deriving = DERIVED_SOURCE, True
            try:
                parks.patch(park.id, update, check=False, current=park, action=DERIVED_ACTION)
            finally:
                parks.source, self._deriving = source, False
        self.dirty.clear()


def recompute_all(settings, user: str = "build") -> int:
    """Recompute every park's derived figures in one transaction (after a build, a friches
    import); returns the number of parks whose figures changed. Nothing when the lots are
    not built."""
    from services.store.catalog import get_catalog
    from services.store.writer import open_writer
    catalog = get_catalog(settings)
    if catalog.entry(PARKS) is None or catalog.entry(LOTS) is None:
        return 0
    with open_writer(settings, PARKS, user=user, role=None, source=DERIVED_SOURCE) as w:
        if not isinstance(w.hook, ParkFigures):
            return 0
        w.hook.dirty.update(f.id for f in w.select_where())
        before = w.changes.get(DERIVED_ACTION, 0)
        w.hook.before_commit()
        return w.changes.get(DERIVED_ACTION, 0) - before


def recompute_friches(settings, user: str | None = None) -> int:
    """Recount the friches intersecting each park (after a write of the friches layer): one
    transaction on the parks, the rows to change locked and re-read before the change (a
    sale recomputing the same park meanwhile is never overwritten); returns how many
    changed."""
    from services.store.catalog import get_catalog
    from services.store.writer import open_writer
    if get_catalog(settings).entry(PARKS) is None:
        return 0
    friches = _friches_geometries(settings)
    with open_writer(settings, PARKS, user=user or "derived", role=None,
                     source=DERIVED_SOURCE, hooks=False) as w:
        if "friches_nombre" not in w.columns:
            return 0
        stale = [p.id for p in w.select_where() if p.properties.get("friches_nombre") !=
                 friches_count(p.geometry, friches)]
        changes = []
        for park in w.get_many(stale).values():  # locked, re-read
            count = friches_count(park.geometry, friches)
            if park.properties.get("friches_nombre") != count:
                changes.append((park, {"friches_nombre": count}))
        w.patch_many(changes, action=DERIVED_ACTION)
        return len(changes)
