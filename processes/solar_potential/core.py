"""Pure core of the ``solar-potential`` process: roof planes, irradiation, PV production, classes.

Model chain (pvlib, see ``data/SOURCES.md`` for every figure and ``data/parameters.yaml``):

1. **Typical year, one site per request.** Hourly time stamps of a non-leap calendar year (UTC,
   interval centres); solar position (``pvlib.solarposition.get_solarposition``, NREL numpy).
2. **Clear sky.** Ineichen–Perez (``pvlib.clearsky.ineichen``) with the monthly Linke turbidity
   of pvlib's shipped ``LinkeTurbidities.h5`` (``pvlib.clearsky.lookup_linke_turbidity``).
3. **Scaled to the local climate.** For each month the clear-sky GHI is scaled so that its sum
   equals the monthly global horizontal irradiation of ``data/climate_bethune.yaml``. The scaling
   is not uniform: a deterministic *two-state sky* gives each day either the clear-sky index of a
   clear day (1.0) or that of an overcast day (``overcast_kc`` of the climate file); the share of
   clear days of each month follows from its GHI, and days are assigned in a fixed
   low-discrepancy order (golden-ratio sequence). Uniform scaling would give every hour the
   same mediocre clearness, for which Erbs returns ~76 % diffuse light (measured at Uccle: 56 %)
   and underestimates the gain of tilted planes. ``overcast_kc`` is calibrated so that the
   model's annual diffuse fraction equals the measured one (climate file).
4. **Decomposition** of the scaled GHI into DNI and DHI with Erbs (``pvlib.irradiance.erbs``).
5. **Transposition** to the roof plane with Perez 1990 (``pvlib.irradiance.perez``, components
   kept apart: circumsolar, isotropic, horizon band) + ground reflection (albedo of the file).
6. **Shading** (optional): a horizon profile per roof (``shading.horizon_profiles``). When the
   sun is below the horizon, the beam and circumsolar components are removed; the isotropic and
   horizon-band diffuse components are multiplied by the sky-view factor of the profile.
7. **Production**: incidence-angle losses (``pvlib.iam.physical``, ``marion_diffuse``), cell
   temperature (``pvlib.temperature.faiman`` with the monthly air temperature and the file's
   wind speed), DC power (``pvlib.pvsystem.pvwatts_dc``), system losses
   (``pvlib.pvsystem.pvwatts_losses``, 14.08 %), inverter (``pvlib.inverter.pvwatts``).

Performance: the hourly site series are computed once per site (cached), and planes are
evaluated as 2-D arrays (planes × daylight hours) over the distinct (tilt, azimuth) pairs only;
with a horizon, roofs are evaluated in chunks.

Conventions: tilt in degrees from horizontal; azimuth in degrees clockwise from north (pvlib:
180 = south); ridge orientation (``orientation_faitage_deg``) = bearing of the ridge line in
degrees clockwise from north, 0-180.

This module is pure: no web framework, no pygeoapi, no store; it reads only its data files.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib
from processes import yaml_data

__all__ = [
    "DATA_DIR",
    "SiteYear",
    "SolarInputError",
    "annual_plane_irradiation",
    "best_plane_azimuth",
    "classify",
    "evaluate_planes",
    "load_classes",
    "load_climate",
    "load_parameters",
    "production",
    "roof_geometry",
    "site_year",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
HOURS_PER_YEAR = 8760
#: golden-ratio conjugate: order in which the days of a month are made "clear"
_GOLDEN = 0.6180339887498949
#: horizon profiles are evaluated in chunks of this many roofs (memory ~ chunk × 4 400 hours)
_CHUNK = 256


class SolarInputError(ValueError):
    """An input value the model cannot use (out of range, unknown roof type...).

    ``messages`` holds the text in French and English.
    """

    def __init__(self, en: str, fr: str | None = None):
        super().__init__(en)
        self.messages = {"en": en, "fr": fr or en}


# ------------------------------------------------------------------------------------------
# Data files
# ------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _read_yaml(path: str) -> Any:
    return yaml_data.load(Path(path).read_text(encoding="utf-8"))


def load_parameters(path: str | Path | None = None) -> dict[str, Any]:
    """Model parameters (``data/parameters.yaml``)."""
    params = _read_yaml(str(path or DATA_DIR / "parameters.yaml"))
    for name, rt in params["roof_types"].items():
        for key in ("pitched", "tilt_deg", "plane_share", "obstacles"):
            if key not in rt:
                raise ValueError(f"parameters.yaml: roof type {name!r} lacks {key!r}")
    return params


def load_climate(path: str | Path | None = None) -> dict[str, Any]:
    """Monthly climate figures (``data/climate_bethune.yaml``), checked."""
    clim = _read_yaml(str(path or DATA_DIR / "climate_bethune.yaml"))
    for key in ("ghi_kwh_m2_month", "temp_air_c_month"):
        values = clim.get(key)
        if not isinstance(values, list) or len(values) != 12:
            raise ValueError(f"climate file: {key} must list 12 monthly values")
    if any(v <= 0 for v in clim["ghi_kwh_m2_month"]):
        raise ValueError("climate file: monthly GHI must be positive")
    sky = clim.get("sky_model") or {}
    if not 0.0 < float(sky.get("overcast_kc", 0.5)) < 1.0:
        raise ValueError("climate file: sky_model.overcast_kc must be in ]0, 1[")
    return clim


def load_classes(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The 5 classes (``data/classes.yaml``), best first; thresholds strictly decreasing."""
    data = _read_yaml(str(path or DATA_DIR / "classes.yaml"))
    classes = data["classes"]
    mins = [float(c["min"]) for c in classes]
    if any(a <= b for a, b in zip(mins, mins[1:])):
        raise ValueError("classes.yaml: `min` must strictly decrease from the best class")
    if mins[-1] > 0:
        raise ValueError("classes.yaml: the last class must start at 0")
    return classes


