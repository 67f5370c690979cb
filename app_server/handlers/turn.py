"""`turn/start` and `turn/interrupt`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_server.services import RequestContext
from app_server.threads.ids import new_id
from protocol.notifications import ServerRequestResolvedNotification
from protocol.registry import method_of
from protocol.server_requests import McpServerElicitationRequestParams
from protocol.turns import TurnInterruptParams, TurnInterruptResponse, TurnStartParams, TurnStartResponse

if TYPE_CHECKING:
    # The turn machinery comes with the MCP layer: importing it here would import the mcp SDK on
    # the event loop at the first `turn/start`.
    from app_server.threads.step import AskClient

APPROVAL_TIMEOUT_SEC = 3600.0
"""How long a turn waits for the client to answer an approval before the call fails."""


def client_asker(ctx: RequestContext, thread_id: str) -> AskClient:
    """Server->client requests of a turn go to the connection that started it; each is announced
    as resolved (`serverRequest/resolved`) once answered, so other clients can close their prompt."""

    async def ask(params: McpServerElicitationRequestParams) -> Any:
        request_id = f"srv-{new_id()}"
        try:
            return await ctx.connection.request(
                method_of(params), params, timeout=APPROVAL_TIMEOUT_SEC, request_id=request_id
            )
        finally:
            resolved = ServerRequestResolvedNotification(thread_id=thread_id, request_id=request_id)
            ctx.services.events.publish(resolved)

    return ask


async def turn_start(ctx: RequestContext, params: TurnStartParams) -> TurnStartResponse:
    core = await ctx.services.core()
    turn = await core.threads.start_turn(params, client_asker(ctx, params.thread_id))
    core.threads.subscribe(params.thread_id, ctx.connection)
    return TurnStartResponse(turn=turn)


def turn_interrupt(ctx: RequestContext, params: TurnInterruptParams) -> TurnInterruptResponse:
    ctx.services.built_core().threads.interrupt(params.thread_id, params.turn_id)
    return TurnInterruptResponse()
