"""Wire types of threads (durable conversations) and the `thread/*` methods."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import JsonObject, Omittable
from protocol.policy import (
    AbsolutePathBuf,
    ApprovalsReviewer,
    AskForApproval,
    Personality,
    ReasoningEffort,
    SandboxMode,
    SandboxPolicy,
)
from protocol.turns import Turn

ThreadSource = str
"""Client-supplied analytics classification of a thread."""

ThreadStartSource = Literal["startup", "clear"]

ThreadHistoryMode = Literal["legacy", "paginated"]

ThreadActiveFlag = Literal["waitingOnApproval", "waitingOnUserInput"]

ThreadSortKey = Literal["created_at", "updated_at", "recency_at", "section_position"]

ThreadSourceKind = Literal[
    "cli",
    "vscode",
    "exec",
    "appServer",
    "subAgent",
    "subAgentReview",
    "subAgentCompact",
    "subAgentThreadSpawn",
    "subAgentOther",
    "unknown",
]

SortDirection = Literal["asc", "desc"]

ThreadListCwdFilter = str | list[str]

LegacyAppPathString = str


class NotLoadedStatus(WireModel):
    type: Literal["notLoaded"] = "notLoaded"


class IdleStatus(WireModel):
    type: Literal["idle"] = "idle"


class SystemErrorStatus(WireModel):
    type: Literal["systemError"] = "systemError"


class ActiveStatus(WireModel):
    type: Literal["active"] = "active"
    active_flags: list[ThreadActiveFlag] = Field(default_factory=list)


ThreadStatus = Annotated[
    NotLoadedStatus | IdleStatus | SystemErrorStatus | ActiveStatus, Field(discriminator="type")
]


class CustomSessionSource(WireModel):
    custom: str


SubAgentSource = Literal["review", "compact", "memory_consolidation"] | JsonObject
"""A named sub-agent kind, or `{thread_spawn: {...}}` / `{other: "..."}` passed through as given."""


class SubAgentSessionSource(WireModel):
    sub_agent: SubAgentSource


SessionSource = (
    Literal["cli", "vscode", "exec", "appServer", "unknown"] | CustomSessionSource | SubAgentSessionSource
)


class GitInfo(WireModel):
    branch: str | None = None
    origin_url: str | None = None
    sha: str | None = None


class ThreadSectionAppearance(WireModel):
    color: str | None = None
    icon: str | None = None


class ThreadSection(WireModel):
    id: str
    name: str
    appearance: ThreadSectionAppearance | None = None


class Thread(WireModel):
    id: str
    session_id: str
    cli_version: str
    created_at: int
    """Unix seconds."""
    updated_at: int
    """Unix seconds."""
    cwd: AbsolutePathBuf
    ephemeral: bool
    model_provider: str
    preview: str
    """Usually the first user message."""
    source: SessionSource
    status: ThreadStatus
    turns: list[Turn] = Field(default_factory=list)
    """Filled only by `thread/resume` and `thread/read` with `includeTurns`."""
    project_id: str | None = None
    agent_nickname: str | None = None
    agent_role: str | None = None
    forked_from_id: str | None = None
    git_info: GitInfo | None = None
    history_mode: ThreadHistoryMode = "legacy"
    """`legacy`: `thread/resume` and `thread/read` return whole turns, never pages."""
    model: str | None = None
    name: str | None = None
    originator: str | None = None
    parent_thread_id: str | None = None
    path: str | None = None
    reasoning_effort: ReasoningEffort | None = None
    recency_at: int | None = None
    section: ThreadSection | None = None
    section_entered_at: int | None = None
    thread_source: ThreadSource | None = None


ModeKind = Literal["plan", "default"]


class CollaborationSettings(WireModel):
    """`Settings` of a collaboration mode; the reference spells its keys in snake_case."""

    model: str
    developer_instructions: str | None = Field(default=None, alias="developer_instructions")
    reasoning_effort: ReasoningEffort | None = Field(default=None, alias="reasoning_effort")


class CollaborationMode(WireModel):
    mode: ModeKind
    settings: CollaborationSettings


class _SessionOverrides(WireModel):
    """Settings a client may override when it starts, resumes or forks a thread."""

    approval_policy: AskForApproval | None = None
    approvals_reviewer: ApprovalsReviewer | None = None
    base_instructions: str | None = None
    config: JsonObject | None = None
    cwd: str | None = None
    developer_instructions: str | None = None
    model: str | None = None
    model_provider: str | None = None
    sandbox: SandboxMode | None = None
    service_tier: str | None = None


class _ThreadOverrides(_SessionOverrides):
    """A start's or a resume's overrides: a fork's, and the personality."""

    personality: Personality | None = None


class ThreadStartParams(_ThreadOverrides):
    ephemeral: bool | None = None
    service_name: str | None = None
    session_start_source: ThreadStartSource | None = None
    thread_source: ThreadSource | None = None


class _ThreadSessionState(WireModel):
    """What a started or resumed thread runs under."""

    thread: Thread
    approval_policy: AskForApproval
    approvals_reviewer: ApprovalsReviewer
    cwd: AbsolutePathBuf
    model: str
    model_provider: str
    sandbox: SandboxPolicy
    disabled_plugin_ids: list[str] = Field(default_factory=list)
    instruction_sources: list[LegacyAppPathString] = Field(default_factory=list)
    """Instruction files (AGENTS.md and the like) loaded for the thread: none are read here."""
    reasoning_effort: ReasoningEffort | None = None
    service_tier: str | None = None


class ThreadStartResponse(_ThreadSessionState):
    """The new thread and the settings it runs under."""


class ThreadResumeParams(_ThreadOverrides):
    thread_id: str
    exclude_turns: Omittable[bool] = None


class ThreadResumeResponse(_ThreadSessionState):
    collaboration_mode: CollaborationMode | None = None
    items_backwards_cursor: str | None = None
    turns_backwards_cursor: str | None = None


class ThreadForkParams(_SessionOverrides):
    """A new thread with the source's history through `lastTurnId` (all of it by default)."""

    thread_id: str
    last_turn_id: str | None = None
    ephemeral: Omittable[bool] = None
    thread_source: ThreadSource | None = None
    exclude_turns: Omittable[bool] = None


class ThreadForkResponse(_ThreadSessionState):
    """The forked thread and the settings it runs under."""


class ThreadReadParams(WireModel):
    thread_id: str
    include_turns: Omittable[bool] = None


class ThreadReadResponse(WireModel):
    thread: Thread


class ThreadListParams(WireModel):
    archived: bool | None = None
    current_account_only: Omittable[bool] = None
    cursor: str | None = None
    cwd: ThreadListCwdFilter | None = None
    excluded_thread_ids: list[str] | None = Field(default=None, max_length=100)
    limit: int | None = Field(default=None, ge=0)
    """A page size; 0 is served as 1, as Codex does."""
    model_providers: list[str] | None = None
    originators: list[str] | None = None
    search_term: str | None = None
    section_id: str | None = None
    """Absent: every section; `null`: unsectioned threads only (tell them apart with `model_fields_set`)."""
    sort_direction: SortDirection | None = None
    sort_key: ThreadSortKey | None = None
    source_kinds: list[ThreadSourceKind] | None = None
    use_state_db_only: Omittable[bool] = None


class ThreadListResponse(WireModel):
    data: list[Thread]
    next_cursor: str | None = None
    backwards_cursor: str | None = None
