"""`turn/start` and `turn/interrupt`."""

from __future__ import annotations

from typing import Any

from app_server.services import RequestContext
from app_server.threads.ids import new_id
from app_server.threads.records import ThreadChanges
from app_server.threads.service import resolve_cwd
from app_server.threads.step import AskClient
from protocol.turns import TurnInterruptParams, TurnInterruptResponse, TurnStartParams, TurnStartResponse

APPROVAL_TIMEOUT_SEC = 3600.0
"""How long a turn waits for the client to answer an approval before the call fails."""


def client_asker(ctx: RequestContext, thread_id: str) -> AskClient:
    """Server->client requests of a turn go to the connection that started it; each is announced
    as resolved (`serverRequest/resolved`) once answered, so other clients can close their prompt."""

    async def ask(method: str, params: dict[str, Any]) -> Any:
        request_id = f"srv-{new_id()}"
        try:
            return await ctx.connection.request(
                method, params, timeout=APPROVAL_TIMEOUT_SEC, request_id=request_id
            )
        finally:
            resolved = {"threadId": thread_id, "requestId": request_id}
            ctx.services.events.publish("serverRequest/resolved", resolved)

    return ask


def _changes(params: TurnStartParams) -> ThreadChanges:
    """Per-turn overrides that stick for later turns."""
    updates: dict[str, Any] = {}
    if params.model is not None:
        updates["model"] = params.model
    if params.cwd is not None:
        updates["cwd"] = resolve_cwd(params.cwd)
    if params.approval_policy is not None:
        updates["approval_policy"] = params.approval_policy
    if params.approvals_reviewer is not None:
        updates["approvals_reviewer"] = params.approvals_reviewer
    return ThreadChanges(**updates)


async def turn_start(ctx: RequestContext, params: TurnStartParams) -> TurnStartResponse:
    core = await ctx.services.core()
    thread_id = params.thread_id
    user_input = [part.to_wire() for part in params.input]
    turn = await core.threads.start_turn(
        thread_id, user_input, _changes(params), client_asker(ctx, thread_id)
    )
    return TurnStartResponse.model_validate({"turn": turn})


def turn_interrupt(ctx: RequestContext, params: TurnInterruptParams) -> TurnInterruptResponse:
    ctx.services.built_core().threads.interrupt(params.thread_id, params.turn_id)
    return TurnInterruptResponse()
