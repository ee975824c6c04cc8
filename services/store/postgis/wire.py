"""One prepared statement, one binary value, at libpq's level on the event loop.

A vector tile is one `SELECT ST_AsMVT(...)` whose text is fixed per layer set and whose ten
parameters are numbers (services/store/postgis/tiles.py). Through psycopg's cursor, such a
statement costs ~100 µs of Python per execution on top of libpq (measured 220–300 against
130–160 µs of CPU per tile, psycopg.pq against `AsyncConnection.execute`, uvloop, 8 tasks):
the query's conversion, one dumper per parameter, the prepared-statement cache, generator
based waiting, and hex-decoding the bytea text.

`fetch_value` runs such a statement on a connection of the asyncio pool with psycopg.pq
(libpq's API as psycopg publishes it):

- the statement is prepared once per connection under a name of this module (`artois_wN`,
  apart from psycopg's own `_pg3_N`), its parameters typed from their Python values;
- each execution sends the bound parameters (numbers in binary form: a float8 as its eight
  bytes, exactly; text as text), waits for the socket with the event loop's reader, and reads
  the first column of the first row in binary form (a bytea as its bytes);
- an error result raises psycopg's class for its SQLSTATE (a statement timeout is
  `QueryCanceled`, as through the cursor), a lost connection psycopg's `OperationalError`;
  the pool discards such a connection when it comes back (it is no longer idle).

Only the hot tiles use it; every other statement goes through psycopg's cursor.
"""
from __future__ import annotations

import asyncio
import re
import struct
import weakref
from functools import lru_cache

import psycopg
from psycopg import pq

MAX_PREPARED = 128  # statements prepared per connection; beyond, unnamed (parsed each time)
_OIDS = {float: 701, int: 20, str: 25}  # float8, int8, text
_PACK = {float: struct.Struct("!d").pack, int: struct.Struct("!q").pack}
_PLACEHOLDER = re.compile(rb"%\((\w+)\)s|%%|%")
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # conn -> {text: name}
_SQLSTATE = pq.DiagnosticField.SQLSTATE
_PRIMARY = pq.DiagnosticField.MESSAGE_PRIMARY
_UNDEFINED_STATEMENT = "26000"  # invalid_sql_statement_name: the name is gone (DISCARD)


@lru_cache(maxsize=256)
def numbered(query: bytes) -> tuple[bytes, tuple[str, ...]]:
    """`query` with psycopg's named placeholders `%(name)s` as `$n`, and the names in order
    (`%%` is a literal %). A lone % is refused, as psycopg refuses it."""
    names: list[str] = []

    def number(m: re.Match) -> bytes:
        if m.group(1) is None:
            if m.group(0) == b"%%":
                return b"%"
            raise ValueError("a lone % in a statement")
        name = m.group(1).decode()
        if name not in names:
            names.append(name)
        return b"$%d" % (names.index(name) + 1)

    return _PLACEHOLDER.sub(number, query), tuple(names)


def _wire(values: list) -> tuple[list[bytes | None], list[int]]:
    """The parameters as PostgreSQL receives them, and their formats (1 binary, 0 text)."""
    args, formats = [], []
    for v in values:
        pack = _PACK.get(type(v))
        if pack is not None:
            args.append(pack(v))
            formats.append(1)
        elif type(v) is str or v is None:
            args.append(None if v is None else v.encode())
            formats.append(0)
        else:
            raise TypeError(f"unsupported parameter type {type(v).__name__}")
    return args, formats


async def _wait(pgconn: pq.abc.PGconn, fd: int, loop: asyncio.AbstractEventLoop,
                writing: bool = False) -> None:
    """Until the socket is readable (or writable)."""
    fut = loop.create_future()
    add, remove = (loop.add_writer, loop.remove_writer) if writing else \
        (loop.add_reader, loop.remove_reader)
    add(fd, _wake, fut)
    try:
        await fut
    finally:
        remove(fd)


def _wake(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


async def _result(pgconn: pq.abc.PGconn, fd: int, loop) -> pq.abc.PGresult:
    """Send what is left, then read every result of the command; the last one."""
    while pgconn.flush():
        await _wait(pgconn, fd, loop, writing=True)
    while pgconn.is_busy():  # (no read before the first wait: the answer takes a while)
        await _wait(pgconn, fd, loop)
        pgconn.consume_input()
    last = None
    while (res := pgconn.get_result()) is not None:  # bounded: one command's results
        last = res
    if last is None:
        raise psycopg.OperationalError("no result from the server")
    if last.status == pq.ExecStatus.FATAL_ERROR:
        state = (last.error_field(_SQLSTATE) or b"").decode()
        message = (last.error_field(_PRIMARY) or last.error_message or b"").decode(
            "utf-8", "replace")
        if pgconn.status == pq.ConnStatus.BAD:  # lost: libpq's own message, no SQLSTATE
            raise psycopg.OperationalError(message)
        try:
            cls = psycopg.errors.lookup(state)
        except KeyError:
            cls = psycopg.DatabaseError
        raise cls(message)
    return last


async def fetch_value(conn: psycopg.AsyncConnection, query: bytes, params: dict):
    """The first column of the first row of `query` (psycopg's `%(name)s` placeholders,
    `params` by name: numbers or text) in binary form, or None without a row."""
    text, names = numbered(query)
    values = [params[n] for n in names]
    args, formats = _wire(values)
    pgconn = conn.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        raise psycopg.OperationalError("connection not ready")
    loop = asyncio.get_running_loop()
    fd = pgconn.socket
    names_of = _prepared.get(conn)
    if names_of is None:
        names_of = _prepared[conn] = {}
    for attempt in (0, 1):
        name = names_of.get(text)
        if name is None and len(names_of) < MAX_PREPARED:
            name = b"artois_w%d" % len(names_of)
            pgconn.send_prepare(name, text, param_types=[_OIDS.get(type(v), 0) for v in values])
            await _result(pgconn, fd, loop)
            names_of[text] = name
        if name is None:
            pgconn.send_query_params(text, args, param_types=[_OIDS.get(type(v), 0) for v in values],
                                     param_formats=formats, result_format=pq.Format.BINARY)
        else:
            pgconn.send_query_prepared(name, args, param_formats=formats,
                                       result_format=pq.Format.BINARY)
        try:
            res = await _result(pgconn, fd, loop)
        except psycopg.Error as err:
            if attempt == 0 and name is not None and err.sqlstate == _UNDEFINED_STATEMENT:
                names_of.clear()  # the server forgot them (DISCARD ALL): prepare again
                continue
            raise
        break
    if res.ntuples == 0:
        return None
    return res.get_value(0, 0)
