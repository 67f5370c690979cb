"""What every wire API's stream decoder offers the client: step events per SSE payload, and completion."""

from __future__ import annotations

from typing import Protocol

from app_server.model.step import Completed, StepEvent


class ResponseFailedError(Exception):
    """The provider reported, inside the stream, that it failed the response.

    `message` is the provider's own text (shown only if short and plain); `retryable` says whether
    sending the same request again may succeed (rate limits, overload, server errors).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class StreamDecoder(Protocol):
    """Decodes one attempt's SSE payloads; a fresh decoder is used for every attempt."""

    @property
    def completion(self) -> Completed | None:
        """The final event once the response is complete, else None (the stream ended too early)."""
        ...

    def decode(self, data: str) -> list[StepEvent]:
        """Step events for one SSE `data` payload. Raises ResponseFailedError when the provider failed it."""
        ...
