"""`artois-geo import COLLECTION FILE`: load a file into an editable collection, all or nothing.

Reads GeoPackage, Shapefile (zipped or not), GeoJSON and CSV (geometry from a WKT column or
from X/Y columns), in any CRS (reprojected to EPSG:2154; a CSV is read in --crs, default
EPSG:4326). Every row is checked by ``services.store.feature.validate_feature``, the validation of
the API: column types of the store, required fields (the identifier, and `required: true`
in the collection file's `fields`), code lists (`enum`), geometry type (single promoted to
multi), validity, territory (communes + 1 km); identifiers must be unique in the file and,
in `append` mode, new. Then:

- any rejected row (or a file-level problem such as an unknown column): nothing is written,
  the report lists every rejected row with its number and all its reasons (French and
  English) and the exit code is 1;
- otherwise every row is written in ONE transaction of the collection's Writer, each change
  audited (user = the OS user or --user, source `import`); `--dry-run` does the same work
  and rolls it back.

`--mode upsert` updates the features whose identifier exists: the file's columns replace
the stored values, the other columns are kept, the geometry is replaced.

`artois-geo history COLLECTION FEATURE_ID` lists the audited versions of a feature and
`artois-geo restore COLLECTION FEATURE_ID --audit-id N` brings back the version before
entry N (itself audited; a deleted feature comes back).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from services.i18n import message
from services.settings import Settings
from services.store.feature import Problem, WriterError
from services.store.writer import feature_spec, open_writer

PROGRESS_MIN_ROWS = 500
IMPORT_ROLE = "cli"
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "geometrie", "géométrie")
XY_NAMES = (("x", "y"), ("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"),
            ("long", "lat"), ("easting", "northing"))
IGNORED_COLUMNS = {"fid", "ogc_fid"}
VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".zip", ".fgb"}


@dataclass
class Row:
    number: int                      # 1-based record number in the file
    values: dict[str, Any]
    geometry: Any                    # shapely, EPSG:2154, or None
    geometry_problems: list[Problem] = field(default_factory=list)
    line: int | None = None          # CSV: line in the file (header = line 1)


@dataclass
class Source:
    columns: list[str]
    rows: list[Row]
    problems: list[Problem]
    kind: str


# ---------------------------------------------------------------------------- reading
def _crs_problem(crs: str) -> Problem:
    return Problem("import_bad_crs", params={"crs": crs})


def _check_crs(crs: str | None):
    import pyproj
    if crs is None:
        return None
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return False


def read_vector(path: Path, layer: str | None, crs: str | None) -> Source:
    import geopandas as gpd
    import pyogrio
    kind = "shapefile" if path.suffix.lower() in (".shp", ".zip") else path.suffix.lower()[1:]
    try:
        layers = pyogrio.list_layers(path)
    except Exception as err:  # noqa: BLE001 - GDAL's messages vary
        return Source([], [], [Problem("import_read_error", params={"detail": str(err)})], kind)
    if layer is None and len(layers) > 1:
        names = [str(n) for n, gtype in layers if gtype is not None] or [str(n) for n, _ in layers]
        if len(names) != 1:
            return Source([], [], [Problem("import_layers", params={"layers": names})], kind)
        layer = names[0]
    wanted_crs = _check_crs(crs)
    if wanted_crs is False:
        return Source([], [], [_crs_problem(crs)], kind)
    try:
        gdf = gpd.read_file(path, engine="pyogrio", **({"layer": layer} if layer else {}))
    except Exception as err:  # noqa: BLE001
        return Source([], [], [Problem("import_read_error", params={"detail": str(err)})], kind)
    if wanted_crs is not None:
        gdf = gdf.set_crs(wanted_crs, allow_override=True)
    if gdf.crs is None:
        return Source([], [], [Problem("import_no_crs")], kind)
    gdf = gdf.to_crs(2154)
    geom_col = gdf.geometry.name
    columns = [c for c in gdf.columns if c != geom_col]
    rows = []
    for number, (values, geom) in enumerate(zip(gdf[columns].itertuples(index=False, name=None),
                                                gdf.geometry), start=1):
        rows.append(Row(number, dict(zip(columns, values)), geom))
    return Source(columns, rows, [], kind)


def _read_text(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    for enc in ([encoding] if encoding else ["utf-8-sig", "cp1252"]):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _find(columns: list[str], wanted: str | None, names: Iterable[str]) -> str | None:
    lower = {c.lower(): c for c in columns}
    if wanted:
        return lower.get(wanted.lower())
    for name in names:
        if name in lower:
            return lower[name]
    return None


def read_csv(path: Path, *, crs: str | None, x: str | None, y: str | None, wkt: str | None,
             delimiter: str | None, encoding: str | None) -> Source:
    import numpy as np
    import pyproj
    import shapely
    text = _read_text(path, encoding)
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return Source([], [], [Problem("import_empty")], "csv")
    wkt_col = _find(header, wkt, WKT_NAMES) if (wkt or not (x or y)) else None
    x_col = y_col = None
    if wkt_col is None:
        if x or y:
            x_col, y_col = _find(header, x, ()), _find(header, y, ())
        else:
            for xn, yn in XY_NAMES:
                x_col, y_col = _find(header, None, (xn,)), _find(header, None, (yn,))
                if x_col and y_col:
                    break
    if wkt_col is None and not (x_col and y_col):
        return Source(header, [], [Problem("import_csv_geometry")], "csv")
    source_crs = _check_crs(crs or "EPSG:4326")
    if source_crs is False:
        return Source(header, [], [_crs_problem(crs)], "csv")
    tr = pyproj.Transformer.from_crs(source_crs, "EPSG:2154", always_xy=True)

    def project(coords):
        px, py = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([px, py])
    geometry_cols = {c for c in (wkt_col, x_col, y_col) if c}
    columns = [c for c in header if c not in geometry_cols]
    rows = []
    for number, record in enumerate(reader, start=1):
        if not any(cell.strip() for cell in record):
            continue
        record = record + [""] * (len(header) - len(record))
        cells = dict(zip(header, record))
        values = {c: (cells[c] if cells[c].strip() != "" else None) for c in columns}
        geom, problems = None, []
        if wkt_col:
            text_wkt = cells[wkt_col].strip()
            if text_wkt:
                try:
                    geom = shapely.from_wkt(text_wkt)
                except Exception as err:  # noqa: BLE001 - GEOS parse errors
                    problems.append(Problem("import_bad_wkt", params={"detail": str(err)[:200]}))
        else:
            sx, sy = cells[x_col].strip(), cells[y_col].strip()
            if sx or sy:
                try:
                    geom = shapely.Point(float(sx.replace(",", ".")), float(sy.replace(",", ".")))
                except ValueError:
                    problems.append(Problem("import_bad_xy", params={"x": sx or "-",
                                                                     "y": sy or "-"}))
        if geom is not None:
            try:
                geom = shapely.transform(geom, project)
            except Exception as err:  # noqa: BLE001
                problems.append(Problem("geometry_unreadable", params={"detail": str(err)}))
                geom = None
        rows.append(Row(number, values, geom, problems, line=reader.line_num))
    return Source(columns, rows, [], "csv")


def read_source(path: Path, *, layer=None, crs=None, x=None, y=None, wkt=None, delimiter=None,
                encoding=None) -> Source:
    suffix = path.suffix.lower()
    if not path.exists():
        return Source([], [], [Problem("import_read_error",
                                       params={"detail": f"{path}: no such file"})], "?")
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path, crs=crs, x=x, y=y, wkt=wkt, delimiter=delimiter, encoding=encoding)
    if suffix in VECTOR_SUFFIXES:
        return read_vector(path, layer, crs)
    return Source([], [], [Problem("import_format", params={"ext": suffix or path.name})], "?")


def map_columns(file_columns: list[str], store_columns: Iterable[str]
                ) -> tuple[dict[str, str], list[str]]:
    """File column -> store column: exact, then case-insensitive, then the unique store
    column a Shapefile's 10-character name was cut from. Returns (mapping, unknown)."""
    store = list(store_columns)
    lower = {c.lower(): c for c in store}
    mapping, unknown = {}, []
    for col in file_columns:
        if col in store:
            mapping[col] = col
        elif col.lower() in lower:
            mapping[col] = lower[col.lower()]
        elif col.lower() in IGNORED_COLUMNS or col == "id":
            continue
        else:
            cut = [c for c in store if len(col) == 10 and c.lower().startswith(col.lower())]
            if len(cut) == 1 and cut[0] not in mapping.values():
                mapping[col] = cut[0]
            else:
                unknown.append(col)
    return mapping, unknown


