"""The provider-agnostic shape of one model step: what the turn runner sends and the events it gets back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class InputImage:
    """An image the model is shown: an http(s) URL it fetches, or a `data:` URL carrying the image."""

    url: str
    detail: str | None = None
    """`auto` | `low` | `high` (| `original`); None leaves it to the provider."""


@dataclass(frozen=True, slots=True)
class UserMessage:
    text: str
    images: tuple[InputImage, ...] = ()
    """Images attached to the message, shown after its text."""


@dataclass(frozen=True, slots=True)
class AssistantMessage:
    text: str


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """A tool call the model makes: an event of the step streaming it, then history sent back in later
    steps. `arguments` is the JSON text exactly as the model sent it, unparsed (it may not be valid)."""

    call_id: str
    name: str
    arguments: str
    namespace: str | None = None
    """Set when the model named the tool as `namespace` + `name` (the Responses API's namespaced
    tools, as Codex advertises MCP servers) rather than by its flat name."""


@dataclass(frozen=True, slots=True)
class FunctionCallOutput:
    """What a tool call returned, sent back to the model under the call's id: its text, and the
    images it returned (which each wire carries as real image inputs, not as text)."""

    call_id: str
    output: str
    images: tuple[InputImage, ...] = ()


HistoryItem = UserMessage | AssistantMessage | FunctionCall | FunctionCallOutput


@dataclass(frozen=True, slots=True)
class FunctionTool:
    """A tool advertised to the model: its model-facing name and a JSON Schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StepRequest:
    """Everything one step sends: the model, its instructions, the conversation so far and the tools."""

    model: str
    instructions: str
    history: tuple[HistoryItem, ...]
    tools: tuple[FunctionTool, ...] = ()
    developer_instructions: str | None = None
    parallel_tool_calls: bool = True


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's answer, in order; never repeated, even across retries."""

    text: str


@dataclass(frozen=True, slots=True)
class MessageDone:
    """The assistant finished one message; `text` is the whole of it (the concatenated deltas)."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_input_tokens: int = 0
    reasoning_output_tokens: int = 0

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any], *, sent: str, received: str) -> Usage:
        """Read a usage object whose counts are named `<sent>_tokens` / `<received>_tokens` (the
        Responses API says input/output, Chat Completions prompt/completion); bad counts read as 0."""
        sent_details = raw.get(f"{sent}_tokens_details")
        received_details = raw.get(f"{received}_tokens_details")
        return cls(
            input_tokens=_count(raw.get(f"{sent}_tokens")),
            output_tokens=_count(raw.get(f"{received}_tokens")),
            total_tokens=_count(raw.get("total_tokens")),
            cached_input_tokens=_count(
                sent_details.get("cached_tokens") if isinstance(sent_details, dict) else 0
            ),
            reasoning_output_tokens=_count(
                received_details.get("reasoning_tokens") if isinstance(received_details, dict) else 0
            ),
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True, slots=True)
class Completed:
    """The step's response is complete; always the last event of a successful step."""

    response_id: str
    usage: Usage | None = field(default=None)


@dataclass(frozen=True, slots=True)
class Retrying:
    """The provider failed before this step's answer began, and the client tries again: the turn's
    front-end hears why (Codex's `error` notification with `willRetry: true`)."""

    message: str


StepEvent = TextDelta | MessageDone | FunctionCall | Completed | Retrying
