"""MCP server methods: status, reload, resource read, tool call, OAuth login, and the views (extension)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app_server.errors import InvalidParams
from app_server.handlers.asking import client_asker
from app_server.services import RequestContext
from protocol.mcp import (
    ListMcpServerStatusParams,
    ListMcpServerStatusResponse,
    McpResourceReadParams,
    McpResourceReadResponse,
    McpServerOauthLoginParams,
    McpServerOauthLoginResponse,
    McpServerRefreshResponse,
    McpServerToolCallParams,
    McpServerToolCallResponse,
)
from protocol.notifications import McpServerToolCallProgressNotification
from protocol.registry import method_of
from protocol.views import McpServerViewsReadParams, McpServerViewsReadResponse

if TYPE_CHECKING:
    from app_server.mcp.client import ProgressCallback


async def status_list(ctx: RequestContext, params: ListMcpServerStatusParams) -> ListMcpServerStatusResponse:
    mcp = await ctx.services.mcp()
    entries, next_cursor = await mcp.manager.status(
        mcp.cell_for(params.thread_id),
        cursor=params.cursor,
        limit=params.limit,
        detail=params.detail or "full",
        server_name=params.server_name,
    )
    return ListMcpServerStatusResponse(data=entries, next_cursor=next_cursor)


async def reload(ctx: RequestContext, _params: None) -> McpServerRefreshResponse:
    mcp = await ctx.services.mcp()
    await mcp.reload()
    return McpServerRefreshResponse()


async def resource_read(ctx: RequestContext, params: McpResourceReadParams) -> McpResourceReadResponse:
    mcp = await ctx.services.mcp()
    with mcp.cell_for(params.thread_id).lease() as runtime:
        result = await runtime.read_resource(params.server, params.uri, meta=params.meta)
    return McpResourceReadResponse.model_validate(result)


async def tool_call(ctx: RequestContext, params: McpServerToolCallParams) -> McpServerToolCallResponse:
    mcp = await ctx.services.mcp()
    if params.arguments is not None and not isinstance(params.arguments, dict):
        raise InvalidParams("Invalid params: `arguments` must be an object")
    arguments = params.arguments
    with mcp.cell_for(params.thread_id).lease() as runtime:
        ask = client_asker(ctx, params.thread_id)
        result = await runtime.call_tool(
            params.server,
            params.tool,
            arguments,
            meta=params.meta,
            ask=ask,
            progress=_progress_to_caller(ctx, params),
        )
    return McpServerToolCallResponse.model_validate(result)


def _progress_to_caller(ctx: RequestContext, params: McpServerToolCallParams) -> ProgressCallback:
    """The server's progress on a direct call goes to the connection that made it (only)."""

    async def report(progress: float, total: float | None, message: str | None) -> None:
        note = McpServerToolCallProgressNotification(
            request_id=ctx.request_id,
            server=params.server,
            tool=params.tool,
            thread_id=params.thread_id,
            progress=progress,
            total=total,
            message=message,
        )
        ctx.connection.notify(method_of(note), note)

    return report


async def oauth_login(ctx: RequestContext, params: McpServerOauthLoginParams) -> McpServerOauthLoginResponse:
    mcp = await ctx.services.mcp()
    with mcp.cell_for(params.thread_id).lease() as runtime:
        slot = runtime.slots.get(params.name)
    started = await mcp.oauth.start_login(
        params.name,
        slot.config if slot is not None else None,
        scopes=params.scopes,
        timeout_secs=params.timeout_secs,
        thread_id=params.thread_id,
        client_registration=params.client_registration,
    )
    return McpServerOauthLoginResponse(authorization_url=started.authorization_url, login_id=started.login_id)


def views_read(ctx: RequestContext, params: McpServerViewsReadParams) -> McpServerViewsReadResponse:
    return ctx.services.built_core().views_snapshot(params.thread_id)
