"""`mcpServerStatus/list` entries and paging, served from the live generation without spawning anything."""

from __future__ import annotations

import anyio
import pytest

from app_server.config.servers import HttpServerConfig
from app_server.errors import InvalidParams
from app_server.mcp.client import RuntimeContext
from app_server.mcp.paging import page_bounds
from tests.app_server.mcp.conftest import Running, stdio_config, wire_status
from tests.support.processes import child_pids

pytestmark = pytest.mark.anyio

CONTEXT = RuntimeContext()
FIELDS = {
    "name",
    "runtimeStatus",
    "pluginId",
    "httpOrigin",
    "serverInfo",
    "serverCapabilities",
    "toolListMeta",
    "tools",
    "toolsError",
    "resources",
    "resourceTemplates",
    "authStatus",
}
"""The twelve fields Codex's `McpServerStatus` has; ours add `process` (an extension) where a server runs."""


@pytest.mark.parametrize(
    ("cursor", "limit", "expected"),
    [
        (None, None, (0, 5, None)),
        (None, 2, (0, 2, "2")),
        ("2", 2, (2, 4, "4")),
        ("4", 2, (4, 5, None)),
        ("5", 1, (5, 5, None)),
    ],
)
def test_pages_are_cut_at_the_decimal_cursor(
    cursor: str | None, limit: int | None, expected: tuple[int, int, str | None]
) -> None:
    assert page_bounds(cursor, limit, 5, what="MCP servers") == expected


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("x1", "invalid cursor: x1"),
        ("-1", "invalid cursor: -1"),
        ("6", "cursor 6 exceeds total MCP servers 5"),
    ],
)
def test_bad_cursors_are_refused(cursor: str, message: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        page_bounds(cursor, None, 5, what="MCP servers")
    assert caught.value.message == message


async def test_entries_are_sorted_by_name_and_carry_the_twelve_fields(running: Running) -> None:
    servers = {
        "b": stdio_config("b", "--page-size", "3", enabled_tools=("whoami", "echo", "cwd", "env", "block")),
        "B": stdio_config("B", enabled=False),
        "a": stdio_config("a", "--fault", "exit-at-start"),
    }
    cell = running.manager.open_cell(servers, CONTEXT, plugin_ids={"b": "plugin-b"})
    with anyio.fail_after(30):
        entries, next_cursor = await wire_status(running.manager, cell)
    assert next_cursor is None
    assert [entry["name"] for entry in entries] == ["B", "a", "b"]
    disabled, failed, ready = entries
    assert set(disabled) == FIELDS
    assert set(failed) == set(ready) == FIELDS | {"process"}
    assert ready["process"]["connectionId"] != failed["process"]["connectionId"]
    assert (ready["process"]["appLevel"], ready["process"]["threadIds"]) == (True, [])
    assert (disabled["runtimeStatus"], disabled["toolsError"], disabled["serverInfo"]) == (
        "disabled",
        None,
        None,
    )
    assert (failed["runtimeStatus"], failed["toolsError"]) == (
        "failed",
        "MCP server `a` exited during startup",
    )
    assert ready["runtimeStatus"] == "connected"
    assert ready["pluginId"] == "plugin-b"
    assert ready["authStatus"] == "unsupported"
    assert ready["httpOrigin"] is None
    assert ready["serverInfo"]["name"] == "fixture-b"
    assert "tools" in ready["serverCapabilities"]
    assert ready["toolListMeta"] == {"page": "first"}
    assert sorted(ready["tools"]) == ["block", "cwd", "echo", "env", "whoami"]
    assert ready["tools"]["echo"]["inputSchema"]["properties"]["text"]["type"] == "string"
    assert [r["uri"] for r in ready["resources"]] == ["fixture://info"]
    assert [t["uriTemplate"] for t in ready["resourceTemplates"]] == [
        "fixture://items/{item}",
        "fixture://meta/{key}",
    ]
    assert running.events.statuses("B") == []


async def test_tools_and_auth_only_skips_resources_and_pages_follow_the_cursor(running: Running) -> None:
    cell = running.manager.open_cell({name: stdio_config(name) for name in ("x", "y", "z")}, CONTEXT)
    with anyio.fail_after(30):
        first, cursor = await wire_status(running.manager, cell, limit=2, detail="toolsAndAuthOnly")
        rest, end = await wire_status(running.manager, cell, cursor=cursor, limit=2)
    assert ([e["name"] for e in first], cursor, [e["name"] for e in rest], end) == (
        ["x", "y"],
        "2",
        ["z"],
        None,
    )
    assert first[0]["resources"] == [] and first[0]["resourceTemplates"] == [] and first[0]["tools"]
    assert rest[0]["resources"]


async def test_a_status_call_never_respawns_connected_servers(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a"), "b": stdio_config("b")}, CONTEXT)
    with anyio.fail_after(30):
        await wire_status(running.manager, cell)
        children = child_pids()
        generation = cell.current
        for _ in range(5):
            entries, _ = await wire_status(running.manager, cell, server_name="b")
    assert [e["name"] for e in entries] == ["b"]
    assert child_pids() == children and cell.current is generation


async def test_an_unknown_server_name_gets_an_empty_page(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a", enabled=False)}, CONTEXT)
    assert await wire_status(running.manager, cell, server_name="zz") == ([], None)


async def test_http_servers_report_their_origin_and_bearer_auth(
    running: Running, http_fixture_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXTURE_TOKEN", "s3cret")
    url = http_fixture_url.replace("127.0.0.1", "user:pw@127.0.0.1") + "?q=1"
    cell = running.manager.open_cell(
        {"web": HttpServerConfig(url=url, bearer_token_env_var="FIXTURE_TOKEN")}, CONTEXT
    )
    with anyio.fail_after(30):
        (entry,), _ = await wire_status(running.manager, cell)
    port = http_fixture_url.split(":")[2].split("/", maxsplit=1)[0]
    assert (entry["runtimeStatus"], entry["httpOrigin"], entry["authStatus"]) == (
        "connected",
        f"http://127.0.0.1:{port}",
        "bearerToken",
    )
