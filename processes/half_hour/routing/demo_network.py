"""A plausible street network of the Artois as an ``.osm.pbf`` — MODELLED DEMONSTRATION DATA.

No OpenStreetMap extract is shipped with the repository (and these machines are offline), so the
set-up writes a *modelled* stand-in with a seeded, deterministic generator over the real communes
(``collections/data/communes_62_artois.geojson``). It is NOT the real street network: drop the
Geofabrik extract in its place (README, "Territoire de la demi-heure").

What it draws (every number from :func:`services.demo.make_rng`, seed :data:`SEED`):

- around each commune's centre (representative point), a street grid (spacing
  :data:`GRID_SPACING`, rotated by a seeded angle, nodes jittered by ±20 m) inside a disc of
  radius 400 m + 7 m × √population, clipped to the commune: ``highway=residential``, named
  ``Rue n (commune)``;
- between each commune and its 3 nearest neighbours (centre to centre), a country road
  (``highway=unclassified``, ``Route de A à B``) densified every 200 m and joined to the grids'
  central nodes;
- the main roads of the ``routes-principales`` layer (same seeded courses,
  :func:`services.demo.reseaux.generate_roads`): motorways as ``highway=motorway`` (their own
  nodes: no walking or cycling), national roads as ``trunk``, departmental roads as
  ``primary``; their vertices (every 150 m) merge with a grid node closer than 60 m.

Every way carries ``source=`` :func:`services.demo.source_label`. Coordinates are WGS 84, as
OSM's.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

SEED = 20261906
ROADS_SEED = 20261501  # collections/routes-principales.yml: the same courses
GRID_SPACING = 125.0
LINK_NEIGHBOURS = 3
ROAD_KIND_TAG = {"autoroute": "motorway", "route nationale": "trunk",
                 "route départementale": "primary"}


def artois_communes(collections_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The real communes of the 4 Artois EPCI in Lambert-93, sorted by INSEE code."""
    from services.settings import get_settings
    folder = collections_dir or get_settings().collections_dir
    com = gpd.read_file(Path(folder) / "data" / "communes_62_artois.geojson")
    if "artois" in com.columns:
        com = com[com["artois"].astype(bool)]
    com = com.to_crs(2154)
    com["insee"] = com["insee"].astype(str)
    return com.sort_values("insee", kind="mergesort").reset_index(drop=True)


class _Builder:
    """Nodes (Lambert-93) and ways, numbered from 1."""

    def __init__(self) -> None:
        self.xy: list[tuple[float, float]] = []
        self.ways: list[tuple[list[int], dict]] = []

    def node(self, x: float, y: float) -> int:
        self.xy.append((float(x), float(y)))
        return len(self.xy)

    def way(self, refs: list[int], tags: dict) -> None:
        if len(refs) >= 2:
            self.ways.append((refs, tags))


