"""Synthetic benchmark parcels in PostGIS and the fixed, seeded workload parameters.

The parcels are NOT real data: seeded irregular quadrilaterals (20-80 m wide) in
Lambert-93 (EPSG:2154) over the Artois area (x 620,000-700,000, y 7,010,000-7,070,000),
about two thirds of them clustered around 30 synthetic "town" centres, the rest spread
uniformly. One generation of max(rows) parcels is made (ids 1..N in random spatial
order); the table for n rows holds ids 1..n, so each smaller table is a random subset
of the larger ones and every box/id list is the same for every peer.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import time
from dataclasses import dataclass, field

import numpy as np
import psycopg

SCHEMA = "bench"
SEED = 20260315
GENERATOR_VERSION = "parcels-v1"
XMIN, XMAX, YMIN, YMAX = 620_000.0, 700_000.0, 7_010_000.0, 7_070_000.0
USAGES = ["agricole", "résidentiel", "commercial", "industriel", "naturel", "équipement"]
COLUMNS = ["id", "code", "surface", "usage", "annee", "date_maj"]  # + geom

PAGE_LIMIT = 100
BBOX_LIMIT = 1000
OFFSET = 50_000
N_BOXES = 50
N_IDS = 200
BOX_SIDE_M = 2000.0


def size_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    if rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


def table_name(rows: int) -> str:
    return f"parcels_{size_label(rows)}"


# --------------------------------------------------------------------------- generation

def generate(n: int, seed: int = SEED) -> dict[str, np.ndarray | list]:
    """n parcels as column arrays; geometry as EWKT strings."""
    rng = np.random.default_rng(seed)
    towns_x = rng.uniform(XMIN + 4000, XMAX - 4000, 30)
    towns_y = rng.uniform(YMIN + 4000, YMAX - 4000, 30)
    towns_sigma = rng.uniform(700, 2500, 30)
    towns_w = rng.uniform(0.3, 1.0, 30)
    towns_w /= towns_w.sum()

    in_town = rng.random(n) < 0.65
    town = rng.choice(30, size=n, p=towns_w)
    cx = np.where(in_town, towns_x[town] + rng.normal(0, 1, n) * towns_sigma[town],
                  rng.uniform(XMIN, XMAX, n))
    cy = np.where(in_town, towns_y[town] + rng.normal(0, 1, n) * towns_sigma[town],
                  rng.uniform(YMIN, YMAX, n))
    w = rng.uniform(20, 80, n)
    h = rng.uniform(20, 80, n)
    cx = np.clip(cx, XMIN + 60, XMAX - 60)
    cy = np.clip(cy, YMIN + 60, YMAX - 60)
    theta = rng.uniform(0, math.pi, n)
    # corners of a w x h rectangle, each jittered by up to 15 % of the side: an irregular
    # (still simple) quadrilateral, counter-clockwise
    base = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    jitter = rng.uniform(-0.15, 0.15, (n, 4, 2))
    local = (base[None, :, :] + jitter) * np.stack([w, h], axis=1)[:, None, :]
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    xs = cx[:, None] + local[:, :, 0] * cos - local[:, :, 1] * sin
    ys = cy[:, None] + local[:, :, 0] * sin + local[:, :, 1] * cos
    xs = np.round(xs, 2)
    ys = np.round(ys, 2)
    # shoelace area
    surface = 0.5 * np.abs(np.sum(xs * np.roll(ys, -1, axis=1) - np.roll(xs, -1, axis=1) * ys, axis=1))

    insee = rng.integers(1, 900, n)
    section = rng.integers(0, 26 * 26, n)
    numero = rng.integers(1, 3000, n)
    letters = [chr(65 + s // 26) + chr(65 + s % 26) for s in section]
    code = [f"62{i:03d}000{s}{num:04d}" for i, s, num in zip(insee, letters, numero)]
    usage = rng.integers(0, len(USAGES), n)
    annee = rng.integers(1950, 2025, n)
    day0 = dt.date(2015, 1, 1).toordinal()
    dmaj = rng.integers(0, dt.date(2025, 12, 31).toordinal() - day0, n) + day0

    geoms = []
    for x, y in zip(xs, ys):
        ring = ",".join(f"{a:.2f} {b:.2f}" for a, b in zip(x, y))
        geoms.append(f"SRID=2154;POLYGON(({ring},{x[0]:.2f} {y[0]:.2f}))")
    return {
        "id": np.arange(1, n + 1),
        "code": code,
        "surface": np.round(surface, 2),
        "usage": [USAGES[u] for u in usage],
        "annee": annee,
        "date_maj": [dt.date.fromordinal(int(d)).isoformat() for d in dmaj],
        "geom": geoms,
    }


def _ddl(table: str) -> str:
    return f"""
        CREATE TABLE {SCHEMA}.{table} (
            id integer PRIMARY KEY,
            code text NOT NULL,
            surface double precision NOT NULL,
            usage text NOT NULL,
            annee integer NOT NULL,
            date_maj date NOT NULL,
            geom geometry(Polygon, 2154) NOT NULL
        )"""


def ensure_tables(url: str, sizes: list[int], log=print) -> None:
    """Create schema bench and one table per size, unless already there with the same
    generator, seed and size (recorded in bench.meta)."""
    biggest = max(sizes)
    stamp = f"{GENERATOR_VERSION} seed={SEED} n={biggest}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (tbl text PRIMARY KEY, stamp text)")
        done = dict(conn.execute(f"SELECT tbl, stamp FROM {SCHEMA}.meta").fetchall())
        existing = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (SCHEMA,))}
        todo = [n for n in sorted(sizes)
                if table_name(n) not in existing or done.get(table_name(n)) != _stamp_for(n, stamp)]
        if not todo:
            log(f"tables ready: {', '.join(SCHEMA + '.' + table_name(n) for n in sorted(sizes))}")
            return
        t0 = time.perf_counter()
        log(f"generating {biggest:,} synthetic parcels (seed {SEED})…")
        data = generate(biggest)
        # the master copy: the full generation, from which each size is cut
        master = f"_parcels_src_{size_label(biggest)}"
        conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{master}")
        conn.execute(_ddl(master))
        buf = io.StringIO()
        for row in zip(*(data[c] for c in COLUMNS + ["geom"])):
            buf.write("\t".join(str(v) for v in row))
            buf.write("\n")
        with conn.cursor() as cur:
            with cur.copy(f"COPY {SCHEMA}.{master} ({', '.join(COLUMNS)}, geom) FROM STDIN") as cp:
                cp.write(buf.getvalue())
        log(f"  COPY of {biggest:,} rows in {time.perf_counter() - t0:.1f} s")
        for n in todo:
            t = table_name(n)
            conn.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{t}")
            conn.execute(_ddl(t))
            conn.execute(f"INSERT INTO {SCHEMA}.{t} SELECT * FROM {SCHEMA}.{master} "
                         f"WHERE id <= %s ORDER BY id", (n,))
            conn.execute(f"CREATE INDEX {t}_geom_idx ON {SCHEMA}.{t} USING GIST (geom)")
            conn.execute(f"VACUUM (ANALYZE) {SCHEMA}.{t}")
            conn.execute(f"INSERT INTO {SCHEMA}.meta VALUES (%s, %s) ON CONFLICT (tbl) "
                         f"DO UPDATE SET stamp = excluded.stamp", (t, _stamp_for(n, stamp)))
            log(f"  {SCHEMA}.{t}: {n:,} rows, GIST index, analysed")
        conn.execute(f"DROP TABLE {SCHEMA}.{master}")
        log(f"tables ready in {time.perf_counter() - t0:.1f} s")


def _stamp_for(n: int, stamp: str) -> str:
    # rows 1..n of a generation are the same whatever the generation's size: the stamp of
    # a table depends on the generator, the seed and n only
    return stamp.rsplit(" n=", 1)[0] + f" rows={n}"


# --------------------------------------------------------------------------- workloads

@dataclass
class Workload:
    kind: str            # first-page | bbox | offset | item | tile-z14
    rows: int
    params: list = field(default_factory=list)   # bbox: (minlon, minlat, maxlon, maxlat); item: id;
    #                                              tile: (z, x, y)
    expected: list = field(default_factory=list)  # feature count per param (from SQL)
    readings: dict = field(default_factory=dict)  # bbox: reading -> count per box
    statements: list = field(default_factory=list)  # tile: the floor's (sql, params) per tile

    @property
    def is_tile(self) -> bool:
        return self.kind.startswith("tile-z")

    @property
    def zoom(self) -> int:
        return int(self.kind.removeprefix("tile-z"))

    @property
    def table(self) -> str:
        return table_name(self.rows)

    @property
    def key(self) -> str:
        return f"{self.kind}@{size_label(self.rows)}"

    @property
    def label(self) -> str:
        return {"first-page": f"first page (limit {PAGE_LIMIT})",
                "bbox": f"bbox 2 km (limit {BBOX_LIMIT})",
                "offset": f"offset {OFFSET:,} (limit {PAGE_LIMIT})",
                "item": "one item by id",
                TILE_KIND: f"vector tile z{TILE_ZOOM} (MVT)"}[self.kind]


TILE_ZOOM = 14
TILE_KIND = f"tile-z{TILE_ZOOM}"
KINDS = ["first-page", "bbox", "offset", "item", TILE_KIND]


def boxes(url: str, rows_min: int) -> list[tuple[float, float, float, float]]:
    """N_BOXES 2 km x 2 km lon/lat boxes (CRS84), centred near seeded random parcels of the
    smallest table (so a box is never empty in any table), offset by up to 500 m."""
    rng = np.random.default_rng(SEED + 1)
    ids = [int(i) for i in rng.choice(np.arange(1, rows_min + 1), size=N_BOXES, replace=False)]
    dx = rng.uniform(-500, 500, N_BOXES)
    dy = rng.uniform(-500, 500, N_BOXES)
    with psycopg.connect(url) as conn:
        out = []
        for i, ox, oy in zip(ids, dx, dy):
            lon, lat = conn.execute(
                f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_Translate(ST_Centroid(geom), %s, %s), 4326) p "
                f"FROM {SCHEMA}.{table_name(rows_min)} WHERE id = %s) s", (float(ox), float(oy), i)).fetchone()
            half_lat = BOX_SIDE_M / 2 / 111_132.0
            half_lon = BOX_SIDE_M / 2 / (111_320.0 * math.cos(math.radians(lat)))
            out.append((round(lon - half_lon, 6), round(lat - half_lat, 6),
                        round(lon + half_lon, 6), round(lat + half_lat, 6)))
    return out


def item_ids(rows: int) -> list[int]:
    rng = np.random.default_rng(SEED + 2 + rows)
    return [int(i) for i in rng.choice(np.arange(1, rows + 1), size=min(N_IDS, rows), replace=False)]


def workloads(url: str, sizes: list[int], kinds: list[str] | None = None) -> list[Workload]:
    kinds = kinds or KINDS
    bxs = boxes(url, min(sizes))
    out = []
    for kind in kinds:
        for n in sorted(sizes):
            if kind == "first-page":
                out.append(Workload(kind, n, [None]))
            elif kind == "bbox":
                out.append(Workload(kind, n, list(bxs)))
            elif kind == "offset":
                if n >= OFFSET + PAGE_LIMIT:
                    out.append(Workload(kind, n, [None]))
            elif kind == "item":
                out.append(Workload(kind, n, item_ids(n)))
            elif kind == TILE_KIND:  # tiles and counts: mvt.prepare (needs the project's code)
                out.append(Workload(kind, n, []))
    return out
