"""Travel times of the half-hour territory: walking, cycling, public transport.

    from processes.half_hour.routing import load_network, reach
    net = load_network(date=None)
    r = reach(net, origins, targets, "transit", 30, departure=(8 * 3600, 9 * 3600))
    # scipy.sparse.csr_matrix (n x m) of minutes, stored only where <= 30

- streets (:mod:`.streets`): an ``.osm.pbf`` read with pyosmium, shortest paths with
  ``scipy.sparse.csgraph.dijkstra`` (walk 4.5 km/h, bike 15 km/h, no motorways);
- timetable (:mod:`.gtfs`, :mod:`.csa`): GTFS read with gtfs-kit, the Connection Scan
  Algorithm, walking access and egress on the street graph; over a departure window, the
  **median** travel time over departures every ``ARTOIS_HALF_HOUR_DEPARTURE_STEP`` seconds
  (``statistic="best"`` gives the best one);
- data: ``ARTOIS_HALF_HOUR_OSM`` and ``ARTOIS_HALF_HOUR_GTFS``; unset, the demo network and
  feed built under ``var/half_hour`` (:mod:`.demo_network`, :mod:`.demo_gtfs`; built on first
  use when missing).
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from . import gtfs, streets

MODES = ("walk", "bike", "transit")
MAX_MINUTES = 240.0
FOOTPATH_MINUTES = 5.0          # walks between stops for transfers
DEMO_OSM = "demo-artois.osm.pbf"
DEMO_GTFS = "demo-artois-gtfs.zip"
_LOCK = threading.Lock()
_STREETS: dict = {}
_FEEDS: dict = {}
_TIMETABLES: dict = {}          # (feeds key, date) -> Timetable, the last few
TIMETABLES_KEPT = 4

__all__ = ["load_network", "reach", "Network", "RoutingDataError", "MODES"]


class RoutingDataError(ValueError):
    """A network or timetable file is missing or unreadable."""


def data_dir() -> Path:
    from services.settings import get_settings
    return get_settings().var_dir / "half_hour"


def ensure_demo(folder: Path | None = None, force: bool = False) -> tuple[Path, Path]:
    """Build the demo network and feed under ``folder`` (default var/half_hour) if missing."""
    from . import demo_gtfs, demo_network
    folder = Path(folder or data_dir())
    osm, feed = folder / DEMO_OSM, folder / DEMO_GTFS
    with _LOCK:
        if force or not osm.exists():
            demo_network.write_pbf(osm)
        if force or not feed.exists():
            demo_gtfs.write_feed(feed)
    return osm, feed


def sources() -> tuple[Path, list[Path]]:
    """The street network file and the GTFS files the settings name (demo ones if unset)."""
    from services.settings import get_settings
    s = get_settings()
    osm = Path(s.half_hour_osm) if s.half_hour_osm else None
    feeds = [Path(p.strip()) for p in (s.half_hour_gtfs or "").split(",") if p.strip()]
    if osm is None or (not feeds and s.half_hour_gtfs is None):
        try:
            demo_osm, demo_feed = ensure_demo()
        except OSError as exc:
            raise RoutingDataError(f"demo network not built under {data_dir()}: {exc}") from exc
        osm = osm or demo_osm
        if s.half_hour_gtfs is None:
            feeds = [demo_feed]
    for path in [osm, *feeds]:
        if not path.is_file():
            raise RoutingDataError(f"routing data file not found: {path}")
    return osm, feeds


def _key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


@dataclass
class Network:
    """The street graph and the timetable of one date (``date`` None: no transit feed)."""
    osm: Path
    arrays: dict
    feeds: list
    date: dt.date | None
    graphs: dict = field(default_factory=dict)
    feed_key: tuple = ()
    _timetable: gtfs.Timetable | None = None
    _transfers: dict = field(default_factory=dict)

    def graph(self, mode: str) -> streets.ModeGraph:
        if mode not in self.graphs:
            self.graphs[mode] = streets.build_mode_graph(self.arrays, mode)
        return self.graphs[mode]

    @property
    def timetable(self) -> gtfs.Timetable | None:
        if self._timetable is None and self.feeds and self.date is not None:
            key = (self.feed_key, self.date)
            with _LOCK:
                cached = _TIMETABLES.get(key)
            if cached is None:
                cached = gtfs.timetable(self.feeds, self.date)
                with _LOCK:
                    while len(_TIMETABLES) >= TIMETABLES_KEPT:
                        _TIMETABLES.pop(next(iter(_TIMETABLES)))
                    _TIMETABLES[key] = cached
            self._timetable = cached
        return self._timetable


def load_network(date: dt.date | str | None = None, *, osm: Path | None = None,
                 gtfs_files: list[Path] | None = None, cache_dir: Path | None = None,
                 exact: bool = False) -> Network:
    """The network state for ``date`` (a date or ``YYYY-MM-DD``; None: today).

    The timetable is that of an ordinary weekday standing for the date
    (:func:`.gtfs.service_day`: the first Monday-Friday with trips on or after it, within the
    feeds' calendar), so that a Saturday, a holiday or 1 January still give the network of
    that period; ``exact=True`` uses the date as it is. ``net.date`` is the day used. Files
    default to the settings (:func:`sources`); the street graph is cached on disk
    (``cache_dir``, default var/half_hour/cache) and in memory."""
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date[:10])
        except ValueError as exc:
            raise ValueError(f"invalid date: {date!r}") from exc
    if osm is None or gtfs_files is None:
        s_osm, s_feeds = sources()
        osm = Path(osm) if osm is not None else s_osm
        gtfs_files = list(gtfs_files) if gtfs_files is not None else s_feeds
    osm = Path(osm)
    gtfs_files = [Path(p) for p in gtfs_files]
    for path in [osm, *gtfs_files]:
        if not path.is_file():
            raise RoutingDataError(f"routing data file not found: {path}")
    cache_dir = Path(cache_dir) if cache_dir else data_dir() / "cache"
    skey = _key(osm)
    with _LOCK:
        if skey not in _STREETS:
            try:
                _STREETS.clear()
                _STREETS[skey] = (streets.load_arrays(osm, cache_dir), {})
            except (OSError, RuntimeError) as exc:
                raise RoutingDataError(f"unreadable street network {osm}: {exc}") from exc
        arrays, graphs = _STREETS[skey]
        fkey = tuple(_key(p) for p in gtfs_files)
        if fkey not in _FEEDS:
            try:
                _FEEDS.clear()
                _TIMETABLES.clear()
                _FEEDS[fkey] = gtfs.read_feeds(gtfs_files)
            except (OSError, KeyError, ValueError) as exc:
                raise RoutingDataError(f"unreadable GTFS feed: {exc}") from exc
        feeds = _FEEDS[fkey]
    if feeds and not (exact and date is not None):
        date = gtfs.service_day(feeds, date)
    return Network(osm=osm, arrays=arrays, feeds=feeds, date=date, graphs=graphs,
                   feed_key=fkey)


def _points(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.size == 0:
        return arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be an (n, 2) array of finite Lambert-93 coordinates")
    return arr


def sparse_min(a: sparse.csr_matrix, b: sparse.csr_matrix) -> sparse.csr_matrix:
    """Element-wise minimum of two matrices whose missing entries mean +infinity."""
    a, b = a.tocoo(), b.tocoo()
    r = np.concatenate([a.row, b.row])
    c = np.concatenate([a.col, b.col])
    v = np.concatenate([a.data, b.data])
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(len(r), bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return sparse.csr_matrix((v[first], (r[first], c[first])), shape=a.shape)


def reach(net: Network, origins, targets, mode: str, minutes: float,
          departure: tuple[float, float] = (8 * 3600, 9 * 3600), *,
          statistic: str = "median", step: float | None = None) -> sparse.csr_matrix:
    """Travel minutes from each origin to each target, stored only where <= ``minutes``.

    ``origins`` (n, 2), ``targets`` (m, 2): Lambert-93 metres. ``mode``: walk, bike or
    transit (walk access + timetable + walk egress, or walking all the way when faster).
    ``departure``: (start, end) seconds after midnight of the window tried every ``step``
    seconds (transit only); ``statistic``: ``median`` (default) or ``best`` over them.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    try:
        minutes = float(minutes)
    except (TypeError, ValueError) as exc:
        raise ValueError("minutes must be a number") from exc
    if not (0 < minutes <= MAX_MINUTES):
        raise ValueError(f"minutes must be in (0, {MAX_MINUTES:g}]")
    origins, targets = _points(origins, "origins"), _points(targets, "targets")
    if mode != "transit":
        return streets.street_times(net.graph(mode), origins, targets, minutes)
    from .transit import transit_times
    return transit_times(net, origins, targets, minutes, departure, statistic, step)
