"""A GTFS feed read with gtfs-kit, turned into the connections of one service date.

:func:`read_feeds` reads one or more GTFS zips (several networks: their ids are prefixed by the
file's stem so they cannot clash); :func:`timetable` keeps the trips running on a date
(``calendar`` and ``calendar_dates``, through gtfs-kit's ``get_trips(date)``) and returns the
elementary connections (one per pair of consecutive stop times of a trip: departure stop,
arrival stop, departure and arrival seconds after midnight, trip), sorted by departure time, as
:func:`processes.half_hour.routing.csa.scan` reads them. Trips of the previous service day
running past midnight are not carried over (times >= 24:00 stay on their own day);
``frequencies.txt`` trips are expanded into ordinary ones (gtfs-kit's ``expand_frequencies``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class Timetable:
    date: dt.date
    stop_ids: np.ndarray       # GTFS stop_id (prefixed) per stop index
    stop_xy: np.ndarray        # (S, 2) Lambert-93
    dep_stop: np.ndarray       # per connection, sorted by dep_time
    arr_stop: np.ndarray
    dep_time: np.ndarray       # seconds after midnight (int32)
    arr_time: np.ndarray
    trip: np.ndarray           # trip index per connection (0..T-1)
    trip_count: int


def read_feeds(paths: list[Path]) -> list:
    import gtfs_kit as gk
    feeds = []
    for path in paths:
        feed = gk.read_feed(Path(path), dist_units="km")
        if getattr(feed, "frequencies", None) is not None and len(feed.frequencies):
            feed = feed.expand_frequencies()     # headway-based trips become ordinary ones
        feeds.append((Path(path).stem, feed))
    return feeds


def _seconds(times: pd.Series) -> np.ndarray:
    parts = times.astype(str).str.strip().str.split(":", expand=True)
    if parts.shape[1] < 3:
        raise ValueError("stop_times: times must be HH:MM:SS")
    h, m, s = (pd.to_numeric(parts[k], errors="coerce") for k in range(3))
    return (h * 3600 + m * 60 + s).to_numpy(dtype=float)


def feed_dates(feeds: list) -> list[dt.date]:
    """Every date some feed has a calendar for."""
    dates: set[dt.date] = set()
    for _, feed in feeds:
        dates.update(dt.datetime.strptime(d, "%Y%m%d").date() for d in feed.get_dates())
    return sorted(dates)


def service_day(feeds: list, date: dt.date | None = None) -> dt.date | None:
    """The ordinary weekday whose timetable stands for the network at ``date`` (default
    today): ``date`` moved into the feeds' calendar, then the first Monday-Friday on or after
    it that has trips (so a Saturday, a public holiday or a date before the feed starts picks
    the next working day; after the feed ends, the last working day before)."""
    dates = feed_dates(feeds)
    if not dates:
        return None
    day = min(max(date or dt.date.today(), dates[0]), dates[-1])
    steps = [dt.timedelta(days=k) for k in range(0, 21)] + \
        [dt.timedelta(days=-k) for k in range(1, 21)]
    for step in steps:
        cand = day + step
        if cand.weekday() < 5 and dates[0] <= cand <= dates[-1] and any(
                len(trips) for trips in (_trips(feed, cand) for _, feed in feeds)
                if trips is not None):
            return cand
    return day


def _trips(feed, date: dt.date):
    return feed.get_trips(date=date.strftime("%Y%m%d"))


def timetable(feeds: list, date: dt.date) -> Timetable:
    """The connections of the trips that run on ``date``."""
    from pyproj import Transformer
    stop_frames, conn_frames = [], []
    trip_offset = 0
    for prefix, feed in feeds:
        stops = feed.stops[["stop_id", "stop_lon", "stop_lat"]].dropna().copy()
        stops["stop_id"] = prefix + ":" + stops["stop_id"].astype(str)
        stop_frames.append(stops)
        trips = _trips(feed, date)
        if trips is None or not len(trips) or feed.stop_times is None:
            continue
        st = feed.stop_times[feed.stop_times["trip_id"].isin(trips["trip_id"])]
        st = st[["trip_id", "stop_id", "stop_sequence", "arrival_time", "departure_time"]].copy()
        st["arr"] = _seconds(st["arrival_time"].fillna(st["departure_time"]))
        st["dep"] = _seconds(st["departure_time"].fillna(st["arrival_time"]))
        st = st.dropna(subset=["arr", "dep"])
        st = st.sort_values(["trip_id", "stop_sequence"], kind="mergesort")
        codes, _ = pd.factorize(st["trip_id"])
        st["trip"] = codes + trip_offset
        trip_offset += int(codes.max()) + 1 if len(codes) else 0
        st["stop_id"] = prefix + ":" + st["stop_id"].astype(str)
        nxt = st.shift(-1)
        same = (nxt["trip"] == st["trip"]).to_numpy()
        conn = pd.DataFrame({"dep_stop": st["stop_id"].to_numpy()[same],
                             "arr_stop": nxt["stop_id"].to_numpy()[same],
                             "dep_time": st["dep"].to_numpy()[same],
                             "arr_time": nxt["arr"].to_numpy()[same],
                             "trip": st["trip"].to_numpy()[same]})
        conn_frames.append(conn[conn["arr_time"] >= conn["dep_time"]])
    stops = pd.concat(stop_frames, ignore_index=True).drop_duplicates("stop_id") \
        if stop_frames else pd.DataFrame(columns=["stop_id", "stop_lon", "stop_lat"])
    index = pd.Index(stops["stop_id"])
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(
        stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)]).reshape(-1, 2)
    if conn_frames:
        conn = pd.concat(conn_frames, ignore_index=True)
        conn = conn[conn["dep_stop"].isin(index) & conn["arr_stop"].isin(index)]
        conn = conn.sort_values(["dep_time", "arr_time"], kind="mergesort")
    else:
        conn = pd.DataFrame({"dep_stop": [], "arr_stop": [], "dep_time": [], "arr_time": [],
                             "trip": []})
    return Timetable(
        date=date, stop_ids=index.to_numpy(), stop_xy=xy,
        dep_stop=index.get_indexer(conn["dep_stop"]).astype(np.int32),
        arr_stop=index.get_indexer(conn["arr_stop"]).astype(np.int32),
        dep_time=conn["dep_time"].to_numpy(np.int32), arr_time=conn["arr_time"].to_numpy(np.int32),
        trip=conn["trip"].to_numpy(np.int32), trip_count=trip_offset)