# ------------------------------------------------------------------------------------------
# Typical year at one site
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SiteYear:
    """Hourly series of a typical year at one site, daylight hours only (arrays of length T)."""

    latitude: float
    longitude: float
    climate_id: str
    month: np.ndarray              # 0..11
    apparent_zenith: np.ndarray    # °
    apparent_elevation: np.ndarray  # °
    azimuth: np.ndarray            # ° clockwise from north
    ghi: np.ndarray                # W/m² (scaled to the climate)
    dni: np.ndarray
    dhi: np.ndarray
    ghi_clearsky: np.ndarray
    dni_extra: np.ndarray
    airmass: np.ndarray            # relative airmass (Perez)
    temp_air: np.ndarray           # °C
    wind_speed: float
    albedo: float

    @property
    def ghi_annual_kwh_m2(self) -> float:
        return float(self.ghi.sum() / 1000.0)

    @property
    def diffuse_fraction(self) -> float:
        return float(self.dhi.sum() / self.ghi.sum())


def _climate_key(climate: Mapping[str, Any]) -> tuple:
    sky = climate.get("sky_model") or {}
    return (str(climate.get("id", "")), tuple(float(v) for v in climate["ghi_kwh_m2_month"]),
            tuple(float(v) for v in climate["temp_air_c_month"]),
            float(climate.get("wind_speed_m_s", 1.0)), float(climate.get("albedo", 0.2)),
            float((climate.get("site") or {}).get("altitude_m", 0.0)),
            float(sky.get("clear_kc", 1.0)), float(sky.get("overcast_kc", 0.5)))


def site_year(latitude: float, longitude: float,
              climate: Mapping[str, Any] | None = None) -> SiteYear:
    """The typical-year hourly series at a site (cached per site rounded to 0.01°)."""
    climate = climate if climate is not None else load_climate()
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise SolarInputError(f"latitude/longitude out of range: {latitude}, {longitude}",
                              f"latitude/longitude hors limites : {latitude}, {longitude}")
    year = int(load_parameters().get("typical_year", 2023))
    return _site_year(round(float(latitude), 2), round(float(longitude), 2), year,
                      _climate_key(climate))


