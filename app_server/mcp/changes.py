"""A server's list changes in the 2026-07-28 era: a `subscriptions/listen` stream, not notifications.

In that era a server sends change events only on a stream the client opened, for what the client
asked (here: tools and resources, what the catalog holds, when the server announces their
`listChanged`). The stream is opened and acknowledged before the first listing, so no change
between the listing and the subscription can go unseen; it stays open for the connection's life,
each event asking for a re-list. A stream that is lost is opened again and followed by a
re-list (there is no replay), a bounded number of times.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from mcp.client import Client
from mcp.client.subscriptions import Subscription, SubscriptionLost
from mcp.shared.exceptions import MCPError

from app_server.mcp.server_log import ServerLog

MAX_RELISTENS = 3
"""How many times a lost stream is opened again before changes go unwatched."""


def _wanted(client: Client) -> tuple[bool, bool]:
    """(tools, resources): which list changes the server announces."""
    capabilities = client.server_capabilities
    tools = capabilities.tools is not None and bool(capabilities.tools.list_changed)
    resources = capabilities.resources is not None and bool(capabilities.resources.list_changed)
    return tools, resources


@contextlib.asynccontextmanager
async def subscribed(client: Client, log: ServerLog) -> AsyncIterator[Subscription | None]:
    """The acknowledged stream while the block runs; None when there is nothing to watch or the
    server refuses the subscription (noted in its log: the connection works, changes go unseen)."""
    tools, resources = _wanted(client)
    async with contextlib.AsyncExitStack() as stack:
        changes: Subscription | None = None
        if tools or resources:
            try:
                changes = await stack.enter_async_context(
                    client.listen(tools_list_changed=tools, resources_list_changed=resources)
                )
            except (MCPError, SubscriptionLost, TimeoutError):
                log.append("[app-server] the server refused the change subscription; changes go unseen")
        yield changes


async def follow(
    client: Client,
    changes: Subscription,
    on_change: Callable[[], None],
    log: ServerLog,
    relistens: int = MAX_RELISTENS,
) -> None:
    """Call `on_change` for each event until the server closes the stream (module docstring)."""
    try:
        async for _event in changes:
            on_change()
        return  # closed by the server: it will announce no more changes
    except SubscriptionLost:
        if not relistens:
            log.append("[app-server] the change subscription kept failing; changes go unseen")
            return
        log.append("[app-server] the change subscription was lost; listening again")
    async with subscribed(client, log) as again:
        if again is not None:
            on_change()  # what changed while no stream was open was not announced
            await follow(client, again, on_change, log, relistens - 1)
