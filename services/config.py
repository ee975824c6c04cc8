"""Write the runtime pygeoapi configuration and OpenAPI document.

pygeoapi-config.yml holds the server section; each collection file and the build manifest
give one resource. The result goes to var/run/, where the ASGI app reads it.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pygeoapi
import yaml

from services import front, vendor
from services.catalog import CollectionSpec
from services.store import get_catalog
from services.settings import Settings, export_environment
from processes import yaml_data

CRS_LIST = [
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/2154",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
]
STORAGE_CRS = "http://www.opengis.net/def/crs/EPSG/0/2154"
DEMO_NOTE = {
    "fr": "Données de démonstration modélisées : elles ne décrivent pas la réalité.",
    "en": "Modelled demonstration data: they do not describe reality.",
}


def _links(spec: CollectionSpec) -> list[dict[str, Any]]:
    links = [{"type": "text/html", "rel": "license", "title": spec.licence["title"],
              "href": spec.licence["href"]}]
    for item in spec.provenance:
        links.append({"type": "text/html", "rel": "describedby",
                      "title": item["title"], "href": item["href"]})
    return links


def _description(spec: CollectionSpec) -> dict[str, str]:
    if not spec.demo:
        return spec.description
    return {lang: (text if DEMO_NOTE[lang].split(":")[0].lower() in text.lower()
                   else f"{DEMO_NOTE[lang]} {text}")
            for lang, text in spec.description.items()}


def _extents(entry: dict[str, Any]) -> dict[str, Any]:
    """pygeoapi compares datetime queries with the temporal extent as datetime objects."""
    ext = json.loads(json.dumps(entry["extents"]))
    temporal = ext.get("temporal")
    if temporal:
        for key in ("begin", "end"):
            if temporal.get(key):
                temporal[key] = datetime.fromisoformat(temporal[key].replace("Z", "+00:00"))
    return ext


def resource(spec: CollectionSpec, entry: dict[str, Any], settings: Settings) -> dict[str, Any]:
    keywords = spec.keywords
    res: dict[str, Any] = {
        "type": "collection",
        "title": spec.title,
        "description": _description(spec),
        "keywords": keywords,
        "links": _links(spec) + front.collection_links(spec, settings.url),
        "extents": _extents(entry),
    }
    if spec.kind == "coverage":
        res["providers"] = [{
            "type": "coverage",
            "name": "services.providers.rasterio_cog.RasterioCOGProvider",
            "data": entry["data"],
            "options": {"DATA_ENCODING": "COG"},
            "format": {"name": "GTiff", "mimetype": "application/tiff"},
        }]
        return res
    on_postgis = entry.get("store") == "postgis"
    provider: dict[str, Any] = {
        "type": "feature",
        "name": ("services.providers.postgis.PostGISProvider" if on_postgis else
                 "services.providers.geopackage.GeoPackageProvider"),
        # PostGIS: the connection comes from DATABASE_URL in the environment, never the file
        "data": entry["table"] if on_postgis else entry["data"],
        "table": entry["table"],
        "id_field": spec.id_field or "fid",
        "storage_crs": STORAGE_CRS,
        "crs": CRS_LIST,
        "options": {"fields": spec.fields, "query_timeout": settings.query_timeout},
    }
    if spec.title_field:
        provider["title_field"] = spec.title_field
    if spec.time_field:
        provider["time_field"] = spec.time_field
    res["providers"] = [provider]
    res["limits"] = {"max_items": settings.max_items, "on_exceed": "error"}
    return res


def runtime_config(settings: Settings) -> dict[str, Any]:
    base = yaml_data.load(settings.base_config.read_text(encoding="utf-8"))
    catalog = get_catalog(settings)
    manifest = catalog.require_manifest()
    server = base["server"]
    server["url"] = settings.url
    # the "about" link and the URL of the HTML landing page lead to the agency's web map
    base["metadata"]["identification"]["url"] = f"{settings.url}/map"
    server["bind"] = {"host": settings.host, "port": settings.port}
    server["limits"]["max_items"] = settings.max_items
    server["locale_dir"] = str(settings.var_dir / "locale")
    server["templates"] = {"path": str(write_templates(settings)), "static": str(_static_dir())}
    resources = {}
    for spec in catalog.specs.values():
        if spec.id not in manifest:
            raise FileNotFoundError(f"collection {spec.id!r} not built: run `artois-geo build`")
        resources[spec.id] = resource(spec, manifest[spec.id], settings)
    from processes.registry import PROCESSES

    for process_id, dotted in PROCESSES.items():
        resources[process_id] = {"type": "process", "processor": {"name": dotted}}
    base["resources"] = resources
    # jobs: worker processes, stored with the store (services/jobs.py); the PostgreSQL
    # connection comes from DATABASE_URL in the environment, never from this file
    server["manager"] = {
        "name": "services.jobs.JobManager",
        "connection": ("postgresql" if settings.database_url
                       else str(settings.var_dir / "jobs" / "jobs.sqlite")),
        "output_dir": None,
    }
    return base


def _static_dir() -> Path:
    return Path(pygeoapi.__file__).parent / "static"


PROJECT_TEMPLATES = Path(__file__).parent / "templates"


def write_templates(settings: Settings) -> Path:
    """The HTML templates of pygeoapi's pages (`server.templates.path`), written for this
    server's URL: each pygeoapi template naming a CDN library, with the library's URL on
    this server instead (services/vendor.py), then the project's own overrides
    (services/templates/). Templates not written here are pygeoapi's own (its loader falls
    back on them)."""
    target = settings.var_dir / "run" / f"templates-{settings.port}"
    shutil.rmtree(target, ignore_errors=True)
    for folder in (Path(pygeoapi.__file__).parent / "templates", PROJECT_TEMPLATES):
        for source in sorted(p for p in folder.rglob("*") if p.is_file()):
            text = source.read_text(encoding="utf-8")
            local = vendor.rewrite_cdn_urls(text, settings.url)
            if local == text and folder != PROJECT_TEMPLATES:
                continue
            path = target / source.relative_to(folder)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(local, encoding="utf-8")
    return target


def write_runtime_config(settings: Settings) -> tuple[Path, Path]:
    """Write var/run/pygeoapi-config-<port>.yml and openapi-<port>.json; export their paths
    for pygeoapi.

    The OpenAPI document (about 1 MB) is JSON: pygeoapi serves a JSON document as it reads
    it, where it parses YAML with PyYAML's pure-Python loader, 2.5 s in each worker at
    start. The configuration is YAML (pygeoapi reads no other), written by libyaml's
    emitter (4x faster than the pure-Python one)."""
    from pygeoapi.openapi import get_oas

    run_dir = settings.var_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    _compile_locales(settings)
    config = runtime_config(settings)
    # one pair per port: two servers (say, embedded and PostGIS) can run side by side
    config_path = run_dir / f"pygeoapi-config-{settings.port}.yml"
    openapi_path = run_dir / f"openapi-{settings.port}.json"
    _atomic_write(config_path, yaml.dump(config, Dumper=_DUMPER, allow_unicode=True,
                                         sort_keys=False))
    export_environment(PYGEOAPI_CONFIG=str(config_path), PYGEOAPI_OPENAPI=str(openapi_path))
    oas = get_oas(config, fail_on_invalid_collection=True)
    from services import front_openapi
    specs = list(get_catalog(settings).specs.values())
    front_openapi.extend(oas, [s.id for s in specs if s.kind == "features"],
                         [s.id for s in specs if s.kind == "coverage"])
    _atomic_write(openapi_path, json.dumps(oas, default=str, ensure_ascii=False))
    return config_path, openapi_path


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, when PyYAML has it


def _compile_locales(settings: Settings) -> None:
    try:
        from services.i18n import compile_catalogues
    except ImportError:  # catalogue module not present: pygeoapi falls back to English
        return
    compile_catalogues(settings.var_dir / "locale")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
