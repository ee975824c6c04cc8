"""PostgreSQL connections: one pool per process and URL, with a statement timeout.

Secrets stay in the environment (DATABASE_URL); the configuration file never holds them.
"""
from __future__ import annotations

import atexit
import os
import threading

from psycopg import sql
from psycopg_pool import ConnectionPool

_pools: dict[tuple[str, int], ConnectionPool] = {}
_lock = threading.Lock()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or os.environ.get("ARTOIS_DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    return url


def pool(url: str | None = None, timeout_ms: int | None = None) -> ConnectionPool:
    """The process's pool for `url` (pools are not shared across forked workers)."""
    url = url or database_url()
    timeout_ms = timeout_ms or int(float(os.environ.get("ARTOIS_QUERY_TIMEOUT", "10")) * 1000)
    key = (url, os.getpid())
    p = _pools.get(key)
    if p is None:
        with _lock:
            p = _pools.get(key)
            if p is None:
                size = int(os.environ.get("ARTOIS_DB_POOL_SIZE", "8"))
                p = ConnectionPool(
                    url, min_size=1, max_size=size, open=True, name="artois-geo",
                    kwargs={"options": f"-c statement_timeout={timeout_ms}",
                            "application_name": "artois-geo", "prepare_threshold": 1},
                    timeout=30)
                _pools[key] = p
    return p


def close_pools() -> None:
    """Close this process's pools. Left open, psycopg_pool's threads make interpreter exit
    wait 5 s each under Python 3.13 (20 s per command-line run)."""
    for key, p in list(_pools.items()):
        if key[1] == os.getpid():
            p.close(timeout=2)
            del _pools[key]


atexit.register(close_pools)


def qualified(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def schema_name() -> str:
    return os.environ.get("ARTOIS_DB_SCHEMA", "artois")
