"""Method registries: every client->server request, server->client notification and server request.

Models are named here ("module:Class") and imported on first use, so looking a method up (and
answering `initialize`) does not pay for building every wire model at startup.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeAlias

from pydantic import TypeAdapter

from protocol.base import WireModel

WireType: TypeAlias = Any
"""A WireModel subclass, or an `Annotated` union of them tagged by `type` (e.g. `LoginAccountParams`)."""

_NULL_PARAMS: TypeAdapter[dict[str, Any] | None] = TypeAdapter(dict[str, Any] | None)


def _resolve(reference: str) -> WireType:
    """`"threads:ThreadStartParams"` -> the `protocol.threads.ThreadStartParams` object."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(f"protocol.{module}"), name)


@dataclass(frozen=True)
class RequestSpec:
    """How to read one client->server method's params and what its result is."""

    params_ref: str | None
    """`"module:Class"` of the params, or None for methods whose params are `null`."""
    result_ref: str
    extension: str | None = field(default=None, kw_only=True)
    """Set when this method departs from Codex v2: says how."""

    @cached_property
    def params(self) -> WireType | None:
        """The params model (or tagged union), None for `params: null` methods."""
        return None if self.params_ref is None else _resolve(self.params_ref)

    @cached_property
    def result(self) -> WireType:
        """The result model (or tagged union); every variant is a WireModel, so `to_wire()` writes it."""
        return _resolve(self.result_ref)

    @cached_property
    def _params_adapter(self) -> TypeAdapter[Any]:
        params: WireType = self.params  # only reached when `params_ref` is set
        return TypeAdapter(params)

    @cached_property
    def _result_adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self.result)

    def parse_params(self, raw: object) -> Any:
        """The validated params model, or None for `params: null` methods (which take absent, null or {}).

        Absent params read as `{}`, so methods whose fields are all optional need none.
        Raises pydantic.ValidationError when the params do not fit.
        """
        if self.params_ref is None:
            _NULL_PARAMS.validate_python(raw)
            return None
        return self._params_adapter.validate_python({} if raw is None else raw)

    def parse_result(self, raw: object) -> Any:
        """The validated result (what a client makes of a reply). Raises pydantic.ValidationError."""
        return self._result_adapter.validate_python(raw)


class ModelTable(Mapping[str, type[WireModel]]):
    """A read-only method -> params-model table whose models are imported on first lookup."""

    def __init__(self, references: dict[str, str]) -> None:
        self._references = references
        self._resolved: dict[str, type[WireModel]] = {}

    def __getitem__(self, method: str) -> type[WireModel]:
        model = self._resolved.get(method)
        if model is None:
            model = self._resolved[method] = _resolve(self._references[method])
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(self._references)

    def __len__(self) -> int:
        return len(self._references)

    def __contains__(self, method: object) -> bool:
        return method in self._references

    def method_of(self, model: type[WireModel]) -> str | None:
        """The method whose params `model` is, without importing any other model; None if none."""
        reference = f"{model.__module__.removeprefix('protocol.')}:{model.__name__}"
        return self._methods.get(reference)

    @cached_property
    def _methods(self) -> dict[str, str]:
        return {reference: method for method, reference in self._references.items()}


