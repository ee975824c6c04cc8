"""Which file, and which colours: the coverage collections of the build manifest, the summers
their years stand for, the `datetime` query, and the colour ramps (styles/{cid}.ramp.json).

A coverage collection's files are the manifest's own (year -> COG inside the store): no request
names a file. `datetime` (a year, an ISO 8601 date or date-time, or an interval `start/end` with
`..` for an open end) selects the summer (1 June - 31 August) it meets: none -> 404, several ->
400, unreadable -> 400; without it, the latest summer.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from services.settings import PROJECT_DIR, get_settings
from services.store import get_catalog
from services.tiles.raster_errors import bad_text, not_found_text

STYLES_DIR = PROJECT_DIR / "styles"
SUMMER = ((6, 1), (8, 31))         # the summers the coverage years stand for: 1 June - 31 August

_coverage_cache: dict[str, tuple[int, "Coverage"]] = {}  # id -> (manifest mtime, its files)


def manifest() -> dict[str, Any]:
    return manifest_version()[1]


def manifest_version() -> tuple[int, dict[str, Any]]:
    """(mtime, content) of the build manifest of the store in use (the store's Catalog,
    re-read only when the file changes)."""
    return get_catalog().manifest_version()


def is_coverage(collection_id: str) -> bool:
    entry = manifest().get(collection_id)
    return isinstance(entry, dict) and entry.get("kind") == "coverage"


@dataclass(frozen=True)
class Coverage:
    """The files of one coverage collection: year -> COG path inside the store."""
    id: str
    files: dict[int, str]

    @property
    def years(self) -> list[int]:
        return sorted(self.files)

    @property
    def latest(self) -> str:
        return self.files[self.years[-1]]


def coverage(collection_id: str) -> Coverage:
    """The coverage collection `collection_id`, or a 404 (unknown or not a coverage)."""
    mtime, content = manifest_version()
    cached = _coverage_cache.get(collection_id)
    if cached is None or cached[0] != mtime:
        cached = _coverage_cache[collection_id] = (mtime, _read_coverage(collection_id, content))
    return cached[1]


def _read_coverage(collection_id: str, content: dict[str, Any]) -> Coverage:
    entry = content.get(collection_id)
    if not isinstance(entry, dict) or entry.get("kind") != "coverage":
        raise not_found_text("unknown_collection", collection=collection_id)
    files = {int(y): p for y, p in (entry.get("files") or {}).items() if str(y).isdigit()}
    if not files:
        files = {0: entry["data"]}
    store = get_settings().store_dir.resolve()
    for path in files.values():
        # the manifest is ours, but a file outside the store is never served
        if not Path(path).resolve().is_relative_to(store):
            raise not_found_text("file_outside", collection=collection_id)
    return Coverage(collection_id, files)


def summer_bounds(year: int) -> tuple[datetime, datetime]:
    (m0, d0), (m1, d1) = SUMMER
    return datetime(year, m0, d0), datetime(year, m1, d1) + timedelta(days=1)


def _instant(text: str, end: bool) -> datetime | None:
    """One end of a datetime query, as a naive UTC datetime (None = open, or past year 9999)."""
    text = text.strip()
    if text in ("", ".."):
        return None
    if re.fullmatch(r"\d{4}", text):
        year = int(text) + (1 if end else 0)
        return datetime(year, 1, 1) if year <= 9999 else None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        value = datetime(day.year, day.month, day.day)
        if not end:
            return value
        return None if value.date() == date.max else value + timedelta(days=1)
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def select_year(cov: Coverage, query: str | None) -> int:
    """The year whose summer the `datetime` query designates (default: the latest).

    A year, a date, a date-time or an interval (`start/end`, `..` open) meeting exactly one
    summer selects it; nothing -> 404, several summers -> 400, unreadable -> 400."""
    years = cov.years
    if query is None or query.strip() == "":
        return years[-1]
    if years == [0]:  # an undated coverage: one file for every date
        return 0
    text = query.strip()
    parts = text.split("/")
    if len(parts) > 2:
        raise bad_text("datetime_unreadable", value=repr(text[:80]))
    try:
        start = _instant(parts[0], end=False)
        end = _instant(parts[-1], end=True) if len(parts) == 2 else _instant(parts[0], end=True)
        if len(parts) == 1 and start is not None and not re.fullmatch(r"[\d-]+", parts[0]):
            # a date-time is an instant
            end = start + timedelta(microseconds=1) if start < datetime.max else None
    except (ValueError, OverflowError):
        raise bad_text("datetime_expected", value=repr(text[:80])) from None
    if start is not None and end is not None and end < start:
        raise bad_text("datetime_order")
    matching = []
    for year in years:
        s0, s1 = summer_bounds(year)
        if (end is None or end > s0) and (start is None or start < s1):
            matching.append(year)
    if not matching:
        raise not_found_text("no_summer", value=text[:80], years=[str(y) for y in years])
    if len(matching) > 1:
        raise bad_text("several_summers", years=[str(y) for y in matching])
    return matching[0]


def dataset_path(collection_id: str, datetime_query: str | None) -> tuple[int, str]:
    cov = coverage(collection_id)
    year = select_year(cov, datetime_query)
    return year, cov.files[year]


# --------------------------------------------------------------------------------------------
# The colour ramp (styles/{cid}.ramp.json)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def ramp(collection_id: str) -> dict[str, Any] | None:
    path = STYLES_DIR / f"{collection_id}.ramp.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def ramp_color(spec: dict[str, Any], value: float) -> tuple[int, int, int]:
    """The colour of `value` on the ramp, linearly interpolated between its stops."""
    stops = spec["stops"]
    values = [float(s["value"]) for s in stops]
    channels = np.array([_rgb(s["color"]) for s in stops], dtype=float)
    return tuple(int(round(float(np.interp(value, values, channels[:, c])))) for c in range(3))


@lru_cache(maxsize=None)
def ramp_colormap(collection_id: str) -> dict[int, tuple[int, int, int, int]]:
    """The ramp as titiler's colormap: index i of the 0-255 rescaled value -> RGBA."""
    spec = ramp(collection_id)
    lo, hi = spec["rescale"]
    return {i: (*ramp_color(spec, lo + (hi - lo) * i / 255.0), 255) for i in range(256)}


@lru_cache(maxsize=32)
def data_range(path: str) -> tuple[float, float]:
    """Fallback rescale of a coverage without a ramp file: its own minimum and maximum."""
    with rasterio.open(path) as src:
        stats = src.stats(indexes=[1], approx=True)[0]
    return float(stats.min), float(stats.max)
