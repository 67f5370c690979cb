"""One connection: child environment and cwd, paging, HTTP headers and auth, unreachable servers,
tool-call timeouts and the checks on tool results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.config.servers import HttpServerConfig
from app_server.errors import McpServerError, RequestFailed
from app_server.mcp.catalog import WireDict
from app_server.mcp.client import RuntimeContext, http_origin
from app_server.mcp.runtime import McpRuntime
from protocol.server_requests import McpServerElicitationRequestParams
from tests.app_server.mcp.conftest import Running, elicit_config, stdio_config

pytestmark = pytest.mark.anyio


async def text_of(running: Running, runtime: McpRuntime, server: str, tool: str, **arguments: Any) -> str:
    result = await runtime.call_tool(server, tool, arguments)
    text: str = result["content"][0]["text"]
    return text


async def test_stdio_children_get_only_the_allowed_environment(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSED_THROUGH", "yes")
    monkeypatch.setenv("NOT_PASSED", "secret")
    monkeypatch.setenv("LOGNAME", "someone")
    config = stdio_config("a", env_vars=("PASSED_THROUGH",), env={"FROM_CONFIG": "set"})
    cell = running.manager.open_cell({"a": config}, RuntimeContext())
    with anyio.fail_after(30), cell.lease() as runtime:
        values = {
            name: await text_of(running, runtime, "a", "env", name=name)
            for name in ("PASSED_THROUGH", "NOT_PASSED", "LOGNAME", "FROM_CONFIG", "PATH")
        }
    assert values["PASSED_THROUGH"] == "yes" and values["FROM_CONFIG"] == "set"
    assert values["NOT_PASSED"] == "<unset>" and values["LOGNAME"] == "<unset>"
    assert values["PATH"] != "<unset>"


async def test_the_working_directory_is_the_servers_then_the_threads_then_home(
    running: Running, tmp_path: Path
) -> None:
    own, thread = tmp_path / "own", tmp_path / "thread"
    own.mkdir()
    thread.mkdir()
    servers = {"own": stdio_config("own", cwd=own), "inherits": stdio_config("inherits")}
    with_thread = running.manager.open_cell(servers, RuntimeContext(cwd=thread))
    without = running.manager.open_cell({"plain": stdio_config("plain")}, RuntimeContext())
    with anyio.fail_after(30), with_thread.lease() as runtime, without.lease() as bare:
        assert await text_of(running, runtime, "own", "cwd") == str(own)
        assert await text_of(running, runtime, "inherits", "cwd") == str(thread)
        assert await text_of(running, bare, "plain", "cwd") == str(Path.home())


async def test_every_tools_page_is_followed(running: Running) -> None:
    cell = running.manager.open_cell({"paged": stdio_config("p", "--page-size", "2")}, RuntimeContext())
    with anyio.fail_after(30), cell.lease() as runtime:
        await runtime.wait_started()
        catalog = runtime.connection("paged").catalog
    assert catalog is not None
    assert sorted(catalog.tools) == sorted(
        [
            "whoami",
            "echo",
            "env",
            "header",
            "request_meta",
            "cwd",
            "progress",
            "block",
            "release",
            "crash",
            "huge",
            "fail",
            "mislabeled",
            "widget",
            "add_tool",
        ]
    )


async def test_http_servers_get_configured_headers_env_headers_and_bearer_token(
    running: Running, http_fixture_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEN_VAR", "t0ken")
    monkeypatch.setenv("TEAM_VAR", "blue")
    config = HttpServerConfig(
        url=http_fixture_url,
        http_headers={"X-Static": "fixed"},
        env_http_headers={"X-Team": "TEAM_VAR"},
        bearer_token_env_var="TOKEN_VAR",
    )
    cell = running.manager.open_cell({"web": config}, RuntimeContext())
    with anyio.fail_after(30), cell.lease() as runtime:
        headers = [
            await text_of(running, runtime, "web", "header", name=name)
            for name in ("X-Static", "X-Team", "Authorization")
        ]
        label = (await runtime.call_tool("web", "whoami"))["structuredContent"]["label"]
    assert headers == ["fixed", "blue", "Bearer t0ken"]
    assert label == "web"


async def test_http_progress_and_resources_work(running: Running, http_fixture_url: str) -> None:
    cell = running.manager.open_cell({"web": HttpServerConfig(url=http_fixture_url)}, RuntimeContext())
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    with anyio.fail_after(30), cell.lease() as runtime:
        await runtime.call_tool("web", "progress", {"steps": 3}, progress=on_progress)
        read = await runtime.read_resource("web", "fixture://info")
    assert seen == [1, 2, 3]
    assert read["contents"][0]["text"] == "info of web"


async def test_a_missing_bearer_token_variable_fails_startup(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ABSENT_TOKEN", raising=False)
    config = HttpServerConfig(url="http://127.0.0.1:9/mcp", bearer_token_env_var="ABSENT_TOKEN")
    cell = running.manager.open_cell({"web": config}, RuntimeContext())
    connection = cell.current.connection("web")
    with anyio.fail_after(10):
        await connection.closed.wait()
    assert connection.error == "environment variable `ABSENT_TOKEN` for MCP server `web` is not set"


async def test_an_unreachable_http_server_fails_startup_naming_its_origin(running: Running) -> None:
    with anyio.fail_after(30):
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        await listener.aclose()
        config = HttpServerConfig(url=f"http://user:pw@127.0.0.1:{port}/mcp?key=secret")
        cell = running.manager.open_cell({"web": config}, RuntimeContext())
        connection = cell.current.connection("web")
        await connection.closed.wait()
    assert connection.error == f"MCP server `web` could not be reached at http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://user:pw@example.com/mcp?x=1#f", "https://example.com"),
        ("http://[::1]:8080/p", "http://[::1]:8080"),
        ("not a url", None),
    ],
)
def test_http_origin_drops_credentials_path_query_and_fragment(url: str, origin: str | None) -> None:
    assert http_origin(url) == origin


async def test_a_timed_out_call_is_withdrawn_from_the_server(running: Running) -> None:
    cell = running.manager.open_cell({"el": elicit_config(tool_timeout_sec=0.5)}, RuntimeContext())
    with anyio.fail_after(30), cell.lease() as runtime:
        with pytest.raises(RequestFailed, match=r"MCP server `el` timed out calling tool `hold` after 0\.5"):
            await runtime.call_tool("el", "hold")
        counted = await runtime.call_tool("el", "cancellations", {"at_least": 1, "patience": 10})
    assert counted["structuredContent"] == {"result": 1}


async def test_the_tool_timeout_stops_while_a_person_answers_the_servers_question(running: Running) -> None:
    cell = running.manager.open_cell({"el": elicit_config(tool_timeout_sec=0.5)}, RuntimeContext())

    async def slow_person(question: McpServerElicitationRequestParams) -> WireDict:
        await anyio.sleep(1.0)  # the person takes twice the tool timeout to answer
        return {"action": "accept", "content": {"name": "Ada"}}

    with anyio.fail_after(30), cell.lease() as runtime:
        result = await runtime.call_tool("el", "ask_name", ask=slow_person)
    assert result["structuredContent"] == {"action": "accept", "name": "Ada"}


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_structured_content_off_the_listed_output_schema_is_refused(
    running: Running, http_fixture_url: str, transport: str
) -> None:
    config = stdio_config("a") if transport == "stdio" else HttpServerConfig(url=http_fixture_url)
    cell = running.manager.open_cell({"a": config}, RuntimeContext())
    with anyio.fail_after(30), cell.lease() as runtime:
        with pytest.raises(McpServerError) as caught:
            await runtime.call_tool("a", "mislabeled")
        after = await runtime.call_tool("a", "echo", {"text": "fine"})
        log = runtime.connection("a").log.lines()
    assert caught.value.message == (
        "MCP server `a` answered `mislabeled` with structured content that does not match its output schema"
    )
    assert any(
        "`mislabeled` answered off its output schema: 'not a number' is not of type" in line for line in log
    )
    assert after["structuredContent"] == {"result": "fine"}
