"""services/http_protocol.py on the installed uvicorn: an answer's headers and body leave in
one write, and nothing is held past the event-loop turn that wrote it (streamed bodies,
100 Continue, keep-alive, Connection: close). A real uvicorn server (uvloop, the protocol
class by its dotted path, as `artois-geo serve` gives it) and raw sockets."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import uvicorn

from services.http_protocol import CoalescingHttpToolsProtocol

WRITES: list[tuple[str, int]] = []  # (method of the real transport, number of buffers)


class _Recorder:
    """The real transport, recording how the protocol's transport writes on it."""

    def __init__(self, transport):
        self._t = transport

    def write(self, data):
        WRITES.append(("write", 1))
        self._t.write(data)

    def writelines(self, chunks):
        chunks = list(chunks)
        WRITES.append(("writelines", len(chunks)))
        self._t.writelines(chunks)

    def __getattr__(self, name):
        return getattr(self._t, name)


class RecordingProtocol(CoalescingHttpToolsProtocol):
    def connection_made(self, transport):
        super().connection_made(_Recorder(transport))


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        msg = await receive()
        body += msg.get("body", b"")
        more = msg.get("more_body", False)
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        await asyncio.sleep(0.6)
        await send({"type": "http.response.body", "body": b"second"})
        return
    if scope["path"] == "/big":  # a megabyte in 16 KiB pieces, in one turn of the loop
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(64 * 16384).encode())]})
        for k in range(64):
            await send({"type": "http.response.body", "body": bytes([65 + k % 26]) * 16384,
                        "more_body": k < 63})
        return
    answer = b"echo:" + body if body else b"hello"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=free, loop="uvloop",
                            http=f"{__name__}:RecordingProtocol", log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield free
    server.should_exit = True
    thread.join(10)


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_headers_and_body_leave_in_one_write(port):
    WRITES.clear()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(3):  # keep-alive: each answer on the same connection
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = _read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nhello")
    assert WRITES == [("writelines", 2)] * 3  # status line + headers, body: one system call


def test_a_streamed_body_is_not_held(port):
    """The first chunk reaches the client while the application still waits to send the
    second (nothing is kept past the loop turn that wrote it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        data = b""
        while b"first;" not in data:
            data += sock.recv(65536)
        assert time.monotonic() - started < 0.5
        assert b"second" not in data
        while not data.endswith(b"0\r\n\r\n"):
            data += sock.recv(65536)
        assert b"second" in data


def test_continue_and_close_are_sent(port):
    """100 Continue reaches a client that waits for it before its body; Connection: close
    gets the whole answer, then the end of the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"ping")
        data = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        while chunk := sock.recv(65536):  # until the server closes
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"echo:ping")


def test_a_big_body_is_not_held_whole(port):
    """Past HOLD_MAX bytes, what is held is sent at once (memory bounded, the transport's
    flow control acts); the body arrives whole and in order."""
    WRITES.clear()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_response(sock)
    body = answer.partition(b"\r\n\r\n")[2]
    assert body == b"".join(bytes([65 + k % 26]) * 16384 for k in range(64))
    assert len(WRITES) >= 64 * 16384 // (64 * 1024)  # sent as it grew, not in one piece
