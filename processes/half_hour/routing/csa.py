"""The Connection Scan Algorithm (earliest arrival), vectorised over many origins at once.

Dibbelt, Pajor, Strasser, Wagner, "Connection Scan Algorithm", JEA 23 (2018), §3: the
connections of the day sorted by departure time are scanned once; a connection is usable when
its trip is already boarded or its departure stop is reached by its departure time; it then
improves its arrival stop and, through the footpaths of that stop, the stops around. Here the
arrival labels are a matrix (stops x origins) instead of a vector, so one scan serves a whole
batch of origins (every numpy operation is over the batch).

Conventions (documented in the README): no minimum change time at a stop (a connection
departing at the second another arrives can be taken), footpaths only after a vehicle arrival
(the initial labels already hold the walking access to every stop), no limit on the number of
transfers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INF = np.float32(np.inf)


@dataclass
class Footpaths:
    """Walks between stops, grouped by departure stop (CSR layout): the walks from stop ``s``
    are ``to[ptr[s]:ptr[s+1]]`` with ``seconds[ptr[s]:ptr[s+1]]``."""
    ptr: np.ndarray
    to: np.ndarray
    seconds: np.ndarray

    @classmethod
    def empty(cls, stops: int) -> "Footpaths":
        return cls(np.zeros(stops + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))

    @classmethod
    def from_pairs(cls, stops: int, frm: np.ndarray, to: np.ndarray,
                   seconds: np.ndarray) -> "Footpaths":
        frm, to, seconds = (np.asarray(a) for a in (frm, to, seconds))
        keep = frm != to
        frm, to, seconds = frm[keep], to[keep], seconds[keep]
        order = np.argsort(frm, kind="stable")
        ptr = np.zeros(stops + 1, np.int64)
        np.add.at(ptr, frm + 1, 1)
        return cls(np.cumsum(ptr), to[order].astype(np.int32),
                   seconds[order].astype(np.float32))


def scan(dep_stop: np.ndarray, arr_stop: np.ndarray, dep_time: np.ndarray,
         arr_time: np.ndarray, trip: np.ndarray, start: np.ndarray, t_end: float,
         footpaths: Footpaths) -> np.ndarray:
    """Earliest arrival (seconds) at every stop for every origin.

    ``start`` (stops x origins, float32): the time each origin reaches each stop before
    boarding (departure time + walking access; ``inf`` if not). Connections must be sorted by
    departure time; those departing before the earliest start or arriving after ``t_end`` are
    skipped. Returns the label matrix (a new array).
    """
    arr = np.array(start, dtype=np.float32, copy=True)
    if arr.ndim != 2:
        raise ValueError("start must be a (stops, origins) matrix")
    if not len(dep_time) or not arr.size:
        return arr
    t0 = float(np.min(arr)) if np.isfinite(arr).any() else np.inf
    if not np.isfinite(t0):
        return arr
    lo = int(np.searchsorted(dep_time, t0, side="left"))
    hi = int(np.searchsorted(dep_time, t_end, side="right"))
    sel = slice(lo, hi)
    ds, as_, dt_, at_, tr = (dep_stop[sel], arr_stop[sel], dep_time[sel].astype(np.float32),
                             arr_time[sel].astype(np.float32), trip[sel])
    keep = at_ <= t_end
    ds, as_, dt_, at_, tr = ds[keep], as_[keep], dt_[keep], at_[keep], tr[keep]
    if not len(ds):
        return arr
    local, tr = np.unique(tr, return_inverse=True)
    boarded = np.zeros((len(local), arr.shape[1]), bool)
    on_trip = np.zeros(len(local), bool)       # some origin already aboard that trip
    ptr, fto, fsec = footpaths.ptr, footpaths.to, footpaths.seconds
    cand = np.empty(arr.shape[1], np.float32)
    for k in range(len(ds)):
        s, t = ds[k], tr[k]
        ok = arr[s] <= dt_[k]
        if on_trip[t]:
            ok |= boarded[t]
        if not ok.any():
            continue
        boarded[t] = ok
        on_trip[t] = True
        cand.fill(INF)
        cand[ok] = at_[k]
        a = as_[k]
        np.minimum(arr[a], cand, out=arr[a])
        for f in range(ptr[a], ptr[a + 1]):
            b = fto[f]
            np.minimum(arr[b], cand + fsec[f], out=arr[b])
    return arr
