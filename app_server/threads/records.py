"""The typed records a thread journal is made of: one JSON object per line, tagged by `type`.

A journal starts with one `thread` header, then holds, in the order they happened:
`turnStarted`, `itemStarted`, `itemCompleted`, `tokensUsed`, `turnCompleted` and `threadUpdated`.
Every record carries `atMs`, the Unix time in milliseconds when it was written.
Items are stored as the wire dicts announced to clients, so replaying a journal gives back
exactly what was announced. Unknown fields are ignored when read, so newer writers stay readable.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from protocol.base import WireModel
from protocol.fields import JsonObject, JsonValue
from protocol.notifications import TokenUsageBreakdown

JOURNAL_VERSION = 1

FinalTurnStatus = Literal["completed", "interrupted", "failed"]


class _SettingFields(WireModel):
    """Every setting a thread runs under (model, cwd, policies, instructions), each optional: the
    one field list that settings and changes share."""

    cwd: str | None = None
    model_provider: str | None = None
    model: str | None = None
    approval_policy: JsonValue = None
    approvals_reviewer: JsonValue = None
    sandbox: JsonValue = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    config: JsonObject | None = None
    reasoning_effort: str | None = None
    service_tier: str | None = None
    personality: str | None = None


SETTING_FIELDS = frozenset(_SettingFields.model_fields)
"""The names of the settings a start, a resume or a turn may set."""


class ThreadSettings(_SettingFields):
    """What a thread runs under, chosen when it starts; `cwd` and `model_provider` always known."""

    cwd: str
    model_provider: str
    thread_source: str | None = None


class ThreadChanges(_SettingFields):
    """A change to a thread's metadata or settings; only the fields that were set apply."""

    name: str | None = None
    preview: str | None = None
    archived: bool | None = None


class ThreadHeader(ThreadSettings):
    """First line of a journal: the thread's identity and its settings at creation."""

    type: Literal["thread"] = "thread"
    version: int = JOURNAL_VERSION
    id: str
    at_ms: int
    cli_version: str
    source: JsonValue = "appServer"
    name: str | None = None
    preview: str = ""
    archived: bool = False
    forked_from_id: str | None = None
    """The thread this one was forked from (its turns were copied into this journal)."""


class TurnStarted(WireModel):
    type: Literal["turnStarted"] = "turnStarted"
    at_ms: int
    turn_id: str
    root_turn_id: str | None = None


class ItemStarted(WireModel):
    type: Literal["itemStarted"] = "itemStarted"
    at_ms: int
    turn_id: str
    item: JsonObject


class ItemCompleted(WireModel):
    type: Literal["itemCompleted"] = "itemCompleted"
    at_ms: int
    turn_id: str
    item: JsonObject


class TokensUsed(WireModel):
    """The token usage one model response of a running turn reported."""

    type: Literal["tokensUsed"] = "tokensUsed"
    at_ms: int
    turn_id: str
    usage: TokenUsageBreakdown


class TurnCompleted(WireModel):
    type: Literal["turnCompleted"] = "turnCompleted"
    at_ms: int
    turn_id: str
    status: FinalTurnStatus
    error: JsonObject | None = None


class ThreadUpdated(ThreadChanges):
    """A `ThreadChanges` as written: serialized with only the fields that were set."""

    type: Literal["threadUpdated"] = "threadUpdated"
    at_ms: int

    @classmethod
    def of(cls, changes: ThreadChanges, at_ms: int) -> ThreadUpdated:
        """The record of `changes`, with only the fields they set."""
        return cls.model_validate({"at_ms": at_ms, **changes.model_dump(include=changes.model_fields_set)})


Record = Annotated[
    ThreadHeader | TurnStarted | ItemStarted | ItemCompleted | TokensUsed | TurnCompleted | ThreadUpdated,
    Field(discriminator="type"),
]

_RECORD = TypeAdapter[Record](Record)


def encode_record(record: Record) -> bytes:
    """One journal line, newline included; ASCII-escaped, so even a lone surrogate from a client encodes."""
    if isinstance(record, ThreadUpdated):
        # `type` and `atMs` are always written; the rest only when set, so "unset" stays distinct from null.
        payload: dict[str, Any] = record.model_dump(
            mode="json", by_alias=True, include=record.model_fields_set | {"type", "at_ms"}
        )
    else:
        payload = record.to_wire()
    return json.dumps(payload, separators=(",", ":")).encode() + b"\n"


def decode_record(line: bytes) -> Record:
    """Parse one journal line; raises ValueError when it is not a record.

    The stdlib parser is used because it accepts escaped lone surrogates, which clients may send.
    """
    return _RECORD.validate_python(json.loads(line))
