"""Walking and cycling travel times on the street graph of an ``.osm.pbf``.

Reading: pyosmium (``FileProcessor`` with node locations, ``highway`` ways only), projected to
Lambert-93; one undirected edge per pair of consecutive way nodes, its length in metres. Which
ways each mode may use (:func:`mode_flags`): no motorways (nor ``motorway_link``) for either
mode, no ``foot=no`` / ``bicycle=no`` / private access, no steps or footways for bikes unless
``bicycle=yes|designated``. One-way streets are walked and cycled both ways (French towns
mostly allow contraflow cycling): a simplification. The built graph is cached on disk as a
``.npz`` (:func:`load_graph`), keyed by the file's size and modification time.

Shortest paths: ``scipy.sparse.csgraph.dijkstra`` with ``limit=`` (multi-source rows, bounded
by the time budget) — measured faster than igraph's ``Graph.distances`` here
(``bench/half_hour_routing.py``; both kept, ``engine=``). Points are snapped to the nearest node
of the mode's largest connected component (``scipy.spatial.cKDTree``), and the snap distance
is walked (or cycled) at the mode's speed.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

SPEED_M_PER_MIN = {"walk": 4500.0 / 60.0, "bike": 15000.0 / 60.0}
CACHE_VERSION = 1
NEVER = {"motorway", "motorway_link", "construction", "proposed", "abandoned", "platform",
         "raceway", "bus_guideway", "escape", "razed", "elevator", "corridor", "bus_stop",
         "rest_area", "services"}
NO_BIKE = {"steps", "footway", "pedestrian", "corridor"}
BATCH = 128  # Dijkstra sources per call at most (rows of BATCH x nodes floats in memory)
BATCH_FLOATS = 16_000_000  # and at most this many floats per call (128 MB): big extracts


def mode_flags(tags: dict) -> tuple[bool, bool]:
    """(walk allowed, bike allowed) for a way's tags."""
    hw = tags.get("highway", "")
    if not hw or hw in NEVER:
        return False, False
    access = tags.get("access", "")
    closed = access in ("no", "private")
    foot, bicycle = tags.get("foot", ""), tags.get("bicycle", "")
    walk = (not closed or foot in ("yes", "designated", "permissive")) and foot != "no"
    bike_ok = hw not in NO_BIKE or bicycle in ("yes", "designated", "permissive")
    bike = bike_ok and (not closed or bicycle in ("yes", "designated", "permissive")) \
        and bicycle not in ("no", "dismount")
    return walk, bike


def read_pbf(path: Path) -> dict[str, np.ndarray]:
    """Nodes (Lambert-93) and edges of the walkable/cyclable ways of an OSM file."""
    import osmium
    from pyproj import Transformer
    ids: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    eu: list[int] = []
    ev: list[int] = []
    ew: list[bool] = []
    eb: list[bool] = []
    proc = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations() \
        .with_filter(osmium.filter.KeyFilter("highway"))
    for way in proc:
        if not way.is_way():
            continue
        walk, bike = mode_flags(dict(way.tags))
        if not (walk or bike):
            continue
        prev = -1
        for nref in way.nodes:
            loc = nref.location
            if not loc.valid():
                prev = -1
                continue
            k = ids.get(nref.ref)
            if k is None:
                k = ids[nref.ref] = len(lon)
                lon.append(loc.lon)
                lat.append(loc.lat)
            if prev >= 0 and prev != k:
                eu.append(prev)
                ev.append(k)
                ew.append(walk)
                eb.append(bike)
            prev = k
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(
        np.asarray(lon, float), np.asarray(lat, float))
    u, v = np.asarray(eu, np.int64), np.asarray(ev, np.int64)
    x, y = np.asarray(x, float), np.asarray(y, float)
    length = np.hypot(x[u] - x[v], y[u] - y[v]) if len(u) else np.zeros(0)
    return {"x": x, "y": y, "u": u.astype(np.int32), "v": v.astype(np.int32),
            "length": length, "walk": np.asarray(ew, bool), "bike": np.asarray(eb, bool)}


