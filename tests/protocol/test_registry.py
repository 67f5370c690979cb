"""The registries name every method of the reference, with the reference's types, and read params right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, get_args, get_origin

import pytest
from pydantic import ValidationError

from protocol.account import ChatgptLogin, ChatgptLoginResult
from protocol.base import WireModel
from protocol.initialize import InitializeParams, InitializeResponse
from protocol.mcp import McpServerToolCallParams
from protocol.registry import (
    EXTENSION_NOTIFICATIONS,
    NOTIFICATIONS,
    REQUESTS,
    SERVER_REQUEST_RESULTS,
    SERVER_REQUESTS,
)
from protocol.threads import ThreadListParams
from tests.protocol.reference import reference_methods
from tests.protocol.wire_keys import key_list


def _type_name(reference: str | None) -> str | None:
    return None if reference is None else reference.partition(":")[2]


def test_requests_cover_every_reference_method_with_its_params_and_result_types() -> None:
    expected = {
        m.name: (None if m.params == "null" else m.params, m.result)
        for m in reference_methods("Client → server requests")
    }

    registered = {
        name: (_type_name(spec.params_ref), _type_name(spec.result_ref))
        for name, spec in REQUESTS.items()
        if name in expected
    }

    assert len(expected) == 16
    assert registered == expected


def test_only_codex_methods_and_documented_extensions_are_beyond_the_reference() -> None:
    documented = {m.name for m in reference_methods("Client → server requests")}

    codex = key_list().data["requests"]
    extra = {name for name in REQUESTS if name not in documented and name not in codex}

    assert extra == {"mcpServer/views/read"}
    assert all(REQUESTS[name].extension for name in extra)
    assert REQUESTS["mcpServer/tool/call"].extension


def test_notifications_cover_every_reference_notification() -> None:
    expected = {m.name: m.params for m in reference_methods("Server → client notifications")}
    registered = {name: model.__name__ for name, model in NOTIFICATIONS.items()}

    assert len(expected) == 15
    assert {name: registered.get(name) for name in expected} == expected


def test_notifications_beyond_the_reference_are_codex_notifications_with_their_binding_types() -> None:
    documented = {m.name for m in reference_methods("Server → client notifications")}
    bindings = key_list().data["notifications"]

    extra = {
        name: model.__name__
        for name, model in NOTIFICATIONS.items()
        if name not in documented and name not in EXTENSION_NOTIFICATIONS
    }

    assert extra == {name: bindings[name] for name in extra}
    assert {"thread/status/changed", "thread/tokenUsage/updated", "account/login/completed"} <= set(extra)


def test_server_requests_cover_the_reference_and_each_has_a_result_model() -> None:
    expected = {m.name: m.params for m in reference_methods("Server → client requests")}

    assert {name: model.__name__ for name, model in SERVER_REQUESTS.items()} == expected
    assert set(SERVER_REQUEST_RESULTS) == set(expected)
    assert (
        SERVER_REQUEST_RESULTS["mcpServer/elicitation/request"].__name__
        == "McpServerElicitationRequestResponse"
    )


def _wire_models_of(wire_type: object) -> list[object]:
    """A model class as itself; a tagged union as its variants."""
    if isinstance(wire_type, type):
        return [wire_type]
    union = get_args(wire_type)[0] if get_origin(wire_type) is Annotated else wire_type
    return list(get_args(union))


HANDSHAKE = "initialize"
"""Its models are hand-written (pydantic stays off the path to the first reply); they read and
write the wire the same way."""


def test_every_entry_resolves_to_wire_models() -> None:
    specs = [spec for method, spec in REQUESTS.items() if method != HANDSHAKE]
    types = [spec.result for spec in specs]
    types += [spec.params for spec in specs if spec.params_ref is not None]
    types += [*NOTIFICATIONS.values(), *SERVER_REQUESTS.values(), *SERVER_REQUEST_RESULTS.values()]

    models = [_wire_models_of(wire_type) for wire_type in types]

    assert all(variants for variants in models)
    assert all(isinstance(m, type) and issubclass(m, WireModel) for variants in models for m in variants)


HANDSHAKE_PARAMS = {"clientInfo": {"name": "c", "version": "1"}, "capabilities": {"experimentalApi": True}}
HANDSHAKE_RESULT = {"userAgent": "a/1", "codexHome": "/h", "platformFamily": "unix", "platformOs": "linux"}


def test_handshake_models_read_and_write_the_wire() -> None:
    spec = REQUESTS[HANDSHAKE]

    params = spec.parse_params(HANDSHAKE_PARAMS)
    result = spec.parse_result(HANDSHAKE_RESULT)

    assert (spec.params, spec.result) == (InitializeParams, InitializeResponse)
    assert isinstance(params, InitializeParams)
    assert isinstance(result, InitializeResponse)
    assert params.client_info.name == "c"
    assert params.to_wire()["capabilities"]["experimentalApi"] is True
    assert result.to_wire() == HANDSHAKE_RESULT


def test_bad_handshake_params_are_reported_by_their_wire_name() -> None:
    with pytest.raises(ValidationError, match=r"clientInfo\.version: Field required"):
        REQUESTS[HANDSHAKE].parse_params({"clientInfo": {"name": "c"}})


@pytest.mark.parametrize("raw", [None, {}, {"ignored": True}])
@pytest.mark.parametrize("method", ["config/mcpServer/reload", "account/logout"])
def test_null_params_methods_accept_absent_null_and_any_object(method: str, raw: object) -> None:
    assert REQUESTS[method].parse_params(raw) is None


def test_null_params_methods_reject_params_that_are_not_an_object() -> None:
    with pytest.raises(ValidationError):
        REQUESTS["account/logout"].parse_params([1, 2])


def test_absent_params_read_as_an_empty_object() -> None:
    assert REQUESTS["thread/list"].parse_params(None) == ThreadListParams()


def test_a_missing_required_param_is_reported_by_its_wire_name() -> None:
    with pytest.raises(ValidationError) as caught:
        REQUESTS["turn/start"].parse_params({"input": []})

    assert [(error["type"], error["loc"]) for error in caught.value.errors()] == [("missing", ("threadId",))]


def test_tool_call_params_need_no_thread_id() -> None:
    params = REQUESTS["mcpServer/tool/call"].parse_params({"server": "docs", "tool": "search"})

    assert params == McpServerToolCallParams(server="docs", tool="search")
    assert params.thread_id is None


def test_union_params_and_results_are_read_by_their_type_tag() -> None:
    spec = REQUESTS["account/login/start"]

    params = spec.parse_params({"type": "chatgpt"})
    result = spec.parse_result({"type": "chatgpt", "authUrl": "https://auth.example.test", "loginId": "l1"})

    assert isinstance(params, ChatgptLogin)
    assert isinstance(result, ChatgptLoginResult)
    assert result.to_wire() == {"type": "chatgpt", "authUrl": "https://auth.example.test", "loginId": "l1"}


ANSWER_AS_THE_HANDLER_DOES = (
    "from protocol.initialize import InitializeParams, InitializeResponse; "
    f"InitializeParams.model_validate({HANDSHAKE_PARAMS!r}); "
    f"InitializeResponse.model_validate({HANDSHAKE_RESULT!r}).to_wire()"
)
ANSWER_THROUGH_THE_REGISTRY = (
    "from protocol.registry import REQUESTS; "
    f"REQUESTS['initialize'].parse_params({HANDSHAKE_PARAMS!r}); "
    f"REQUESTS['initialize'].parse_result({HANDSHAKE_RESULT!r}).to_wire()"
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (ANSWER_AS_THE_HANDLER_DOES, "['protocol.initialize'] pydantic=False"),
        (
            ANSWER_THROUGH_THE_REGISTRY,
            "['protocol.base', 'protocol.initialize', 'protocol.registry'] pydantic=True",
        ),
    ],
    ids=["handler", "registry"],
)
def test_answering_initialize_does_not_build_the_other_wire_models(answer: str, expected: str) -> None:
    """The handler (app_server/handlers/initialize.py) reads and writes the handshake models directly,
    without pydantic; through the registry, only the handshake module is resolved."""
    probe = (
        f"import sys; {answer}; "
        "print(sorted(m for m in sys.modules if m.startswith('protocol.')), "
        "f\"pydantic={'pydantic' in sys.modules}\")"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    assert loaded.strip() == expected


def test_extension_notifications_are_registered_and_absent_from_the_codex_bindings() -> None:
    bindings = key_list().data["notifications"]

    assert set(EXTENSION_NOTIFICATIONS) <= set(NOTIFICATIONS)
    assert not set(EXTENSION_NOTIFICATIONS) & set(bindings)
