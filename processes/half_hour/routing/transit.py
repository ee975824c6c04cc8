"""Public-transport travel times: walk to a stop, ride (CSA), walk from a stop — or walk.

For each departure time of the window (every ``step`` seconds from its start to its end
included), every origin leaves at that time: the labels start at departure + walking time to
each stop within ``ARTOIS_HALF_HOUR_MAX_ACCESS_WALK`` minutes (street graph), the Connection
Scan Algorithm (:mod:`.csa`) runs over the connections of the date (transfers: walks of at most
5 minutes between stops on the street graph), and the time at a target is the best arrival at
a stop plus the walk from it, minus the departure. Waiting at the first stop counts. The result
per pair is the median (or the best) over the departures, then the minimum with walking
directly.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from . import csa, streets

ORIGIN_CHUNK = 2048
MEMORY_FLOATS = 20_000_000      # per chunk: departures x origins x targets (80 MB)


def _settings():
    from services.settings import get_settings
    return get_settings()


def departures(window, step: float) -> np.ndarray:
    try:
        start, end = (float(v) for v in window)
    except (TypeError, ValueError) as exc:
        raise ValueError("departure must be (start, end) in seconds after midnight") from exc
    if not (0 <= start <= end <= 48 * 3600):
        raise ValueError("departure must satisfy 0 <= start <= end <= 172800 seconds")
    count = int((end - start) // step) + 1
    if count > 288:
        raise ValueError("too many departures in the window (at most 288): widen the step")
    return start + step * np.arange(count)


def _footpaths(net, walk, tt) -> csa.Footpaths:
    key = ("footpaths", tt.date)
    if key not in net._transfers:
        fp = streets.street_times(walk, tt.stop_xy, tt.stop_xy, 5.0).tocoo()
        net._transfers[key] = csa.Footpaths.from_pairs(len(tt.stop_xy), fp.row, fp.col,
                                                       fp.data * 60.0)
    return net._transfers[key]


def _statistic(times: np.ndarray, budget: float, statistic: str):
    """(row, col, value) of the pairs whose median (or best) over the departures (axis 0)
    is within ``budget``. The median is computed only where at least half the departures
    are within the budget (elsewhere it cannot be)."""
    within = times <= budget
    count = within.sum(axis=0, dtype=np.int32)
    if statistic == "best":
        r, c = np.nonzero(count > 0)
        return r, c, times[:, r, c].min(axis=0)
    k = times.shape[0]
    r, c = np.nonzero(count >= (k + 1) // 2)
    if not len(r):
        return r, c, np.zeros(0, np.float32)
    med = np.median(times[:, r, c], axis=0)
    keep = med <= budget
    return r[keep], c[keep], med[keep]


def transit_times(net, origins: np.ndarray, targets: np.ndarray, minutes: float, window,
                  statistic: str = "median", step: float | None = None) -> sparse.csr_matrix:
    if statistic not in ("median", "best"):
        raise ValueError("statistic must be median or best")
    settings = _settings()
    step = float(step or settings.half_hour_departure_step)
    if not step > 0:
        raise ValueError("step must be positive")
    taus = departures(window, step)
    walk = net.graph("walk")
    direct = streets.street_times(walk, origins, targets, minutes)
    tt = net.timetable
    n, m = len(origins), len(targets)
    if tt is None or not len(tt.dep_time) or n == 0 or m == 0:
        return direct
    max_walk = min(minutes, float(settings.half_hour_max_access_walk))
    access = streets.street_times(walk, origins, tt.stop_xy, max_walk)       # n x S minutes
    egress = streets.street_times(walk, tt.stop_xy, targets, max_walk).tocsr()  # S x m
    fp = _footpaths(net, walk, tt)
    act_o = np.flatnonzero(np.diff(access.indptr) > 0)
    act_t = np.flatnonzero(np.diff(egress.tocsc().indptr) > 0)
    if not len(act_o) or not len(act_t):
        return direct
    t_index = np.full(m, -1, np.int64)
    t_index[act_t] = np.arange(len(act_t))
    egress_stops = np.flatnonzero(np.diff(egress.indptr) > 0)
    eg_cols = [t_index[egress.indices[egress.indptr[e]:egress.indptr[e + 1]]]
               for e in egress_stops]
    eg_secs = [(egress.data[egress.indptr[e]:egress.indptr[e + 1]] * 60.0).astype(np.float32)
               for e in egress_stops]
    budget = minutes * 60.0
    n_stops = len(tt.stop_xy)
    chunk = int(max(32, min(ORIGIN_CHUNK, MEMORY_FLOATS // max(1, len(taus) * len(act_t)))))
    rows, cols, vals = [], [], []
    for c0 in range(0, len(act_o), chunk):
        idx = act_o[c0:c0 + chunk]
        acc = access[idx].tocoo()
        walk_to_stop = np.full((n_stops, len(idx)), np.inf, np.float32)
        walk_to_stop[acc.col, acc.row] = acc.data * 60.0
        times = np.full((len(taus), len(idx), len(act_t)), np.inf, np.float32)
        for k, tau in enumerate(taus):
            arr = csa.scan(tt.dep_stop, tt.arr_stop, tt.dep_time, tt.arr_time, tt.trip,
                           walk_to_stop + np.float32(tau), tau + budget, fp)
            best = times[k]
            limit = np.float32(tau + budget)
            for e, tc, ts in zip(egress_stops, eg_cols, eg_secs):
                lab = arr[e]
                reached = np.flatnonzero(lab <= limit)
                if not len(reached):
                    continue
                ix = np.ix_(reached, tc)
                best[ix] = np.minimum(best[ix], lab[reached][:, None] + ts[None, :])
            best -= np.float32(tau)
        r, c, v = _statistic(times, budget, statistic)
        rows.append(idx[r])
        cols.append(act_t[c])
        vals.append(np.maximum(v / 60.0, 1e-6))
    ride = sparse.csr_matrix((np.concatenate(vals).astype(float),
                              (np.concatenate(rows), np.concatenate(cols))), shape=(n, m))
    from . import sparse_min
    return sparse_min(direct, ride)
