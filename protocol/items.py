"""Wire types of what a thread is made of: user input and the items of a turn (flat, tagged by `type`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from protocol.base import WireModel
from protocol.fields import JsonValue, MetaField, Omittable

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
    detail: ImageDetail | None = None


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

    started_at_ms: int | None = None
    completed_at_ms: int | None = None


class UserMessageItem(_ItemTimes):
    type: Literal["userMessage"] = "userMessage"
    id: str
    content: list[UserInput]


class AgentMessageItem(_ItemTimes):
    type: Literal["agentMessage"] = "agentMessage"
    id: str
    text: str


McpToolCallStatus = Literal["inProgress", "completed", "failed"]


class McpToolCallResult(WireModel):
    """What the MCP server returned; content blocks stay raw MCP JSON."""

    content: list[JsonValue]
    structured_content: JsonValue = None
    meta: MetaField = None


class McpToolCallError(WireModel):
    message: str


class McpToolCallAppContext(WireModel):
    """Which hosted app (connector) a call on `codex_apps` was attributed to."""

    connector_id: str
    link_id: str | None = None
    resource_uri: str | None = None


class McpToolCallItem(_ItemTimes):
    type: Literal["mcpToolCall"] = "mcpToolCall"
    id: str
    server: str
    tool: str
    """The tool's raw name on its server (not the model-facing `mcp__server__tool` name)."""
    status: McpToolCallStatus
    arguments: JsonValue = None
    app_context: McpToolCallAppContext | None = None
    plugin_id: str | None = None
    result: McpToolCallResult | None = None
    error: McpToolCallError | None = None
    duration_ms: int | None = None


ThreadItem = Annotated[UserMessageItem | AgentMessageItem | McpToolCallItem, Field(discriminator="type")]
