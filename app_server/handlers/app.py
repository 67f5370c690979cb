"""`app/list`: the hosted apps (connectors) of the effective `codex_apps` server, paged."""

from __future__ import annotations

from app_server.mcp.connectors import page, settled_connectors
from app_server.services import RequestContext
from protocol.apps import AppsListParams, AppsListResponse


async def app_list(ctx: RequestContext, params: AppsListParams) -> AppsListResponse:
    """Apps of the thread's generation with `threadId`, else of the app level; empty without `codex_apps`.

    Raises InvalidParams for a bad cursor or an unknown thread.
    """
    mcp = await ctx.services.mcp()
    with mcp.cell_for(params.thread_id).lease() as runtime:
        apps = await settled_connectors(runtime)
    data, next_cursor = page(apps, params.cursor, params.limit)
    return AppsListResponse.model_validate({"data": data, "nextCursor": next_cursor})
