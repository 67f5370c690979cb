"""`thread/start`, `thread/resume`, `thread/read`, `thread/list`."""

from __future__ import annotations

from typing import Any

from app_server.services import RequestContext
from app_server.threads.listing import SortKey
from app_server.threads.records import ThreadSettings
from app_server.threads.service import (
    DEFAULT_APPROVAL_POLICY,
    DEFAULT_MODEL,
    DEFAULT_PROVIDER,
    LoadedThread,
    resolve_cwd,
    sandbox_policy,
)
from protocol.threads import (
    ThreadListParams,
    ThreadListResponse,
    ThreadReadParams,
    ThreadReadResponse,
    ThreadResumeParams,
    ThreadResumeResponse,
    ThreadStartParams,
    ThreadStartResponse,
)


def _session_state(ctx: RequestContext, thread: LoadedThread, *, include_turns: bool) -> dict[str, Any]:
    settings = thread.live.settings
    return {
        "thread": thread.live.snapshot(include_turns=include_turns),
        "approvalPolicy": settings.approval_policy or DEFAULT_APPROVAL_POLICY,
        "approvalsReviewer": settings.approvals_reviewer or "user",
        "cwd": settings.cwd,
        "model": settings.model or DEFAULT_MODEL,
        "modelProvider": settings.model_provider,
        "sandbox": sandbox_policy(settings.sandbox),
        "reasoningEffort": settings.reasoning_effort,
        "serviceTier": settings.service_tier,
    }


async def thread_start(ctx: RequestContext, params: ThreadStartParams) -> ThreadStartResponse:
    core = await ctx.services.core()
    config = core.config_for(params.config)
    settings = ThreadSettings(
        cwd=resolve_cwd(params.cwd),
        model=params.model or config.model or DEFAULT_MODEL,
        model_provider=params.model_provider or config.model_provider or DEFAULT_PROVIDER,
        approval_policy=params.approval_policy,
        approvals_reviewer=params.approvals_reviewer,
        sandbox=params.sandbox,
        base_instructions=params.base_instructions,
        developer_instructions=params.developer_instructions,
        config=params.config,
        service_tier=params.service_tier,
        personality=params.personality,
        thread_source=params.thread_source,
    )
    thread = await core.threads.start(settings, ephemeral=bool(params.ephemeral))
    response = ThreadStartResponse.model_validate(_session_state(ctx, thread, include_turns=False))
    started = {"thread": response.thread.to_wire()}
    ctx.after_reply.append(lambda: ctx.services.events.publish("thread/started", started))
    return response


async def thread_resume(ctx: RequestContext, params: ThreadResumeParams) -> ThreadResumeResponse:
    core = await ctx.services.core()
    thread = await core.threads.resume(params.thread_id)
    state = _session_state(ctx, thread, include_turns=not params.exclude_turns)
    return ThreadResumeResponse.model_validate(state)


async def thread_read(ctx: RequestContext, params: ThreadReadParams) -> ThreadReadResponse:
    core = await ctx.services.core()
    readout = await core.threads.store.read(params.thread_id, include_turns=bool(params.include_turns))
    return ThreadReadResponse.model_validate({"thread": readout.thread})


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