# ---------------------------------------------------------------------------- progress
class Progress:
    """tqdm when it is installed, else a plain bar on stderr; silent on small files."""

    def __init__(self, total: int, desc: str, enabled: bool = True):
        self.total, self.desc, self.done = total, desc, 0
        self.enabled = enabled and total >= PROGRESS_MIN_ROWS
        self._bar = None
        self._shown = -1
        if self.enabled:
            try:
                from tqdm import tqdm
                self._bar = tqdm(total=total, desc=desc, unit="row", file=sys.stderr)
            except ImportError:
                self._bar = None

    def update(self, n: int = 1) -> None:
        if not self.enabled:
            return
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        pct = int(100 * self.done / max(self.total, 1))
        if pct != self._shown:
            self._shown = pct
            filled = pct * 30 // 100
            sys.stderr.write(f"\r{self.desc:<12} [{'#' * filled}{'.' * (30 - filled)}] "
                             f"{pct:3d}% {self.done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------------- import
def import_file(settings: Settings, collection_id: str, path: Path, *, mode: str = "append",
                dry_run: bool = False, user: str | None = None, progress: bool = True,
                **read_options) -> dict[str, Any]:
    """Validate every row, then write them all in one transaction (or nothing)."""
    report: dict[str, Any] = {
        "collection": collection_id, "file": str(path), "mode": mode, "dry_run": dry_run,
        "store": "postgis" if settings.database_url else "geopackage",
        "rows": 0, "inserted": 0, "updated": 0, "rejected": [], "errors": [],
        "ok": False, "written": False,
    }
    started = time.perf_counter()
    try:
        spec = feature_spec(settings, collection_id)
    except WriterError as err:
        report["errors"].append({"code": err.key, **err.texts})
        return report
    if not spec.editable:
        report["errors"].append({"code": "not_editable",
                                 **message("not_editable", collection=collection_id)})
        return report
    source = read_source(path, **read_options)
    if spec.source.get("import_profile") and not source.problems:  # e.g. a BPE file
        from services.build import _load_callable
        source = _load_callable(spec.source["import_profile"])(source)
    report["rows"] = len(source.rows)
    report["errors"] += [p.to_dict() for p in source.problems]
    if source.problems:
        return report
    if not source.rows:
        report["errors"].append(Problem("import_empty").to_dict())
        return report
    try:
        _load(settings, spec, source, report, mode=mode, dry_run=dry_run, user=user,
              progress=progress)
    except WriterError as err:  # e.g. an identifier created meanwhile by an API edit
        report["errors"].append({"code": err.key, **err.texts})
        report["ok"] = report["written"] = False
        report["inserted"] = report["updated"] = 0
        return report
    report["seconds"] = round(time.perf_counter() - started, 2)
    if report["written"]:  # committed: the processes reading it are recomputed
        from services.jobs.triggers import data_changed
        data_changed([collection_id], settings, cause=f"import {path.name} ({user or 'cli'})",
                     user=user)
    return report


def _load(settings: Settings, spec, source: Source, report: dict[str, Any], *, mode: str,
          dry_run: bool, user: str | None, progress: bool) -> None:
    collection_id, id_field = spec.id, spec.id_field
    with open_writer(settings, collection_id, user=user, role=IMPORT_ROLE,
                     source="import") as w:
        mapping, unknown = map_columns(source.columns, w.columns)
        if unknown:
            report["errors"].append(Problem("import_unknown_columns", params={
                "collection": collection_id, "columns": unknown}).to_dict())
            w.rollback_only()
            return
        plan = []
        seen: dict[Any, int] = {}
        bar = Progress(len(source.rows), "validation", progress)
        for row in source.rows:
            props = {mapping[c]: v for c, v in row.values.items() if c in mapping}
            if props.get(id_field) is None and row.values.get("id") is not None:
                props[id_field] = row.values["id"]
            key = w.key(props.get(id_field)) if props.get(id_field) is not None else None
            current = w.get(key) if key is not None else None
            merged = {**current.properties, **props} if (current and mode == "upsert") else props
            geometry = row.geometry
            if current is None and w.hook is not None:  # e.g. a sale completed from its lot
                merged, geometry = w.hook.prepare(dict(merged), geometry, None)
            clean, geom, problems = w.validate(merged, geometry, row.geometry_problems, current)
            if key is not None:
                if key in seen:
                    problems.append(Problem("id_duplicate", params={"id": key,
                                                                    "first": seen[key]}))
                else:
                    seen[key] = row.number
                if current is not None and mode == "append":
                    problems.append(Problem("id_exists_append", params={"id": key}))
            if problems:
                entry = {"row": row.number, "id": key if key is not None else props.get(id_field),
                         "errors": [p.to_dict() for p in problems]}
                if row.line is not None:
                    entry["line"] = row.line
                report["rejected"].append(entry)
            else:
                plan.append((current, clean, geom))
            bar.update()
        bar.close()
        if report["rejected"]:
            w.rollback_only()
            return
        bar = Progress(len(plan), "écriture" if not dry_run else "dry run", progress)
        for current, clean, geom in plan:
            if current is None:
                w.insert(clean, geom, check=False)
                report["inserted"] += 1
            else:
                w.replace(current.id, clean, geom, current=current, check=False)
                report["updated"] += 1
            bar.update()
        bar.close()
        if dry_run:
            w.rollback_only()
    report["ok"] = True
    report["written"] = not dry_run


def render(report: dict[str, Any]) -> str:
    """The report for people, in French and English."""
    out = []
    mode = f"{report['mode']}{', dry run / essai à blanc' if report['dry_run'] else ''}"
    out.append(f"Import {report['collection']} <- {report['file']} ({mode}, {report['store']})")
    out.append(f"Lignes lues / rows read: {report['rows']}")
    for err in report["errors"]:
        out.append(f"ERREUR : {err['fr']}")
        out.append(f"ERROR: {err['en']}")
    if report["rejected"]:
        out.append(f"Lignes refusées / rejected rows: {len(report['rejected'])} "
                   f"(rien n'a été écrit / nothing was written)")
        for entry in report["rejected"]:
            where = f"ligne/row {entry['row']}"
            if entry.get("line"):
                where += f" (ligne du fichier / file line {entry['line']})"
            ident = f" [{entry['id']}]" if entry.get("id") is not None else ""
            out.append(f"  {where}{ident}:")
            for err in entry["errors"]:
                out.append(f"    - {err['fr']}")
                out.append(f"      {err['en']}")
    if report["ok"]:
        verb = " (seraient / would be)" if report["dry_run"] else ""
        out.append(f"Insérées / inserted{verb}: {report['inserted']}")
        out.append(f"Mises à jour / updated{verb}: {report['updated']}")
        if report["dry_run"]:
            out.append("Essai à blanc : rien n'a été écrit / dry run: nothing was written")
    elif not report["rejected"]:
        out.append("Rien n'a été écrit / nothing was written")
    return "\n".join(out)


# ---------------------------------------------------------------------------- commands
def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    report = import_file(settings, args.collection, Path(args.file), mode=args.mode,
                         dry_run=args.dry_run, user=args.user, progress=not args.no_progress,
                         layer=args.layer, crs=args.crs, x=args.x, y=args.y, wkt=args.wkt,
                         delimiter=args.delimiter, encoding=args.encoding)
    if args.report:
        Path(args.report).write_text(json.dumps(report, ensure_ascii=False, indent=2,
                                                default=str), encoding="utf-8")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        print(render(report))
    return 0 if report["ok"] else 1


def _print_error(err: WriterError) -> int:
    print(f"ERREUR : {err.texts['fr']}\nERROR: {err.texts['en']}", file=sys.stderr)
    return 1


def _changed(entry: dict[str, Any]) -> list[str]:
    before = (entry.get("previous") or {}).get("properties") or {}
    after = (entry.get("new") or {}).get("properties") or {}
    names = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    if (entry.get("previous") or {}).get("geometry") != (entry.get("new") or {}).get("geometry"):
        names.append("geometry")
    return names


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with open_writer(settings, args.collection, readonly=True) as reader:
            entries = reader.history(args.feature_id)
    except WriterError as err:
        return _print_error(err)
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2, default=str))
        return 0
    if not entries:
        print(f"Aucune version enregistrée / no recorded version: {args.collection} "
              f"{args.feature_id}")
        return 0
    print(f"{'audit':>6}  {'UTC':<27} {'action':<8} {'source':<7} {'user (role)':<24} changes")
    for e in entries:
        who = f"{e['username']} ({e['role'] or '-'})"
        changes = ", ".join(_changed(e))
        if len(changes) > 60:
            changes = changes[:57] + "..."
        print(f"{e['id']:>6}  {e['at']:<27} {e['action']:<8} {e['source'] or '-':<7} "
              f"{who:<24} {changes}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with open_writer(settings, args.collection, user=args.user, role=IMPORT_ROLE,
                         source="restore") as w:
            restored = w.restore(args.feature_id, args.audit_id)
    except WriterError as err:
        return _print_error(err)
    from services.jobs.triggers import data_changed  # committed: recompute what reads it
    data_changed([args.collection], settings, cause=f"restore {args.feature_id}",
                 user=args.user)
    if restored is None:
        print(f"Élément supprimé (il n'existait pas avant l'entrée {args.audit_id}) / "
              f"feature removed (it did not exist before entry {args.audit_id})")
    else:
        print(f"Restauré / restored: {args.collection} {restored.id} "
              f"(version d'avant l'entrée / version before entry {args.audit_id}), "
              f"ETag {restored.etag()}")
    return 0


