"""Speed of the half-hour routing (issue 19, point 6): reach() from every 200 m cell of an EPCI
(default the CABBALR, about 100 communes) to the demo facilities, on foot (15 min), by bike
(30 min) and by public transport (30 min, departures every 10 min from 8:00 to 9:00, median),
with both street engines (scipy.sparse.csgraph.dijkstra and igraph) for walk and bike.

    .venv/bin/python bench/half_hour_routing.py                 # CABBALR, demo data
    .venv/bin/python bench/half_hour_routing.py --engines scipy --modes walk,bike

Cells: the centres of a 200 m grid (Lambert-93, aligned on multiples of 200 m) inside the
EPCI's communes (real polygons). Facilities: the demo ``equipements`` generator
(services.demo.equipements, the collection's seed) over the Artois communes, those within
10 km of the EPCI; if that generator is not there, a seeded stand-in (population-weighted
points around the commune centres). Network: the settings' (demo files by default). Prints
a table and writes var/bench/half-hour-routing-<timestamp>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CABBALR = "200072460"


def cells(communes, cell: float) -> np.ndarray:
    import shapely
    area = shapely.union_all(communes.geometry.to_numpy())
    x0, y0, x1, y1 = area.bounds
    xs = np.arange(np.floor(x0 / cell) * cell + cell / 2, x1, cell)
    ys = np.arange(np.floor(y0 / cell) * cell + cell / 2, y1, cell)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    shapely.prepare(area)
    inside = shapely.contains_xy(area, pts[:, 0], pts[:, 1])
    return pts[inside]


def facilities(all_communes, epci_communes) -> tuple[np.ndarray, str]:
    import shapely
    zone = shapely.union_all(epci_communes.geometry.to_numpy()).buffer(10_000)
    try:
        import yaml

        from services.demo.equipements import generate
        from services.settings import get_settings
        meta = yaml.safe_load((get_settings().collections_dir / "equipements.yml").read_text())
        eq = generate({"communes": all_communes}, int(meta["source"]["seed"]))
        pts = np.column_stack([eq.geometry.x, eq.geometry.y])
        origin = "services.demo.equipements (seed %s)" % meta["source"]["seed"]
    except (ImportError, OSError, KeyError) as exc:
        rng = np.random.default_rng(20261908)
        out = []
        for row in all_communes.itertuples():
            c = row.geometry.representative_point()
            k = rng.poisson(max(float(row.population_municipale or 0), 0) / 150.0)
            out.append(np.column_stack([c.x + rng.normal(0, 400, k), c.y + rng.normal(0, 400, k)]))
        pts = np.concatenate(out)
        origin = f"seeded stand-in ({exc.__class__.__name__})"
    keep = shapely.contains_xy(zone, pts[:, 0], pts[:, 1])
    return pts[keep], origin


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epci", default=CABBALR)
    ap.add_argument("--cell", type=float, default=200.0)
    ap.add_argument("--modes", default="walk,bike,transit")
    ap.add_argument("--engines", default="scipy,igraph")
    ap.add_argument("--date", default=None)
    args = ap.parse_args(argv)

    from processes.half_hour.routing import load_network, reach, sources, streets
    from processes.half_hour.routing.demo_network import artois_communes

    com = artois_communes()
    mine = com[com["epci_siren"].astype(str) == args.epci]
    if not len(mine):
        ap.error(f"no commune in EPCI {args.epci}")
    origins = cells(mine, args.cell)
    targets, fac_origin = facilities(com, mine)
    osm, feeds = sources()
    with tempfile.TemporaryDirectory() as tmp:   # cold: read the pbf, build the graph
        _, cold = timed(lambda: load_network(args.date, osm=osm, gtfs_files=feeds,
                                             cache_dir=Path(tmp)))
    from processes.half_hour import routing
    routing._STREETS.clear()
    routing._FEEDS.clear()
    load_network(args.date)                        # fills the on-disk cache if needed
    routing._STREETS.clear()
    routing._FEEDS.clear()
    net, warm = timed(lambda: load_network(args.date))
    _, graphs = timed(lambda: (net.graph("walk"), net.graph("bike")))
    tt, tt_s = timed(lambda: net.timetable)
    print(f"EPCI {args.epci}: {len(mine)} communes, {len(origins)} cells of {args.cell:g} m, "
          f"{len(targets)} facilities ({fac_origin})")
    print(f"network: {len(net.arrays['x'])} nodes, {len(net.arrays['u'])} edges; "
          f"date {net.date}: {len(tt.dep_time) if tt else 0} connections")
    print(f"load: cold {cold:.1f} s (pbf + GTFS), from cache {warm:.1f} s, "
          f"graphs {graphs:.1f} s, timetable {tt_s:.1f} s")
    rows = []
    budgets = {"walk": 15.0, "bike": 30.0, "transit": 30.0}
    for mode in [m for m in args.modes.split(",") if m]:
        engines = args.engines.split(",") if mode != "transit" else ["scipy"]
        for engine in engines:
            if mode == "transit":
                fn = lambda: reach(net, origins, targets, "transit", budgets[mode],  # noqa: E731
                                   departure=(8 * 3600, 9 * 3600))
            else:
                g = net.graph(mode)
                fn = lambda g=g, mode=mode, engine=engine: streets.street_times(  # noqa: E731
                    g, origins, targets, budgets[mode], engine=engine)
            r, secs = timed(fn)
            rows.append({"mode": mode, "minutes": budgets[mode], "engine": engine,
                         "seconds": round(secs, 2), "pairs_within": int(r.nnz),
                         "cells_reaching_one": int((np.diff(r.tocsr().indptr) > 0).sum())})
            print(f"{mode:8s} {budgets[mode]:4.0f} min  {engine:7s} {secs:7.1f} s  "
                  f"{r.nnz:>10d} pairs  {rows[-1]['cells_reaching_one']:>6d} cells reach one")
    total = sum(r["seconds"] for r in rows if r["engine"] == "scipy")
    print(f"total (scipy engine, the default): {total:.1f} s")
    out = {"epci": args.epci, "cells": len(origins), "facilities": len(targets),
           "facilities_source": fac_origin, "date": str(net.date),
           "nodes": int(len(net.arrays["x"])), "connections": int(len(tt.dep_time)) if tt else 0,
           "load_cold_s": round(cold, 2), "load_cached_s": round(warm, 2), "runs": rows,
           "total_scipy_s": round(total, 2), "cpus": os.cpu_count(),
           "machine": platform.platform(), "python": platform.python_version()}
    from services.settings import get_settings
    folder = get_settings().var_dir / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"half-hour-routing-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
