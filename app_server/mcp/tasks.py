"""Task-augmented tool calls (MCP 2025-11-25 tasks): a tool whose `execution.taskSupport` is
`"required"` runs as a task, and its caller gets the final `CallToolResult` like any other call's.

The call is `tools/call` with a `task` field; the server answers a `CreateTaskResult` at once,
and `tasks/result` then waits for the task's end (the spec makes it block until the task is
terminal) and answers what the call itself would have: its result, or its JSON-RPC error. While
it waits, the server's questions (its `input_required` state) arrive as ordinary
`elicitation/create` requests and take the call's route, and its progress on the creating call's
token still reaches the caller. When the call is given up (its timeout, an interrupted turn), the
task is cancelled with `tasks/cancel` where the server offers it.

The SDK has the task types but no task-aware client (its typed `tools/call` accepts only a
`CallToolResult`), so these requests travel on the connection's raw path (`RawRequest`). Tools
whose `taskSupport` is `"optional"` are called normally; a server that lists a required-task tool
without declaring `tasks.requests.tools.call` cannot be asked to run it, and the call fails saying so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

import anyio
import mcp_types as types
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError

from app_server.errors import RequestFailed, quoted
from app_server.mcp.catalog import WireDict

CANCEL_TIMEOUT_SEC = 1.0
"""How long a given-up call waits for the server to take its `tasks/cancel`."""


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
    task_id = types.CreateTaskResult.model_validate(created, by_name=False).task.task_id
    try:
        return await send(
            "tasks/result", {"taskId": task_id}, on_progress=progress, progress_token=progress_token
        )
    except anyio.get_cancelled_exc_class():
        if _declared(capabilities, "tasks", "cancel"):
            with (
                anyio.CancelScope(shield=True),
                anyio.move_on_after(CANCEL_TIMEOUT_SEC),
                contextlib.suppress(MCPError),
            ):
                await send("tasks/cancel", {"taskId": task_id})
        raise
