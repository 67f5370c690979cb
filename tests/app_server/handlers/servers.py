"""The daemon's MCP server startup notifications, taken until each server reached its final status."""

from __future__ import annotations

from typing import Any

from tests.support.daemon import Daemon

STARTUP_STATUS = "mcpServer/startupStatus/updated"


async def startup_until(
    daemon: Daemon, final: dict[str, str], *, thread_id: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Take `mcpServer/startupStatus/updated` notifications of one scope until each server in `final`
    reached its final status; returns every taken notification's params by server name."""
    seen: dict[str, list[dict[str, Any]]] = {}
    while any(not seen.get(name) or seen[name][-1]["status"] != status for name, status in final.items()):
        message = await daemon.next_message(
            lambda m: (
                isinstance(m, dict)
                and m.get("method") == STARTUP_STATUS
                and m["params"].get("threadId") == thread_id
            )
        )
        params = message["params"]
        seen.setdefault(params["name"], []).append(params)
    return seen
