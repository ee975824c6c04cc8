"""Seeded, deterministic generators of *modelled demonstration data* for Artois.

Where no public data set exists, the build publishes demonstration data produced
by the generators of this package.  Each one follows a French national schema
(CNIG, etalab, ...), draws every random number from ``numpy.random.default_rng``
seeded by the collection metadata (never the global random state), sorts its
inputs by a stable key before sampling, and stamps every record with
``source = "Données de démonstration modélisées (générateur artois-geo, graine N)"``.
These records are NOT real observations.

Vector generators share the signature
``generate(layers: dict[str, GeoDataFrame], seed: int) -> GeoDataFrame``; the
raster one is ``surchauffe.generate_raster(layers, seed, out_path, year)``.
``layers`` holds the already-built real collections in EPSG:2154.

This module holds the small helpers they share.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

CRS = "EPSG:2154"

#: short codes used in identifiers, keyed by EPCI SIREN
EPCI_CODES = {
    "200072460": "CABBALR",  # CA de Béthune-Bruay, Artois-Lys Romane
    "246200364": "CALL",  # CA de Lens - Liévin
    "200069672": "CCT",  # CC du Ternois
    "200044030": "CC7V",  # CC des 7 Vallées
}
#: the two EPCI of the mining basin (urban, post-industrial)
BASSIN_MINIER_EPCI = ("200072460", "246200364")

#: fixed "as of" date of the demonstration data sets (never ``date.today()``:
#: outputs must not depend on the day the build runs)
REFERENCE_DATE = dt.date(2025, 9, 30)


def source_label(seed: int) -> str:
    """Value of the ``source`` field of every generated record."""
    return f"Données de démonstration modélisées (générateur artois-geo, graine {int(seed)})"


def make_rng(seed: int, salt: str | int = 0) -> np.random.Generator:
    """A fresh seeded generator; ``salt`` separates independent streams.

    A string salt is hashed with CRC-32 (stable across processes, unlike ``hash``).
    """
    if isinstance(salt, str):
        salt = zlib.crc32(salt.encode("utf-8"))
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(salt) & 0xFFFFFFFF])


def to_l93(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in Lambert-93 (no copy if it already is)."""
    if gdf.crs is None:
        return gdf.set_crs(CRS)
    if gdf.crs.to_epsg() != 2154:
        return gdf.to_crs(CRS)
    return gdf


def sorted_communes(layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The communes layer in Lambert-93, sorted by INSEE code, with a
    ``centre`` column (representative point = stand-in for the town centre)."""
    com = to_l93(layers["communes"]).copy()
    com["insee"] = com["insee"].astype(str)
    com["epci_siren"] = com["epci_siren"].astype(str)
    com = com.sort_values("insee", kind="mergesort").reset_index(drop=True)
    com["centre"] = com.geometry.representative_point()
    return com


def territory(communes: gpd.GeoDataFrame) -> BaseGeometry:
    """Union of the commune polygons (order-independent: sorted by INSEE)."""
    com = communes.sort_values("insee", kind="mergesort")
    return shapely.union_all(np.asarray(com.geometry.values))


def epci_names(layers: dict[str, gpd.GeoDataFrame], communes: gpd.GeoDataFrame) -> dict[str, str]:
    """SIREN -> official EPCI name (from ``layers['epci']`` or the communes)."""
    names: dict[str, str] = {}
    if "epci" in layers and "epci_nom" in layers["epci"].columns:
        for siren, nom in zip(layers["epci"]["epci_siren"].astype(str), layers["epci"]["epci_nom"]):
            names[siren] = str(nom)
    if "epci_nom" in communes.columns:
        for siren, nom in zip(communes["epci_siren"], communes["epci_nom"]):
            names.setdefault(siren, str(nom))
    return names


def random_point_in(
    rng: np.random.Generator,
    polygon: BaseGeometry,
    centre: Point | None = None,
    sigma: float | None = None,
    max_tries: int = 200,
) -> Point | None:
    """A random point inside ``polygon``.

    Uniform over the polygon, or Gaussian around ``centre`` (std ``sigma`` m)
    when both are given.  Rejection sampling; ``None`` if nothing was found.
    """
    shapely.prepare(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(max_tries):
        if centre is not None and sigma is not None:
            x, y = rng.normal(centre.x, sigma), rng.normal(centre.y, sigma)
        else:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(polygon, x, y):
            return Point(round(float(x), 2), round(float(y), 2))
    return None


def random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """Uniform random date in ``[start, end]``."""
    span = (end - start).days
    return start + dt.timedelta(days=int(rng.integers(0, span + 1)))


def weighted_choice(rng: np.random.Generator, options: Sequence, weights: Sequence[float]):
    """Pick one element of ``options`` with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=float)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def round_coords(coords: np.ndarray, decimals: int = 2) -> np.ndarray:
    """Round coordinates (centimetres by default) so outputs are byte-stable."""
    return np.round(np.asarray(coords, dtype=float), decimals)


def de(nom: str) -> str:
    """« de » + a French place name, with elision/contraction:
    de Béthune, d'Isbergues, du Parcq (Le Parcq), des Attaques (Les Attaques)."""
    if nom.startswith("Le "):
        return "du " + nom[3:]
    if nom.startswith("Les "):
        return "des " + nom[4:]
    if nom[:1] in "AEIOUYÉÈÊÂÎÔ":
        return "d'" + nom
    return "de " + nom


def a(nom: str) -> str:
    """« à » + a French place name: à Lens, au Parcq, aux Attaques."""
    if nom.startswith("Le "):
        return "au " + nom[3:]
    if nom.startswith("Les "):
        return "aux " + nom[4:]
    return "à " + nom


def commune_lookup(communes: gpd.GeoDataFrame, points: Sequence[BaseGeometry]) -> np.ndarray:
    """Index (row in ``communes``) of the commune containing each point, or the
    nearest commune when a point falls on a boundary/gap; vectorised."""
    tree = shapely.STRtree(np.asarray(communes.geometry.values))
    pts = np.asarray(points, dtype=object)
    out = np.full(len(pts), -1, dtype=np.int64)
    q_pt, q_poly = tree.query(pts, predicate="intersects")
    # lowest commune index wins on shared boundaries (deterministic)
    for i, j in sorted(zip(q_pt.tolist(), q_poly.tolist()), reverse=True):
        out[i] = j
    missing = np.flatnonzero(out < 0)
    if len(missing):
        out[missing] = tree.nearest(pts[missing])
    return out
