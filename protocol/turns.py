"""Wire types of turns: one user request and everything the agent did for it; `turn/*` methods."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import JsonValue, Omittable
from protocol.items import ThreadItem, UserInput
from protocol.policy import (
    ApprovalsReviewer,
    AskForApproval,
    Personality,
    ReasoningEffort,
    ReasoningSummary,
    SandboxPolicy,
)

TurnStatus = Literal["completed", "interrupted", "failed", "inProgress"]

TurnItemsView = Literal["notLoaded", "summary", "full"]

CodexErrorInfo = str | dict[str, Any]
"""A camelCase error code (`"usageLimitExceeded"`) or a tagged object (`{"httpConnectionFailed": {...}}`)."""


class MisalignmentSteer(WireModel):
    message: str


class MisalignmentErrorDetails(WireModel):
    detailed_explanation: str | None = None
    error_type: str | None = None
    review_target: Omittable[str] = None
    steer: MisalignmentSteer | None = None


class TurnError(WireModel):
    message: str
    additional_details: str | None = None
    codex_error_info: CodexErrorInfo | None = None
    misalignment: MisalignmentErrorDetails | None = None


class Turn(WireModel):
    id: str
    items: list[ThreadItem] = Field(default_factory=list)
    status: TurnStatus
    items_view: TurnItemsView = "full"
    """`full` when `items` holds every item of the turn, `notLoaded` when they were left out."""
    error: TurnError | None = None
    started_at: int | None = None
    """Unix seconds."""
    completed_at: int | None = None
    """Unix seconds."""
    duration_ms: int | None = None
    root_turn_id: str | None = None


FunctionCallOutputContentItem = dict[str, Any]
"""A Responses API content item (`input_text`, `input_image`, ...), passed through as given."""

FunctionCallOutputBody = str | list[FunctionCallOutputContentItem]


class TurnToolOutput(WireModel):
    name: str
    namespace: str | None = None
    output: FunctionCallOutputBody
    retain: Omittable[bool] = None


class TurnStartParams(WireModel):
    thread_id: str
    input: list[UserInput]
    approval_policy: AskForApproval | None = None
    approvals_reviewer: ApprovalsReviewer | None = None
    client_user_message_id: str | None = None
    cwd: str | None = None
    disabled_plugin_ids: list[str] | None = None
    effort: ReasoningEffort | None = None
    model: str | None = None
    output_schema: Omittable[JsonValue] = None
    parent_turn_id: str | None = None
    personality: Personality | None = None
    root_turn_id: str | None = None
    sandbox_policy: SandboxPolicy | None = None
    service_tier: str | None = None
    service_tier_for_turn: str | None = None
    summary: ReasoningSummary | None = None
    tool_output: TurnToolOutput | None = None
    turn_trigger: str | None = None


class TurnStartResponse(WireModel):
    turn: Turn


class TurnInterruptParams(WireModel):
    thread_id: str
    turn_id: str


class TurnInterruptResponse(WireModel):
    """Empty object: the interrupt was accepted; `turn/completed` reports the outcome."""


class TurnSteerParams(WireModel):
    """More input for the running turn: its next model request carries it."""

    thread_id: str
    input: list[UserInput]
    expected_turn_id: str
    client_user_message_id: str | None = None


class TurnSteerResponse(WireModel):
    turn_id: str
