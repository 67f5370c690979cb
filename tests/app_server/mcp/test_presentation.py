"""What an mcpToolCall item says of its tool: `readOnlyHint` from its annotations, `mcpAppUi` (and the
legacy `mcpAppResourceUri`) from the UI resource its `_meta` names, as Codex reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app_server.mcp.catalog import ToolRef
from app_server.mcp.presentation import app_ui, read_only_hint
from tests.app_server.threads.turn_harness import fixture_server, turn_daemon
from tests.fixtures.mcp_servers.fixture_server import WIDGET_URI


def ref(**definition: Any) -> ToolRef:
    return ToolRef("s", "t", {"name": "t", "inputSchema": {"type": "object"}, **definition})


@pytest.mark.parametrize(
    ("annotations", "hint"),
    [({"readOnlyHint": True}, True), ({"readOnlyHint": False}, False), ({}, None), (None, None)],
)
def test_the_read_only_hint_is_the_annotation_or_null(annotations: Any, hint: bool | None) -> None:
    tool = ref(annotations=annotations) if annotations is not None else ref()
    assert read_only_hint(tool) is hint
    assert read_only_hint(None) is None


@pytest.mark.parametrize(
    ("meta", "uri"),
    [
        (
            {"ui": {"resourceUri": "ui://a"}, "ui/resourceUri": "ui://b", "openai/outputTemplate": "ui://c"},
            "ui://a",
        ),
        ({"ui/resourceUri": "ui://b", "openai/outputTemplate": "ui://c"}, "ui://b"),
        ({"openai/outputTemplate": "ui://c"}, "ui://c"),
        ({"ui": {"resourceUri": "  "}, "openai/outputTemplate": "ui://c"}, "ui://c"),
    ],
)
def test_the_ui_resource_is_read_from_the_keys_codex_reads_in_its_order(meta: Any, uri: str) -> None:
    found = app_ui(ref(_meta=meta))
    assert found is not None
    assert found.to_wire() == {"resourceUri": uri, "preferredModelDisplayMode": "inline"}


def test_fullscreen_only_when_the_tool_prefers_it_and_no_ui_without_a_resource() -> None:
    fullscreen = {"ui": {"resourceUri": "ui://a"}, "openai/ui": {"preferredModelDisplayMode": "fullscreen"}}
    odd = {"ui": {"resourceUri": "ui://a"}, "openai/ui": {"preferredModelDisplayMode": "pip"}}
    found = app_ui(ref(_meta=fullscreen))
    assert found is not None and found.preferred_model_display_mode == "fullscreen"
    found = app_ui(ref(_meta=odd))
    assert found is not None and found.preferred_model_display_mode == "inline"
    assert app_ui(ref(_meta={"openai/ui": {"preferredModelDisplayMode": "fullscreen"}})) is None
    assert app_ui(ref(_meta="not an object")) is None
    assert app_ui(ref()) is None


@pytest.mark.anyio
async def test_tool_call_items_carry_the_hint_and_the_app_ui_through_the_daemon(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {
            "tool_calls": [
                {"name": "mcp__fix__widget"},
                {"name": "mcp__fix__echo", "arguments": {"text": "x"}},
            ]
        },
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"fix": fixture_server("A")}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        started = await turns.item_started("call_0_0")
        widget = await turns.item_completed("call_0_0")
        echoed = await turns.item_completed("call_0_1")
        await turns.turn_completed(turn_id)
        recorded = await turns.read_items(thread_id)

    ui = {"resourceUri": WIDGET_URI, "preferredModelDisplayMode": "fullscreen"}
    for item in (started, widget, recorded["call_0_0"]):
        assert (item["readOnlyHint"], item["mcpAppUi"], item["mcpAppResourceUri"]) == (True, ui, WIDGET_URI)
    # `echo` has no annotations and no UI: null, and the legacy key left out as the bindings allow.
    assert echoed["status"] == "completed"
    for item in (echoed, recorded["call_0_1"]):
        assert (item["readOnlyHint"], item["mcpAppUi"]) == (None, None)
        assert "mcpAppResourceUri" not in item
