"""Wire types of what a thread is made of: user input and the items of a turn (flat, tagged by `type`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from protocol.base import WireModel
from protocol.fields import JsonValue, NullableMetaField, Omittable

ImageDetail = Literal["auto", "low", "high", "original"]


class ByteRange(WireModel):
    start: int
    end: int


class TextElement(WireModel):
    """A UI-defined span of a text input (a mention, a pasted file, ...)."""

    byte_range: ByteRange
    placeholder: str | None = None


class TextInput(WireModel):
    type: Literal["text"] = "text"
    text: str
    # The reference spells this one field in snake_case on the wire.
    text_elements: list[TextElement] = Field(default_factory=list, alias="text_elements")


class _RemoteMediaInput(WireModel):
    url: Omittable[str] = None
    file_id: Omittable[str] = None

    @model_validator(mode="after")
    def _needs_a_source(self) -> _RemoteMediaInput:
        if self.url is None and self.file_id is None:
            raise ValueError("needs `url` or `fileId`")
        return self


class ImageInput(_RemoteMediaInput):
    type: Literal["image"] = "image"
    detail: Omittable[ImageDetail] = None


class LocalImageInput(WireModel):
    type: Literal["localImage"] = "localImage"
    path: str
    detail: Omittable[ImageDetail] = None


class AudioInput(_RemoteMediaInput):
    type: Literal["audio"] = "audio"


class LocalAudioInput(WireModel):
    type: Literal["localAudio"] = "localAudio"
    path: str


class SkillInput(WireModel):
    type: Literal["skill"] = "skill"
    name: str
    path: str


class MentionInput(WireModel):
    type: Literal["mention"] = "mention"
    name: str
    path: str


UserInput = Annotated[
    TextInput | ImageInput | LocalImageInput | AudioInput | LocalAudioInput | SkillInput | MentionInput,
    Field(discriminator="type"),
]


class _ItemTimes(WireModel):
    """Lifecycle times every item carries alongside its payload."""

    started_at_ms: Omittable[int] = None
    completed_at_ms: Omittable[int] = None


class UserMessageItem(_ItemTimes):
    type: Literal["userMessage"] = "userMessage"
    id: str
    client_id: str | None = None
    """The `clientUserMessageId` the client gave `turn/start` for this message, if any."""
    content: list[UserInput]


MessagePhase = Literal["commentary", "partial_answer", "final_answer"]

AgentMessageDelivery = Literal["async"]


class AgentMessageDisplay(WireModel):
    """A presentation instruction for the client to apply to this answer when recovering history."""

    action: str
    block_type: str | None = None
    cyber_trusted_access: bool | None = None
    check_trusted_contacts: bool | None = None


class AgentMessageModeration(WireModel):
    moderated: bool
    display: AgentMessageDisplay | None = None


class MemoryCitationEntry(WireModel):
    path: str
    line_start: int
    line_end: int
    note: str


class MemoryCitation(WireModel):
    entries: list[MemoryCitationEntry]
    thread_ids: list[str]


class AsyncUserInputQuestion(WireModel):
    title: str
    options: list[str] | None = None


class AgentMessageItem(_ItemTimes):
    type: Literal["agentMessage"] = "agentMessage"
    id: str
    text: str
    phase: MessagePhase | None = None
    """Null: phase unknown (what a provider that does not classify its text gives)."""
    moderation: AgentMessageModeration | None = None
    memory_citation: MemoryCitation | None = None
    delivery: AgentMessageDelivery | None = None
    questions: list[AsyncUserInputQuestion] | None = None


McpToolCallStatus = Literal["inProgress", "completed", "failed"]


class McpToolCallResult(WireModel):
    """What the MCP server returned; content blocks stay raw MCP JSON."""

    content: list[JsonValue]
    structured_content: JsonValue = None
    meta: NullableMetaField = None


class McpToolCallError(WireModel):
    message: str


class McpToolCallAppContext(WireModel):
    """Which hosted app (connector) a call on `codex_apps` was attributed to."""

    connector_id: str
    link_id: str | None = None
    resource_uri: str | None = None
    app_name: str | None = None
    """The connector's display name."""
    action_name: str | None = None
    """The tool called, by its raw name."""


McpAppDisplayMode = Literal["inline", "fullscreen"]


class McpAppUi(WireModel):
    """UI resource and display preference for a tool's results, captured from its descriptor."""

    resource_uri: str
    preferred_model_display_mode: McpAppDisplayMode


class McpToolCallItem(_ItemTimes):
    type: Literal["mcpToolCall"] = "mcpToolCall"
    id: str
    server: str
    tool: str
    """The tool's raw name on its server (not the model-facing `mcp__server__tool` name)."""
    status: McpToolCallStatus
    arguments: JsonValue = None
    app_context: McpToolCallAppContext | None = None
    mcp_app_resource_uri: Omittable[str] = None
    """Legacy spelling of `mcpAppUi.resourceUri`."""
    mcp_app_ui: McpAppUi | None = None
    plugin_id: str | None = None
    read_only_hint: bool | None = None
    """The tool's `readOnlyHint` annotation; null when it gave none."""
    result: McpToolCallResult | None = None
    error: McpToolCallError | None = None
    duration_ms: int | None = None


DynamicToolCallStatus = Literal["inProgress", "completed", "failed"]


class DynamicToolCallInputText(WireModel):
    type: Literal["inputText"] = "inputText"
    text: str


class DynamicToolCallInputImage(WireModel):
    type: Literal["inputImage"] = "inputImage"
    image_url: str


class DynamicToolCallInputAudio(WireModel):
    type: Literal["inputAudio"] = "inputAudio"
    audio_url: str


DynamicToolCallOutputContentItem = Annotated[
    DynamicToolCallInputText | DynamicToolCallInputImage | DynamicToolCallInputAudio,
    Field(discriminator="type"),
]


class DynamicToolCallItem(_ItemTimes):
    """A call of a tool the host itself provides (not an MCP server's), such as the tool search."""

    type: Literal["dynamicToolCall"] = "dynamicToolCall"
    id: str
    namespace: str | None = None
    tool: str
    arguments: JsonValue = None
    status: DynamicToolCallStatus
    content_items: list[DynamicToolCallOutputContentItem] | None = None
    success: bool | None = None
    duration_ms: int | None = None


ThreadItem = Annotated[
    UserMessageItem | AgentMessageItem | McpToolCallItem | DynamicToolCallItem, Field(discriminator="type")
]
