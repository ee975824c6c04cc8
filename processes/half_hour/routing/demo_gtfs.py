"""A plausible GTFS feed of the Artois — MODELLED DEMONSTRATION DATA.

No GTFS feed is shipped with the repository, so the set-up writes a *modelled* one with a
seeded, deterministic generator over the real communes. It is NOT the real timetable: drop the
networks' feeds from transport.data.gouv.fr in its place (README, "Territoire de la
demi-heure").

Stops: the demo stops of the ``arrets-transport`` layer (same generator and seed,
:func:`services.demo.reseaux.generate_stops`): railway stations and bus stops. Lines:

- urban lines in every commune with at least 6 bus stops: one per 14 stops, each a diameter
  through the town centre (stops sorted by bearing, two opposite sectors);
- radial interurban lines: every commune of at least 5 000 inhabitants is a hub; every other
  commune with a stop joins its nearest hub; a hub's communes, in 4 bearing sectors, make up to
  4 lines (at most 10 communes each, nearest first, through each commune's main stop);
- express lines between each hub and its 2 nearest hubs (a third of them new since
  2024-09: they do not run at T0);
- TER train lines through the stations of the modelled railway lines, in line order.

Services: ``T0`` (Monday-Friday, 2021-09-01 to 2024-08-31) and ``N`` ("now", Monday-Friday,
2024-09-02 to 2032-12-31), each with a Saturday service (off-peak headways all day); French
fixed public holidays removed (``calendar_dates``). Headways in minutes, peak (7-9 h,
16-19 h) / off-peak, service 6:00-21:00 (T0: 6:30-20:00): see :data:`HEADWAYS`. Run times:
straight-line distance x 1.3 at 18 km/h (urban), 35 km/h (interurban) or 70 km/h (train,
x 1.1), dwell 20 s (bus) or 60 s (train). Every offset is drawn from
:func:`services.demo.make_rng` (seed :data:`SEED`).
"""
from __future__ import annotations

import datetime as dt
import io
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

SEED = 20261907
STOPS_SEED = 20261503  # collections/arrets-transport.yml
HUB_POPULATION = 5000
SERVICES = {  # id: (start, end, weekdays)
    "T0": (dt.date(2021, 9, 1), dt.date(2024, 8, 31), (1, 1, 1, 1, 1, 0, 0)),
    "T0-SA": (dt.date(2021, 9, 1), dt.date(2024, 8, 31), (0, 0, 0, 0, 0, 1, 0)),
    "N": (dt.date(2024, 9, 2), dt.date(2032, 12, 31), (1, 1, 1, 1, 1, 0, 0)),
    "N-SA": (dt.date(2024, 9, 2), dt.date(2032, 12, 31), (0, 0, 0, 0, 0, 1, 0)),
}
#: (peak, off-peak) headways in minutes per kind of line and period
HEADWAYS = {"urbain": {"T0": (20, 40), "N": (15, 30)},
            "interurbain": {"T0": (60, 120), "N": (30, 60)},
            "express": {"T0": (60, 60), "N": (30, 60)},
            "train": {"T0": (60, 60), "N": (30, 60)}}
SPEED_KMH = {"urbain": 18.0, "interurbain": 35.0, "express": 35.0, "train": 70.0}
HOLIDAYS = ("01-01", "05-01", "05-08", "07-14", "08-15", "11-01", "11-11", "12-25")
PEAKS = ((7 * 3600, 9 * 3600), (16 * 3600, 19 * 3600))


def _stops(com):
    from services.demo.reseaux import generate_stops
    stops = generate_stops({"communes": com}, STOPS_SEED)
    stops = stops.sort_values("id", kind="mergesort").reset_index(drop=True)
    return stops


def _bearing_sectors(points: np.ndarray, centre, sectors: int) -> list[np.ndarray]:
    ang = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    order = np.argsort(ang, kind="stable")
    return [part for part in np.array_split(order, sectors) if len(part)]


