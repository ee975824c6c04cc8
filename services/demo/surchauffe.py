"""Surchauffe urbaine (urban overheating) raster — MODELLED DEMONSTRATION DATA.

A 25 m grid (EPSG:2154, float32, nodata -9999 outside the union of the
communes) of the *summer land-surface-temperature anomaly* in °C (about -4 to
+8 °C around the territory mean) for a given summer (2022, 2023, 2024).  No
satellite product is used: the values come from a seeded model
(``numpy.random.default_rng``) and are NOT measurements.  The output is a
Cloud-Optimized GeoTIFF (GDAL ``COG`` driver: 512 px tiles, DEFLATE, overviews
2-4-8-16-32, band description « anomalie de température de surface (°C) »),
following the usual conventions of the national heat-island maps (Cerema,
ADEME « Plus fraîche ma ville ») for the quantity mapped, not for its values.

Model (all terms in °C, summed, then clipped to [-4.5, 8.5]):

* urban fabric: each commune contributes a Gaussian kernel centred on its
  representative point (stand-in for the town centre), with a weight growing
  with its population and density and a width growing with the square root of
  its population; the sum S gives an urban intensity U = 1 - exp(-S) (0..1),
  textured by fine noise, times ~6 °C;
* business parks: +3.5 °C on the polygons of ``layers["zae"]`` (themselves
  modelled demonstration data) when present;
* slag heaps: +4 °C on the real polygons of ``layers["terrils"]`` (dark
  schist heats strongly);
* water: -2.8 °C on, and a cool halo around, *modelled* watercourses — no water
  layer is available, so the Canal d'Aire, the Lawe, the canal de Lens
  (Souchez), the Haute-Deûle canal, the Lys, the Canche, the Ternoise and the
  Authie are approximated by polylines through the representative points of
  real communes they cross (coarse, demonstration-grade; the Scarpe rises
  just outside the four EPCI and is not drawn);
* woods: -3 °C on, and a halo around, *modelled* woods — an approximate
  Forêt d'Hesdin and Bois de Bouvigny, plus seeded irregular patches in
  the rural communes of the CC du Ternois and the CC des 7 Vallées;
* spatially correlated noise (Gaussian-filtered white noise at 50 m, 200 m and
  1.5 km scales, a separable Gaussian applied by FFT in numpy: scipy is not a
  dependency), reseeded with ``seed + year``;
* a summer level: 2022 +0.6, 2023 +0.3, 2024 -0.2 °C (other years 0).

Structural features (woods) depend on ``seed`` only, so they stay put from one
summer to the next; noise and level change with ``year``.
"""

from __future__ import annotations

import math
import pathlib
import tempfile

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.features
import rasterio.shutil
import shapely
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point

from . import CRS, make_rng, sorted_communes, source_label, territory, to_l93

RES = 25.0
NODATA = -9999.0
BAND_DESCRIPTION = "anomalie de température de surface (°C)"
YEAR_LEVEL = {2022: 0.6, 2023: 0.3, 2024: -0.2}
OVERVIEW_COUNT = 5  # 2, 4, 8, 16, 32

#: modelled watercourses: (name, [commune names, upstream -> downstream])
WATERWAYS = [
    ("Canal d'Aire", ["Isbergues", "Guarbecque", "Gonnehem", "Annezin", "Beuvry", "Cuinchy"]),
    ("Lawe", ["Houdain", "Bruay-la-Buissière", "Gosnay", "Béthune", "Annezin"]),
    ("Canal de Lens (Souchez)", ["Souchez", "Liévin", "Lens", "Loison-sous-Lens", "Harnes"]),
    ("Canal de la Haute-Deûle", ["Harnes", "Estevelles", "Pont-à-Vendin", "Meurchin"]),
    ("Lys", ["Isbergues", "Saint-Venant"]),
    ("Canche", ["Frévent", "Boubers-sur-Canche", "Conchy-sur-Canche", "Fillièvres", "Vieil-Hesdin",
                "Hesdin-la-Forêt", "Marconnelle", "Beaurainville", "Brimeux"]),
    ("Ternoise", ["Saint-Pol-sur-Ternoise", "Hernicourt", "Wavrans-sur-Ternoise", "Anvin", "Blangy-sur-Ternoise",
                  "Auchy-lès-Hesdin", "Hesdin-la-Forêt"]),
    ("Authie", ["Auxi-le-Château"]),
]
#: anchored woods: (name, commune, offset east m, offset north m, area ha)
ANCHORED_WOODS = [
    ("Forêt d'Hesdin (approx.)", "Hesdin-la-Forêt", 2500.0, 2200.0, 900.0),
    ("Bois de Bouvigny (approx.)", "Bouvigny-Boyeffles", 300.0, -900.0, 250.0),
]
RURAL_EPCI = ("200069672", "200044030")  # CC du Ternois, CC des 7 Vallées


