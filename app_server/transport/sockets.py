"""Loopback HTTP serving for uvicorn inside our own event loop: listening sockets and the server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import uvicorn


def tcp_listener(host: str, port: int) -> socket.socket:
    """A bound (not yet listening) TCP socket on `host:port` (port 0: a free one); raises OSError.

    The protocol is spelled out as IPPROTO_TCP because asyncio sets TCP_NODELAY only on sockets
    whose `proto` says TCP; without it Nagle holds each response's last write for a delayed ACK
    (~40 ms per request on a reused connection).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class EmbeddedUvicorn(uvicorn.Server):
    """uvicorn run as a task of ours: reports readiness, leaves signal handling to whoever runs it."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
