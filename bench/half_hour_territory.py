"""Speed of the whole half-hour indicator (issue 19, point 6): the CABBALR (every inhabited
200 m cell, 3 levels, 7 functions) at each published date, as the `demi-heure` layer and a
job compute it (processes/half_hour/run.py), from the built store's layers.

    .venv/bin/python bench/half_hour_territory.py          # embedded store (var/store)
    DATABASE_URL=… .venv/bin/python bench/half_hour_territory.py

Prints one line per date (load of the network and timetable, computation) and the total,
with the machine's load average, and writes var/bench/half-hour-territory-<timestamp>.json.
Not part of the test suite (speed is measured here, not asserted).
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from processes.half_hour import core, run
    from services.layers import read_collection
    from services.settings import get_settings

    settings = get_settings()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    communes = read_collection("communes", settings=settings)
    cells = read_collection("carreaux-200m", settings=settings)
    facilities = read_collection("equipements", settings=settings)
    read_s = time.perf_counter() - started
    bundles = core.load_bundles()
    territory = run.territory_from({"epci": run.CABBALR}, communes)
    tcells = run.territory_cells(cells, territory)
    fac = run.nearby_facilities(facilities, territory)
    rows = []
    for date in run.PUBLISHED_DATES:
        t0 = time.perf_counter()
        reach = run.routing_reach(date, run.DEFAULT_DEPARTURE)
        t1 = time.perf_counter()
        result = run.run(tcells, fac, date, bundles, reach)
        t2 = time.perf_counter()
        sectors = run.sectors_frame(result, bundles)
        t3 = time.perf_counter()
        rows.append({"date": date, "network_s": round(t1 - t0, 2),
                     "compute_s": round(t2 - t1, 2), "sectors_s": round(t3 - t2, 2),
                     "cells": int(len(tcells)), "facilities": int(len(fac)),
                     "sectors": int(len(sectors))})
        print(f"{date}: network {t1 - t0:.1f} s, 3 levels x 7 functions over {len(tcells)} "
              f"cells and {len(fac)} facilities {t2 - t1:.1f} s, sectors {t3 - t2:.1f} s",
              flush=True)
    total = time.perf_counter() - started
    report = {"store": "postgis" if settings.database_url else "embedded",
              "machine": f"{os.cpu_count()} CPU, {platform.platform()}",
              "loadavg_1m_before": round(load_before, 2),
              "loadavg_1m_after": round(os.getloadavg()[0], 2),
              "read_layers_s": round(read_s, 2), "dates": rows, "total_s": round(total, 2)}
    print(f"read layers {read_s:.1f} s; total {total:.1f} s "
          f"(load average {load_before:.1f} before, {report['loadavg_1m_after']:.1f} after)")
    out = settings.var_dir / "bench" / f"half-hour-territory-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
