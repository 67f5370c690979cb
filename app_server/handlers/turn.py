"""`turn/start`, `turn/steer` and `turn/interrupt`."""

from __future__ import annotations

from app_server.handlers.asking import client_asker
from app_server.services import RequestContext
from protocol.turns import (
    TurnInterruptParams,
    TurnInterruptResponse,
    TurnStartParams,
    TurnStartResponse,
    TurnSteerParams,
    TurnSteerResponse,
)


async def turn_start(ctx: RequestContext, params: TurnStartParams) -> TurnStartResponse:
    core = await ctx.services.core()
    turn = await core.threads.start_turn(params, client_asker(ctx, params.thread_id))
    core.threads.subscribe(params.thread_id, ctx.connection)
    return TurnStartResponse(turn=turn)


async def turn_steer(ctx: RequestContext, params: TurnSteerParams) -> TurnSteerResponse:
    core = await ctx.services.core()
    return TurnSteerResponse(turn_id=await core.threads.steer(params))


def turn_interrupt(ctx: RequestContext, params: TurnInterruptParams) -> TurnInterruptResponse:
    ctx.services.built_core().threads.interrupt(params.thread_id, params.turn_id)
    return TurnInterruptResponse()
