"""An in-memory transport: two connected message streams in one process, for tests and embedding."""

from __future__ import annotations

import math

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream


class MemoryStream:
    """One end of a `memory_pair`."""

    def __init__(
        self, inbound: MemoryObjectReceiveStream[str], outbound: MemoryObjectSendStream[str]
    ) -> None:
        self._inbound = inbound
        self._outbound = outbound

    async def receive(self) -> str:
        try:
            return await self._inbound.receive()
        except anyio.ClosedResourceError:
            raise anyio.EndOfStream from None

    async def send(self, message: str) -> None:
        try:
            await self._outbound.send(message)
        except anyio.ClosedResourceError:
            raise anyio.BrokenResourceError from None

    def try_send(self, message: str) -> bool:
        try:
            self._outbound.send_nowait(message)
        except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        return True

    async def aclose(self) -> None:
        await self._outbound.aclose()
        await self._inbound.aclose()


def memory_pair(buffer_size: float = math.inf) -> tuple[MemoryStream, MemoryStream]:
    """Two connected ends (server side, client side); `buffer_size` messages may wait in each direction."""
    to_server_send, to_server_receive = anyio.create_memory_object_stream[str](buffer_size)
    to_client_send, to_client_receive = anyio.create_memory_object_stream[str](buffer_size)
    return MemoryStream(to_server_receive, to_client_send), MemoryStream(to_client_receive, to_server_send)
