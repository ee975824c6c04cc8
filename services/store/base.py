"""What a store does, whatever it is: one interface per concern, two backends.

    concern                 interface          GeoPackage/SQLite            PostGIS
    reading (providers)     FeatureReader      sqlite/features.py           postgis/features.py
    writing with audit      Writer             sqlite/writer.py             postgis/writer.py
    vector tiles (MVT)      Backend.render     sqlite/tiles.py              postgis/tiles.py
    grouped aggregation     Backend.aggregate  sqlite/aggregate.py          postgis/aggregate.py
    introspection, schema   Backend            sqlite/tables.py             postgis/tables.py
      changes, data frames                                                  postgis/schema.py
    replacing the rows of   Backend            sqlite/schema.py             postgis/schema.py
      a generated collection  .replace_rows
    the job table           JobStore           jobs.py (both backends)
    side tables (photos,    open_side_store    photos.py, usage.py (both backends each)
      cadastre usage)

`Backend` is what the rest of the server asks for (`services.store.backend_for(entry)`, with
the entry of the build manifest that says where a collection is stored); the pygeoapi
providers are thin adapters around a `FeatureReader`. Every value is a bound parameter and
every identifier is quoted, in both backends.
"""
from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pygeoapi.provider.base import ProviderConnectionError, ProviderGenericError

from services.i18n import message, remember

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import shapely

    from services.catalog import CollectionSpec
    from services.store.writer import Writer

STORAGE_SRID = 2154  # every collection is stored in Lambert-93 (EPSG:2154)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def outward_bbox(minx: float, miny: float, maxx: float, maxy: float,
                 digits: int = 6) -> list[float]:
    """A collection's advertised extent, rounded outward to `digits` decimals: a feature on its
    edge stays inside (a client filtering on the extent must get every feature back)."""
    scale = 10 ** digits
    return [math.floor(minx * scale) / scale, math.floor(miny * scale) / scale,
            math.ceil(maxx * scale) / scale, math.ceil(maxy * scale) / scale]


class ProviderTimeoutError(ProviderGenericError):
    """A store query ran longer than ARTOIS_QUERY_TIMEOUT: 503."""
    ogc_exception_code = "Timeout"
    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_msg = "query timeout"


class ProviderUnavailableError(ProviderConnectionError):
    """The database cannot be reached (down, restarting, connection lost): 503, not
    pygeoapi's 500 for connection errors. The English text is the project message
    `database_unavailable`, remembered so that services.app answers it in both languages."""
    ogc_exception_code = "ServiceUnavailable"
    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE
    default_msg = "database unavailable"

    def __init__(self, *args, **kwargs) -> None:
        texts = remember(message("database_unavailable"))
        super().__init__(user_msg=texts["en"])


class FeatureReader(ABC):
    """Reading one collection's table as the OGC API Features providers need it.

    `fields` maps each attribute column to its JSON schema (`values`: a code list);
    `query` answers one page (a GeoJSON FeatureCollection dict whose `features` may be
    a lazy list, `links` the keyset `next`), `get` one feature, `domains` the distinct
    values of text columns (queryables)."""
    fields: dict[str, dict]
    geometry_type: str
    id_field: str

    @abstractmethod
    def query(self, offset: int = 0, limit: int = 10, resulttype: str = "results",
              bbox: Any = (), datetime_: str | None = None, properties: Any = (),
              sortby: Any = (), select_properties: Any = (), skip_geometry: bool = False,
              q: str | None = None, filterq: Any = None,
              crs_transform_spec: Any = None) -> dict: ...

    @abstractmethod
    def get(self, identifier: Any, crs_transform_spec: Any = None) -> dict: ...

    @abstractmethod
    def domains(self, names: list[str]) -> dict[str, list]: ...


class Backend(ABC):
    """One store. `entry` is a collection's entry of the build manifest (`data`/`table`)."""
    name: str  # "geopackage" | "postgis"

    @abstractmethod
    def reader(self, provider_def: dict, id_field: str | None,
               time_field: str | None) -> FeatureReader:
        """The reader of a pygeoapi provider definition (`data`, `table`, `options`)."""

    @abstractmethod
    def writer(self, spec: "CollectionSpec", entry: dict, **kwargs: Any) -> "Writer":
        """One transaction on the collection (see services.store.writer)."""

    @abstractmethod
    def layer_table(self, entry: dict) -> Any:
        """The table as tiles need it: table, geometry column, columns, key."""

    @abstractmethod
    def render(self, layers: tuple, box: Any) -> Any:
        """MVT bytes of `layers` in one tile (the PostGIS one is a coroutine)."""

    @abstractmethod
    def read_frame(self, entry: dict, bbox: tuple | None = None) -> "gpd.GeoDataFrame":
        """All features (or those whose envelope meets `bbox`), EPSG:2154."""

    @abstractmethod
    def get_feature(self, entry: dict, key: str, feature_id: Any) -> dict | None:
        """{"properties": {...}, "geometry": shapely geometry} of `key` = feature_id."""

    @abstractmethod
    def geometries(self, entry: dict) -> list["shapely.Geometry"]:
        """Every geometry of the collection (the territory)."""

    @abstractmethod
    def add_columns(self, entry: dict, columns: dict[str, tuple[str, str]]) -> None:
        """Add the missing `columns` ({name: (SQLite type, PostgreSQL type)}), one
        transaction; existing columns are left as they are."""

    @abstractmethod
    def version(self, entry: dict) -> tuple:
        """A key that changes when the stored data may have (caches of derived data)."""

    @abstractmethod
    def replace_rows(self, spec: "CollectionSpec", entry: dict, gdf: "gpd.GeoDataFrame",
                     date_columns: list[str], newer: tuple[str, str] | None = None) -> dict:
        """Replace every row of a generated (not editable) collection by `gdf`, in one
        transaction: readers see the old rows or the new ones. `newer=(column, value)`: keep
        the table when it holds a larger value of `column`. {"replaced", "count"}."""

    def aggregate(self, reader: FeatureReader, plan: Any) -> list[tuple]:
        """One row per group of a services.aggregate.Plan (the reader's filters, grouped):
        the keys, their labels (territory levels, else None), then the metrics; at most
        `plan.max_groups + 1` rows. One SQL statement, in the store's aggregate module."""
        from importlib import import_module
        package = {"geopackage": "sqlite", "postgis": "postgis"}[self.name]
        return import_module(f"services.store.{package}.aggregate").aggregate(reader, plan)


# ---------------------------------------------------------------------------- side stores
_SIDE_STORES: dict[tuple, Any] = {}
_SIDE_LOCK = threading.Lock()


def open_side_store(name: str, sqlite_cls: type, postgres_cls: type, settings: Any = None):
    """A small store of the server's own rows beside the collections (photos, usage counts):
    `<store_dir>/<name>.sqlite` on the embedded store, `postgres_cls(schema, url)` on PostGIS;
    one per process and place, its `setup()` run once."""
    from services.settings import get_settings
    settings = settings or get_settings()
    if settings.database_url:
        key = (name, "postgres", settings.database_url, settings.db_schema)
    else:
        key = (name, "sqlite", str(settings.store_dir / f"{name}.sqlite"))
    store = _SIDE_STORES.get(key)
    if store is None:
        with _SIDE_LOCK:
            store = _SIDE_STORES.get(key)
            if store is None:
                store = postgres_cls(key[3], key[2]) if key[1] == "postgres" \
                    else sqlite_cls(key[2])
                store.setup()
                _SIDE_STORES[key] = store
    return store
