"""`thread/loaded/list`, `thread/name/set`, `thread/archive`, `thread/unarchive`, `thread/delete`,
`thread/unsubscribe`."""

from __future__ import annotations

from app_server.services import RequestContext
from app_server.threads import admin
from protocol.base import WireModel
from protocol.notifications import (
    ThreadArchivedNotification,
    ThreadDeletedNotification,
    ThreadNameUpdatedNotification,
    ThreadUnarchivedNotification,
)
from protocol.thread_admin import (
    ThreadArchiveParams,
    ThreadArchiveResponse,
    ThreadDeleteParams,
    ThreadDeleteResponse,
    ThreadLoadedListParams,
    ThreadLoadedListResponse,
    ThreadSetNameParams,
    ThreadSetNameResponse,
    ThreadUnarchiveParams,
    ThreadUnarchiveResponse,
    ThreadUnsubscribeParams,
    ThreadUnsubscribeResponse,
)


async def thread_loaded_list(ctx: RequestContext, params: ThreadLoadedListParams) -> ThreadLoadedListResponse:
    core = await ctx.services.core()
    ids, next_cursor = admin.loaded_page(core.threads.loaded_ids(), params.cursor, params.limit)
    return ThreadLoadedListResponse(data=ids, next_cursor=next_cursor)


async def thread_name_set(ctx: RequestContext, params: ThreadSetNameParams) -> ThreadSetNameResponse:
    core = await ctx.services.core()
    name = await admin.set_name(core.threads.store, params.thread_id, params.name)
    _announce(ctx, ThreadNameUpdatedNotification(thread_id=params.thread_id, thread_name=name))
    return ThreadSetNameResponse()


async def thread_archive(ctx: RequestContext, params: ThreadArchiveParams) -> ThreadArchiveResponse:
    core = await ctx.services.core()
    await admin.set_archived(core.threads.store, params.thread_id, True)
    _announce(ctx, ThreadArchivedNotification(thread_id=params.thread_id))
    return ThreadArchiveResponse()


async def thread_unarchive(ctx: RequestContext, params: ThreadUnarchiveParams) -> ThreadUnarchiveResponse:
    core = await ctx.services.core()
    thread = await admin.set_archived(core.threads.store, params.thread_id, False)
    _announce(ctx, ThreadUnarchivedNotification(thread_id=params.thread_id))
    return ThreadUnarchiveResponse(thread=thread)


async def thread_delete(ctx: RequestContext, params: ThreadDeleteParams) -> ThreadDeleteResponse:
    core = await ctx.services.core()
    await core.threads.delete(params.thread_id)
    _announce(ctx, ThreadDeletedNotification(thread_id=params.thread_id))
    return ThreadDeleteResponse()


async def thread_unsubscribe(
    ctx: RequestContext, params: ThreadUnsubscribeParams
) -> ThreadUnsubscribeResponse:
    core = await ctx.services.core()
    return ThreadUnsubscribeResponse(status=core.threads.unsubscribe(params.thread_id, ctx.connection))


def _announce(ctx: RequestContext, notification: WireModel) -> None:
    """Every client hears of the change once the caller has its answer (the change is durable)."""
    ctx.after_reply.append(lambda: ctx.services.events.publish(notification))