REQUESTS: Mapping[str, RequestSpec] = {
    "initialize": RequestSpec("initialize:InitializeParams", "initialize:InitializeResponse"),
    "thread/start": RequestSpec("threads:ThreadStartParams", "threads:ThreadStartResponse"),
    "thread/resume": RequestSpec("threads:ThreadResumeParams", "threads:ThreadResumeResponse"),
    "thread/fork": RequestSpec("threads:ThreadForkParams", "threads:ThreadForkResponse"),
    "thread/read": RequestSpec("threads:ThreadReadParams", "threads:ThreadReadResponse"),
    "thread/list": RequestSpec("threads:ThreadListParams", "threads:ThreadListResponse"),
    "thread/loaded/list": RequestSpec(
        "thread_admin:ThreadLoadedListParams", "thread_admin:ThreadLoadedListResponse"
    ),
    "thread/name/set": RequestSpec("thread_admin:ThreadSetNameParams", "thread_admin:ThreadSetNameResponse"),
    "thread/archive": RequestSpec("thread_admin:ThreadArchiveParams", "thread_admin:ThreadArchiveResponse"),
    "thread/unarchive": RequestSpec(
        "thread_admin:ThreadUnarchiveParams", "thread_admin:ThreadUnarchiveResponse"
    ),
    "thread/turns/list": RequestSpec(
        "thread_pages:ThreadTurnsListParams", "thread_pages:ThreadTurnsListResponse"
    ),
    "thread/items/list": RequestSpec(
        "thread_pages:ThreadItemsListParams", "thread_pages:ThreadItemsListResponse"
    ),
    "thread/delete": RequestSpec("thread_admin:ThreadDeleteParams", "thread_admin:ThreadDeleteResponse"),
    "thread/unsubscribe": RequestSpec(
        "thread_admin:ThreadUnsubscribeParams", "thread_admin:ThreadUnsubscribeResponse"
    ),
    "turn/start": RequestSpec("turns:TurnStartParams", "turns:TurnStartResponse"),
    "turn/steer": RequestSpec("turns:TurnSteerParams", "turns:TurnSteerResponse"),
    "turn/interrupt": RequestSpec("turns:TurnInterruptParams", "turns:TurnInterruptResponse"),
    "mcpServerStatus/list": RequestSpec("mcp:ListMcpServerStatusParams", "mcp:ListMcpServerStatusResponse"),
    "config/mcpServer/reload": RequestSpec(None, "mcp:McpServerRefreshResponse"),
    "config/read": RequestSpec("config:ConfigReadParams", "config:ConfigReadResponse"),
    "configRequirements/read": RequestSpec(None, "config:ConfigRequirementsReadResponse"),
    "config/value/write": RequestSpec(
        "config_write:ConfigValueWriteParams", "config_write:ConfigWriteResponse"
    ),
    "config/batchWrite": RequestSpec(
        "config_write:ConfigBatchWriteParams", "config_write:ConfigWriteResponse"
    ),
    "mcpServer/resource/read": RequestSpec("mcp:McpResourceReadParams", "mcp:McpResourceReadResponse"),
    "mcpServer/tool/call": RequestSpec(
        "mcp:McpServerToolCallParams",
        "mcp:McpServerToolCallResponse",
        extension="`threadId` is optional: without it the call goes to the app-level runtime.",
    ),
    "mcpServer/oauth/login": RequestSpec("mcp:McpServerOauthLoginParams", "mcp:McpServerOauthLoginResponse"),
    "mcpServer/views/read": RequestSpec(
        "views:McpServerViewsReadParams",
        "views:McpServerViewsReadResponse",
        extension="Not in Codex v2: the configured, runtime and effective server views with provenance.",
    ),
    "app/list": RequestSpec("apps:AppsListParams", "apps:AppsListResponse"),
    "model/list": RequestSpec("models:ModelListParams", "models:ModelListResponse"),
    "modelProvider/list": RequestSpec("models:ModelProviderListParams", "models:ModelProviderListResponse"),
    "account/read": RequestSpec("account:GetAccountParams", "account:GetAccountResponse"),
    "account/login/start": RequestSpec("account:LoginAccountParams", "account:LoginAccountResponse"),
    "account/logout": RequestSpec(None, "account:LogoutAccountResponse"),
}
"""Every client->server method by name."""

NOTIFICATIONS = ModelTable(
    {
        "error": "notifications:ErrorNotification",
        "thread/started": "notifications:ThreadStartedNotification",
        "thread/status/changed": "notifications:ThreadStatusChangedNotification",
        "thread/tokenUsage/updated": "notifications:ThreadTokenUsageUpdatedNotification",
        "thread/name/updated": "notifications:ThreadNameUpdatedNotification",
        "thread/archived": "notifications:ThreadArchivedNotification",
        "thread/unarchived": "notifications:ThreadUnarchivedNotification",
        "thread/deleted": "notifications:ThreadDeletedNotification",
        "thread/closed": "notifications:ThreadClosedNotification",
        "turn/started": "notifications:TurnStartedNotification",
        "turn/completed": "notifications:TurnCompletedNotification",
        "item/started": "notifications:ItemStartedNotification",
        "item/completed": "notifications:ItemCompletedNotification",
        "item/agentMessage/delta": "notifications:AgentMessageDeltaNotification",
        "item/mcpToolCall/progress": "notifications:McpToolCallProgressNotification",
        "mcpServer/toolCall/progress": "notifications:McpServerToolCallProgressNotification",
        "mcpServer/startupStatus/updated": "notifications:McpServerStatusUpdatedNotification",
        "mcpServer/oauthLogin/completed": "notifications:McpServerOauthLoginCompletedNotification",
        "app/list/updated": "notifications:AppListUpdatedNotification",
        "account/updated": "notifications:AccountUpdatedNotification",
        "account/login/completed": "notifications:AccountLoginCompletedNotification",
        "serverRequest/resolved": "notifications:ServerRequestResolvedNotification",
        "configWarning": "notifications:ConfigWarningNotification",
        "warning": "notifications:WarningNotification",
    }
)
"""Every server->client notification method by name, with its params model."""

EXTENSION_NOTIFICATIONS: Mapping[str, str] = {
    "mcpServer/toolCall/progress": "Not in Codex v2: progress of a direct tool call, to its caller only.",
}
"""The notifications Codex does not send, each with what it adds."""

SERVER_REQUESTS = ModelTable(
    {
        "mcpServer/elicitation/request": "server_requests:McpServerElicitationRequestParams",
        "item/tool/requestUserInput": "server_requests:ToolRequestUserInputParams",
    }
)
"""Every server->client request method by name, with its params model."""

SERVER_REQUEST_RESULTS: Mapping[str, type[WireModel]] = ModelTable(
    {
        "mcpServer/elicitation/request": "server_requests:McpServerElicitationRequestResponse",
        "item/tool/requestUserInput": "server_requests:ToolRequestUserInputResponse",
    }
)
"""The model of the client's answer to each server->client request."""


def method_of(params: WireModel | type[WireModel]) -> str:
    """The method a notification's or a server request's params (or their model) are sent as: the
    registry is the one place method names live. Raises KeyError for a model that is neither."""
    model = params if isinstance(params, type) else type(params)
    for table in (NOTIFICATIONS, SERVER_REQUESTS):
        method = table.method_of(model)
        if method is not None:
            return method
    raise KeyError(f"{model.__name__} is the params of no notification or server request")
