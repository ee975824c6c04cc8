"""The SQL floor: each page built by ONE SQL statement over psycopg, no HTTP.

It is the same GeoJSON page the HTTP peers send (features in CRS84, same properties,
same order, same limit), so its throughput is what the database alone costs; every
peer's figures are also given as a ratio to it. It computes no numberMatched (a peer
that counts pays that on top) and builds no links.
"""
from __future__ import annotations

import json
import threading
import time

import psycopg

from dataset import BBOX_LIMIT, OFFSET, PAGE_LIMIT, SCHEMA, Workload

_FEATURE = ("json_build_object('type', 'Feature', 'id', t.id, "
            "'geometry', ST_AsGeoJSON(ST_Transform(t.geom, 4326))::json, "
            "'properties', json_build_object('code', t.code, 'surface', t.surface, "
            "'usage', t.usage, 'annee', t.annee, 'date_maj', t.date_maj))")
_COLLECTION = ("SELECT json_build_object('type', 'FeatureCollection', "
               "'numberReturned', count(*), "
               f"'features', coalesce(json_agg({_FEATURE} ORDER BY t.id), '[]'::json))::text "
               "FROM ({inner}) t")
# The bbox is given in CRS84; the table is in Lambert-93. The floor transforms the lon/lat
# rectangle into Lambert-93 and filters on the envelope of that quadrilateral (what tipg does).
_BOX = "ST_Envelope(ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 2154))"

# Other readings of "a CRS84 bbox over a Lambert-93 table" met among the peers; the check
# accepts (≈) a peer whose count lies, for every box, between the smallest and the largest
# of these, and names the reading(s) it matches exactly.
_ENV = "ST_MakeEnvelope(%(x1)s, %(y1)s, %(x2)s, %(y2)s, 4326)"
_PT = "ST_Transform(ST_SetSRID(ST_MakePoint(%(x{0})s, %(y{0})s), 4326), 2154)"
BBOX_READINGS = {
    "envelope of the transformed box (floor)":
        f"ST_Intersects(geom, ST_Envelope(ST_Transform({_ENV}, 2154)))",
    "transformed quadrilateral":
        f"ST_Intersects(geom, ST_Transform({_ENV}, 2154))",
    "envelope of the 2 transformed corners":
        f"ST_Intersects(geom, ST_MakeEnvelope(ST_X({_PT.format(1)}), ST_Y({_PT.format(1)}), "
        f"ST_X({_PT.format(2)}), ST_Y({_PT.format(2)}), 2154))",
    "bounding-box overlap only (&&), no exact intersection":
        f"geom && ST_Envelope(ST_Transform({_ENV}, 2154))",
}


def statement(w: Workload, param) -> tuple[str, tuple]:
    table = f"{SCHEMA}.{w.table}"
    if w.kind == "first-page":
        return _COLLECTION.format(inner=f"SELECT * FROM {table} ORDER BY id LIMIT {PAGE_LIMIT}"), ()
    if w.kind == "offset":
        return _COLLECTION.format(
            inner=f"SELECT * FROM {table} ORDER BY id OFFSET {OFFSET} LIMIT {PAGE_LIMIT}"), ()
    if w.kind == "bbox":
        return _COLLECTION.format(
            inner=f"SELECT * FROM {table} WHERE ST_Intersects(geom, {_BOX}) "
                  f"ORDER BY id LIMIT {BBOX_LIMIT}"), tuple(param)
    if w.kind == "item":
        return f"SELECT {_FEATURE}::text FROM {table} t WHERE t.id = %s", (param,)
    raise ValueError(w.kind)


def count_features(doc: dict) -> int:
    if doc.get("type") == "Feature":
        return 1
    return len(doc.get("features") or [])


def reference_counts(url: str, w: Workload) -> list[int]:
    """Feature count of each page, from the floor statement itself; for bbox pages, also
    the count under each reading of the box (w.readings)."""
    out = []
    with psycopg.connect(url) as conn:
        for p in w.params:
            sql, args = statement(w, p)
            row = conn.execute(sql, args).fetchone()
            out.append(count_features(json.loads(row[0])) if row else 0)
        if w.kind == "bbox":
            w.readings = {}
            for name, where in BBOX_READINGS.items():
                counts = []
                for x1, y1, x2, y2 in w.params:
                    n = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM {SCHEMA}.{w.table} "
                                     f"WHERE {where} LIMIT {BBOX_LIMIT}) s",
                                     {"x1": x1, "y1": y1, "x2": x2, "y2": y2}).fetchone()[0]
                    counts.append(n)
                w.readings[name] = counts
    return out


def run_load(url: str, w: Workload, connections: int, duration: float, warmup: float) -> dict:
    """`connections` threads, each with its own connection, each running the workload's
    statements round-robin (different start per thread) for warmup + duration seconds;
    only statements that both start and end within the measured window count."""
    # tiles: artois-geo's own ST_AsMVT statements (bench/mvt.py), prepared with the workload
    stmts = list(w.statements) or [statement(w, p) for p in w.params]
    lat_lists: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    nbytes = [0] * connections
    start_evt = threading.Event()
    t_measure = [0.0]
    t_end = [0.0]

    def worker(k: int) -> None:
        lats = lat_lists[k]
        i = (k * 7919) % len(stmts)
        with psycopg.connect(url, autocommit=True) as conn:
            start_evt.wait()
            while True:
                t0 = time.perf_counter()
                if t0 >= t_end[0]:
                    break
                sql, args = stmts[i]
                i = (i + 1) % len(stmts)
                try:
                    row = conn.execute(sql, args).fetchone()
                    size = len(row[0]) if row and row[0] is not None else 0
                except psycopg.Error:
                    errors[k] += 1
                    continue
                t1 = time.perf_counter()
                if t0 >= t_measure[0] and t1 <= t_end[0]:
                    lats.append(t1 - t0)
                    nbytes[k] += size

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(connections)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # let every thread connect
    now = time.perf_counter()
    t_measure[0] = now + warmup
    t_end[0] = now + warmup + duration
    start_evt.set()
    for t in threads:
        t.join()
    lats = sorted(x for lst in lat_lists for x in lst)
    n = len(lats)

    def pct(q: float) -> float | None:
        return round(lats[min(n - 1, int(q * n))] * 1000, 3) if n else None

    return {
        "requests": n, "rps": round(n / duration, 1),
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "errors": sum(errors), "non2xx": 0,
        "bytes_per_response": round(sum(nbytes) / n) if n else None,
    }
