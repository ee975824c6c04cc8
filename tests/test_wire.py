"""services/store/postgis/wire.py: one prepared statement at libpq's level (the hot tiles),
against the real PostGIS cluster, compared with what psycopg's cursor reads."""
from __future__ import annotations

import asyncio
import struct

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from services.store.postgis import wire

# a real MVT made by PostGIS from numbers and a text parameter
MVT_SQL = (b"SELECT ST_AsMVT(t, %(name)s) FROM (SELECT ST_AsMVTGeom("
           b"ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 3857), "
           b"ST_MakeEnvelope(0, 0, 1000, 1000, 3857)) AS geom, %(cap)s AS cap) t")


def run(coro):
    return asyncio.run(coro)


async def connect(url: str) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


def test_values_are_those_the_cursor_reads(database_url):
    """The same bytes as through psycopg's cursor (bytea read in binary form, no hex), for
    float, int and text parameters; floats travel exactly; no row is None."""
    params = {"name": "couche é", "x0": 12.5, "y0": 0.1, "x1": 640.75, "y1": 999.999,
              "cap": 20000}

    async def go():
        conn = await connect(database_url)
        try:
            got = await wire.fetch_value(conn, MVT_SQL, params)
            cur = await conn.execute(MVT_SQL, params)
            expected = bytes((await cur.fetchone())[0])
            assert got == expected and len(got) > 20
            for f in (0.1, 1e-300, 656891.3991863852, -2.5, 7032337.031011579):
                raw = await wire.fetch_value(conn, b"SELECT float8send(%(f)s)", {"f": f})
                assert struct.unpack("!d", raw)[0] == f
            raw = await wire.fetch_value(conn, b"SELECT int8send(%(n)s)", {"n": -(2 ** 40)})
            assert struct.unpack("!q", raw)[0] == -(2 ** 40)
            assert await wire.fetch_value(
                conn, b"SELECT convert_to(%(t)s, 'UTF8')", {"t": "Béthune"}) == \
                "Béthune".encode()
            assert await wire.fetch_value(
                conn, b"SELECT 1::int4 WHERE %(n)s > 5", {"n": 1}) is None
            assert await wire.fetch_value(
                conn, b"SELECT coalesce(%(t)s, 'null')::bytea", {"t": None}) == b"null"
            assert conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
        finally:
            await conn.close()
    run(go())


def test_placeholders_are_numbered_as_psycopg_reads_them():
    text, names = wire.numbered(b"SELECT %(a)s, %(b)s, %(a)s, 'x%%y'")
    assert text == b"SELECT $1, $2, $1, 'x%y'" and names == ("a", "b")
    with pytest.raises(ValueError):
        wire.numbered(b"SELECT '100%' WHERE %(a)s")
    with pytest.raises(TypeError):
        run(wire.fetch_value(None, b"SELECT %(a)s", {"a": True}))  # a bool: not a number


def test_errors_are_psycopg_errors_and_the_connection_stays_usable(database_url):
    async def go():
        conn = await connect(database_url)
        try:
            await conn.execute("SET statement_timeout = 50")
            with pytest.raises(psycopg.errors.QueryCanceled):
                await wire.fetch_value(conn, b"SELECT pg_sleep(%(s)s)::text::bytea", {"s": 2.0})
            await conn.execute("SET statement_timeout = 0")
            with pytest.raises(psycopg.errors.DivisionByZero):
                await wire.fetch_value(conn, b"SELECT (1 / %(z)s)::text::bytea", {"z": 0})
            with pytest.raises(psycopg.errors.UndefinedTable):
                await wire.fetch_value(conn, b"SELECT x FROM no_such_table_here WHERE %(z)s",
                                       {"z": 0})
            assert await wire.fetch_value(conn, b"SELECT (%(z)s + 1)::text::bytea",
                                          {"z": 41}) == b"42"
        finally:
            await conn.close()
    run(go())


def test_statements_are_prepared_again_after_discard(database_url, monkeypatch):
    """DISCARD ALL forgets the prepared statements: they are prepared again; past
    MAX_PREPARED statements per connection, the others run unnamed, with the same result."""
    async def go():
        conn = await connect(database_url)
        try:
            q = b"SELECT (%(v)s * 2)::text::bytea"
            assert await wire.fetch_value(conn, q, {"v": 4}) == b"8"
            await conn.execute("DISCARD ALL")
            assert await wire.fetch_value(conn, q, {"v": 5}) == b"10"
            cur = await conn.execute("SELECT count(*) FROM pg_prepared_statements "
                                     "WHERE name LIKE 'artois_w%'")
            assert (await cur.fetchone())[0] == 1
            monkeypatch.setattr(wire, "MAX_PREPARED", 2)
            for k in range(4):
                value = await wire.fetch_value(conn, b"SELECT (%(v)s + " + str(k).encode() +
                                               b")::text::bytea", {"v": 10})
                assert value == str(10 + k).encode()
            cur = await conn.execute("SELECT count(*) FROM pg_prepared_statements "
                                     "WHERE name LIKE 'artois_w%'")
            assert (await cur.fetchone())[0] == 2
        finally:
            await conn.close()
    run(go())


def test_a_lost_connection_fails_and_leaves_the_pool(database_url):
    """A backend terminated under a statement: psycopg's OperationalError; given back, the
    connection is replaced by the pool and the next statement runs."""
    async def go():
        pool = AsyncConnectionPool(database_url, min_size=1, max_size=1, open=False,
                                   kwargs={"autocommit": True})
        await pool.open(wait=True)
        try:
            conn = await pool.getconn()
            pid = conn.info.backend_pid
            async with await connect(database_url) as killer:
                task = asyncio.create_task(wire.fetch_value(
                    conn, b"SELECT pg_sleep(%(s)s)::text::bytea", {"s": 5.0}))
                await asyncio.sleep(0.3)
                await killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
                with pytest.raises(psycopg.OperationalError):
                    await asyncio.wait_for(task, 10)
            await pool.putconn(conn)
            conn = await pool.getconn(timeout=10)
            assert conn.info.backend_pid != pid
            assert await wire.fetch_value(conn, b"SELECT %(t)s::bytea", {"t": "ok"}) == b"ok"
            await pool.putconn(conn)
        finally:
            await pool.close()
    run(go())
