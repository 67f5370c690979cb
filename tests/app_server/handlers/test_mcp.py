"""MCP methods through the real daemon over stdio: status, startup, tool calls, resource reads, reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from protocol import errors as codes
from tests.app_server.handlers.servers import STARTUP_STATUS, startup_until
from tests.support.config import cheap_server, fixture_server, write_config
from tests.support.daemon import Daemon
from tests.support.processes import alive, server_pids, wait_gone, wait_until

pytestmark = pytest.mark.anyio

STATUS_FIELDS = {
    "name",
    "authStatus",
    "tools",
    "resources",
    "resourceTemplates",
    "httpOrigin",
    "pluginId",
    "runtimeStatus",
    "serverCapabilities",
    "serverInfo",
    "toolListMeta",
    "toolsError",
}
HANG_TIMEOUT = (
    "MCP client for `c_hang` timed out after 0.5 seconds. "
    "Add or adjust `startup_timeout_sec` in your config.toml for `[mcp_servers.c_hang]`."
)
HUNG_TIMEOUT = (
    "MCP client for `hung` timed out after 1 seconds. "
    "Add or adjust `startup_timeout_sec` in your config.toml for `[mcp_servers.hung]`."
)
# Byte order: upper case sorts before lower case.
NAMES = ["Z_up", "a_cheap", "b_full", "c_hang", "d_off"]
APP_FINAL = {"Z_up": "ready", "a_cheap": "ready", "b_full": "ready", "c_hang": "failed"}


@dataclass
class Running:
    daemon: Daemon
    home: Path
    startup: dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """One daemon with a fast server, a full SDK server, one that hangs at start and a disabled one."""
    home = tmp_path_factory.mktemp("home")
    servers = {
        "b_full": fixture_server("b_full", "--page-size", "50", disabled_tools=["crash"]),
        "a_cheap": cheap_server("a_cheap"),
        "c_hang": fixture_server("c_hang", "--fault", "hang-at-start", startup_timeout_sec=0.5),
        "d_off": cheap_server("d_off", enabled=False),
        "Z_up": cheap_server("Z_up"),
    }
    write_config(home, servers, features={"apps": False})
    async with Daemon.start(home, max_wait=30) as daemon:
        await daemon.initialize()
        await daemon.call("mcpServerStatus/list", {"limit": 1})
        startup = await startup_until(daemon, APP_FINAL)
        yield Running(daemon, home, startup)


async def status(daemon: Daemon, **params: Any) -> list[dict[str, Any]]:
    result = await daemon.call("mcpServerStatus/list", params)
    assert result["nextCursor"] is None
    data: list[dict[str, Any]] = result["data"]
    return data


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in entries}


async def error_of(daemon: Daemon, method: str, params: Any) -> dict[str, Any]:
    response = await daemon.request(method, params)
    assert "error" in response, response
    error: dict[str, Any] = response["error"]
    return error


# ---- startup -------------------------------------------------------------------------------


async def test_startup_is_announced_starting_then_ready_or_failed_with_a_readable_timeout(
    running: Running,
) -> None:
    startup = running.startup
    assert set(startup) == set(APP_FINAL), "a disabled server is never announced"
    for name in ("Z_up", "a_cheap", "b_full"):
        assert [note["status"] for note in startup[name]] == ["starting", "ready"]
    assert [note["status"] for note in startup["c_hang"]] == ["starting", "failed"]
    assert startup["c_hang"][-1]["error"] == HANG_TIMEOUT
    assert all(note["threadId"] is None for notes in startup.values() for note in notes)


async def test_a_startup_timeout_is_reported_failed_at_the_deadline_before_the_hung_child_is_reaped(
    home: Path,
) -> None:
    """The child ignores SIGTERM, so it lives on for the daemon's SIGTERM grace after the deadline:
    the status request waiting for it to settle and the `failed` notification come before that."""
    hung = fixture_server("hung", "--fault", "hang-at-start", startup_timeout_sec=1)
    write_config(home, {"hung": hung}, features={"apps": False})
    async with Daemon.start(home, max_wait=30) as daemon:
        await daemon.initialize()
        starting = await daemon.next_notification(STARTUP_STATUS)
        assert (starting["params"]["name"], starting["params"]["status"]) == ("hung", "starting")
        await wait_until(lambda: "hung" in server_pids(daemon.process.pid))
        [pid] = server_pids(daemon.process.pid)["hung"]
        [entry] = await status(daemon)
        assert alive(pid), "the status request waited for the hung child to be reaped"
        failed = await daemon.next_notification(STARTUP_STATUS)
        assert alive(pid), "`failed` waited for the hung child to be reaped"
        assert (entry["runtimeStatus"], entry["toolsError"]) == ("failed", HUNG_TIMEOUT)
        assert (failed["params"]["status"], failed["params"]["error"]) == ("failed", HUNG_TIMEOUT)
        await wait_gone([pid])
        await wait_until(lambda: not list((home / "run").glob("mcp-children-*.json")))  # reaped


# ---- mcpServerStatus/list ------------------------------------------------------------------


async def test_status_lists_every_server_sorted_by_name_in_byte_order_with_the_wire_fields(
    running: Running,
) -> None:
    entries = await status(running.daemon)
    assert [entry["name"] for entry in entries] == NAMES
    for entry in entries:  # `process` (our extension) wherever a server runs, not for a disabled one
        assert set(entry) - {"process"} == STATUS_FIELDS
        assert ("process" in entry) == (entry["runtimeStatus"] != "disabled")
    full = by_name(entries)["b_full"]
    assert set(full) == STATUS_FIELDS | {"process"}
    assert full["runtimeStatus"] == "connected"
    assert full["authStatus"] == "unsupported"
    assert full["serverInfo"]["name"] == "fixture-b_full"
    assert full["toolListMeta"] == {"page": "first"}
    assert {"whoami", "echo", "fail"} <= set(full["tools"])
    assert full["tools"]["echo"]["inputSchema"]["properties"]["text"]["type"] == "string"
    assert [resource["uri"] for resource in full["resources"]] == ["fixture://info"]
    assert [t["uriTemplate"] for t in full["resourceTemplates"]] == [
        "fixture://items/{item}",
        "fixture://meta/{key}",
    ]
    assert full["toolsError"] is None
    assert full["httpOrigin"] is None and full["pluginId"] is None


async def test_a_failed_server_is_listed_with_its_error_and_a_disabled_one_is_never_started(
    running: Running,
) -> None:
    entries = by_name(await status(running.daemon))
    assert entries["c_hang"]["runtimeStatus"] == "failed"
    assert entries["c_hang"]["toolsError"] == HANG_TIMEOUT
    assert entries["c_hang"]["tools"] == {}
    assert entries["d_off"]["runtimeStatus"] == "disabled"
    assert entries["d_off"]["toolsError"] is None
    processes = server_pids(running.daemon.process.pid)
    assert "d_off" not in processes
    assert len(processes["a_cheap"]) == 1
    await wait_until(lambda: "c_hang" not in server_pids(running.daemon.process.pid))  # killed


async def test_status_pages_by_cursor_until_the_next_cursor_is_null(running: Running) -> None:
    names, cursors = [], []
    cursor = None
    for _ in range(len(NAMES)):
        params: dict[str, Any] = {"limit": 2, "detail": "toolsAndAuthOnly"}
        if cursor is not None:
            params["cursor"] = cursor
        page = await running.daemon.call("mcpServerStatus/list", params)
        names += [entry["name"] for entry in page["data"]]
        cursor = page["nextCursor"]
        cursors.append(cursor)
        if cursor is None:
            break
    assert cursors == ["2", "4", None]
    assert names == NAMES
    at_end = await running.daemon.call("mcpServerStatus/list", {"cursor": str(len(NAMES))})
    assert at_end == {"data": [], "nextCursor": None}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cursor": "x"}, "invalid cursor: x"),
        ({"cursor": "-1"}, "invalid cursor: -1"),
        ({"cursor": "9"}, "cursor 9 exceeds total MCP servers 5"),
        ({"cursor": "x" * 20_000}, "invalid cursor: " + "x" * 200 + "... (19800 more characters)"),
        ({"cursor": "\ud800"}, "invalid cursor: \\ud800"),
    ],
)
async def test_bad_cursors_are_invalid_params_quoting_at_most_200_characters(
    running: Running, params: dict[str, Any], message: str
) -> None:
    error = await error_of(running.daemon, "mcpServerStatus/list", params)
    assert error == {"code": codes.INVALID_PARAMS, "message": message}


async def test_an_unknown_server_name_or_a_zero_limit_is_served_as_codex_serves_it(running: Running) -> None:
    assert await running.daemon.call("mcpServerStatus/list", {"serverName": "nope"}) == {
        "data": [],
        "nextCursor": None,
    }
    page = await running.daemon.call("mcpServerStatus/list", {"limit": 0})
    assert (len(page["data"]), page["nextCursor"]) == (1, "1")
    assert len((await running.daemon.call("thread/list", {"limit": 0}))["data"]) <= 1


async def test_tools_and_auth_only_detail_leaves_resources_out(running: Running) -> None:
    (full,) = await status(running.daemon, serverName="b_full", detail="toolsAndAuthOnly")
    assert "whoami" in full["tools"]
    assert full["resources"] == [] and full["resourceTemplates"] == []
    assert full["authStatus"] == "unsupported"


async def test_the_server_name_filter_lists_only_that_server(running: Running) -> None:
    entries = await status(running.daemon, serverName="a_cheap")
    assert [entry["name"] for entry in entries] == ["a_cheap"]
    assert entries[0]["runtimeStatus"] == "connected"


async def test_listing_status_twice_starts_no_process(running: Running) -> None:
    before = server_pids(running.daemon.process.pid)
    first = await status(running.daemon)
    second = await status(running.daemon)
    assert server_pids(running.daemon.process.pid) == before
    assert first == second


# ---- mcpServer/tool/call and mcpServer/resource/read without a thread ----------------------


@pytest.mark.parametrize("arguments", [[1], "text", 7, True])
async def test_a_tool_call_whose_arguments_are_not_an_object_is_refused(
    running: Running, arguments: Any
) -> None:
    call = {"server": "b_full", "tool": "echo", "arguments": arguments}
    error = await error_of(running.daemon, "mcpServer/tool/call", call)
    assert error["code"] == codes.INVALID_PARAMS
    assert "`arguments` must be an object" in error["message"]


async def test_a_threadless_tool_call_is_answered_by_the_app_level_server(running: Running) -> None:
    result = await running.daemon.call(
        "mcpServer/tool/call", {"server": "b_full", "tool": "whoami", "arguments": {}}
    )
    assert result["structuredContent"]["label"] == "b_full"
    assert server_pids(running.daemon.process.pid)["b_full"] == [result["structuredContent"]["pid"]]
    assert result["isError"] is False
    assert "_meta" not in result


async def test_progress_of_a_direct_call_goes_to_its_caller_with_the_request_id(running: Running) -> None:
    daemon = running.daemon
    call = {"server": "b_full", "tool": "progress", "arguments": {"steps": 2}}

    response = await daemon.request("mcpServer/tool/call", call)
    first = await daemon.next_notification("mcpServer/toolCall/progress")
    second = await daemon.next_notification("mcpServer/toolCall/progress")
    request_id = response["id"]

    assert response["result"]["content"][0]["text"] == "done"
    expected = {"requestId": request_id, "server": "b_full", "tool": "progress", "total": 2.0}
    assert first["params"] == {**expected, "progress": 1.0, "message": "step 1"}
    assert second["params"] == {**expected, "progress": 2.0, "message": "step 2"}


async def test_a_threadless_resource_read_answers_the_contents(running: Running) -> None:
    info = await running.daemon.call("mcpServer/resource/read", {"server": "b_full", "uri": "fixture://info"})
    assert info["contents"] == [{"uri": "fixture://info", "text": "info of b_full", "mimeType": "text/plain"}]
    item = await running.daemon.call(
        "mcpServer/resource/read", {"server": "b_full", "uri": "fixture://items/7"}
    )
    assert item["contents"][0]["text"] == "item 7 of b_full"


async def test_a_resource_read_passes_its_meta_to_the_server(running: Running) -> None:
    read = {"server": "b_full", "uri": "fixture://meta/trace", "_meta": {"trace": "t-1"}}
    answered = await running.daemon.call("mcpServer/resource/read", read)
    assert answered["contents"][0]["text"] == "t-1"


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("mcpServer/tool/call", {"server": "x", "tool": "whoami"}),
        ("mcpServer/resource/read", {"server": "x", "uri": "fixture://info"}),
    ],
)
async def test_an_unknown_server_is_invalid_params(running: Running, method: str, params: Any) -> None:
    error = await error_of(running.daemon, method, params)
    assert error == {"code": codes.INVALID_PARAMS, "message": "unknown MCP server 'x'"}


async def test_an_mcp_error_from_the_server_is_forwarded_with_its_code_message_and_data(
    running: Running,
) -> None:
    error = await error_of(running.daemon, "mcpServer/tool/call", {"server": "b_full", "tool": "fail"})
    assert error == {"code": -32042, "message": "fixture refused", "data": {"reason": "asked to fail"}}


async def test_a_result_off_the_tools_output_schema_is_an_error_naming_server_and_tool(
    running: Running,
) -> None:
    error = await error_of(running.daemon, "mcpServer/tool/call", {"server": "b_full", "tool": "mislabeled"})
    assert error == {
        "code": codes.REQUEST_FAILED,
        "message": "MCP server `b_full` answered `mislabeled` with structured content that does not match "
        "its output schema",
    }


async def test_a_disabled_tool_is_refused_without_reaching_the_server(running: Running) -> None:
    before = server_pids(running.daemon.process.pid)["b_full"]
    error = await error_of(running.daemon, "mcpServer/tool/call", {"server": "b_full", "tool": "crash"})
    assert error == {
        "code": codes.INVALID_PARAMS,
        "message": "tool 'crash' is disabled for MCP server 'b_full'",
    }
    alive = await running.daemon.call("mcpServer/tool/call", {"server": "b_full", "tool": "whoami"})
    assert [alive["structuredContent"]["pid"]] == before


# ---- threads -------------------------------------------------------------------------------


async def test_a_thread_runs_its_own_servers_and_answers_for_them_with_its_thread_id(
    running: Running,
) -> None:
    daemon = running.daemon
    started = await daemon.call(
        "thread/start", {"cwd": str(running.home), "config": {"mcp_servers.c_hang.enabled": False}}
    )
    thread_id = started["thread"]["id"]
    thread_final = {"Z_up": "ready", "a_cheap": "ready", "b_full": "ready"}
    startup = await startup_until(daemon, thread_final, thread_id=thread_id)
    assert [note["status"] for note in startup["b_full"]] == ["starting", "ready"]
    assert "c_hang" not in startup

    statuses = by_name(await status(daemon, threadId=thread_id))
    assert statuses["c_hang"]["runtimeStatus"] == "disabled"
    assert statuses["b_full"]["runtimeStatus"] == "connected"
    assert by_name(await status(daemon))["c_hang"]["runtimeStatus"] == "failed"

    call = {"server": "b_full", "tool": "whoami", "arguments": {}}
    in_thread = await daemon.call("mcpServer/tool/call", {**call, "threadId": thread_id})
    app_level = await daemon.call("mcpServer/tool/call", call)
    assert "_meta" not in in_thread  # the result is the server's, as it sent it

    spoof = {"threadId": "spoofed", "progressToken": "spoofed", "trace": "kept"}
    meta_call = {"server": "b_full", "tool": "request_meta", "arguments": {}, "_meta": spoof}
    seen = (await daemon.call("mcpServer/tool/call", {**meta_call, "threadId": thread_id}))[
        "structuredContent"
    ]
    assert (seen["meta"]["threadId"], seen["meta"]["trace"]) == (thread_id, "kept")
    assert seen["meta"]["progress_token"] != "spoofed"  # the SDK server's name for progressToken
    assert in_thread["structuredContent"]["pid"] != app_level["structuredContent"]["pid"]
    assert sorted(server_pids(daemon.process.pid)["b_full"]) == sorted(
        [in_thread["structuredContent"]["pid"], app_level["structuredContent"]["pid"]]
    )

    read = await daemon.call(
        "mcpServer/resource/read", {"server": "b_full", "uri": "fixture://info", "threadId": thread_id}
    )
    assert read["contents"][0]["text"] == "info of b_full"


async def test_a_required_server_that_fails_fails_thread_start_and_leaves_no_thread(running: Running) -> None:
    workspace = running.home / "discarded"
    workspace.mkdir()
    required = {
        "command": "python-does-not-matter",
        "args": [],
        "required": True,
        "startup_timeout_sec": 5,
    }
    error = await error_of(
        running.daemon,
        "thread/start",
        {
            "cwd": str(workspace),
            "config": {"mcp_servers.c_hang.enabled": False, "mcp_servers.must": required},
        },
    )
    assert error["code"] == codes.REQUEST_FAILED
    assert error["message"].startswith("required MCP servers failed to initialize: must: ")
    assert (await running.daemon.call("thread/list", {"cwd": str(workspace)}))["data"] == []
    untaken = running.daemon.untaken()
    announced = [m for m in untaken if m.get("method") == "thread/started"]
    assert all(m["params"]["thread"]["cwd"] != str(workspace) for m in announced), "the thread was announced"


HUNG_START_SEC = 20
"""The startup timeout of the optional server that hangs beside a failing required one."""


async def test_a_failing_required_server_fails_thread_start_without_waiting_for_a_hung_optional_one(
    running: Running,
) -> None:
    workspace = running.home / "discarded-promptly"
    workspace.mkdir()
    required = {"command": str(workspace / "no-such-server"), "required": True, "startup_timeout_sec": 5}
    hung = fixture_server("slow_opt", "--fault", "hang-at-start", startup_timeout_sec=HUNG_START_SEC)
    config = {"mcp_servers.c_hang.enabled": False, "mcp_servers.must": required, "mcp_servers.slow": hung}
    with anyio.fail_after(HUNG_START_SEC / 2):  # the hung server's timeout must not be waited for
        error = await error_of(running.daemon, "thread/start", {"cwd": str(workspace), "config": config})
    assert error["code"] == codes.REQUEST_FAILED
    assert error["message"].startswith("required MCP servers failed to initialize: must: ")
    untaken = running.daemon.untaken()
    announced = [m for m in untaken if m.get("method") == "thread/started"]
    assert all(m["params"]["thread"]["cwd"] != str(workspace) for m in announced), "the thread was announced"


# ---- config/mcpServer/reload ---------------------------------------------------------------


def write_reload_config(home: Path, tag: str) -> None:
    """Two fast servers, `keep` and `change`; a new `tag` changes the command line of `change`."""
    servers = {"keep": cheap_server("keep"), "change": cheap_server("change", f"--tag={tag}")}
    write_config(home, servers, features={"apps": False})


@pytest.fixture
async def reloading(tmp_path: Path) -> AsyncIterator[Running]:
    """A daemon with two fast servers, `keep` and `change`, both ready."""
    home = tmp_path / "home"
    home.mkdir()
    write_reload_config(home, "1")
    async with Daemon.start(home, max_wait=30) as daemon:
        await daemon.initialize()
        startup = await startup_until(daemon, {"keep": "ready", "change": "ready"})
        yield Running(daemon, home, startup)


async def pid_of(daemon: Daemon, server: str) -> int:
    """The pid a server answers `whoami` with (the cheap server answers its pid as text)."""
    result = await daemon.call("mcpServer/tool/call", {"server": server, "tool": "whoami"})
    return int(result["content"][0]["text"])


async def test_reload_takes_absent_null_or_empty_params_and_rejects_any_other(reloading: Running) -> None:
    daemon = reloading.daemon
    assert await daemon.call("config/mcpServer/reload") == {}
    null_params = {"jsonrpc": "2.0", "id": "null", "method": "config/mcpServer/reload", "params": None}
    await daemon.send(null_params)
    assert (await daemon.next_message(lambda m: m.get("id") == "null"))["result"] == {}
    assert await daemon.call("config/mcpServer/reload", {}) == {}
    for params in ([], {"x": 1}):
        error = await error_of(daemon, "config/mcpServer/reload", params)
        assert error["code"] == codes.INVALID_PARAMS


async def test_reload_restarts_a_changed_server_and_keeps_an_unchanged_one(reloading: Running) -> None:
    """The kept server is announced `ready` again to the app level and to every loaded thread."""
    daemon = reloading.daemon
    ready = {"keep": "ready", "change": "ready"}
    thread_id = (await daemon.call("thread/start", {"cwd": str(reloading.home)}))["thread"]["id"]
    await startup_until(daemon, ready, thread_id=thread_id)
    keep, change = await pid_of(daemon, "keep"), await pid_of(daemon, "change")
    write_reload_config(reloading.home, "2")
    assert await daemon.call("config/mcpServer/reload") == {}
    for scope in (None, thread_id):
        restarted = await startup_until(daemon, ready, thread_id=scope)
        assert [note["status"] for note in restarted["change"]] == ["starting", "ready"]
        assert [note["status"] for note in restarted["keep"]] == ["ready"], "carried: re-announced"
    assert await pid_of(daemon, "keep") == keep
    assert await pid_of(daemon, "change") != change


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ('[mcp_servers.keep\ncommand = "x"\n', "config.toml:1:18: invalid TOML: "),
        ("[mcp_servers.keep]\nurl = 3\n", "config.toml:2:1: mcp_servers.keep.url: expected a string"),
    ],
)
async def test_a_broken_config_fails_reload_naming_file_line_and_column_and_changes_nothing(
    reloading: Running, broken: str, problem: str
) -> None:
    daemon, home = reloading.daemon, reloading.home
    pids = {name: await pid_of(daemon, name) for name in ("keep", "change")}
    before = await status(daemon)
    (home / "config.toml").write_text(broken)

    error = await error_of(daemon, "config/mcpServer/reload", None)
    assert error["code"] == codes.REQUEST_FAILED
    assert error["message"].startswith(f"invalid configuration:\n{problem}")
    assert str(home) not in error["message"]

    assert await status(daemon) == before
    assert {name: await pid_of(daemon, name) for name in pids} == pids
    # Anything published by the failed reload would be sent before the answer to a later request.
    await daemon.send({"jsonrpc": "2.0", "id": "probe", "method": "account/read"})
    first = await daemon.next_message(
        lambda m: isinstance(m, dict) and (m.get("method") == STARTUP_STATUS or m.get("id") == "probe")
    )
    assert first.get("id") == "probe", first