# --------------------------------------------------------------------------------------
# numpy helpers
# --------------------------------------------------------------------------------------
def _fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (fast FFT size)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def gaussian_blur(arr: np.ndarray, sigma_px: float, mode: str = "constant") -> np.ndarray:
    """Separable Gaussian filter (std ``sigma_px`` pixels) by FFT; float32 output.

    The array is padded by 4 sigma (``mode`` as in ``numpy.pad``) so the circular
    convolution does not wrap around.
    """
    pad = int(math.ceil(4 * sigma_px))
    a = np.pad(arr.astype(np.float32, copy=False), pad, mode=mode)
    h, w = a.shape
    fh, fw = _fast_len(h), _fast_len(w)
    spec = np.fft.rfft2(a, s=(fh, fw))
    del a
    fy = np.fft.fftfreq(fh)
    fx = np.fft.rfftfreq(fw)
    gy = np.exp(-2.0 * (math.pi * sigma_px * fy) ** 2)
    gx = np.exp(-2.0 * (math.pi * sigma_px * fx) ** 2)
    spec *= gy[:, None]
    spec *= gx[None, :]
    out = np.fft.irfft2(spec, s=(fh, fw))
    del spec
    return out[pad : pad + arr.shape[0], pad : pad + arr.shape[1]].astype(np.float32)


def _noise(rng: np.random.Generator, shape, sigma_px: float) -> np.ndarray:
    """Correlated Gaussian noise with unit standard deviation."""
    white = rng.standard_normal(shape, dtype=np.float32)
    field = gaussian_blur(white, sigma_px, mode="reflect")
    field -= field.mean()
    field /= max(float(field.std()), 1e-12)
    return field


# --------------------------------------------------------------------------------------
# modelled features
# --------------------------------------------------------------------------------------
def _waterways(com: gpd.GeoDataFrame) -> list[LineString]:
    centre = dict(zip(com["nom"], com["centre"]))
    lines = []
    for _name, towns in WATERWAYS:
        pts = [centre[t] for t in towns if t in centre]
        if len(pts) == 1:  # a single town: a short east-west reach through it
            p = pts[0]
            pts = [Point(p.x - 3000, p.y + 400), p, Point(p.x + 3000, p.y - 400)]
        if len(pts) >= 2:
            lines.append(LineString([(p.x, p.y) for p in pts]))
    return lines


def _blob(rng: np.random.Generator, cx: float, cy: float, area_ha: float):
    """Irregular, elongated patch of about ``area_ha``: a chain of overlapping
    discs of varied radii along a random axis."""
    r_total = math.sqrt(area_ha * 1e4 / math.pi)
    n = int(rng.integers(5, 10))
    axis = rng.uniform(0, math.pi)
    elong = rng.uniform(1.0, 2.2)
    discs = []
    for _ in range(n):
        r = r_total * rng.uniform(0.3, 0.55)
        t = rng.uniform(-1.0, 1.0) * r_total * 0.8 * elong
        off = rng.normal(0.0, 0.3) * r_total
        x = cx + t * math.cos(axis) - off * math.sin(axis)
        y = cy + t * math.sin(axis) + off * math.cos(axis)
        discs.append(Point(x, y).buffer(r, quad_segs=6))
    return shapely.union_all(discs).simplify(10.0)


