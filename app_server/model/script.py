"""The script a scripted model server plays: steps of text and tool calls, holds and injected failures.

File format (JSON), e.g.::

    {"steps": [
      {"tool_calls": [{"name": "mcp__fixture__whoami", "arguments": {"tag": "a"}}],
       "hold": "before_response"},
      {"text": "The answer is 42.",
       "failures": [{"status": 500}, {"status": 429, "retry_after": 0}, {"cut_after": 3}],
       "usage": {"input_tokens": 120, "cached_input_tokens": 100, "output_tokens": 8}}
    ]}

A step has `text` (a string, streamed word by word, or a list of exact deltas), `tool_calls` (each
`name`, `arguments` as an object or a raw JSON string, optional `call_id` and `namespace`), or
both, in which case the calls come first and the text follows. `hold` stalls the step's stream
until released: `before_response` sends nothing of the body, `after_first_output` stalls after the
first text delta or tool call. `failures` are played one per attempt before the step is served:
`status` answers that HTTP status with an OpenAI-style error body (`message`, and `Retry-After` if
`retry_after`), `cut_after` streams that many events and then ends the stream without completing it, and
`error_code` fails the response inside the stream (`response.failed`, or a Chat error chunk) with
that code and `message`.
`usage` is the token usage the step's response reports (`response.completed` usage, or the Chat
Completions usage chunk): `input_tokens`, `cached_input_tokens`, `output_tokens` and
`reasoning_output_tokens`, each 0 when left out; a step without it reports `DEFAULT_USAGE`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_WORD = re.compile(r"\s*\S+\s*$|\s*\S+")


class ScriptedToolCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    call_id: str | None = None
    namespace: str | None = None
    """Name the tool as `namespace` + `name` in a Responses API `function_call` (Codex's namespaced
    tools); ignored on the Chat Completions wire."""

    @property
    def arguments_json(self) -> str:
        """The arguments as the model would send them: JSON text."""
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


class ScriptedFailure(BaseModel):
    """One failed attempt: an HTTP error status, a stream cut after `cut_after` events, or an in-stream
    failure with `error_code`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: int | None = Field(default=None, ge=400, le=599)
    message: str = "scripted failure"
    retry_after: float | None = Field(default=None, ge=0)
    cut_after: int | None = Field(default=None, ge=0)
    error_code: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptedFailure:
        kinds = [self.status, self.cut_after, self.error_code]
        if sum(kind is not None for kind in kinds) != 1:
            raise ValueError("a failure has exactly one of `status`, `cut_after` or `error_code`")
        return self


class ScriptedUsage(BaseModel):
    """The token counts a step's response reports; the total is input + output, as providers count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: int = Field(default=0, ge=0)
    cached_input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    reasoning_output_tokens: int = Field(default=0, ge=0)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


DEFAULT_USAGE = ScriptedUsage(input_tokens=10, output_tokens=5)


class ScriptStep(BaseModel):
    """What the model answers to one request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | list[str] | None = None
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    hold: Literal["before_response", "after_first_output"] | None = None
    failures: list[ScriptedFailure] = Field(default_factory=list)
    usage: ScriptedUsage = DEFAULT_USAGE

    @model_validator(mode="after")
    def _says_something(self) -> ScriptStep:
        if not self.text and not self.tool_calls:
            raise ValueError("a step needs `text`, `tool_calls`, or both")
        return self

    @property
    def deltas(self) -> list[str]:
        """The text as streamed: the given list, or the string split after each word."""
        if self.text is None:
            return []
        if isinstance(self.text, list):
            return self.text
        return _WORD.findall(self.text) or [self.text]


class Script(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: list[ScriptStep]

    @classmethod
    def load(cls, path: Path) -> Script:
        """Read a script file. Raises pydantic.ValidationError if it does not match the format."""
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
