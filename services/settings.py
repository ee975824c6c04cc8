"""Every setting, read from the environment (prefix ARTOIS_, plus DATABASE_URL)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARTOIS_", extra="ignore")

    collections_dir: Path = Field(PROJECT_DIR / "collections",
                                  description="Folder of collection files (*.yml)")
    var_dir: Path = Field(PROJECT_DIR / "var",
                          description="Where build writes the store, config and caches")
    base_config: Path = Field(PROJECT_DIR / "pygeoapi-config.yml",
                              description="Server section of the pygeoapi configuration")
    public_url: str | None = Field(None, description="Public base URL; default http://HOST:PORT")
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = Field(2, description="uvicorn worker processes")
    query_timeout: float = Field(10.0, description="Seconds before a store query is aborted")
    max_items: int = Field(10_000, description="Largest accepted `limit`")
    log_level: str = Field("warning", description="Server log level (debug, info, warning, error)")
    log_format: str = Field("json", description="Server logs: json (one object per line) or text")
    access_log: bool = Field(False, description="Log every request as one JSON line")
    cache_tiles: str = Field("public, max-age=300", description="Cache-Control of tiles")
    cache_static: str = Field("public, max-age=86400",
                              description="Cache-Control of styles, tile matrix sets, web map files")
    cache_data: str = Field("no-cache",
                            description="Cache-Control of collections and items (revalidated by ETag)")
    cors_origins: str = Field("*", description="Origins whose web pages may call the API "
                              "(read and write, CORS): * = any, or a comma list of origins")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "ARTOIS_DATABASE_URL"),
        description="PostgreSQL/PostGIS URL; unset = embedded GeoPackage store")

    @property
    def store_dir(self) -> Path:
        return self.var_dir / "store"

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