@lru_cache(maxsize=32)
def _site_year(lat: float, lon: float, year: int, key: tuple) -> SiteYear:
    climate_id, ghi_month, temp_month, wind, albedo, altitude, clear_kc, overcast_kc = key
    times = pd.date_range(f"{year}-01-01 00:30", periods=HOURS_PER_YEAR, freq="h", tz="UTC")
    pressure = pvlib.atmosphere.alt2pres(altitude)
    sun = _solar_position(times, lat, lon, altitude, pressure)
    app_zen = np.asarray(sun["apparent_zenith"], dtype=float)
    zenith = np.asarray(sun["zenith"], dtype=float)
    am_rel = pvlib.atmosphere.get_relative_airmass(app_zen)
    am_abs = pvlib.atmosphere.get_absolute_airmass(am_rel, pressure)
    with warnings.catch_warnings():  # pvlib 0.16.1 still calls the deprecated .dayofyear
        warnings.filterwarnings("ignore", message=".*dayofyear.*", category=DeprecationWarning)
        linke = pvlib.clearsky.lookup_linke_turbidity(times, lat, lon).to_numpy()
    month = times.month.to_numpy() - 1
    day = times.day_of_year.to_numpy() - 1
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(day + 1), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cs = pvlib.clearsky.ineichen(app_zen, am_abs, linke, altitude=altitude,
                                     dni_extra=dni_extra)
    ghi_cs = np.nan_to_num(np.asarray(cs["ghi"], dtype=float), nan=0.0)

    ghi = np.zeros(HOURS_PER_YEAR)
    for m in range(12):
        sel = month == m
        days = np.unique(day[sel])
        daily_cs = np.bincount(day[sel] - days[0], weights=ghi_cs[sel], minlength=len(days))
        kc = _two_state_days(daily_cs, 1000.0 * ghi_month[m], clear_kc, overcast_kc)
        if kc is None:
            raise SolarInputError(
                f"monthly GHI of month {m + 1} ({ghi_month[m]} kWh/m²) exceeds the clear sky",
                f"l'irradiation du mois {m + 1} ({ghi_month[m]} kWh/m²) dépasse le ciel clair")
        ghi[sel] = ghi_cs[sel] * kc[day[sel] - days[0]]

    decomp = pvlib.irradiance.erbs(ghi, zenith, day + 1)
    dni = np.asarray(decomp["dni"], dtype=float)
    dhi = np.asarray(decomp["dhi"], dtype=float)

    day_mask = (app_zen < 90.0) & (ghi > 0.0)
    temp = np.asarray(temp_month, dtype=float)[month]
    return SiteYear(
        latitude=lat, longitude=lon, climate_id=climate_id,
        month=month[day_mask], apparent_zenith=app_zen[day_mask],
        apparent_elevation=90.0 - app_zen[day_mask],
        azimuth=np.asarray(sun["azimuth"], dtype=float)[day_mask],
        ghi=ghi[day_mask], dni=dni[day_mask], dhi=dhi[day_mask],
        ghi_clearsky=ghi_cs[day_mask], dni_extra=dni_extra[day_mask],
        airmass=np.asarray(am_rel, dtype=float)[day_mask], temp_air=temp[day_mask],
        wind_speed=float(wind), albedo=float(albedo))


#: pvlib.solarposition.spa_python's defaults (what get_solarposition used here)
_SPA_TEMPERATURE_C, _SPA_DELTA_T_S, _SPA_REFRACTION_DEG = 12.0, 67.0, 0.5667


