"""Wire types of the notifications the server sends to the client."""

from __future__ import annotations

from typing import Literal

from protocol.account import AuthMode, PlanType
from protocol.apps import AppInfo
from protocol.base import WireModel
from protocol.fields import Omittable
from protocol.items import ThreadItem
from protocol.threads import Thread, ThreadStatus
from protocol.turns import Turn, TurnError

McpServerStartupState = Literal["starting", "ready", "failed", "cancelled"]

McpServerStartupFailureReason = Literal["reauthenticationRequired"]

RequestId = str | int


class ErrorNotification(WireModel):
    thread_id: str
    turn_id: str
    error: TurnError
    will_retry: bool


class ThreadStartedNotification(WireModel):
    thread: Thread


class ThreadStatusChangedNotification(WireModel):
    thread_id: str
    status: ThreadStatus


class TokenUsageBreakdown(WireModel):
    total_tokens: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0


class ThreadTokenUsage(WireModel):
    total: TokenUsageBreakdown
    """Summed over every model response of the thread."""
    last: TokenUsageBreakdown
    """The latest model response."""
    model_context_window: int | None = None


class ThreadTokenUsageUpdatedNotification(WireModel):
    thread_id: str
    turn_id: str
    token_usage: ThreadTokenUsage


class TurnStartedNotification(WireModel):
    thread_id: str
    turn: Turn


class TurnCompletedNotification(WireModel):
    thread_id: str
    turn: Turn


class ItemStartedNotification(WireModel):
    thread_id: str
    turn_id: str
    item: ThreadItem
    started_at_ms: int


class ItemCompletedNotification(WireModel):
    thread_id: str
    turn_id: str
    item: ThreadItem
    completed_at_ms: int
    content_token_count: Omittable[int] = None


class AgentMessageDeltaNotification(WireModel):
    thread_id: str
    turn_id: str
    item_id: str
    delta: str


class McpToolCallProgressNotification(WireModel):
    thread_id: str
    turn_id: str
    item_id: str
    message: str


class McpServerToolCallProgressNotification(WireModel):
    """Progress an MCP tool reports while a direct `mcpServer/tool/call` runs, sent to the
    connection that made the call (`requestId` is that request's id)."""

    request_id: RequestId
    server: str
    tool: str
    thread_id: Omittable[str] = None
    progress: float
    total: float | None = None
    message: str | None = None


class McpServerStatusUpdatedNotification(WireModel):
    name: str
    status: McpServerStartupState
    thread_id: str | None = None
    error: str | None = None
    failure_reason: McpServerStartupFailureReason | None = None


class McpServerOauthLoginCompletedNotification(WireModel):
    name: str
    success: bool
    thread_id: str | None = None
    login_id: Omittable[str] = None
    error: Omittable[str] = None
    """Left out on success (the generated bindings: `error?: string`)."""


class AppListUpdatedNotification(WireModel):
    data: list[AppInfo]


DesktopOnboardingEntrypoint = Literal["life_sciences"]


class AccountLoginCompletedNotification(WireModel):
    login_id: str | None = None
    success: bool
    error: str | None = None
    onboarding_entrypoint: DesktopOnboardingEntrypoint | None = None


class AccountUpdatedNotification(WireModel):
    auth_mode: AuthMode | None = None
    plan_type: PlanType | None = None


class ServerRequestResolvedNotification(WireModel):
    """A server request the client was shown is settled (answered, or withdrawn) and can be dismissed."""

    thread_id: str
    request_id: RequestId


class TextPosition(WireModel):
    line: int
    """1-based."""
    column: int
    """1-based, in Unicode scalar values."""


class TextRange(WireModel):
    start: TextPosition
    end: TextPosition


class ConfigWarningNotification(WireModel):
    summary: str
    details: str | None = None
    path: Omittable[str] = None
    range: Omittable[TextRange] = None


class WarningNotification(WireModel):
    message: str
    thread_id: str | None = None


class ThreadNameUpdatedNotification(WireModel):
    thread_id: str
    thread_name: Omittable[str] = None


class ThreadArchivedNotification(WireModel):
    thread_id: str


class ThreadUnarchivedNotification(WireModel):
    thread_id: str


class ThreadClosedNotification(WireModel):
    thread_id: str


class ThreadDeletedNotification(WireModel):
    thread_id: str
