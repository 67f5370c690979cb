"""`thread/start`, `thread/fork`, `thread/resume`, `thread/read`, `thread/list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_server.services import RequestContext
from app_server.threads.listing import SortKey
from app_server.threads.settings import session_state
from protocol.notifications import ThreadTokenUsageUpdatedNotification
from protocol.registry import method_of
from protocol.threads import (
    ThreadForkParams,
    ThreadForkResponse,
    ThreadListParams,
    ThreadListResponse,
    ThreadReadParams,
    ThreadReadResponse,
    ThreadResumeParams,
    ThreadResumeResponse,
    ThreadStartParams,
    ThreadStartResponse,
)

if TYPE_CHECKING:
    from app_server.core import AppCore
    from app_server.threads.service import LoadedThread


async def thread_start(ctx: RequestContext, params: ThreadStartParams) -> ThreadStartResponse:
    core = await ctx.services.core()
    thread = await core.threads.start(params)
    return ThreadStartResponse(**_new_thread(ctx, core, thread, include_turns=False))


async def thread_fork(ctx: RequestContext, params: ThreadForkParams) -> ThreadForkResponse:
    core = await ctx.services.core()
    thread = await core.threads.fork(params)
    return ThreadForkResponse(**_new_thread(ctx, core, thread, include_turns=not params.exclude_turns))


def _new_thread(
    ctx: RequestContext, core: AppCore, thread: LoadedThread, *, include_turns: bool
) -> dict[str, Any]:
    """A started or forked thread's response fields; the caller follows it, and every client is
    told `thread/started` (without turns) once the caller has its answer."""
    live = thread.live
    core.threads.subscribe(live.id, ctx.connection)
    started = live.snapshot(include_turns=False)
    ctx.after_reply.append(lambda: core.threads.announce(thread, started=started))
    return {
        "thread": live.snapshot(include_turns=True) if include_turns else started,
        **session_state(live.settings),
    }


async def thread_resume(ctx: RequestContext, params: ThreadResumeParams) -> ThreadResumeResponse:
    core = await ctx.services.core()
    thread = await core.threads.resume(params)
    live = thread.live
    core.threads.subscribe(live.id, ctx.connection)
    ctx.after_reply.append(lambda: core.threads.announce(thread))
    usage = live.token_usage
    if usage is not None:
        turn_id, tally = usage
        replay = ThreadTokenUsageUpdatedNotification(thread_id=live.id, turn_id=turn_id, token_usage=tally)

        def replay_usage() -> None:
            """As Codex does, the resuming client (only) is told the thread's usage so far."""
            ctx.connection.notify(method_of(replay), replay)

        ctx.after_reply.append(replay_usage)
    snapshot = live.snapshot(include_turns=not params.exclude_turns)
    return ThreadResumeResponse(thread=snapshot, **session_state(live.settings))


async def thread_read(ctx: RequestContext, params: ThreadReadParams) -> ThreadReadResponse:
    core = await ctx.services.core()
    readout = await core.threads.store.read(params.thread_id, include_turns=bool(params.include_turns))
    return ThreadReadResponse(thread=readout.thread)


async def thread_list(ctx: RequestContext, params: ThreadListParams) -> ThreadListResponse:
    core = await ctx.services.core()
    cwd = [params.cwd] if isinstance(params.cwd, str) else params.cwd
    sort_key: SortKey = "updated_at" if params.sort_key in ("updated_at", "recency_at") else "created_at"
    page = await core.threads.store.list_threads(
        cursor=params.cursor,
        limit=params.limit,
        sort_key=sort_key,
        sort_direction=params.sort_direction or "desc",
        cwd=cwd,
        model_providers=params.model_providers or None,
        search_term=params.search_term,
        archived=bool(params.archived),
        excluded_ids=params.excluded_thread_ids or (),
    )
    return ThreadListResponse.model_validate({"data": page.data, "nextCursor": page.next_cursor})