@lru_cache(maxsize=2)
def _spa_time_terms(year: int) -> dict[str, np.ndarray]:
    """The terms of NREL SPA that depend on time only (heliocentric position, nutation,
    sidereal time, sun's right ascension and declination): computed once per typical year,
    with pvlib.spa's own functions in pvlib's order, then shared by every site."""
    from pvlib import spa

    times = pd.date_range(f"{year}-01-01 00:30", periods=HOURS_PER_YEAR, freq="h", tz="UTC")
    unixtime = pvlib.solarposition._datetime_to_unixtime(times)
    jd = spa.julian_day(unixtime)
    jde = spa.julian_ephemeris_day(jd, _SPA_DELTA_T_S)
    jc = spa.julian_century(jd)
    jce = spa.julian_ephemeris_century(jde)
    jme = spa.julian_ephemeris_millennium(jce)
    radius = spa.heliocentric_radius_vector(jme)
    theta = spa.geocentric_longitude(spa.heliocentric_longitude(jme))
    beta = spa.geocentric_latitude(spa.heliocentric_latitude(jme))
    x0, x1 = spa.mean_elongation(jce), spa.mean_anomaly_sun(jce)
    x2, x3 = spa.mean_anomaly_moon(jce), spa.moon_argument_latitude(jce)
    x4 = spa.moon_ascending_longitude(jce)
    nutation = np.empty((2, len(x0)))
    spa.longitude_obliquity_nutation(jce, x0, x1, x2, x3, x4, nutation)
    delta_psi, delta_epsilon = nutation[0], nutation[1]
    epsilon = spa.true_ecliptic_obliquity(spa.mean_ecliptic_obliquity(jme), delta_epsilon)
    lamd = spa.apparent_sun_longitude(theta, delta_psi, spa.aberration_correction(radius))
    v = spa.apparent_sidereal_time(spa.mean_sidereal_time(jd, jc), delta_psi, epsilon)
    return {"R": radius, "v": v, "alpha": spa.geocentric_sun_right_ascension(lamd, epsilon, beta),
            "delta": spa.geocentric_sun_declination(lamd, epsilon, beta)}


def _solar_position(times: pd.DatetimeIndex, lat: float, lon: float, altitude: float,
                    pressure: float) -> dict[str, np.ndarray]:
    """``pvlib.solarposition.get_solarposition(times, lat, lon, altitude, pressure)`` (SPA,
    numpy) for the hours of the typical year, its time-only terms shared between sites
    (:func:`_spa_time_terms`): the same operations in the same order, so the same values to
    the last bit, about 10x faster per site. Returns apparent_zenith, zenith, azimuth."""
    from pvlib import spa

    t = _spa_time_terms(int(times[0].year))
    if len(times) != len(t["v"]):
        sun = pvlib.solarposition.get_solarposition(times, lat, lon, altitude=altitude,
                                                    pressure=pressure)
        return {k: sun[k].to_numpy() for k in ("apparent_zenith", "zenith", "azimuth")}
    delta = t["delta"]
    hour_angle = spa.local_hour_angle(t["v"], lon, t["alpha"])
    xi = spa.equatorial_horizontal_parallax(t["R"])
    u = spa.uterm(lat)
    x = spa.xterm(u, lat, altitude)
    y = spa.yterm(u, lat, altitude)
    delta_alpha = spa.parallax_sun_right_ascension(x, xi, hour_angle, delta)
    delta_prime = spa.topocentric_sun_declination(delta, x, y, xi, delta_alpha, hour_angle)
    h_prime = spa.topocentric_local_hour_angle(hour_angle, delta_alpha)
    e0 = spa.topocentric_elevation_angle_without_atmosphere(lat, delta_prime, h_prime)
    delta_e = spa.atmospheric_refraction_correction(pressure / 100, _SPA_TEMPERATURE_C, e0,
                                                    _SPA_REFRACTION_DEG)
    e = spa.topocentric_elevation_angle(e0, delta_e)
    gamma = spa.topocentric_astronomers_azimuth(h_prime, delta_prime, lat)
    return {"apparent_zenith": np.asarray(spa.topocentric_zenith_angle(e), dtype=float),
            "zenith": np.asarray(spa.topocentric_zenith_angle(e0), dtype=float),
            "azimuth": np.asarray(spa.topocentric_azimuth_angle(gamma), dtype=float)}


def _two_state_days(daily_cs: np.ndarray, target_wh: float, clear_kc: float,
                    overcast_kc: float) -> np.ndarray | None:
    """Daily clear-sky indices of one month: the first k days of the golden-ratio order are
    clear (``clear_kc``), the others overcast (``overcast_kc``), k as large as the monthly
    target allows; a final common factor makes the month's sum exactly ``target_wh``."""
    n = len(daily_cs)
    if target_wh > clear_kc * daily_cs.sum() * 1.0000001:
        return None
    order = np.argsort((np.arange(n) * _GOLDEN + 0.5) % 1.0, kind="stable")
    base = overcast_kc * daily_cs.sum()
    gains = np.concatenate([[0.0], np.cumsum((clear_kc - overcast_kc) * daily_cs[order])])
    k = int(np.searchsorted(base + gains, target_wh, side="right")) - 1
    k = max(0, min(k, n))
    kc = np.full(n, overcast_kc)
    kc[order[:k]] = clear_kc
    total = float((kc * daily_cs).sum())
    return kc * (target_wh / total) if total > 0 else kc