def _grid(b: _Builder, rng: np.random.Generator, centre, polygon, radius: float,
          name: str, source: str) -> list[int]:
    """A rotated street grid around ``centre``; returns its node ids (the central one first)."""
    n = int(radius // GRID_SPACING)
    angle = rng.uniform(0, math.pi / 2)
    ca, sa = math.cos(angle), math.sin(angle)
    ids: dict[tuple[int, int], int] = {}
    area = polygon.buffer(30.0)
    shapely.prepare(area)
    for i in range(-n, n + 1):
        for j in range(-n, n + 1):
            if i * i + j * j > n * n and (i, j) != (0, 0):
                continue
            dx, dy = i * GRID_SPACING, j * GRID_SPACING
            x = centre.x + dx * ca - dy * sa
            y = centre.y + dx * sa + dy * ca
            if (i, j) != (0, 0):
                x += rng.uniform(-20, 20)
                y += rng.uniform(-20, 20)
                if not area.contains(shapely.Point(x, y)):
                    continue
            ids[(i, j)] = b.node(x, y)
    street = 0
    for axis in (0, 1):
        for k in range(-n, n + 1):
            run: list[int] = []
            for step in range(-n, n + 2):
                key = (step, k) if axis == 0 else (k, step)
                if key in ids:
                    run.append(ids[key])
                    continue
                if len(run) >= 2:
                    street += 1
                    b.way(run, {"highway": "residential", "name": f"Rue {street} ({name})",
                                "source": source})
                run = []
    centre_id = ids[(0, 0)]
    return [centre_id] + [v for v in ids.values() if v != centre_id]


def _densify(line, step: float) -> np.ndarray:
    count = max(int(math.ceil(line.length / step)), 1)
    pts = [line.interpolate(k * line.length / count) for k in range(count + 1)]
    return np.array([(p.x, p.y) for p in pts])


def build(collections_dir: Path | None = None, seed: int = SEED) -> _Builder:
    from services.demo import make_rng, source_label
    from services.demo.reseaux import generate_roads
    com = artois_communes(collections_dir)
    source = source_label(seed)
    b = _Builder()
    centres = com.geometry.representative_point()
    centre_node: list[int] = []
    for row, centre in zip(com.itertuples(), centres):
        rng = make_rng(seed, f"grille:{row.insee}")
        pop = float(row.population_municipale or 0)
        radius = 400.0 + 7.0 * math.sqrt(max(pop, 0.0))
        ids = _grid(b, rng, centre, row.geometry, radius, row.nom, source)
        centre_node.append(ids[0])
    # country roads between neighbouring communes
    cxy = np.array([(p.x, p.y) for p in centres])
    _, near = cKDTree(cxy).query(cxy, k=LINK_NEIGHBOURS + 1)
    pairs = sorted({tuple(sorted((i, int(j)))) for i, row in enumerate(near) for j in row[1:]})
    for i, j in pairs:
        line = shapely.LineString([cxy[i], cxy[j]])
        pts = _densify(line, 200.0)
        refs = [centre_node[i]] + [b.node(x, y) for x, y in pts[1:-1]] + [centre_node[j]]
        b.way(refs, {"highway": "unclassified", "source": source,
                     "name": f"Route de {com['nom'].iloc[i]} à {com['nom'].iloc[j]}"})
    # the main roads of routes-principales, merged with the grids they cross
    grid_xy = np.array(b.xy)
    tree = cKDTree(grid_xy)
    roads = generate_roads({"communes": com}, ROADS_SEED)
    for road in roads.itertuples():
        tag = ROAD_KIND_TAG[road.categorie]
        for part in getattr(road.geometry, "geoms", [road.geometry]):
            pts = _densify(part, 150.0)
            refs: list[int] = []
            for x, y in pts:
                dist, k = tree.query((x, y))
                ref = int(k) + 1 if tag != "motorway" and dist < 60.0 else b.node(x, y)
                if not refs or refs[-1] != ref:
                    refs.append(ref)
            tags = {"highway": tag, "ref": road.numero, "source": source}
            if tag == "motorway":
                tags["oneway"] = "no"
            b.way(refs, tags)
    return b


def write_pbf(path: Path, collections_dir: Path | None = None, seed: int = SEED) -> Path:
    """Write the demo network to ``path`` (.osm.pbf); returns the path."""
    import osmium
    from osmium.osm.mutable import Node, Way
    b = build(collections_dir, seed)
    xy = np.array(b.xy)
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.osm.pbf")
    tmp.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(tmp))
    try:
        for k in range(len(xy)):
            writer.add_node(Node(id=k + 1, location=(round(float(lon[k]), 7),
                                                     round(float(lat[k]), 7)), tags={}))
        for w, (refs, tags) in enumerate(b.ways, start=1):
            writer.add_way(Way(id=w, nodes=refs, tags=tags))
    finally:
        writer.close()
    tmp.replace(path)
    return path
