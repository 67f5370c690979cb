"""Every wire model reads and writes the wire shape: camelCase by alias, tolerant input, exact output."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, TypeAdapter, ValidationError

from protocol.account import ApiKeyLogin, LoginAccountParams
from protocol.base import WireModel
from protocol.initialize import ClientInfo, InitializeParams, wire_name
from protocol.items import AgentMessageItem, ImageInput, McpToolCallItem, ThreadItem, UserMessageItem
from protocol.mcp import McpServerOauthLoginResponse, McpServerToolCallParams
from protocol.notifications import McpServerStatusUpdatedNotification
from protocol.server_requests import McpServerElicitationRequestParams
from protocol.threads import ThreadListParams, ThreadResumeParams
from protocol.views import McpServerProvenance
from tests.protocol.samples import MCP_TOOL_CALL, SAMPLES, THREAD_ID
from tests.protocol.wire_types import (
    handshake_model_classes,
    is_handshake_model,
    models_in,
    public_names,
    wire_model_classes,
)


def _attributes(model: type[Any]) -> dict[str, str]:
    """A model's attribute names by wire name: a WireModel's from pydantic, a handshake dataclass's
    from `dataclasses.fields`."""
    if issubclass(model, BaseModel):
        return {info.alias or name: name for name, info in model.model_fields.items()}
    return {wire_name(field.name): field.name for field in dataclasses.fields(model)}


def _parse(type_name: str, wire: dict[str, Any]) -> Any:
    """`wire` read after a trip through JSON text; handshake models through their own `model_validate`."""
    wire_type = public_names()[type_name]
    if is_handshake_model(wire_type):
        return wire_type.model_validate(json.loads(json.dumps(wire)))
    return TypeAdapter(wire_type).validate_json(json.dumps(wire))


def _without_added_nulls(written: Any, sent: Any) -> Any:
    """`written` minus the keys `sent` lacked, each of which must hold an unset field's default.

    Unset fields come back as null (nullable fields) or as an empty default (`false`, `[]`, `{}`).
    """
    if isinstance(written, dict) and isinstance(sent, dict):
        added = {key: value for key, value in written.items() if key not in sent}
        assert all(value in (None, False, [], {}) for value in added.values()), f"fields appeared: {added}"
        return {key: _without_added_nulls(value, sent[key]) for key, value in written.items() if key in sent}
    if isinstance(written, list) and isinstance(sent, list) and len(written) == len(sent):
        return [_without_added_nulls(w, s) for w, s in zip(written, sent, strict=True)]
    return written


def _with_unknown_fields(parsed: Any, wire: Any) -> Any:
    """`wire` with an unknown field added to every object that a model (not raw JSON) was read from."""
    if isinstance(parsed, BaseModel) and parsed.model_config.get("extra") == "allow":
        return wire  # an open object (Codex's `Config`): every key it is given is data, kept
    if (isinstance(parsed, BaseModel) or is_handshake_model(parsed)) and isinstance(wire, dict):
        attributes = _attributes(type(parsed))
        fields = {
            key: _with_unknown_fields(getattr(parsed, attributes[key]), value) if key in attributes else value
            for key, value in wire.items()
        }
        return {**fields, "someFutureField": 1}
    if isinstance(parsed, list) and isinstance(wire, list):
        return [_with_unknown_fields(p, w) for p, w in zip(parsed, wire, strict=True)]
    if isinstance(parsed, dict) and isinstance(wire, dict):
        return {key: _with_unknown_fields(parsed.get(key), value) for key, value in wire.items()}
    return wire


@pytest.mark.parametrize(("type_name", "wire"), SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_every_sample_round_trips_through_json_by_alias(type_name: str, wire: dict[str, Any]) -> None:
    value = _parse(type_name, wire)

    written = value.to_wire()

    assert json.loads(json.dumps(written)) == written
    assert _without_added_nulls(written, wire) == wire


@pytest.mark.parametrize(("type_name", "wire"), SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_unknown_fields_are_ignored_at_every_level(type_name: str, wire: dict[str, Any]) -> None:
    parsed = _parse(type_name, wire)

    with_unknown = _with_unknown_fields(parsed, wire)

    assert with_unknown != wire
    assert _parse(type_name, with_unknown).to_wire() == parsed.to_wire()


def test_every_wire_model_is_exercised_by_a_sample() -> None:
    exercised = {type(model) for type_name, wire in SAMPLES for model in models_in(_parse(type_name, wire))}

    classes = {**wire_model_classes(), **handshake_model_classes()}

    missing = sorted(name for name, cls in classes.items() if cls not in exercised)

    assert {"ClientInfo", "InitializeCapabilities", "InitializeParams", "InitializeResponse"} <= set(classes)

    assert missing == []


def test_optional_fields_that_are_not_nullable_are_left_out_when_unset() -> None:
    resume = ThreadResumeParams(thread_id=THREAD_ID).to_wire()
    tool_call = McpServerToolCallParams(server="docs", tool="search").to_wire()
    provenance = McpServerProvenance(source="config").to_wire()
    login = McpServerOauthLoginResponse(authorization_url="https://auth.example.test").to_wire()

    assert "excludeTurns" not in resume
    assert login == {"authorizationUrl": "https://auth.example.test"}
    assert "arguments" not in tool_call
    assert "_meta" not in tool_call
    assert provenance == {"source": "config"}


def test_nullable_fields_are_written_as_null() -> None:
    resume = ThreadResumeParams(thread_id=THREAD_ID).to_wire()
    status = McpServerStatusUpdatedNotification(name="docs", status="ready").to_wire()
    handshake = InitializeParams(client_info=ClientInfo(name="vscode", version="1.0.0")).to_wire()

    assert resume["model"] is None
    assert status == {
        "name": "docs",
        "status": "ready",
        "threadId": None,
        "error": None,
        "failureReason": None,
    }
    assert handshake == {
        "clientInfo": {"name": "vscode", "version": "1.0.0", "title": None},
        "capabilities": None,
    }


def test_underscore_meta_is_read_and_written_under_its_wire_name() -> None:
    params = McpServerElicitationRequestParams.model_validate(
        {
            "threadId": "t",
            "serverName": "docs",
            "mode": "form",
            "message": "?",
            "requestedSchema": {"type": "object", "properties": {}},
            "_meta": {"k": 1},
        }
    )

    assert params.meta == {"k": 1}
    assert params.to_wire()["_meta"] == {"k": 1}


def test_thread_items_are_told_apart_by_their_type_tag() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(list[ThreadItem])

    items = adapter.validate_python(
        [
            MCP_TOOL_CALL,
            {"type": "agentMessage", "id": "a", "text": "t"},
            {"type": "userMessage", "id": "u", "content": []},
        ]
    )

    assert [type(item) for item in items] == [McpToolCallItem, AgentMessageItem, UserMessageItem]


def test_an_unknown_item_type_is_rejected_naming_the_tag() -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(ThreadItem).validate_python({"type": "telepathy", "id": "x"})

    assert caught.value.errors()[0]["type"] == "union_tag_invalid"


def test_an_image_input_needs_a_url_or_a_file_id() -> None:
    assert ImageInput.model_validate({"type": "image", "fileId": "f"}).to_wire() == {
        "type": "image",
        "fileId": "f",
    }
    with pytest.raises(ValidationError):
        ImageInput.model_validate({"type": "image"})


def test_a_bad_value_is_reported_at_its_wire_field_name() -> None:
    with pytest.raises(ValidationError) as caught:
        ThreadListParams.model_validate({"sortKey": "by_mood"})

    assert caught.value.errors()[0]["loc"] == ("sortKey",)


def test_credentials_stay_out_of_reprs_but_are_sent_verbatim() -> None:
    login = TypeAdapter(LoginAccountParams).validate_python({"type": "apiKey", "apiKey": "sk-secret"})

    assert isinstance(login, ApiKeyLogin)
    assert isinstance(login.api_key, SecretStr)
    assert "sk-secret" not in repr(login)
    assert login.to_wire() == {"type": "apiKey", "apiKey": "sk-secret"}


def test_every_model_derives_from_wire_model() -> None:
    assert all(issubclass(cls, WireModel) for cls in wire_model_classes().values())
