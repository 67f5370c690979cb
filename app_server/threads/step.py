"""One model step on one leased MCP runtime: advertise its tools, stream the answer, run the calls.

Everything a step touches comes from the runtime it was handed: the tools it advertises, the
connections its calls go to, the server configs its approvals are judged by. A refresh that
publishes a new runtime mid-step changes nothing here; the next step leases the new one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio

from app_server.config.servers import ApprovalMode
from app_server.errors import AppServerError, RequestFailed, quoted
from app_server.events import EventBus
from app_server.mcp.catalog import ToolRef
from app_server.mcp.connectors import connector_attribution
from app_server.mcp.elicitation import AskClient
from app_server.mcp.presentation import app_ui, read_only_hint
from app_server.mcp.runtime import McpRuntime
from app_server.model.client import ModelClient
from app_server.model.step import (
    Completed,
    FunctionCall,
    MessageDone,
    Retrying,
    StepRequest,
    TextDelta,
    Usage,
)
from app_server.threads.approval_memory import ApprovalMemory
from app_server.threads.approvals import (
    NEVER_ASK_MESSAGE,
    approval_mode,
    approval_request,
    decision_of,
    needs_approval,
    policy_never_asks,
    remember_key,
)
from app_server.threads.conversation import model_view
from app_server.threads.ids import new_id
from app_server.threads.live import LiveThread, now_ms
from app_server.threads.tool_output import READ_TOOL_OUTPUT, read_on, read_tool
from app_server.threads.tool_search import TOOL_SEARCH, advertised, found_text, search
from app_server.threads.usage import breakdown_of
from protocol.items import (
    AgentMessageItem,
    DynamicToolCallInputText,
    DynamicToolCallItem,
    McpToolCallError,
    McpToolCallItem,
    McpToolCallResult,
    UserMessageItem,
)
from protocol.notifications import (
    AgentMessageDeltaNotification,
    ErrorNotification,
    ItemCompletedNotification,
    ItemStartedNotification,
    McpToolCallProgressNotification,
    ThreadTokenUsageUpdatedNotification,
)
from protocol.turns import TurnError

logger = logging.getLogger(__name__)

TurnItem = UserMessageItem | AgentMessageItem | McpToolCallItem | DynamicToolCallItem

INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class TurnScope:
    """What every step of one turn shares."""

    thread: LiveThread
    turn_id: str
    events: EventBus
    model: ModelClient
    model_name: str
    instructions: str
    developer_instructions: str | None
    approval_policy: object
    ask: AskClient
    approvals: ApprovalMemory
    """The thread's remembered tool approvals."""
    startup_grace: float
    """How long a step waits for servers still starting (`mcp_startup_grace_sec`)."""
    tool_output_max_chars: int
    """The cap of one tool result sent to the model, for servers that set none of their own."""
    tool_search_threshold: int
    """With more tools than this, a step advertises the tool search instead of its catalog."""
    found_tools: set[str] = field(default_factory=set)
    """Model-facing names the turn's tool searches found, advertised from the next step on."""

    async def start_item(self, item: TurnItem, recorded: Mapping[str, Any] | None = None) -> None:
        """Stamp the item's start, record it durably (with `recorded`'s keys over its wire form:
        what the model needs that the wire does not carry), then announce it."""
        started = item.started_at_ms = now_ms()
        await self.thread.start_item(self.turn_id, {**item.to_wire(), **(recorded or {})})
        self.events.publish(
            ItemStartedNotification(
                thread_id=self.thread.id, turn_id=self.turn_id, item=item, started_at_ms=started
            )
        )

    async def complete_item(self, item: TurnItem, recorded: Mapping[str, Any] | None = None) -> None:
        """Record the finished item durably (as `start_item`), then announce it (finishes even when
        interrupted)."""
        completed = item.completed_at_ms = now_ms()
        with anyio.CancelScope(shield=True):
            await self.thread.complete_item(self.turn_id, {**item.to_wire(), **(recorded or {})})
        self.events.publish(
            ItemCompletedNotification(
                thread_id=self.thread.id, turn_id=self.turn_id, item=item, completed_at_ms=completed
            )
        )

    async def record_usage(self, usage: Usage) -> None:
        """Record a model response's token usage durably, then announce the thread's new tally."""
        tally = await self.thread.record_usage(self.turn_id, breakdown_of(usage))
        self.events.publish(
            ThreadTokenUsageUpdatedNotification(
                thread_id=self.thread.id, turn_id=self.turn_id, token_usage=tally
            )
        )


