"""The collection files (collections/*.yml): one file describes one published layer.

This module parses them; the server reads them through the cached
`services.store.get_catalog()` (with the build manifest), never by calling `load_catalog`."""
from __future__ import annotations

import graphlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from processes import yaml_data

REQUIRED = ("id", "title", "description", "keywords", "source", "licence")


class CatalogError(ValueError):
    """A collection file is missing something or contradicts itself."""


@dataclass
class CollectionSpec:
    id: str
    path: Path
    title: dict[str, str]
    description: dict[str, str]
    keywords: dict[str, list[str]]
    source: dict[str, Any]
    licence: dict[str, str]
    kind: str = "features"             # features | coverage
    demo: bool = False
    geometry_type: str | None = None
    id_field: str | None = None
    title_field: str | None = None
    time_field: str | None = None
    provenance: list[dict[str, str]] = field(default_factory=list)
    fields: dict[str, dict] = field(default_factory=dict)
    units: str | None = None
    editable: bool = False
    tile_min_zoom: int = 0             # WebMercatorQuad zoom from which vector tiles show it
    photos: dict | None = None         # site photos: max_bytes, max_per_feature, types
    access: str = "public"             # read tier of the whole collection (services/access.py)
    # write hooks (services/store/writer.py): `on_write: "module:Class"` run inside each
    # write's transaction, `after_build: "module:function"`, and `refresh_after:
    # {collection: "module:function"}` run after a committed write of that collection
    on_write: str | None = None
    after_build: str | None = None
    refresh_after: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.id.replace("-", "_")

    @property
    def requires(self) -> list[str]:
        return list(self.source.get("requires", []))

    def source_path(self) -> Path | None:
        rel = self.source.get("path")
        return (self.path.parent / rel).resolve() if rel else None


def load_spec(path: Path) -> CollectionSpec:
    raw = yaml_data.load(path.read_text(encoding="utf-8")) or {}
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise CatalogError(f"{path.name}: missing {', '.join(missing)}")
    for key in ("title", "description"):
        if not isinstance(raw[key], dict) or not {"fr", "en"} <= set(raw[key]):
            raise CatalogError(f"{path.name}: {key} needs a French (fr) and English (en) text")
    known = set(CollectionSpec.__dataclass_fields__) - {"path"}
    spec = CollectionSpec(path=path, **{k: v for k, v in raw.items() if k in known})
    if spec.kind == "features" and not spec.geometry_type:
        raise CatalogError(f"{path.name}: geometry_type is required for a feature collection")
    src = spec.source
    if not any(k in src for k in ("path", "generator", "raster_generator", "postgis_table")):
        raise CatalogError(f"{path.name}: source needs path, generator or raster_generator")
    return spec


def load_catalog(collections_dir: Path) -> list[CollectionSpec]:
    """All collection specs, ordered so that each comes after what it requires."""
    specs = {}
    for path in sorted(collections_dir.glob("*.yml")):
        spec = load_spec(path)
        if spec.id in specs:
            raise CatalogError(f"duplicate collection id {spec.id!r}")
        specs[spec.id] = spec
    graph = {}
    for spec in specs.values():
        unknown = [r for r in spec.requires if r not in specs]
        if unknown:
            raise CatalogError(f"{spec.id}: requires unknown collection(s) {unknown}")
        graph[spec.id] = list(spec.requires)
    # one order in every process, whatever the hash seed (pytest-xdist workers must collect
    # the same parametrised tests): file order, each collection after what it requires
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    rank = {cid: i for i, cid in enumerate(specs)}
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=rank.__getitem__)
        order += ready
        sorter.done(*ready)
    return [specs[i] for i in order]