def _lines(com, stops) -> list[dict]:
    """Every line: id, name, kind, stop indices in order, period it runs in."""
    from services.demo.hazards import noise_lines
    xy = np.column_stack([stops.geometry.x, stops.geometry.y])
    bus = stops["mode"].to_numpy() == "bus"
    centres = com.geometry.representative_point()
    cxy = {row.insee: (p.x, p.y) for row, p in zip(com.itertuples(), centres)}
    pop = dict(zip(com["insee"], com["population_municipale"].fillna(0).astype(float)))
    name = dict(zip(com["insee"], com["nom"]))
    by_commune: dict[str, np.ndarray] = {}
    for insee, idx in stops[bus].groupby("insee").groups.items():
        by_commune[str(insee)] = np.asarray(sorted(idx), int)
    main = {c: idx[np.argmin(np.hypot(*(xy[idx] - np.array(cxy[c])).T))]
            for c, idx in by_commune.items()}
    lines: list[dict] = []
    # urban lines
    for c in sorted(by_commune):
        idx = by_commune[c]
        if len(idx) < 6:
            continue
        count = max(1, math.ceil(len(idx) / 14))
        sec = _bearing_sectors(xy[idx], cxy[c], 2 * count)
        for k in range(count):
            if k + count >= len(sec):
                break
            a, b = idx[sec[k]], idx[sec[k + count]]
            da = np.hypot(*(xy[a] - np.array(cxy[c])).T)
            db = np.hypot(*(xy[b] - np.array(cxy[c])).T)
            seq = list(a[np.argsort(-da)]) + list(b[np.argsort(db)])
            lines.append({"id": f"U{c}-{k + 1}", "name": f"{name[c]} urbain {k + 1}",
                          "kind": "urbain", "stops": seq, "periods": ("T0", "N")})
    # hubs and radial lines
    hubs = sorted(c for c in by_commune if pop.get(c, 0) >= HUB_POPULATION)
    hxy = np.array([cxy[h] for h in hubs])
    satellites: dict[str, list[str]] = {h: [] for h in hubs}
    for c in sorted(by_commune):
        if c in satellites:
            continue
        d = np.hypot(hxy[:, 0] - cxy[c][0], hxy[:, 1] - cxy[c][1])
        satellites[hubs[int(np.argmin(d))]].append(c)
    for h in hubs:
        sats = satellites[h]
        if not sats:
            continue
        pts = np.array([cxy[c] for c in sats])
        for k, part in enumerate(_bearing_sectors(pts, cxy[h], min(4, len(sats)))):
            members = [sats[i] for i in part]
            members.sort(key=lambda c: math.dist(cxy[c], cxy[h]))
            for j in range(0, len(members), 10):
                chunk = members[j:j + 10]
                seq = [main[h]] + [main[c] for c in chunk]
                lines.append({"id": f"R{h}-{k + 1}{'abc'[j // 10] if j else ''}",
                              "name": f"{name[h]} – {name[chunk[-1]]}", "kind": "interurbain",
                              "stops": seq, "periods": ("T0", "N")})
    # express lines between neighbouring hubs
    pairs = set()
    for i, h in enumerate(hubs):
        d = np.hypot(hxy[:, 0] - hxy[i, 0], hxy[:, 1] - hxy[i, 1])
        for j in np.argsort(d)[1:3]:
            pairs.add(tuple(sorted((h, hubs[int(j)]))))
    for k, (a, b) in enumerate(sorted(pairs)):
        lines.append({"id": f"X{a}-{b}", "name": f"Express {name[a]} – {name[b]}",
                      "kind": "express", "stops": [main[a], main[b]],
                      "periods": ("N",) if k % 3 == 0 else ("T0", "N")})
    # trains
    stations = np.flatnonzero(~bus)
    from services.demo import sorted_communes
    for line_name, kind, geom in noise_lines(sorted_communes({"communes": com})):
        if kind != "voie ferrée":
            continue
        on = [s for s in stations if shapely.distance(geom, stops.geometry.iloc[s]) < 1.0]
        on.sort(key=lambda s: geom.project(stops.geometry.iloc[s]))
        if len(on) >= 2:
            trains = sum(1 for line in lines if line["kind"] == "train")
            lines.append({"id": f"TER-{trains + 1}",
                          "name": "TER " + line_name, "kind": "train", "stops": on,
                          "periods": ("T0", "N")})
    return lines


def _departures(rng, kind: str, period: str, saturday: bool) -> list[int]:
    peak, off = HEADWAYS[kind][period]
    start, end = (6 * 3600, 21 * 3600) if period == "N" else (6 * 3600 + 1800, 20 * 3600)
    t = start + int(rng.integers(0, off)) * 60
    out = []
    while t <= end:
        out.append(t)
        in_peak = any(a <= t < b for a, b in PEAKS) and not saturday
        t += (peak if in_peak else off) * 60
    return out


def _hms(sec: int) -> str:
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}"


