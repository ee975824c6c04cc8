"""The catalog: the collection files (collections/*.yml) and the build manifest of the store in
use, read once and re-read only when a file changes (its modification time), in one way.

    cat = get_catalog()          # one per settings (collections dir, store dir, store)
    cat.specs                    # {id: CollectionSpec}, each after what it requires
    cat.spec("friches")          # or None
    cat.manifest                 # {id: entry}: where and how the build stored each collection
    cat.entry("friches")         # or None

Whatever needs collections or the manifest asks `get_catalog()` (or receives the Catalog):
no module reads the YAML files or the manifest by itself.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from services.catalog import CollectionSpec, load_catalog
from services.settings import Settings, get_settings


class Catalog:
    """Collection specs + build manifest of one settings, cached by file modification time."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.collections_dir = Path(settings.collections_dir)
        self.manifest_path = settings.store_dir / (
            "manifest-postgis.json" if settings.database_url else "manifest.json")
        self._lock = threading.Lock()
        self._specs: tuple[tuple, dict[str, CollectionSpec]] | None = None
        self._manifest: tuple[int, dict[str, Any]] | None = None

    # -- collection files -----------------------------------------------------------
    def _specs_stamp(self) -> tuple:
        """(name, mtime) of each collection file: one directory read and a stat each, no
        Path objects (Part 4 asks for a spec on every feature read)."""
        try:
            with os.scandir(self.collections_dir) as entries:
                return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries
                                    if e.name.endswith(".yml")))
        except FileNotFoundError:
            return ()

    @property
    def specs(self) -> dict[str, CollectionSpec]:
        """Every collection, ordered so that each comes after what it requires."""
        stamp = self._specs_stamp()
        cached = self._specs
        if cached is None or cached[0] != stamp:
            cached = (stamp, {s.id: s for s in load_catalog(self.collections_dir)})
            with self._lock:
                self._specs = cached
        return cached[1]

    def spec(self, collection_id: str) -> CollectionSpec | None:
        return self.specs.get(collection_id)

    # -- build manifest -------------------------------------------------------------
    def manifest_version(self) -> tuple[int, dict[str, Any]]:
        """(modification time, content) of the manifest; (0, {}) before the first build."""
        try:
            mtime = self.manifest_path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0, {}
        cached = self._manifest
        if cached is None or cached[0] != mtime:
            cached = (mtime, json.loads(self.manifest_path.read_text()))
            with self._lock:
                self._manifest = cached
        return cached

    @property
    def manifest(self) -> dict[str, Any]:
        return self.manifest_version()[1]

    def entry(self, collection_id: str) -> dict[str, Any] | None:
        return self.manifest.get(collection_id)

    def require_manifest(self) -> dict[str, Any]:
        """The manifest, or FileNotFoundError when the store was never built."""
        if not self.manifest_path.exists():
            raise FileNotFoundError(f"{self.manifest_path} missing: run `artois-geo build` first")
        return self.manifest

    def save_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically (the build)."""
        self.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        tmp.replace(self.manifest_path)


_catalogs: dict[tuple, Catalog] = {}
_catalogs_lock = threading.Lock()


_last: tuple[Settings, Catalog] | None = None


def get_catalog(settings: Settings | None = None) -> Catalog:
    """The one Catalog of these settings (by default the server's)."""
    global _last
    settings = settings or get_settings()
    last = _last
    if last is not None and last[0] is settings:  # the server's, asked on every request
        return last[1]
    key = (str(settings.collections_dir), str(settings.store_dir), bool(settings.database_url))
    cat = _catalogs.get(key)
    if cat is None:
        with _catalogs_lock:
            cat = _catalogs.setdefault(key, Catalog(settings))
    _last = (settings, cat)
    return cat
