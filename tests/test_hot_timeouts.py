"""A hot read or tile whose statement hits the statement timeout is answered by the ordinary
path with its 503, without running the statement a second time (services/hotread.py,
services/hottiles.py: a timed-out statement on the event loop is not re-run by the path it
hands the request to, so a database already too slow is not given twice the work).

The hot path serves the PostGIS store only, so this file runs on PostGIS. A server with a
1 s statement timeout reads a collection whose table another connection holds locked: every
statement on that table waits for the lock until the timeout. PostgreSQL lists each wait in
pg_stat_activity; the test counts the distinct statements of this server's own connections
that waited (a statement is a backend and its query_start), found through the sockets of the
server's processes, so that the other tests running meanwhile do not count.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import morecantile
import psycopg
import pytest

from conftest import start_server

COLLECTION = "puits-miniers"
TABLE = '"artois"."puits_miniers"'  # its PostGIS table (ids become table names with "_")


@pytest.fixture(scope="module")
def server(database_url):
    srv = start_server({"DATABASE_URL": database_url, "ARTOIS_QUERY_TIMEOUT": "1"},
                       "hot-timeouts")
    yield srv
    srv.stop()


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            pass
    return out


def _local_ports(pids: list[int]) -> set[int]:
    """Local TCP ports of the sockets the processes hold (their database connections)."""
    inodes = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[9] in inodes:
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def _waits(server, database_url: str, path: str) -> tuple[int, set]:
    """GET `path` while COLLECTION's table is locked; (status, the distinct statements of
    the server's connections that waited for the lock)."""
    result = {}

    def get():
        result["response"] = server.http.get(server.url + path, timeout=60)

    seen = set()
    with psycopg.connect(database_url) as lock, psycopg.connect(database_url,
                                                                autocommit=True) as watch:
        lock.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        ports = list(_local_ports(_tree(server.process.pid)))
        assert ports, "the server holds no database connection"
        worker = threading.Thread(target=get)
        worker.start()
        while worker.is_alive():
            rows = watch.execute(
                "SELECT pid, query_start FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND client_port = ANY(%s) AND pid <> pg_backend_pid()", (ports,)).fetchall()
            seen.update(rows)
            time.sleep(0.02)
        worker.join()
        lock.rollback()
    return result["response"].status_code, seen


def test_a_timed_out_hot_read_is_not_run_twice(server, database_url):
    first = server.get(f"/collections/{COLLECTION}/items?limit=1").json()["features"][0]
    lon, lat = first["geometry"]["coordinates"][:2]
    t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 12)
    paths = [f"/collections/{COLLECTION}/items?limit=5",
             f"/collections/{COLLECTION}/items/{first['id']}",
             f"/collections/{COLLECTION}/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"]
    for path in paths:  # every worker's pools open, and each path served hot
        for _ in range(4):
            assert server.get(path).status_code == 200, path
    assert "hot reads:" in server.log.read_text() and "hot tiles:" in server.log.read_text()
    for path in paths:
        status, waited = _waits(server, database_url, path)
        assert status == 503, path
        assert len(waited) == 1, (path, waited)
    for path in paths:  # and the lock gone, the same reads answer again
        assert server.get(path).status_code == 200, path
