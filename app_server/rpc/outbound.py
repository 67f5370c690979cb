"""A connection's bounded outbound queue and the overload policy it enforces.

Policy (a response that cannot be enqueued could not be sent either, so responses are never dropped):
- at or above `capacity` messages waiting, the queue is *full*: new inbound requests are answered
  -32001 "Server overloaded; retry later." instead of being run, notifications are dropped (and
  counted), server->client requests fail with `Overloaded`;
- responses (including those -32001 answers) are always enqueued; the reader stops reading the
  client's input while the queue holds `2 * capacity` messages, so a client that never reads
  cannot grow it further.
"""

from __future__ import annotations

import logging
from collections import deque

import anyio

logger = logging.getLogger(__name__)


class OutboundQueue:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._messages: deque[str] = deque()
        self._changed = anyio.Event()
        self._closed = False
        self.dropped_notifications = 0

    @property
    def is_empty(self) -> bool:
        return not self._messages

    @property
    def is_full(self) -> bool:
        return len(self._messages) >= self._capacity

    def put(self, message: str) -> None:
        """Enqueue a message that must be sent (a response)."""
        self._messages.append(message)
        self._wake()

    def offer(self, message: str) -> bool:
        """Enqueue a message that may be dropped (a notification); False when the queue is full."""
        if self.is_full:
            self.dropped_notifications += 1
            if self.dropped_notifications == 1 or self.dropped_notifications % 1000 == 0:
                logger.warning(
                    "outbound queue full: %d notifications dropped so far", self.dropped_notifications
                )
            return False
        self.put(message)
        return True

    def close(self) -> None:
        """No more messages; `get` drains what is queued, then raises EndOfStream."""
        self._closed = True
        self._wake()

    async def get(self) -> str:
        while not self._messages:
            if self._closed:
                raise anyio.EndOfStream
            await self._changed.wait()
        message = self._messages.popleft()
        self._wake()
        return message

    async def wait_below_hard_limit(self) -> None:
        """Returns once the queue is below its hard limit (`2 * capacity`): the reader may read on."""
        while len(self._messages) >= 2 * self._capacity:
            await self._changed.wait()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
