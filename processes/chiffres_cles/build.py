"""The key figures as the build makes them: the generator of collections/chiffres-cles.yml.

``artois-geo build`` calls :func:`generate` with the frames of the collections the file
`requires` (just built, in EPSG:2154). Two inputs do not come from those frames:

* an *editable* collection (friches, zae) whose table already exists is read from the store:
  a rebuild keeps what editors changed there (services/build.py), and the figures must be
  those of the data served, not of the source file;
* the overheating raster: the collection file requires it, so the build makes it first, but a
  coverage is no frame (generators receive the vector frames only): its files are found
  through the build manifest or, on a first build (the manifest is written at the end), where
  the build writes them (`<store>/surchauffe_<year>.tif`, services/build.py: build_coverage).

:func:`compute_all` is the one computation of the build and of the recompute process
(processor.py): collect the sources (sources.py), compute (core.py).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping

import geopandas as gpd

from . import core, sources
from .definitions import Definitions, load_definitions

COVERAGE = "surchauffe"


def compute_all(defs: Definitions, read: Callable[[str], gpd.GeoDataFrame],
                raster_files: Mapping[str, str] | None, time_fields: Mapping[str, str | None],
                build_date: str, date_calcul: str | None = None
                ) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The rows of the collection and a report (levels, dates, summer, unassigned features)."""
    date_calcul = date_calcul or sources.now()
    frames, dates, ctx = sources.collect(defs, read, raster_files, time_fields, build_date)
    out, report = core.compute(defs, frames, ctx["communes"], ctx["epci"], dates, date_calcul)
    report.update(date_calcul=date_calcul, dates_donnees=dates, ete_surchauffe=ctx["summer"])
    return out, report


def _settings():
    from services.settings import get_settings
    return get_settings()


def coverage_files(settings=None) -> dict[str, str]:
    """{year: path} of the overheating raster: the manifest's, else where the build writes."""
    from services.store import get_catalog

    settings = settings or _settings()
    catalog = get_catalog(settings)
    entry = catalog.entry(COVERAGE)
    if entry and entry.get("files"):
        return {str(k): str(v) for k, v in entry["files"].items()}
    spec = catalog.spec(COVERAGE)
    years = (spec.source.get("years") if spec else None) or []
    found = {str(y): str(settings.store_dir / f"{COVERAGE}_{y}.tif") for y in years}
    return {y: p for y, p in found.items() if os.path.exists(p)}


def time_fields(settings=None) -> dict[str, str | None]:
    from services.store import get_catalog
    return {s.id: s.time_field for s in get_catalog(settings or _settings()).specs.values()}


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int = 0) -> gpd.GeoDataFrame:
    """The `source.generator` of collections/chiffres-cles.yml (the seed is not used)."""
    from services.store import get_catalog

    settings = _settings()
    catalog = get_catalog(settings)

    def read(cid: str) -> gpd.GeoDataFrame:
        spec = catalog.spec(cid)
        if spec is not None and spec.editable and catalog.entry(cid) is not None:
            from services import layers as store
            try:
                return store.read_collection(cid, settings=settings)
            except FileNotFoundError:
                pass
        if cid not in layers:
            raise sources.SourceError(f"chiffres-cles: {cid} is not among the collections "
                                      f"the collection file requires")
        return layers[cid]

    files = coverage_files(settings)
    if not files:
        raise sources.SourceError("chiffres-cles: build the surchauffe coverage first "
                                  "(artois-geo build surchauffe)")
    out, _ = compute_all(load_definitions(), read, files, time_fields(settings),
                         sources.today())
    return out