class _AgentMessage:
    """The assistant's message of this step: started at its first delta, completed when done."""

    def __init__(self, scope: TurnScope) -> None:
        self._scope = scope
        self._item: AgentMessageItem | None = None

    async def delta(self, text: str) -> None:
        item = await self._open()
        scope = self._scope
        scope.events.publish(
            AgentMessageDeltaNotification(
                thread_id=scope.thread.id, turn_id=scope.turn_id, item_id=item.id, delta=text
            )
        )

    async def done(self, text: str) -> None:
        item = await self._open()
        item.text = text
        self._item = None
        await self._scope.complete_item(item)

    async def _open(self) -> AgentMessageItem:
        if self._item is None:
            self._item = AgentMessageItem(id=new_id(), text="")
            await self._scope.start_item(self._item)
        return self._item


async def run_step(scope: TurnScope, runtime: McpRuntime) -> bool:
    """Run one step on `runtime`; True when the model called tools (so another step follows).

    The step first waits for the runtime's servers still starting, at most the startup grace: it
    advertises the tools of those ready by then, and a later one's tools join from the next step.
    """
    await runtime.wait_started(within=scope.startup_grace)
    index = runtime.tool_index()
    cap = partial(_output_cap, scope, runtime)
    view = model_view(scope.thread.recorded_items(), cap)
    tools = advertised(index, scope.tool_search_threshold, scope.found_tools)
    request = StepRequest(
        model=scope.model_name,
        instructions=scope.instructions,
        developer_instructions=scope.developer_instructions,
        history=view.history,
        tools=(*tools, read_tool()) if view.has_cut_results else tools,
    )
    message = _AgentMessage(scope)
    calls: list[FunctionCall] = []
    async with scope.model.stream_step(request) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                await message.delta(event.text)
            elif isinstance(event, MessageDone):
                await message.done(event.text)
            elif isinstance(event, FunctionCall):
                calls.append(event)
            elif isinstance(event, Completed) and event.usage is not None:
                await scope.record_usage(event.usage)
            elif isinstance(event, Retrying):
                scope.events.publish(
                    ErrorNotification(
                        thread_id=scope.thread.id,
                        turn_id=scope.turn_id,
                        error=TurnError(message=event.message),
                        will_retry=True,
                    )
                )
    tool_calls = []
    for call in calls:
        answer = _host_tool(scope, index, cap, call)
        if answer is None:
            tool_calls.append(call)
        else:
            await _run_host_call(scope, call, answer)
    if tool_calls:
        await _run_calls(scope, runtime, index, tool_calls)
    return bool(calls)


HostTool = Callable[[Any], str]
"""A tool the daemon answers itself: the call's parsed arguments -> the text the model gets."""


def _host_tool(
    scope: TurnScope, index: Mapping[str, ToolRef], cap: Callable[[str], int], call: FunctionCall
) -> HostTool | None:
    """The daemon's own tool a call names (the tool search over THIS step's catalog, or reading on
    in a cut result), or None for an MCP tool."""
    if call.namespace is not None or call.name in index:
        return None
    if call.name == TOOL_SEARCH:

        def answer_search(arguments: Any) -> str:
            found = search(index, arguments)
            scope.found_tools.update(found)
            return found_text(index, found)

        return answer_search
    if call.name == READ_TOOL_OUTPUT:
        return lambda arguments: read_on(scope.thread.recorded_items(), arguments, cap)
    return None


async def _run_host_call(scope: TurnScope, call: FunctionCall, answer: HostTool) -> None:
    """One dynamicToolCall item, answered by the daemon."""
    item = DynamicToolCallItem(
        id=call.call_id, tool=call.name, status="inProgress", arguments=_parse_arguments(call.arguments)
    )
    await scope.start_item(item)
    item.content_items = [DynamicToolCallInputText(text=answer(item.arguments))]
    item.status, item.success, item.duration_ms = "completed", True, 0
    await scope.complete_item(item)


def _output_cap(scope: TurnScope, runtime: McpRuntime, server: str) -> int:
    """The server's own `tool_output_max_chars` in this step's runtime, else the thread's."""
    slot = runtime.slots.get(server)
    own = slot.config.tool_output_max_chars if slot is not None else None
    return own or scope.tool_output_max_chars


def tool_of(index: Mapping[str, ToolRef], call: FunctionCall) -> ToolRef | None:
    """The tool a call names: by its flat model-facing name, or, namespaced, as `namespace` +
    `name` (`mcp__server__` + `tool`, or the server's name + its raw tool name)."""
    if call.namespace is None:
        return index.get(call.name)
    found = index.get(call.namespace + call.name) or index.get(f"{call.namespace}__{call.name}")
    if found is not None:
        return found
    server = call.namespace.removeprefix("mcp__").removesuffix("__")
    return next((ref for ref in index.values() if (ref.server, ref.tool) == (server, call.name)), None)