# ------------------------------------------------------------------------------------------
# Plane of array
# ------------------------------------------------------------------------------------------

def _plane_components(site: SiteYear, tilt: np.ndarray, azimuth: np.ndarray) -> dict[str, Any]:
    """POA components for planes (P,) over daylight hours (T,): arrays (P, T) in W/m²."""
    t = np.asarray(tilt, dtype=float)[:, None]
    a = np.asarray(azimuth, dtype=float)[:, None]
    zen, saz = site.apparent_zenith, site.azimuth
    with np.errstate(invalid="ignore", divide="ignore"):
        comp = pvlib.irradiance.perez(t, a, site.dhi, site.dni, site.dni_extra, zen, saz,
                                      site.airmass, return_components=True)
        aoi = pvlib.irradiance.aoi(t, a, zen, saz)
    iso = np.nan_to_num(np.asarray(comp["poa_isotropic"], dtype=float))
    circ = np.nan_to_num(np.asarray(comp["poa_circumsolar"], dtype=float))
    band = np.nan_to_num(np.asarray(comp["poa_horizon"], dtype=float))
    beam = np.maximum(site.dni * np.cos(np.radians(aoi)), 0.0)
    ground = np.asarray(pvlib.irradiance.get_ground_diffuse(t, site.ghi, site.albedo),
                        dtype=float)
    aoi_grid, iam_grid = _iam_table()
    iam_beam = np.interp(np.nan_to_num(aoi, nan=90.0), aoi_grid, iam_grid, right=0.0)
    diffuse = [_diffuse_iam(round(float(x), 6)) for x in np.asarray(tilt, dtype=float)]
    return {"beam": beam, "circumsolar": circ, "isotropic": iso, "horizon_band": band,
            "ground": ground, "iam_beam": iam_beam,
            "iam_sky": np.array([d[0] for d in diffuse]).reshape(-1, 1),
            "iam_ground": np.array([d[1] for d in diffuse]).reshape(-1, 1)}


@lru_cache(maxsize=1)
def _iam_table() -> tuple[np.ndarray, np.ndarray]:
    """``pvlib.iam.physical`` tabulated every 0.05° of incidence (interpolated: same values
    to < 1e-5, 100× faster on (planes × hours) arrays)."""
    grid = np.linspace(0.0, 90.0, 1801)
    return grid, np.nan_to_num(np.asarray(pvlib.iam.physical(grid), dtype=float), nan=0.0)


@lru_cache(maxsize=256)
def _diffuse_iam(tilt: float) -> tuple[float, float]:
    """Sky and ground diffuse IAM of a tilt (``pvlib.iam.marion_diffuse``, physical model)."""
    res = pvlib.iam.marion_diffuse("physical", tilt)
    return float(res["sky"]), float(res["ground"])


def _horizon_at_sun(site: SiteYear, horizon: np.ndarray) -> np.ndarray:
    """Horizon elevation (°) in the sun's direction, per profile and hour: (R, T)."""
    n = horizon.shape[1]
    pos = (site.azimuth % 360.0) / (360.0 / n)
    i0 = np.floor(pos).astype(int) % n
    i1 = (i0 + 1) % n
    w = pos - np.floor(pos)
    return horizon[:, i0] * (1.0 - w) + horizon[:, i1] * w


def _sky_view_factor(horizon: np.ndarray) -> np.ndarray:
    """Sky-view factor of a horizon profile seen from a horizontal surface: mean cos²(h)."""
    return np.mean(np.cos(np.radians(horizon)) ** 2, axis=1)


