"""The event bus: services publish notifications, every connection that subscribed receives them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Only for typing: pydantic stays off the path to the `initialize` reply.
    from protocol.base import WireModel

Listener = Callable[[str, dict[str, Any]], None]
"""Receives (method, params) of one notification; must not block (connections enqueue and return)."""


class EventBus:
    """Fan-out of server notifications to subscribed connections.

    Publishing is synchronous and never waits: each listener only enqueues, so a slow client
    cannot stall a service. Per-connection opt-outs are applied by the connection itself.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, notification: WireModel) -> None:
        """Send one notification to every listener, as the method the registry names for its model."""
        from protocol.registry import method_of

        method, payload = method_of(notification), notification.to_wire()
        for listener in list(self._listeners):
            listener(method, payload)
