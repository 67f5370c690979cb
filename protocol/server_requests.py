"""Wire types of the requests the server sends to the client (elicitation, user input) and their answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from protocol.base import WireModel
from protocol.fields import JsonObject, JsonValue, NullableMetaField, Omittable

ElicitationMode = Literal["form", "openai/form", "openaiForm", "url"]

McpServerElicitationAction = Literal["accept", "decline", "cancel"]


class McpServerElicitationRequestParams(WireModel):
    """An MCP server's `elicitation/create`, relayed to the client.

    The MCP request is flattened into these params, tagged by `mode`: `form`, `openai/form` and
    `openaiForm` carry `requestedSchema`; `url` carries `url` and `elicitationId` (each required for
    its mode, as the bindings' variants have them).
    `threadId` is left out for a direct `mcpServer/tool/call` made without one (an extension: the
    bindings require it).
    """

    thread_id: Omittable[str] = None
    server_name: str
    turn_id: str | None = None
    mode: ElicitationMode
    message: str
    meta: NullableMetaField = None
    requested_schema: Omittable[JsonObject] = None
    url: Omittable[str] = None
    elicitation_id: Omittable[str] = None

    @model_validator(mode="after")
    def _has_what_its_mode_needs(self) -> McpServerElicitationRequestParams:
        needed: dict[str, object] = (
            {"url": self.url, "elicitationId": self.elicitation_id}
            if self.mode == "url"
            else {"requestedSchema": self.requested_schema}
        )
        missing = [name for name, value in needed.items() if value is None]
        if missing:
            raise ValueError(f"mode `{self.mode}` needs {', '.join(f'`{name}`' for name in missing)}")
        return self


class McpServerElicitationRequestResponse(WireModel):
    action: McpServerElicitationAction
    content: JsonValue = None
    """The user's structured answer when accepted; null on decline or cancel."""
    meta: NullableMetaField = None


class ToolRequestUserInputOption(WireModel):
    label: str
    description: str


class ToolRequestUserInputQuestion(WireModel):
    id: str
    header: str
    question: str
    is_other: bool = False
    is_secret: bool = False
    options: list[ToolRequestUserInputOption] | None = None


class ToolRequestUserInputParams(WireModel):
    thread_id: str
    turn_id: str
    item_id: str
    questions: list[ToolRequestUserInputQuestion]
    is_blocking: bool = True
    auto_resolution_ms: int | None = None


class ToolRequestUserInputAnswer(WireModel):
    answers: list[str]


class ToolRequestUserInputResponse(WireModel):
    answers: dict[str, ToolRequestUserInputAnswer] = Field(default_factory=dict)
    """Keyed by question id."""
