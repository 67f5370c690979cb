"""Server->client requests (`mcpServer/elicitation/request`) asked of the connection whose request
caused them: a turn's `turn/start`, or a direct `mcpServer/tool/call`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_server.services import RequestContext
from app_server.threads.ids import new_id
from protocol.notifications import ServerRequestResolvedNotification
from protocol.registry import method_of
from protocol.server_requests import McpServerElicitationRequestParams

if TYPE_CHECKING:
    # Typing only: importing the MCP layer here would import the mcp SDK on the event loop.
    from app_server.mcp.elicitation import AskClient

ASK_TIMEOUT_SEC = 3600.0
"""How long a question waits for the client's answer before the call it belongs to fails."""


def client_asker(ctx: RequestContext, thread_id: str | None) -> AskClient:
    """Asks the connection that made this request; a thread's question is announced as resolved
    (`serverRequest/resolved`) once answered, so the thread's other clients can close their prompt."""

    async def ask(params: McpServerElicitationRequestParams) -> Any:
        request_id = f"srv-{new_id()}"
        try:
            return await ctx.connection.request(
                method_of(params), params, timeout=ASK_TIMEOUT_SEC, request_id=request_id
            )
        finally:
            if thread_id is not None:
                resolved = ServerRequestResolvedNotification(thread_id=thread_id, request_id=request_id)
                ctx.services.events.publish(resolved)

    return ask
