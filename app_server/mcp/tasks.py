"""Task-augmented tool calls (MCP 2025-11-25 tasks): a tool whose `execution.taskSupport` is
`"required"` runs as a task, and its caller gets the final `CallToolResult` like any other call's.

The call is `tools/call` with a `task` field; the server answers a `CreateTaskResult` at once,
and `tasks/result` then waits for the task's end (the spec makes it block until the task is
terminal) and answers what the call itself would have: its result, or its JSON-RPC error. While
it waits, the server's questions (its `input_required` state) arrive as ordinary
`elicitation/create` requests and take the call's route; its progress on the creating call's
token still reaches the caller, and so does each new `statusMessage` of the task (polled with
`tasks/get` at the server's `pollInterval`), as progress. When the call is given up (its
timeout, an interrupted turn), the task is cancelled with `tasks/cancel` where the server offers it.

The SDK has the task types but no task-aware client (its typed `tools/call` accepts only a
`CallToolResult`), so these requests travel on the connection's raw path (`RawRequest`). Tools
whose `taskSupport` is `"optional"` are called normally; a server that lists a required-task tool
without declaring `tasks.requests.tools.call` cannot be asked to run it, and the call fails saying so.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

import anyio
import mcp_types as types
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from app_server.errors import RequestFailed, quoted
from app_server.mcp.catalog import WireDict

logger = logging.getLogger(__name__)

CANCEL_TIMEOUT_SEC = 1.0
"""How long a given-up call waits for the server to take its `tasks/cancel`."""
DEFAULT_POLL_MS = 1000
"""How often a task's status is polled when the server suggests no `pollInterval`."""
MIN_POLL_SEC = 0.05
TERMINAL = frozenset({"completed", "failed", "cancelled"})


class RawRequest(Protocol):
    """One request on a connection's raw path; the raw `result`, or MCPError for the server's error.

    With `on_progress`, the request carries `progress_token` (default: one of its own) and its
    progress goes there; the task's follow-up request passes the creating call's token again,
    since the server keeps reporting on it for the task's life."""

    def __call__(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        on_progress: ProgressFnT | None = None,
        progress_token: str | None = None,
    ) -> Awaitable[dict[str, Any]]: ...


def requires_task(definition: WireDict | None) -> bool:
    """Whether the tool can only run as a task (`execution.taskSupport: "required"`)."""
    execution = definition.get("execution") if definition is not None else None
    return isinstance(execution, dict) and execution.get("taskSupport") == "required"


def _declared(capabilities: WireDict | None, *path: str) -> bool:
    node: Any = capabilities or {}
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return isinstance(node, dict)


async def call_as_task(
    send: RawRequest,
    server: str,
    params: Mapping[str, Any],
    capabilities: WireDict | None,
    *,
    progress: ProgressFnT | None = None,
    progress_token: str | None = None,
) -> dict[str, Any]:
    """The raw result of `tools/call params` run as a task on `server` (module docstring); the
    server's progress on `progress_token` goes to `progress` for the task's whole life.

    Raises RequestFailed when the server does not declare task-augmented `tools/call`, MCPError for
    the server's error (the creating call's or the task's), pydantic's ValidationError when the
    server answers the call with neither a task nor a result.
    """
    if not _declared(capabilities, "tasks", "requests", "tools", "call"):
        raise RequestFailed(
            f"tool `{quoted(str(params.get('name')))}` of MCP server `{server}` requires task-augmented "
            "execution, but the server does not declare task support for tools/call"
        )
    created = await send(
        "tools/call", {**params, "task": {}}, on_progress=progress, progress_token=progress_token
    )
    if "task" not in created:
        return created  # the server ran it as a plain call after all
    task = types.CreateTaskResult.model_validate(created, by_name=False).task
    task_id = task.task_id
    failure: MCPError | None = None
    try:
        async with anyio.create_task_group() as tg:
            if progress is not None:
                tg.start_soon(_relay_status, send, task, progress)
            try:
                result = await send(
                    "tasks/result", {"taskId": task_id}, on_progress=progress, progress_token=progress_token
                )
            except MCPError as exc:  # raised past the group, not inside it (no exception group)
                failure = exc
            tg.cancel_scope.cancel()
    except anyio.get_cancelled_exc_class():
        if _declared(capabilities, "tasks", "cancel"):
            with (
                anyio.CancelScope(shield=True),
                anyio.move_on_after(CANCEL_TIMEOUT_SEC),
                contextlib.suppress(MCPError),
            ):
                await send("tasks/cancel", {"taskId": task_id})
        raise
    if failure is not None:
        raise failure
    return result


async def _relay_status(send: RawRequest, task: types.Task, progress: ProgressFnT) -> None:
    """Each new `statusMessage` of the task, polled with `tasks/get` at its `pollInterval`, reported
    as progress (`progress` counting the messages, no total) until the task ends."""
    interval = max(MIN_POLL_SEC, (task.poll_interval or DEFAULT_POLL_MS) / 1000)
    reported, last = 0, None
    while True:
        if task.status_message and task.status_message != last:
            reported, last = reported + 1, task.status_message
            try:
                await progress(reported, None, last)
            except Exception:  # a progress report must not cost the call its answer
                logger.exception("a progress callback failed")
        if task.status in TERMINAL:
            return
        await anyio.sleep(interval)
        try:
            task = types.GetTaskResult.model_validate(await send("tasks/get", {"taskId": task.task_id}))
        except (MCPError, ValidationError):
            return  # status is a courtesy: the result still comes by tasks/result