def _woods(com: gpd.GeoDataFrame, seed: int) -> list:
    rng = make_rng(seed, "surchauffe:bois")
    by_name = {n: i for i, n in enumerate(com["nom"])}
    woods = []
    for _name, town, dx, dy, ha in ANCHORED_WOODS:
        if town in by_name:
            c = com["centre"].iloc[by_name[town]]
            woods.append(_blob(rng, c.x + dx, c.y + dy, ha))
    rural = com[com["epci_siren"].isin(RURAL_EPCI) & (com["population_municipale"] < 1500)]
    rural = rural.reset_index(drop=True)
    if len(rural):
        for _ in range(45):
            poly = rural.geometry.iloc[int(rng.integers(len(rural)))]
            minx, miny, maxx, maxy = poly.bounds
            for _try in range(50):
                x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
                if shapely.contains_xy(poly, x, y):
                    ha = float(np.clip(math.exp(rng.normal(math.log(40.0), 0.8)), 8.0, 400.0))
                    woods.append(_blob(rng, x, y, ha))
                    break
    return woods


def _urban_intensity(com: gpd.GeoDataFrame, transform, shape) -> np.ndarray:
    """U = 1 - exp(-sum of population-weighted Gaussian kernels), windowed per commune."""
    h, w = shape
    x0, y0 = transform.c, transform.f
    s = np.zeros(shape, dtype=np.float32)
    area_km2 = com.geometry.area.to_numpy() / 1e6
    pop = com["population_municipale"].to_numpy(dtype=float)
    dens = pop / np.maximum(area_km2, 0.1)
    for k in range(len(com)):
        c = com["centre"].iloc[k]
        amp = (pop[k] / 9000.0) ** 0.9 * float(np.clip((dens[k] / 600.0) ** 0.35, 0.5, 1.6))
        sig = 200.0 + 7.0 * math.sqrt(pop[k])
        rad = 3.5 * sig
        c0 = max(int((c.x - rad - x0) / RES), 0)
        c1 = min(int((c.x + rad - x0) / RES) + 1, w)
        r0 = max(int((y0 - (c.y + rad)) / RES), 0)
        r1 = min(int((y0 - (c.y - rad)) / RES) + 1, h)
        if c0 >= c1 or r0 >= r1:
            continue
        xs = x0 + (np.arange(c0, c1, dtype=np.float32) + 0.5) * RES - c.x
        ys = y0 - (np.arange(r0, r1, dtype=np.float32) + 0.5) * RES - c.y
        gx = np.exp(-(xs**2) / (2 * sig**2)).astype(np.float32)
        gy = np.exp(-(ys**2) / (2 * sig**2)).astype(np.float32)
        s[r0:r1, c0:c1] += np.float32(amp) * gy[:, None] * gx[None, :]
    return (1.0 - np.exp(-s)).astype(np.float32)


def _rasterize(geoms, transform, shape, all_touched: bool = False) -> np.ndarray:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(shape, dtype=np.float32)
    return rasterio.features.rasterize(
        ((g, 1) for g in geoms), out_shape=shape, transform=transform, fill=0, dtype="uint8",
        all_touched=all_touched,
    ).astype(np.float32)