def add_commands(sub) -> None:
    """The `import`, `history` and `restore` subcommands of `artois-geo`."""
    p = sub.add_parser("import", help="load a file into an editable collection (all or nothing)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("collection")
    p.add_argument("file", help="GeoPackage, Shapefile (.shp or zipped), GeoJSON or CSV")
    p.add_argument("--mode", choices=("append", "upsert"), default="append",
                   help="append: every row is new (default); upsert: update existing ids")
    p.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    p.add_argument("--layer", help="layer of a GeoPackage with several layers")
    p.add_argument("--crs", help="CRS of the file (CSV default EPSG:4326; overrides a file's)")
    p.add_argument("--x", help="CSV: X (longitude/easting) column")
    p.add_argument("--y", help="CSV: Y (latitude/northing) column")
    p.add_argument("--wkt", help="CSV: WKT geometry column")
    p.add_argument("--delimiter", help="CSV delimiter (default: detected)")
    p.add_argument("--encoding", help="CSV encoding (default: UTF-8, else Windows-1252)")
    p.add_argument("--user", help="user written in the audit (default: the OS user)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--report", help="also write the JSON report to this file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)
    h = sub.add_parser("history", help="the audited versions of a feature")
    h.add_argument("collection")
    h.add_argument("feature_id")
    h.add_argument("--json", action="store_true", help="every entry with both versions, as JSON")
    h.set_defaults(func=cmd_history)
    r = sub.add_parser("restore", help="restore the version a feature had before an audit entry")
    r.add_argument("collection")
    r.add_argument("feature_id")
    r.add_argument("--audit-id", type=int, required=True, help="the audit entry (see history)")
    r.add_argument("--user", help="user written in the audit (default: the OS user)")
    r.set_defaults(func=cmd_restore)
