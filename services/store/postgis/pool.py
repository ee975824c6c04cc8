"""PostgreSQL connections: one pool per process and URL, with a statement timeout.

Secrets stay in the environment (DATABASE_URL, read through services.settings); the
configuration file never holds them.

The pool heals by itself when PostgreSQL restarts or the network to it is cut:

- a connection is checked when it leaves the pool if its socket has something to read (an
  idle connection has nothing to say unless the server closed it): connections that died
  while idle are replaced, without a round trip for the healthy ones;
- a lost connection is retried for `RECONNECT_TIMEOUT_S` only (psycopg_pool's default, five
  minutes of exponential backoff, could leave the pool waiting up to half a minute after the
  database is back); after that, the next request that waits starts a fresh attempt at once;
- reads (services/store/postgis/features.py) run in autocommit (`reading`): no BEGIN and no
  COMMIT round trip; a connection returns to the pool in transaction mode (`done_reading`);
- while the database is known to be away (a connection attempt failed, or a connection was
  found broken, and none succeeded since) a request waits `OUTAGE_WAIT_S` for a connection,
  not the pool's 30 s, and gets `DatabaseUnavailable`: the HTTP layers answer 503 with
  `Retry-After: RETRY_AFTER_S` (see `unreachable`).
"""
from __future__ import annotations

import asyncio
import atexit
import os
import select
import threading
import time
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg import sql
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from services.settings import get_settings

IDLE = TransactionStatus.IDLE
_pools: dict[tuple[str, int], ConnectionPool] = {}
_lock = threading.Lock()

POOL_TIMEOUT_S = 30.0      # longest wait for a connection while the database answers
OUTAGE_WAIT_S = 2.0        # ... and while it is known to be away
RECONNECT_TIMEOUT_S = 2.0  # a lost connection is retried this long (attempts at 0, 1, 2 s)
CONNECT_TIMEOUT_S = 5      # a connection attempt to a silent host gives up (libpq, seconds)
RETRY_AFTER_S = 5          # what a 503 for an unreachable database tells the client


class DatabaseUnavailable(PoolTimeout):
    """No connection: the database is away (down, restarting, unreachable). A PoolTimeout,
    hence a psycopg.OperationalError, for the code that catches those."""


def unreachable(err: BaseException) -> bool:
    """True when `err` means the database cannot be used right now (no connection, the
    connection was lost, the server is shutting down or starting up, too many clients):
    answer 503 with Retry-After, the pool reconnects by itself. A statement timeout or a
    lock wait (QueryCanceled, LockNotAvailable) is the query's own failure, not this."""
    return isinstance(err, psycopg.OperationalError) and not isinstance(
        err, (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable))


class _Health:
    """Whether the database is known to be away: since when, or None."""

    def __init__(self) -> None:
        self.down_since: float | None = None

    def lost(self) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()

    def back(self) -> None:
        self.down_since = None

    @property
    def down(self) -> bool:
        return self.down_since is not None


def _connection_class(health: _Health) -> type[psycopg.Connection]:
    class Connection(psycopg.Connection):
        """Tells the pool's health whether connection attempts succeed."""

        @classmethod
        def connect(cls, *args, **kwargs):
            try:
                conn = super().connect(*args, **kwargs)
            except psycopg.OperationalError:
                health.lost()
                raise
            health.back()
            return conn
    return Connection


def reading(conn: psycopg.Connection) -> psycopg.Connection:
    """`conn` (fresh from the pool) for reads only: autocommit, so that its statements open no
    transaction and the commit of `pool().connection()` at the end is no round trip (one
    page, one round trip). Call `done_reading` before the connection goes back."""
    if not conn.closed and conn.pgconn.transaction_status == IDLE:
        conn.autocommit = True
    return conn


def done_reading(conn: psycopg.Connection) -> None:
    """Back to transaction mode before `conn` returns to the pool (writers and the job queue
    rely on implicit transactions). A connection not idle (lost, or a statement still
    running) is closed by the pool when it returns, autocommit or not."""
    if conn.autocommit and not conn.closed and conn.pgconn.transaction_status == IDLE:
        conn.autocommit = False