def _parallel_safe(runtime: McpRuntime, ref: ToolRef | None) -> bool:
    if ref is None:
        return True
    annotations = ref.definition.get("annotations") or {}
    return (
        annotations.get("readOnlyHint") is True
        or runtime.slots[ref.server].config.supports_parallel_tool_calls
    )


async def _run_calls(
    scope: TurnScope, runtime: McpRuntime, index: Mapping[str, ToolRef], calls: list[FunctionCall]
) -> None:
    """Run the step's calls: together when every one is read-only or allowed in parallel, else in order."""
    if len(calls) > 1 and all(_parallel_safe(runtime, tool_of(index, call)) for call in calls):
        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(_run_call, scope, runtime, tool_of(index, call), call)
    else:
        for call in calls:
            await _run_call(scope, runtime, tool_of(index, call), call)


async def _run_call(scope: TurnScope, runtime: McpRuntime, ref: ToolRef | None, call: FunctionCall) -> None:
    """One mcpToolCall item: started, approved, called on THIS runtime, completed (even if interrupted)."""
    ui = app_ui(ref)
    item = McpToolCallItem(
        id=call.call_id,
        server=ref.server if ref is not None else "",
        tool=ref.tool if ref is not None else call.name,
        status="inProgress",
        arguments=_parse_arguments(call.arguments),
        app_context=connector_attribution(ref),
        mcp_app_resource_uri=ui.resource_uri if ui is not None else None,
        mcp_app_ui=ui,
        read_only_hint=read_only_hint(ref),
    )
    await scope.start_item(item)
    began = time.monotonic()
    try:
        result = await _call(scope, runtime, ref, call, item.arguments)
        item.result = McpToolCallResult.model_validate(result)
        item.status = "failed" if result.get("isError") else "completed"
    except AppServerError as exc:
        item.status, item.error = "failed", McpToolCallError(message=exc.message)
    except anyio.get_cancelled_exc_class():
        item.status, item.error = "failed", McpToolCallError(message=INTERRUPTED)
        raise
    except Exception:
        logger.exception("MCP tool call %s on %s failed unexpectedly", item.tool, item.server)
        item.status, item.error = "failed", McpToolCallError(message="tool call failed")
    finally:
        item.duration_ms = int((time.monotonic() - began) * 1000)
        await scope.complete_item(item)


async def _call(
    scope: TurnScope, runtime: McpRuntime, ref: ToolRef | None, call: FunctionCall, arguments: Any
) -> dict[str, Any]:
    if ref is None:
        raise RequestFailed(f"unsupported call: the model asked for an unknown tool '{quoted(call.name)}'")
    if not isinstance(arguments, dict):
        raise RequestFailed(f"the model sent arguments for '{call.name}' that are not a JSON object")
    mode = approval_mode(runtime.slots[ref.server].config, ref.tool)
    if needs_approval(mode, ref.definition.get("annotations")):
        await _approve(scope, ref, arguments, mode)

    async def report(progress: float, total: float | None, message: str | None) -> None:
        text = message or (f"{progress:g}/{total:g}" if total else f"{progress:g}")
        scope.events.publish(
            McpToolCallProgressNotification(
                thread_id=scope.thread.id, turn_id=scope.turn_id, item_id=call.call_id, message=text
            )
        )

    return await runtime.call_tool(
        ref.server, ref.tool, arguments, turn_id=scope.turn_id, progress=report, ask=scope.ask
    )


async def _approve(scope: TurnScope, ref: ToolRef, arguments: dict[str, Any], mode: ApprovalMode) -> None:
    """Ask the client unless the thread remembers approving this tool; raises RequestFailed unless
    the client accepts (or when the policy forbids asking). A choice to remember is kept."""
    key = remember_key(ref, mode)
    if key is not None and scope.approvals.remembers(key):
        return
    if policy_never_asks(scope.approval_policy):
        raise RequestFailed(NEVER_ASK_MESSAGE)
    params = approval_request(
        thread_id=scope.thread.id,
        turn_id=scope.turn_id,
        ref=ref,
        arguments=arguments,
        rememberable=key is not None,
    )
    decision = decision_of(await scope.ask(params))
    if decision == "cancel":
        raise RequestFailed("user cancelled MCP tool call")
    if decision == "decline":
        raise RequestFailed("user rejected MCP tool call")
    if key is not None and decision == "session":
        scope.approvals.remember(key)
    elif key is not None and decision == "always":
        await scope.approvals.persist(key)


def _parse_arguments(text: str) -> Any:
    """The call's arguments as JSON, or the raw text when the model sent something unparsable."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text
