"""Every setting, read from the environment (prefix ARTOIS_, plus DATABASE_URL)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # an empty variable is an unset one (DATABASE_URL="" means the embedded store)
    model_config = SettingsConfigDict(env_prefix="ARTOIS_", extra="ignore", env_ignore_empty=True)

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
    # -- Features Part 4 writes (services/auth.py, services/transactions.py) --------------
    api_keys: str = Field("", description="Credentials for writes and protected processes: "
                          "`token:role:user,…` (roles reader, editor, admin)")
    api_keys_file: Path | None = Field(None, description="YAML/JSON keys file (sha256 hashes "
                                       "of the tokens), re-read when it changes")
    require_if_match: bool = Field(True, description="false: PUT/PATCH/DELETE accepted "
                                   "without If-Match (clients that cannot send it)")
    # -- operations (services/ops.py) ------------------------------------------------------
    metrics_dir: Path | None = Field(
        None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "ARTOIS_METRICS_DIR"),
        description="Folder where the uvicorn workers share their Prometheus counters "
        "(prometheus_client's PROMETHEUS_MULTIPROC_DIR); `serve` sets a fresh one")
    # -- OGC API Processes: the job queue (services/jobs) ---------------------------------
    job_workers: int | None = Field(None, description="Job worker processes started by "
                                    "`artois-geo serve` (0: none, jobs run by `artois-geo "
                                    "worker` elsewhere); default: the number of CPUs")
    job_timeout: float = Field(300.0, description="Seconds a job may run (per process: "
                               "ARTOIS_JOB_TIMEOUT_<PROCESS_ID>)")
    job_lease: float = Field(15.0, description="Seconds without a heartbeat after which a "
                             "running job's worker is taken for dead and the job queued again")
    job_retention_days: float = Field(30.0, description="Finished jobs are deleted after")
    job_max_queued: int = Field(200, description="Jobs waiting in the queue, all owners: "
                                "beyond, 429 and /ready answers 503")
    job_max_queued_per_owner: int = Field(20, description="Jobs waiting or running per owner "
                                          "(a user, or the address of anonymous callers)")
    job_sync_wait: float = Field(60.0, description="Seconds a synchronous execution waits for "
                                 "its job before answering 201 with the job's address")
    job_max_input_bytes: int = Field(5 * 1_048_576, description="Largest execute request body")
    job_max_result_bytes: int = Field(64 * 1_048_576, description="Largest job result")
    job_nice: int = Field(10, description="Scheduling niceness of job workers (the API first)")
    job_poll: float = Field(0.25, description="Seconds between two looks at the queue of an "
                            "idle worker")
    job_test_delay: float = Field(0.0, description="Tests only: seconds each job sleeps first")
    process_access: str = Field("", description="Per-deployment process access, overriding "
                                "the processes' own: `process=role,…` (role: public, reader, "
                                "editor, admin)")
    read_access: str = Field("", description="Read access tiers overriding the collection "
                             "files and processes: `id=tier,collection.property=tier,…` "
                             "(tier: public, reader, editor, admin or a group)")
    callback_hosts: str = Field("", description="Hosts that job callbacks may reach "
                                "(comma list, * = any public host); default none")
    callback_private_networks: str = Field(
        "", description="Networks (CIDR) of loopback/private addresses that callbacks may "
        "reach anyway; default none")
    callback_timeout: float = Field(5.0, description="Seconds to connect and to answer, per "
                                    "callback")
    # -- the stores (services/store) --------------------------------------------------
    db_schema: str = Field("artois", description="PostGIS schema of the collections")
    db_pool_size: int = Field(8, description="PostgreSQL connections per server process "
                              "(and per pool: features, tiles)")
    exact_count_limit: int = Field(50_000, description="PostGIS tables with more rows get "
                                   "an estimated numberMatched")
    tile_max_features: int = Field(20_000, description="Features at most in one vector "
                                   "tile and layer")
    fast_reads: bool = Field(True, description="Serve JSON items pages and single items "
                             "through services/hotread.py (PostGIS, anonymous) and "
                             "services/fastread.py, and anonymous PostGIS vector tiles "
                             "through services/hottiles.py (off: pygeoapi's route and the "
                             "tile route)")
    # -- usage statistics of the solar cadastre (services/usage.py) ----------------------
    usage_flush_seconds: float = Field(5.0, gt=0, description="Seconds between two writes "
                                       "of the cadastre usage counts (per server process)")
    usage_max_queued: int = Field(10_000, ge=1, description="Cadastre requests at most "
                                  "waiting to be counted per server process (beyond: dropped)")
    usage_cache_seconds: float = Field(600.0, ge=0, description="Seconds the EPCI polygons "
                                       "and roofs used to place a request are kept")
    # -- site photos (services/photos.py) ---------------------------------------------
    photo_max_bytes: int = Field(16 * 1_048_576, description="Largest photo upload, any "
                                 "collection (a collection's `photos.max_bytes` applies below)")
    photo_max_pixels: int = Field(50_000_000, description="Largest photo in pixels (width x "
                                  "height, read before decoding: decompression bombs)")
    cache_photos: str = Field("public, max-age=3600",
                              description="Cache-Control of photo images and thumbnails")
    # -- half-hour territory routing (processes/half_hour/routing) ------------------------
    half_hour_osm: Path | None = Field(None, description="Street network (.osm.pbf, e.g. "
                                       "Geofabrik Nord-Pas-de-Calais); default: the demo "
                                       "network under var/half_hour")
    half_hour_gtfs: str | None = Field(None, description="GTFS feed(s) (.zip, comma list, "
                                       "e.g. from transport.data.gouv.fr); default: the demo "
                                       "feed under var/half_hour")
    half_hour_departure_step: int = Field(600, description="Seconds between two departures "
                                          "tried in a transit departure window")
    half_hour_max_access_walk: float = Field(15.0, description="Minutes of walking at most "
                                             "to or from a stop (transit access/egress)")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "ARTOIS_DATABASE_URL"),
        description="PostgreSQL/PostGIS URL; unset = embedded GeoPackage store")

    def job_timeout_for(self, process_id: str, default: float | None = None) -> float:
        """ARTOIS_JOB_TIMEOUT_<PROCESS_ID>, else `default` (the processor's), else
        job_timeout."""
        import os
        import re
        value = os.environ.get("ARTOIS_JOB_TIMEOUT_" + re.sub(r"[^A-Z0-9]", "_",
                                                              process_id.upper()))
        try:
            if value:
                return float(value)
        except ValueError:
            pass
        return float(default) if default else self.job_timeout

    @property
    def job_worker_count(self) -> int:
        import os
        if self.job_workers is None:
            return os.cpu_count() or 1
        return max(0, self.job_workers)

    @property
    def store_dir(self) -> Path:
        return self.var_dir / "store"

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def export_environment(**variables: str) -> None:
    """Hand values to what reads the environment after this point: the processes started
    from this one (uvicorn and job workers), pygeoapi (PYGEOAPI_CONFIG, PYGEOAPI_OPENAPI)
    and prometheus_client (PROMETHEUS_MULTIPROC_DIR). The settings of this process are read
    again on next use."""
    import os
    os.environ.update(variables)
    get_settings.cache_clear()


def environment_default(name: str, value: str) -> None:
    """Export `name` unless the environment already sets it (the environment wins)."""
    import os
    if not os.environ.get(name):
        export_environment(**{name: value})
