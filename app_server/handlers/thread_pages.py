"""`thread/turns/list`, `thread/items/list`: a loaded or stored thread's history, a page at a time."""

from __future__ import annotations

from app_server.services import RequestContext
from app_server.threads.pages import items_page, turns_page
from protocol.thread_pages import (
    ThreadItemsListParams,
    ThreadItemsListResponse,
    ThreadTurnsListParams,
    ThreadTurnsListResponse,
)


async def thread_turns_list(ctx: RequestContext, params: ThreadTurnsListParams) -> ThreadTurnsListResponse:
    core = await ctx.services.core()
    history, loaded = await core.threads.store.history(params.thread_id)
    return turns_page(history, params, loaded=loaded)


async def thread_items_list(ctx: RequestContext, params: ThreadItemsListParams) -> ThreadItemsListResponse:
    core = await ctx.services.core()
    history, _ = await core.threads.store.history(params.thread_id)
    return items_page(history, params)
