"""The vector tile workload (MVT, WebMercatorQuad): tiles over the populated area, the
ST_AsMVT floor statements, and the check of a peer's tiles.

The floor is artois-geo's own tile statement (services.store.postgis.tiles, one ST_AsMVT per
tile, the same SQL text and parameters) run without HTTP, as bench/tiles_vector.py does.
services.* is imported inside the functions: when the project cannot be imported (work in
progress), the tile workload is reported unavailable and the rest of the run goes on.
Used by run.py (workload `tile-z14`) and tiles_vector.py (z10 and z14).
"""
from __future__ import annotations

import os
import random
import sys
import urllib.error
import urllib.request
from pathlib import Path

import dataset

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

TMS = "WebMercatorQuad"
N_TILES = 100  # non-empty tiles per zoom and table (seeded sample)


def collection_id(rows: int) -> str:
    """artois-geo's collection id of a bench table (= the MVT layer name)."""
    return f"parcels-{dataset.size_label(rows)}"


def tile_layer(url: str, rows: int):
    """The bench table as artois-geo describes it (same columns, key, geometry)."""
    os.environ["DATABASE_URL"] = url
    from services.catalog import CollectionSpec
    from services.tiles.mvt_source import _describe
    spec = CollectionSpec(id=collection_id(rows), path=HERE, title={"fr": "", "en": ""},
                          description={"fr": "", "en": ""}, keywords={}, source={},
                          licence={"title": "", "href": ""}, geometry_type="Polygon")
    return _describe(spec, {"store": "postgis",
                            "table": f"{dataset.SCHEMA}.{dataset.table_name(rows)}"})


def tile_statement(layer, z: int, x: int, y: int) -> tuple[bytes, dict]:
    """artois-geo's ST_AsMVT statement and parameters for tile z/x/y (x = column, y = row)."""
    from services.store.postgis import tiles as mvt_postgis
    from services.tiles.mvt_source import tile_box
    box = tile_box(TMS, z, y, x)
    return mvt_postgis._statement((layer,), box.srid), mvt_postgis._params(box)


def max_features() -> int:
    from services.tiles.mvt_source import max_features as cap
    return cap()


def count_features(body: bytes) -> int:
    import mapbox_vector_tile
    if not body:
        return 0
    return sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(body).values())


def populated_tiles(url: str, layer, z: int, limit: int = N_TILES) -> list[tuple[int, int, int, int]]:
    """(z, x, y, features) of non-empty tiles over the parcels' area, seeded sample (the same
    tile order for every table: smaller tables keep the tiles that still hold parcels)."""
    import morecantile
    import psycopg
    import pyproj
    tr = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)
    w, s, e, n = tr.transform_bounds(dataset.XMIN, dataset.YMIN, dataset.XMAX, dataset.YMAX)
    tiles = [(t.z, t.x, t.y) for t in morecantile.tms.get(TMS).tiles(w, s, e, n, [z])]
    random.Random(z).shuffle(tiles)
    found = []
    with psycopg.connect(url, autocommit=True) as conn:
        for tz, tx, ty in tiles:  # bounded by the tiles over the area
            sql, params = tile_statement(layer, tz, tx, ty)
            data = conn.execute(sql, params).fetchone()[0]
            if data:
                found.append((tz, tx, ty, count_features(bytes(data))))
            if len(found) >= limit:
                break
    return found


def prepare(url: str, w: dataset.Workload, limit: int = N_TILES) -> None:
    """Fill a tile workload: params = (z, x, y) tiles, expected = floor feature counts,
    statements = the floor's (sql, params) per tile."""
    layer = tile_layer(url, w.rows)
    tiles = populated_tiles(url, layer, w.zoom, limit)
    w.params = [(z, x, y) for z, x, y, _ in tiles]
    w.expected = [n for *_, n in tiles]
    w.statements = [tile_statement(layer, z, x, y) for z, x, y in w.params]


def one_workload(url: str, rows: int, kind: str, log=print) -> dataset.Workload:
    """The bench table of `rows` ready and the workload `kind` on it, its tiles prepared
    (bench/profile.py, bench/cpu.py); exits when that workload has no cell at this size."""
    import sys
    dataset.ensure_tables(url, [rows], log=log)
    (w,) = dataset.workloads(url, [rows], [kind]) or [None]
    if w is None:
        sys.exit(f"workload {kind} has no cell at {rows} rows")
    if w.is_tile:
        prepare(url, w)
    return w


def check(base: str, paths: list[str], w: dataset.Workload, most: int = 50) -> dict:
    """Every checked tile answers 200 with a decodable MVT; ok = the floor's feature count.
    approx = valid tiles on every path but other counts (its own clipping buffer or
    simplification), reported, not an error of the peer."""
    bad, counts, sizes, errors = [], [], [], 0
    n = min(len(paths), most)
    for path, expected in list(zip(paths, w.expected))[:n]:
        try:
            with urllib.request.urlopen(base + path, timeout=60) as r:
                body = r.read()
            sizes.append(len(body))
            got = count_features(body)
        except (urllib.error.URLError, OSError, ValueError, Exception) as e:  # noqa: BLE001
            errors += 1
            bad.append(f"{type(e).__name__} {str(e)[:80]} on {path}")
            continue
        counts.append(got)
        if got != expected:
            bad.append(f"{got} features instead of {expected} on {path}")
    return {"ok": not bad, "approx": bool(bad) and errors == 0, "checked": n, "failures": len(bad),
            "detail": bad[:3], "bytes_checked": round(sum(sizes) / len(sizes)) if sizes else None,
            "counts": counts, "tile_counts_differ": bool(bad) and errors == 0}