def _poa(comp: dict[str, Any], rows: np.ndarray, blocked: np.ndarray | None,
         svf: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Plane-of-array global and effective (after IAM) irradiance for the planes ``rows``."""
    beam = comp["beam"][rows]
    circ = comp["circumsolar"][rows]
    diff = comp["isotropic"][rows] + comp["horizon_band"][rows]
    if blocked is not None:
        beam = np.where(blocked, 0.0, beam)
        circ = np.where(blocked, 0.0, circ)
        diff = diff * svf[:, None]
    sky = np.maximum(circ + diff, 0.0)
    ground = comp["ground"][rows]
    poa_global = beam + sky + ground
    effective = (beam * comp["iam_beam"][rows] + sky * comp["iam_sky"][rows]
                 + ground * comp["iam_ground"][rows])
    return poa_global, effective


def _ac_energy(site: SiteYear, poa_global: np.ndarray, effective: np.ndarray,
               params: Mapping[str, Any]) -> np.ndarray:
    """Annual AC energy per kWp (kWh/kWp) of planes (R, T)."""
    faiman = params.get("faiman") or {}
    t_cell = pvlib.temperature.faiman(poa_global, site.temp_air, site.wind_speed,
                                      u0=float(faiman.get("u0", 25.0)),
                                      u1=float(faiman.get("u1", 6.84)))
    pdc0 = 1000.0  # W, i.e. results per kWp
    pdc = pvlib.pvsystem.pvwatts_dc(effective, t_cell, pdc0, float(params["gamma_pdc_per_c"]))
    losses = pvlib.pvsystem.pvwatts_losses(**(params.get("losses_pct") or {}))
    pdc = np.maximum(pdc, 0.0) * (1.0 - losses / 100.0)
    inv = params.get("inverter") or {}
    eta_nom = float(inv.get("eta_inv_nom", 0.96))
    pdc0_inverter = pdc0 / float(inv.get("dc_ac_ratio", 1.0)) / eta_nom  # PVWatts convention
    pac = pvlib.inverter.pvwatts(pdc, pdc0_inverter, eta_inv_nom=eta_nom,
                                 eta_inv_ref=float(inv.get("eta_inv_ref", 0.9637)))
    return np.asarray(pac, dtype=float).sum(axis=1) / 1000.0


def system_losses_pct(params: Mapping[str, Any] | None = None) -> float:
    params = params or load_parameters()
    return float(pvlib.pvsystem.pvwatts_losses(**(params.get("losses_pct") or {})))


def evaluate_planes(site: SiteYear, tilt: Sequence[float] | np.ndarray,
                    azimuth: Sequence[float] | np.ndarray,
                    horizon: np.ndarray | None = None,
                    params: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Annual figures of N planes at one site.

    ``tilt``, ``azimuth``: (N,). ``horizon``: None, or (N, K) horizon elevations (°) at K
    azimuths equally spaced clockwise from north (row of NaN = no horizon for that plane).

    Returns arrays (N,): ``irradiation_kwh_m2`` (plane-of-array global, after shading),
    ``irradiation_unshaded_kwh_m2``, ``specific_yield_kwh_kwp`` (AC, after all losses),
    ``sky_view_factor``. The transposition runs once per distinct (tilt, azimuth) pair.
    """
    params = params or load_parameters()
    tilt = np.atleast_1d(np.asarray(tilt, dtype=float))
    azimuth = np.atleast_1d(np.asarray(azimuth, dtype=float)) % 360.0
    if tilt.shape != azimuth.shape:
        raise SolarInputError("tilt and azimuth must have the same length",
                              "inclinaison et azimut doivent avoir la même longueur")
    if np.any((tilt < 0) | (tilt > 90)) or not np.all(np.isfinite(tilt)):
        raise SolarInputError("tilt must be between 0 and 90 degrees",
                              "l'inclinaison doit être comprise entre 0 et 90 degrés")
    n = len(tilt)
    pairs, inverse = np.unique(np.column_stack([tilt, azimuth]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    comp = _plane_components(site, pairs[:, 0], pairs[:, 1])
    all_rows = np.arange(len(pairs))
    poa_p, eff_p = _poa(comp, all_rows, None, None)
    irr_pair = poa_p.sum(axis=1) / 1000.0
    yield_pair = _ac_energy(site, poa_p, eff_p, params)
    irradiation = irr_pair[inverse].copy()
    unshaded = irradiation.copy()
    specific = yield_pair[inverse].copy()
    svf_out = np.ones(n)

    if horizon is not None:
        horizon = np.asarray(horizon, dtype=float)
        if horizon.ndim != 2 or horizon.shape[0] != n:
            raise SolarInputError("horizon must be an array (planes, azimuths)",
                                  "l'horizon doit être un tableau (plans, azimuts)")
        has = np.all(np.isfinite(horizon), axis=1) & np.any(horizon > 0, axis=1)
        idx = np.flatnonzero(has)
        for start in range(0, len(idx), _CHUNK):
            roofs = idx[start:start + _CHUNK]
            hz = np.clip(horizon[roofs], 0.0, 90.0)
            blocked = site.apparent_elevation[None, :] < _horizon_at_sun(site, hz)
            svf = _sky_view_factor(hz)
            poa, eff = _poa(comp, inverse[roofs], blocked, svf)
            irradiation[roofs] = poa.sum(axis=1) / 1000.0
            specific[roofs] = _ac_energy(site, poa, eff, params)
            svf_out[roofs] = svf
    return {"irradiation_kwh_m2": irradiation, "irradiation_unshaded_kwh_m2": unshaded,
            "specific_yield_kwh_kwp": specific, "sky_view_factor": svf_out}


def _as_horizon(horizon, n: int) -> np.ndarray | None:
    if horizon is None:
        return None
    hz = np.asarray(horizon, dtype=float)
    if hz.ndim == 1:
        hz = np.broadcast_to(hz, (n, hz.shape[0]))
    return hz


def annual_plane_irradiation(lat: float, lon: float, tilt, azimuth,
                             climate: Mapping[str, Any] | None = None,
                             horizon=None) -> float | np.ndarray:
    """Annual global irradiation on a plane (kWh/m²/yr) at (lat, lon).

    ``tilt``/``azimuth`` scalars or arrays; ``horizon``: None, a profile (K,) shared by every
    plane, or (N, K) profiles (degrees above the horizontal at K azimuths from north).
    Returns a float for scalar input, else an array.
    """
    scalar = np.ndim(tilt) == 0 and np.ndim(azimuth) == 0
    t, a = np.broadcast_arrays(np.atleast_1d(tilt).astype(float),
                               np.atleast_1d(azimuth).astype(float))
    site = site_year(lat, lon, climate)
    out = evaluate_planes(site, t, a, _as_horizon(horizon, len(t)))["irradiation_kwh_m2"]
    return float(out[0]) if scalar else out


def production(lat: float, lon: float, tilt, azimuth, kwc=1.0,
               climate: Mapping[str, Any] | None = None, horizon=None) -> dict[str, Any]:
    """Annual AC production of ``kwc`` kWp on a plane: ``specific_yield_kwh_kwp``,
    ``production_kwh``, ``irradiation_kwh_m2`` and ``performance_ratio`` (floats for scalar
    input, arrays otherwise)."""
    scalar = np.ndim(tilt) == 0 and np.ndim(azimuth) == 0 and np.ndim(kwc) == 0
    t, a, k = np.broadcast_arrays(np.atleast_1d(tilt).astype(float),
                                  np.atleast_1d(azimuth).astype(float),
                                  np.atleast_1d(kwc).astype(float))
    site = site_year(lat, lon, climate)
    res = evaluate_planes(site, t, a, _as_horizon(horizon, len(t)))
    spec = res["specific_yield_kwh_kwp"]
    irr = res["irradiation_kwh_m2"]
    out = {"specific_yield_kwh_kwp": spec, "production_kwh": spec * k,
           "irradiation_kwh_m2": irr,
           "performance_ratio": np.divide(spec, irr, out=np.zeros_like(spec), where=irr > 0)}
    if scalar:
        return {key: float(v[0]) for key, v in out.items()}
    return out


# ------------------------------------------------------------------------------------------
# Roofs
# ------------------------------------------------------------------------------------------

def best_plane_azimuth(ridge_deg: float) -> float:
    """Azimuth of the plane of a pitched roof that faces closest to south.

    The two main planes face the ridge bearing ± 90°; on a tie (north-south ridge: planes
    facing east and west) the east-facing plane (90°) is kept.
    """
    if ridge_deg is None or not math.isfinite(float(ridge_deg)):
        raise SolarInputError("ridge orientation is missing", "orientation du faîtage absente")
    candidates = [(float(ridge_deg) + 90.0) % 360.0, (float(ridge_deg) - 90.0) % 360.0]
    return min(candidates, key=lambda az: (round(abs(az - 180.0), 9), az))


def roof_geometry(footprint_area_m2: float, type_toit: str | None = None,
                  orientation_faitage_deg: float | None = None, tilt: float | None = None,
                  azimuth: float | None = None,
                  params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Plane and usable area of one roof.

    * pitched types: tilt = the type's pitch (``tilt`` overrides), azimuth = the plane facing
      closest to south from the ridge orientation (``azimuth`` overrides; 180 if no ridge is
      known), usable area = footprint × plane_share × (1 − obstacles) / cos(tilt);
    * flat roofs (``plat``): modules on frames at the configured frame tilt facing south
      (``tilt``/``azimuth`` override), usable area = footprint × plane_share × (1 − obstacles)
      (module area; no division by cos).

    Returns ``type_toit``, ``pitched``, ``tilt_deg``, ``azimuth_deg``, ``usable_ratio``
    (usable area / footprint) and ``usable_area_m2``.
    """
    params = params or load_parameters()
    types = params["roof_types"]
    kind = type_toit or params.get("default_roof_type", "plat")
    if kind not in types:
        raise SolarInputError(
            f"unknown roof type {kind!r} (expected one of {', '.join(types)})",
            f"type de toit inconnu {kind!r} (attendu : {', '.join(types)})")
    rt = types[kind]
    area = float(footprint_area_m2)
    if not math.isfinite(area) or area < 0:
        raise SolarInputError("footprint area must be a positive number",
                              "la surface d'emprise doit être un nombre positif")
    if tilt is not None:
        tilt = float(tilt)
        if not 0.0 <= tilt <= 70.0:
            raise SolarInputError("tilt must be between 0 and 70 degrees",
                                  "l'inclinaison doit être comprise entre 0 et 70 degrés")
    if azimuth is not None:
        azimuth = float(azimuth)
        if not 0.0 <= azimuth <= 360.0:
            raise SolarInputError("azimuth must be between 0 and 360 degrees (180 = south)",
                                  "l'azimut doit être compris entre 0 et 360 degrés (180 = sud)")
        azimuth %= 360.0
    ratio = float(rt["plane_share"]) * (1.0 - float(rt["obstacles"]))
    if rt["pitched"]:
        plane_tilt = float(rt["tilt_deg"]) if tilt is None else tilt
        if azimuth is None:
            azimuth = (best_plane_azimuth(orientation_faitage_deg)
                       if orientation_faitage_deg is not None else 180.0)
        ratio /= math.cos(math.radians(plane_tilt))
    else:
        plane_tilt = float(rt["tilt_deg"]) if tilt is None else tilt
        if azimuth is None:
            azimuth = float(rt.get("azimuth_deg", 180.0))
    return {"type_toit": kind, "pitched": bool(rt["pitched"]), "tilt_deg": plane_tilt,
            "azimuth_deg": float(azimuth), "usable_ratio": ratio,
            "usable_area_m2": area * ratio}


def installable_kwc(usable_area_m2: float, params: Mapping[str, Any] | None = None) -> float:
    """Peak power (kWc) that fits on a usable area: area × module power density."""
    params = params or load_parameters()
    return float(usable_area_m2) * float(params["module_power_density_kwc_m2"])


def classify(irradiation_kwh_m2, classes: Sequence[Mapping[str, Any]] | None = None):
    """Class of an annual plane irradiation (kWh/m²/yr): the first class, scanning from the
    best, whose ``min`` is <= the value. Returns the class dict (``classe`` 1-5, ``code``,
    ``fr``, ``en``, ``color``, ``min``), or a list of them for array input."""
    classes = list(classes) if classes is not None else load_classes()

    def one(v: float) -> dict[str, Any]:
        if v is None or not math.isfinite(float(v)):
            raise SolarInputError("irradiation must be a number",
                                  "l'irradiation doit être un nombre")
        for c in classes:
            if float(v) >= float(c["min"]):
                return dict(c)
        return dict(classes[-1])

    if np.ndim(irradiation_kwh_m2) == 0:
        return one(float(irradiation_kwh_m2))
    return [one(float(v)) for v in np.asarray(irradiation_kwh_m2, dtype=float)]