def _cache_path(path: Path, cache_dir: Path) -> Path:
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{CACHE_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir / f"{path.name}.{digest}.graph.npz"


def load_arrays(path: Path, cache_dir: Path) -> dict[str, np.ndarray]:
    """The arrays of :func:`read_pbf`, from the on-disk cache when the file is unchanged."""
    path = Path(path)
    cache = _cache_path(path, cache_dir)
    if cache.exists():
        with np.load(cache) as data:
            return {k: data[k] for k in data.files}
    arrays = read_pbf(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.glob(f"{path.name}.*.graph.npz"):
        old.unlink(missing_ok=True)
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(cache)
    return arrays


@dataclass
class ModeGraph:
    """The graph of one mode: CSR adjacency (metres), the nodes of its largest component."""
    mode: str
    csr: sparse.csr_matrix
    nodes: np.ndarray            # node indices of the largest connected component
    tree: cKDTree                # over those nodes' coordinates
    speed: float                 # metres per minute
    _igraph: object = field(default=None, repr=False)

    def snap(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(node index, distance in metres) of the nearest usable node of each point."""
        pts = np.asarray(points, float).reshape(-1, 2)
        if not len(pts):
            return np.zeros(0, np.int64), np.zeros(0)
        dist, k = self.tree.query(pts)
        return self.nodes[k], dist

    def igraph(self):
        if self._igraph is None:
            import igraph
            coo = sparse.triu(self.csr).tocoo()
            g = igraph.Graph(n=self.csr.shape[0], edges=np.column_stack([coo.row, coo.col]),
                             directed=False)
            g.es["w"] = coo.data
            self._igraph = g
        return self._igraph


def build_mode_graph(arrays: dict[str, np.ndarray], mode: str) -> ModeGraph:
    n = len(arrays["x"])
    keep = arrays[mode]
    u, v, w = arrays["u"][keep], arrays["v"][keep], arrays["length"][keep]
    # a tiny positive length: csgraph takes explicit zeros as missing edges
    w = np.maximum(w, 1e-3)
    csr = sparse.csr_matrix((np.concatenate([w, w]), (np.concatenate([u, v]),
                                                       np.concatenate([v, u]))), shape=(n, n))
    csr.sum_duplicates()
    # duplicates summed: take the shortest instead
    if csr.nnz != 2 * len(u):
        coo = sparse.coo_matrix((np.concatenate([w, w]), (np.concatenate([u, v]),
                                                          np.concatenate([v, u]))), shape=(n, n))
        order = np.lexsort((coo.data, coo.col, coo.row))
        r, c, d = coo.row[order], coo.col[order], coo.data[order]
        first = np.ones(len(r), bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        csr = sparse.csr_matrix((d[first], (r[first], c[first])), shape=(n, n))
    if n == 0 or csr.nnz == 0:
        raise ValueError(f"no {mode} street in the network")
    _, labels = connected_components(csr, directed=False)
    used = np.zeros(n, bool)
    used[u] = True
    used[v] = True
    counts = np.bincount(labels[used])
    biggest = int(np.argmax(counts))
    nodes = np.flatnonzero((labels == biggest) & used)
    xy = np.column_stack([arrays["x"][nodes], arrays["y"][nodes]])
    return ModeGraph(mode, csr, nodes, cKDTree(xy), SPEED_M_PER_MIN[mode])


def _node_distances(g: ModeGraph, sources: np.ndarray, others: np.ndarray, limit: float,
                    engine: str) -> np.ndarray:
    """Network metres from each of ``sources`` to each of ``others`` (inf beyond ``limit``)."""
    if engine == "igraph":
        graph = g.igraph()
        d = np.asarray(graph.distances(source=sources.tolist(), target=others.tolist(),
                                       weights="w"), float).reshape(len(sources), len(others))
        d[d > limit] = np.inf
        return d
    d = dijkstra(g.csr, directed=False, indices=sources, limit=limit)
    return d[:, others]


def street_times(g: ModeGraph, origins: np.ndarray, targets: np.ndarray, minutes: float,
                 engine: str = "scipy") -> sparse.csr_matrix:
    """Travel minutes origins x targets by the graph's mode, stored where <= ``minutes``.

    Each pair costs snap distance + network distance + snap distance at the mode's speed.
    Dijkstra runs from the smaller of the two sets of distinct snapped nodes (the graph is
    undirected), a batch of sources at a time, bounded by the budget.
    """
    origins = np.asarray(origins, float).reshape(-1, 2)
    targets = np.asarray(targets, float).reshape(-1, 2)
    n, m = len(origins), len(targets)
    if n == 0 or m == 0 or minutes <= 0:
        return sparse.csr_matrix((n, m))
    limit = float(minutes) * g.speed
    on, od = g.snap(origins)
    tn, td = g.snap(targets)
    ok_o, ok_t = od <= limit, td <= limit
    uo, inv_o = np.unique(on[ok_o], return_inverse=True)
    ut, inv_t = np.unique(tn[ok_t], return_inverse=True)
    if not len(uo) or not len(ut):
        return sparse.csr_matrix((n, m))
    flip = len(ut) < len(uo)
    src, oth = (ut, uo) if flip else (uo, ut)
    rows, cols, vals = [], [], []
    batch = max(1, min(BATCH, BATCH_FLOATS // max(1, g.csr.shape[0])))
    for start in range(0, len(src), batch):
        d = _node_distances(g, src[start:start + batch], oth, limit, engine)
        r, c = np.nonzero(np.isfinite(d))
        rows.append(r + start)
        cols.append(c)
        vals.append(d[r, c] + 1.0)  # +1 m: a zero distance stays stored (undone below)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    if flip:
        r, c = c, r
    dn = sparse.csr_matrix((v, (r, c)), shape=(len(uo), len(ut)))
    # expand distinct nodes to the points snapped to them
    io = np.flatnonzero(ok_o)
    it = np.flatnonzero(ok_t)
    po = sparse.csr_matrix((np.ones(len(io)), (io, inv_o)), shape=(n, len(uo)))
    pt = sparse.csr_matrix((np.ones(len(it)), (inv_t, it)), shape=(len(ut), m))
    out = (po @ dn @ pt).tocsr()
    out.sort_indices()
    rr = np.repeat(np.arange(n), np.diff(out.indptr))
    total = out.data - 1.0 + od[rr] + td[out.indices]
    keep = total <= limit
    minutes_out = total[keep] / g.speed
    # a zero travel time (point on the node, same node) is kept as a tiny positive value
    minutes_out = np.maximum(minutes_out, 1e-6)
    return sparse.csr_matrix((minutes_out, (rr[keep], out.indices[keep])), shape=(n, m))
