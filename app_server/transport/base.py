"""The contract every transport meets: a stream of JSON texts in, JSON texts out."""

from __future__ import annotations

from typing import Protocol

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The largest inbound message a connection accepts (`--max-message-bytes`)."""


class FrameError(Exception):
    """One inbound message could not be delivered as text; the stream itself goes on."""


class OversizedMessageError(FrameError):
    """A message longer than the configured limit; it was discarded without being buffered whole."""


class UndecodableMessageError(FrameError):
    """A message that is not valid UTF-8."""


class MessageStream(Protocol):
    """One client connection as a sequence of JSON texts (framing already removed)."""

    async def receive(self) -> str:
        """The next message.

        Raises `anyio.EndOfStream` when the client is gone, `FrameError` for one bad message
        (the next call goes on with the following message).
        """
        ...

    async def send(self, message: str) -> None:
        """Send one message; raises `anyio.BrokenResourceError` when the client is gone."""
        ...

    def try_send(self, message: str) -> bool:
        """Send one message now, without waiting, if the transport can; False: nothing was sent.

        Lets a connection with nothing queued answer in the same event-loop step.
        """
        ...

    async def aclose(self) -> None:
        """Release the connection; idempotent."""
        ...