def _layer_geoms(layers, name) -> list:
    if name not in layers or layers[name] is None or len(layers[name]) == 0:
        return []
    g = to_l93(layers[name])
    return [x for x in g.geometry.values if x is not None and not x.is_empty]


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------
def model(layers: dict[str, gpd.GeoDataFrame], seed: int, year: int = 2024):
    """Compute the anomaly grid; returns ``(array float32, transform, territory mask bool)``."""
    com = sorted_communes(layers)
    terr = territory(com)
    minx, miny, maxx, maxy = terr.bounds
    step = RES * 4
    minx, miny = math.floor(minx / step) * step, math.floor(miny / step) * step
    maxx, maxy = math.ceil(maxx / step) * step, math.ceil(maxy / step) * step
    shape = (int(round((maxy - miny) / RES)), int(round((maxx - minx) / RES)))
    transform = from_origin(minx, maxy, RES, RES)

    inside = _rasterize([terr], transform, shape) > 0

    urban = _urban_intensity(com, transform, shape)

    rng = make_rng(int(seed) + int(year), "surchauffe:bruit")
    fine = _noise(rng, shape, 3.0)  # 75 m
    medium = _noise(rng, shape, 8.0)  # 200 m
    large = _noise(rng, shape, 60.0)  # 1.5 km
    urban = np.clip(urban * (1.0 + 0.25 * fine), 0.0, 1.0)

    level = YEAR_LEVEL.get(int(year), 0.0)
    t = np.full(shape, -1.0 + level, dtype=np.float32)
    t += np.float32(6.0 * (1.0 + 0.05 * level)) * urban

    zae = _rasterize(_layer_geoms(layers, "zae"), transform, shape)
    if zae.any():
        t += 3.5 * np.clip(gaussian_blur(zae, 1.5) * 1.3, 0.0, 1.0)
    del zae
    terrils = _rasterize(_layer_geoms(layers, "terrils"), transform, shape)
    if terrils.any():
        t += 4.0 * np.clip(gaussian_blur(terrils, 1.5) * 1.3, 0.0, 1.0)
    del terrils

    water_lines = [ln.buffer(30.0) for ln in _waterways(com)]
    water = _rasterize(water_lines, transform, shape, all_touched=True)
    if water.any():
        halo_sigma = 6.0  # 150 m
        peak = math.erf(30.0 / RES / (halo_sigma * math.sqrt(2.0)))  # blur of a 60 m band at its axis
        halo = np.clip(gaussian_blur(water, halo_sigma) / peak, 0.0, 1.0)
        t -= 2.8 * water + 1.2 * halo * (1.0 - water)
        del halo
    del water

    woods = _rasterize(_woods(com, seed), transform, shape)
    if woods.any():
        core = np.clip(gaussian_blur(woods, 2.0) * 1.2, 0.0, 1.0)
        halo = gaussian_blur(woods, 8.0)
        t -= 3.0 * core + 0.6 * halo * (1.0 - core)
        del core, halo
    del woods

    t += 0.45 * large + 0.6 * (1.0 - 0.5 * urban) * medium + 0.3 * fine
    del fine, medium, large, urban
    np.clip(t, -4.5, 8.5, out=t)
    t[~inside] = NODATA
    return t.astype(np.float32), transform, inside


def generate_raster(
    layers: dict[str, gpd.GeoDataFrame], seed: int, out_path: pathlib.Path, year: int = 2024
) -> pathlib.Path:
    """Write the modelled anomaly for summer ``year`` as a Cloud-Optimized GeoTIFF."""
    out_path = pathlib.Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    arr, transform, _inside = model(layers, seed, year)
    h, w = arr.shape
    profile = dict(
        driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=CRS, transform=transform,
        nodata=NODATA, tiled=True, blockxsize=512, blockysize=512, compress="DEFLATE",
    )
    with tempfile.TemporaryDirectory(dir=out_path.parent) as tmp:
        tmp_tif = pathlib.Path(tmp) / "src.tif"
        with rasterio.open(tmp_tif, "w", **profile) as dst:
            dst.write(arr, 1)
            dst.set_band_description(1, BAND_DESCRIPTION)
            dst.set_band_unit(1, "°C")
            dst.update_tags(
                TITLE=f"Surchauffe urbaine modélisée — été {year}",
                SOURCE=source_label(seed),
                DEMO="true",
                YEAR=str(year),
                SEED=str(seed),
                MODEL="services.demo.surchauffe",
            )
            dst.update_tags(1, UNITS="°C", QUANTITY="land surface temperature anomaly")
        del arr
        tmp_out = pathlib.Path(tmp) / "cog.tif"
        rasterio.shutil.copy(
            str(tmp_tif), str(tmp_out), driver="COG",
            BLOCKSIZE=512, COMPRESS="DEFLATE", PREDICTOR="YES", LEVEL=6,
            OVERVIEWS="IGNORE_EXISTING", OVERVIEW_COUNT=OVERVIEW_COUNT, OVERVIEW_RESAMPLING="AVERAGE",
            RESAMPLING="AVERAGE", NUM_THREADS="2", STATISTICS="NO",
        )
        tmp_out.replace(out_path)
    return out_path