def build(collections_dir: Path | None = None, seed: int = SEED) -> dict[str, pd.DataFrame]:
    from services.demo import make_rng, source_label
    from .demo_network import artois_communes
    com = artois_communes(collections_dir)
    stops = _stops(com)
    lines = _lines(com, stops)
    xy = np.column_stack([stops.geometry.x, stops.geometry.y])
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    label = source_label(seed)
    agency = pd.DataFrame([
        {"agency_id": "DEMO-BUS", "agency_name": "Bus de l'Artois (DÉMONSTRATION)",
         "agency_url": "https://example.org/demo-bus", "agency_timezone": "Europe/Paris",
         "agency_lang": "fr"},
        {"agency_id": "DEMO-TER", "agency_name": "TER Hauts-de-France (DÉMONSTRATION)",
         "agency_url": "https://example.org/demo-ter", "agency_timezone": "Europe/Paris",
         "agency_lang": "fr"}])
    stops_df = pd.DataFrame({"stop_id": stops["id"], "stop_name": stops["nom"],
                             "stop_lat": np.round(lat, 7), "stop_lon": np.round(lon, 7),
                             "stop_desc": label})
    routes, trips, times, shapes = [], [], [], []
    for number, line in enumerate(lines, start=1):
        train = line["kind"] == "train"
        routes.append({"route_id": line["id"], "agency_id": "DEMO-TER" if train else "DEMO-BUS",
                       "route_short_name": f"{line['kind'][0].upper()}{number}",
                       "route_long_name": line["name"], "route_type": 2 if train else 3,
                       "route_desc": label})
        seq = line["stops"]
        factor, dwell = (1.1, 60) if train else (1.3, 20)
        speed = SPEED_KMH[line["kind"]] / 3.6
        legs = [int(round(math.dist(xy[a], xy[b]) * factor / speed)) for a, b in zip(seq, seq[1:])]
        for direction, (order, leg) in enumerate(((seq, legs), (seq[::-1], legs[::-1]))):
            shape_id = f"{line['id']}-{direction}"
            km = np.concatenate([[0.0], np.cumsum([math.dist(xy[a], xy[b]) / 1000
                                                   for a, b in zip(order, order[1:])])])
            shapes.extend({"shape_id": shape_id, "shape_pt_lat": round(float(lat[s]), 7),
                           "shape_pt_lon": round(float(lon[s]), 7), "shape_pt_sequence": i + 1,
                           "shape_dist_traveled": round(float(km[i]), 3)}
                          for i, s in enumerate(order))
            for service, (_s, _e, days) in SERVICES.items():
                period = service.split("-")[0]
                if period not in line["periods"]:
                    continue
                rng = make_rng(seed, f"{line['id']}:{direction}:{service}")
                for k, dep in enumerate(_departures(rng, line["kind"], period, days[5] == 1)):
                    trip_id = f"{line['id']}-{direction}-{service}-{k + 1:03d}"
                    trips.append({"route_id": line["id"], "service_id": service,
                                  "trip_id": trip_id, "direction_id": direction,
                                  "shape_id": shape_id,
                                  "trip_headsign": stops["nom"].iloc[order[-1]]})
                    t = dep
                    for i, s in enumerate(order):
                        arr = t
                        dwell_here = dwell if 0 < i < len(order) - 1 else 0
                        times.append((trip_id, _hms(arr), _hms(arr + dwell_here),
                                      stops["id"].iloc[s], i + 1, round(float(km[i]), 3)))
                        if i < len(leg):
                            t = arr + dwell_here + leg[i]
    calendar = pd.DataFrame([{
        "service_id": sid, "monday": d[0], "tuesday": d[1], "wednesday": d[2], "thursday": d[3],
        "friday": d[4], "saturday": d[5], "sunday": d[6], "start_date": s.strftime("%Y%m%d"),
        "end_date": e.strftime("%Y%m%d")} for sid, (s, e, d) in SERVICES.items()])
    exceptions = []
    for sid, (s, e, d) in SERVICES.items():
        for year in range(s.year, e.year + 1):
            for md in HOLIDAYS:
                day = dt.date.fromisoformat(f"{year}-{md}")
                if s <= day <= e and d[day.weekday()]:
                    exceptions.append({"service_id": sid, "date": day.strftime("%Y%m%d"),
                                       "exception_type": 2})
    return {
        "agency": agency, "stops": stops_df, "routes": pd.DataFrame(routes),
        "trips": pd.DataFrame(trips),
        "stop_times": pd.DataFrame(times, columns=["trip_id", "arrival_time", "departure_time",
                                                   "stop_id", "stop_sequence",
                                                   "shape_dist_traveled"]),
        "shapes": pd.DataFrame(shapes),
        "calendar": calendar, "calendar_dates": pd.DataFrame(exceptions),
        "feed_info": pd.DataFrame([{
            "feed_publisher_name": "artois-geo (DONNÉES DE DÉMONSTRATION / DEMO DATA)",
            "feed_publisher_url": "https://example.org/artois-geo", "feed_lang": "fr",
            "feed_start_date": "20210901", "feed_end_date": "20321231",
            "feed_version": f"demo-{seed}"}]),
    }


def write_zip(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write GTFS tables (name -> frame) as a zip of CSV files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, frame in tables.items():
            buf = io.StringIO()
            frame.to_csv(buf, index=False, lineterminator="\n")
            info = zipfile.ZipInfo(f"{name}.txt", date_time=(2025, 9, 30, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())   # fixed date: the same bytes every build
    tmp.replace(path)
    return path


def write_feed(path: Path, collections_dir: Path | None = None, seed: int = SEED) -> Path:
    """Write the demo GTFS feed to ``path`` (.zip); returns the path."""
    return write_zip(build(collections_dir, seed), path)
