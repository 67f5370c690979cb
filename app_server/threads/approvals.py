"""Whether an MCP tool call needs the user's approval, the elicitation that asks for it, and the answer.

The request is built as Codex 0.169.0 builds it (`codex-rs/core/src/mcp_tool_call.rs`), `_meta` key
for key and in its order, so a Codex front-end shows its approval card with the choices Codex
offers: "Allow for this session" and "Allow and don't ask me again" come from `_meta.persist`,
which is offered only for a tool judged by its annotations (`auto`, and our `writes`); a tool set to
`prompt` asks every time. The client's choice comes back as `_meta.persist` of its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from app_server.config.servers import ApprovalMode, HttpServerConfig, StdioServerConfig
from app_server.mcp.apps import CODEX_APPS
from protocol.server_requests import McpServerElicitationRequestParams

if TYPE_CHECKING:
    from app_server.mcp.catalog import ToolRef

APPROVAL_KIND = "mcp_tool_call"
PERSIST_SESSION = "session"
PERSIST_ALWAYS = "always"
NEVER_ASK_MESSAGE = "MCP tool call requires approval, but approval policy is never"
REMEMBERING_MODES: frozenset[ApprovalMode] = frozenset({"auto", "writes"})
"""The modes under which a choice may be remembered (Codex: `auto` only; `writes` is ours, and judged
by annotations as `auto` is)."""

Decision = Literal["accept", "session", "always", "decline", "cancel"]


@dataclass(frozen=True, slots=True)
class ApprovalKey:
    """What a remembered approval covers: one tool of one server (of one connector for `codex_apps`)."""

    server: str
    connector_id: str | None
    tool: str


def approval_mode(config: StdioServerConfig | HttpServerConfig, tool: str) -> ApprovalMode:
    """Per-tool `approval_mode` > the server's `default_tools_approval_mode` > `auto`."""
    tool_config = config.tools.get(tool)
    return (
        (tool_config.approval_mode if tool_config else None) or config.default_tools_approval_mode or "auto"
    )


def needs_approval(mode: ApprovalMode, annotations: Mapping[str, Any] | None) -> bool:
    """`approve` never asks and `prompt` always does. `auto` asks unless the tool says it is read-only
    or explicitly not destructive (MCP's `destructiveHint` defaults to true, so a tool without
    annotations is treated as destructive); `writes` asks unless the tool is read-only.
    """
    if mode == "approve":
        return False
    if mode == "prompt":
        return True
    hints = annotations or {}
    if hints.get("readOnlyHint") is True:
        return False
    return mode == "writes" or hints.get("destructiveHint") is not False


def policy_never_asks(approval_policy: object) -> bool:
    """`never` means a call that needs approval fails instead of asking."""
    return approval_policy == "never"


def remember_key(ref: ToolRef, mode: ApprovalMode) -> ApprovalKey | None:
    """The key a choice for this call may be remembered under, or None when it may not be (a mode
    outside `REMEMBERING_MODES`, or a `codex_apps` tool that names no connector)."""
    connector_id = _connector(ref).get("connector_id")
    if mode not in REMEMBERING_MODES or (ref.server == CODEX_APPS and connector_id is None):
        return None
    return ApprovalKey(ref.server, connector_id, ref.tool)


def approval_request(
    *, thread_id: str, turn_id: str, ref: ToolRef, arguments: Any, rememberable: bool
) -> McpServerElicitationRequestParams:
    """`mcpServer/elicitation/request` params in the shape Codex front-ends recognise as a tool approval."""
    connector = _connector(ref)
    meta: dict[str, Any] = {"codex_approval_kind": APPROVAL_KIND}
    if rememberable:
        meta["persist"] = [PERSIST_SESSION, PERSIST_ALWAYS]
    for key, value in (
        ("tool_title", ref.definition.get("title")),
        ("tool_description", ref.definition.get("description")),
    ):
        if isinstance(value, str):
            meta[key] = value
    if connector:
        meta["source"] = "connector"
        meta.update(connector)
    meta["tool_params"] = arguments
    if isinstance(arguments, Mapping):
        meta["tool_params_display"] = [
            {"name": name, "value": arguments[name], "display_name": name} for name in sorted(arguments)
        ]
    return McpServerElicitationRequestParams(
        thread_id=thread_id,
        turn_id=turn_id,
        server_name=ref.server,
        mode="form",
        message=f'Allow {_actor(ref, connector)} to run tool "{ref.tool}"?',
        requested_schema={"type": "object", "properties": {}},
        meta=meta,
    )


def decision_of(answer: Any) -> Decision:
    """The client's answer: `accept` (with `_meta.persist` = `session` or `always` to remember it),
    `decline`, or `cancel`; anything else declines."""
    if not isinstance(answer, Mapping):
        return "decline"
    action = answer.get("action")
    if action == "accept":
        meta = answer.get("_meta")
        persist = meta.get("persist") if isinstance(meta, Mapping) else None
        return (
            "session" if persist == PERSIST_SESSION else "always" if persist == PERSIST_ALWAYS else "accept"
        )
    return "cancel" if action == "cancel" else "decline"


def _connector(ref: ToolRef) -> dict[str, str]:
    """The `connector_*` keys of a `codex_apps` tool (in Codex's order), empty for any other server."""
    meta = ref.definition.get("_meta")
    if ref.server != CODEX_APPS or not isinstance(meta, Mapping):
        return {}
    keys = ("connector_id", "connector_name", "connector_description")
    return {key: value for key in keys if isinstance(value := meta.get(key), str) and value.strip()}


def _actor(ref: ToolRef, connector: Mapping[str, str]) -> str:
    if "connector_name" in connector:
        return connector["connector_name"].strip()
    return "this app" if ref.server == CODEX_APPS else f"the {ref.server} MCP server"