class ResilientPool(ConnectionPool):
    """A psycopg_pool ConnectionPool that notices a lost database and fails fast meanwhile."""

    def __init__(self, conninfo: str, **kwargs):
        self.health = _Health()
        super().__init__(conninfo, connection_class=_connection_class(self.health),
                         check=self._check_idle, reconnect_timeout=RECONNECT_TIMEOUT_S,
                         reconnect_failed=lambda pool: pool.health.lost(), **kwargs)

    def _check_idle(self, conn: psycopg.Connection) -> None:
        """Raise if `conn` is broken; a round trip only when its socket is readable."""
        poller = select.poll()
        poller.register(conn.pgconn.socket, select.POLLIN)
        if poller.poll(0):  # the server closed it or said something: look closer
            try:
                ConnectionPool.check_connection(conn)
            except Exception:
                self.health.lost()
                raise

    def getconn(self, timeout: float | None = None) -> psycopg.Connection:
        """Wait at most `timeout` (the pool's) for a connection, but only `OUTAGE_WAIT_S` at a
        time: between two waits, give up with DatabaseUnavailable if the database is away."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            try:
                conn = super().getconn(max(0.01, min(remaining, OUTAGE_WAIT_S)))
            except PoolTimeout as err:
                if self.health.down:
                    raise DatabaseUnavailable(f"database unavailable ({err})") from err
                if time.monotonic() >= deadline:
                    raise
                continue
            self.health.back()
            return conn


def database_url() -> str:
    url = get_settings().database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    return url


def pool(url: str | None = None, timeout_ms: int | None = None) -> ConnectionPool:
    """The process's pool for `url` (pools are not shared across forked workers)."""
    url = url or database_url()
    timeout_ms = timeout_ms or query_timeout_ms()
    key = (url, os.getpid())
    p = _pools.get(key)
    if p is None:
        with _lock:
            p = _pools.get(key)
            if p is None:
                size = get_settings().db_pool_size
                p = ResilientPool(
                    url, min_size=1, max_size=size, open=True, name="artois-geo",
                    kwargs={"options": f"-c statement_timeout={timeout_ms}",
                            "application_name": "artois-geo", "prepare_threshold": 1,
                            "connect_timeout": CONNECT_TIMEOUT_S,
                            # an idle connection to a host gone silent is found dead
                            "keepalives": 1, "keepalives_idle": 30,
                            "keepalives_interval": 10, "keepalives_count": 3},
                    timeout=POOL_TIMEOUT_S)
                _pools[key] = p
    return p


_apools: dict[tuple[str, int], AsyncConnectionPool] = {}
_apool_lock = asyncio.Lock()


class _RawText(Loader):
    """text as the bytes PostgreSQL sent (UTF-8): the GeoJSON PostGIS writes goes into the
    answer without being decoded and encoded again (services/hotread.py)."""

    def load(self, data) -> bytes:
        return bytes(data)


async def _configure_async(conn: psycopg.AsyncConnection) -> None:
    conn.adapters.register_loader("text", _RawText)


async def apool() -> AsyncConnectionPool | None:
    """This process's asyncio pool (services/hotread.py reads on the event loop), opened on
    first use: autocommit connections with the same statement timeout, text columns read
    as bytes (_RawText). None while the
    database is known to be away (the thread pool's health): the caller takes the
    ordinary path, which answers 503."""
    url = database_url()
    if pool(url).health.down:
        return None
    key = (url, os.getpid())
    p = _apools.get(key)
    if p is None:
        async with _apool_lock:  # opened once, and used only once open
            p = _apools.get(key)
            if p is None:
                p = AsyncConnectionPool(
                    url, min_size=1, max_size=get_settings().db_pool_size, open=False,
                    name="artois-geo-async", timeout=OUTAGE_WAIT_S,
                    configure=_configure_async, reconnect_timeout=RECONNECT_TIMEOUT_S,
                    kwargs={"options": f"-c statement_timeout={query_timeout_ms()}",
                            "application_name": "artois-geo", "prepare_threshold": 1,
                            "connect_timeout": CONNECT_TIMEOUT_S, "autocommit": True,
                            "keepalives": 1, "keepalives_idle": 30,
                            "keepalives_interval": 10, "keepalives_count": 3})
                await p.open(wait=False)
                _apools[key] = p
    return p


# Set by services/hotread.py while it hands to the ordinary path a read whose statement hit
# the statement timeout on the event loop: that path's reads (services/store/postgis/
# features.py) then fail at once with the timeout's 503 instead of running it a second time.
HOT_READ_TIMED_OUT: ContextVar[bool] = ContextVar("artois_hot_read_timed_out", default=False)


class borrowed:  # noqa: N801 - used as `async with borrowed(pool) as conn`
    """A connection of an asyncio pool of this module for the block, taken and put back
    without the pool's context manager, whose exit commits: these connections are in
    autocommit, there is nothing to commit, and that commit costs a lock and a wait per
    statement (services/hotread.py, services/store/postgis/tiles.py)."""

    __slots__ = ("pool", "conn")

    def __init__(self, p: AsyncConnectionPool):
        self.pool = p

    async def __aenter__(self) -> psycopg.AsyncConnection:
        self.conn = await self.pool.getconn()
        return self.conn

    async def __aexit__(self, *exc: Any) -> None:
        await self.pool.putconn(self.conn)


async def fetch_one(p: AsyncConnectionPool, query: Any, params: Any = None) -> tuple | None:
    """The first row of one statement on an asyncio pool of this module."""
    async with borrowed(p) as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchone()


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
    return get_settings().db_schema


def query_timeout_ms() -> int:
    """PostgreSQL `statement_timeout` of every pool (ARTOIS_QUERY_TIMEOUT)."""
    return int(get_settings().query_timeout * 1000)
