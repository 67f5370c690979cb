"""An in-memory transport: two connected message streams in one process, for tests and embedding."""

from __future__ import annotations

import math

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from app_server.transport.base import DEFAULT_MAX_MESSAGE_BYTES, OversizedMessageError

_MAX_UTF8_BYTES_PER_CHAR = 4
"""A message of fewer characters than the limit / 4 is under it without being encoded."""


class MemoryStream:
    """One end of a `memory_pair`."""

    def __init__(
        self,
        inbound: MemoryObjectReceiveStream[str],
        outbound: MemoryObjectSendStream[str],
        *,
        max_message_bytes: int,
    ) -> None:
        self._inbound = inbound
        self._outbound = outbound
        self._max_message_bytes = max_message_bytes

    async def receive(self) -> str:
        try:
            message = await self._inbound.receive()
        except anyio.ClosedResourceError:
            raise anyio.EndOfStream from None
        if len(message) * _MAX_UTF8_BYTES_PER_CHAR > self._max_message_bytes and self._oversized(message):
            raise OversizedMessageError
        return message

    def _oversized(self, message: str) -> bool:
        return len(message.encode("utf-8", "surrogatepass")) > self._max_message_bytes

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


def memory_pair(
    buffer_size: float = math.inf, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> tuple[MemoryStream, MemoryStream]:
    """Two connected ends (server side, client side); `buffer_size` messages may wait in each direction.

    Each end refuses a message over `max_message_bytes` (UTF-8) as the other transports do.
    """
    to_server_send, to_server_receive = anyio.create_memory_object_stream[str](buffer_size)
    to_client_send, to_client_receive = anyio.create_memory_object_stream[str](buffer_size)
    return (
        MemoryStream(to_server_receive, to_client_send, max_message_bytes=max_message_bytes),
        MemoryStream(to_client_receive, to_server_send, max_message_bytes=max_message_bytes),
    )
