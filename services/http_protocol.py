"""uvicorn's httptools protocol, with the writes of one event-loop turn sent together.

uvicorn writes an answer's status line and headers, then its body, as two writes on the
socket (`RequestResponseCycle.send`): two system calls, and on a TCP connection two segments
that each wake the client. For a small answer (a vector tile, a feature) the first of them was
the costliest line of a hot request (about a fifth of a worker's Python time under load,
bench/profile.py). This protocol hands uvicorn a transport that keeps what is written during
one turn of the event loop and sends it at the end of that turn, in one `writelines` (one
system call for headers and body).

It is uvicorn's documented variation point (`uvicorn.run(http=<protocol class>)`): the class
is uvicorn's own HttpToolsProtocol, of which only `connection_made` is extended. Nothing is
held longer than the turn that wrote it, so streamed bodies still go out as they come, and
`close()` sends what is held before closing. tests/test_http_protocol.py checks it against
the installed uvicorn.
"""
from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HOLD_MAX = 64 * 1024  # bytes held at most: more is sent at once (the transport's own buffer)


class CoalescingTransport:
    """A transport whose `write`s of one loop turn go out as one `writelines`; everything
    else is the wrapped transport's."""

    __slots__ = ("_transport", "_loop", "_held", "_size")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None
        self._size = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._held is None:  # the turn's first write: send at its end
            self._held = []
            self._loop.call_soon(self._turn_end)
        self._held.append(data)
        self._size += len(data)
        if self._size >= HOLD_MAX:  # a big body: no reason to wait, and flow control acts
            self.flush()

    def writelines(self, chunks) -> None:
        for data in chunks:
            self.write(data)

    def flush(self) -> None:
        """Send what is held now."""
        held = self._held
        if held:
            self._held, self._size = [], 0
            if not self._transport.is_closing():
                self._transport.writelines(held)

    def _turn_end(self) -> None:
        self.flush()
        self._held = None

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading...
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a CoalescingTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))
