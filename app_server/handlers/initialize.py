"""`initialize`: the client introduces itself; the answer says which server and where its home is."""

from __future__ import annotations

from app_server.handshake import answer_initialize
from app_server.services import RequestContext
from protocol.initialize import InitializeParams, InitializeResponse


async def initialize(ctx: RequestContext, params: InitializeParams) -> InitializeResponse:
    session, response = answer_initialize(params, ctx.services.home)
    ctx.connection.open_session(session)
    return response
