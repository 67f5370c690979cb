"""The demo's example MCP server, run as a real subprocess and driven by the mcp SDK's `Client` over stdio."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

import anyio
import pytest
from anyio.abc import TaskStatus
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, TextContent, TextResourceContents

from app_server.demo.example_server import LABEL_ENV

TIMEOUT = 20


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module-wide, so one example server (the `client` fixture) serves every test that needs label A."""
    return "asyncio"


def example_server(*args: str, env: dict[str, str] | None = None) -> Client:
    """A client for `python -m app_server.demo.example_server ARGS`, spawned over stdio when entered."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "app_server.demo.example_server", *args], env=env
    )
    return Client(params)


async def serve_client(client: Client, *, task_status: TaskStatus[Client]) -> None:
    async with client:
        task_status.started(client)
        await anyio.sleep_forever()


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[Client]:
    """A client connected to one example server labelled A, shared by the module (each spawn costs ~1 s).

    The client lives in a task of its own so that only the wait for it to be ready is bounded here.
    """
    async with anyio.create_task_group() as tasks:
        with anyio.fail_after(TIMEOUT):
            connected = await tasks.start(serve_client, example_server("--label", "A"))
        yield connected
        tasks.cancel_scope.cancel()


def text_of(content: object) -> str:
    assert isinstance(content, TextContent)
    return content.text


@pytest.mark.anyio
async def test_lists_every_tool_with_a_title_and_honest_hints(client: Client) -> None:
    with anyio.fail_after(TIMEOUT):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert set(tools) == {"whoami", "add", "echo", "slow", "write_note"}
    for tool in tools.values():
        assert tool.annotations is not None
        assert tool.annotations.title
    assert tools["add"].annotations is not None
    assert tools["add"].annotations.read_only_hint is True
    write_note = tools["write_note"].annotations
    assert write_note is not None
    assert write_note.read_only_hint is False
    assert write_note.destructive_hint is True
    assert tools["whoami"].output_schema is not None
    assert set(tools["whoami"].output_schema["properties"]) == {"label", "pid"}


@pytest.mark.anyio
async def test_whoami_names_its_label_and_a_process_other_than_ours(client: Client) -> None:
    with anyio.fail_after(TIMEOUT):
        result = await client.call_tool("whoami")

    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["label"] == "A"
    pid = result.structured_content["pid"]
    assert isinstance(pid, int)
    assert pid != os.getpid()
    assert text_of(result.content[0]) == f"answered by runtime A (pid {pid})"


@pytest.mark.anyio
async def test_whoami_takes_its_label_from_the_environment_without_the_flag() -> None:
    with anyio.fail_after(TIMEOUT):
        async with example_server(env={LABEL_ENV: "B"}) as client:
            result = await client.call_tool("whoami")

    assert result.structured_content is not None
    assert result.structured_content["label"] == "B"


@pytest.mark.anyio
async def test_add_echo_and_slow_answer_and_slow_reports_every_step(client: Client) -> None:
    reports: list[tuple[float, float | None, str | None]] = []
    all_steps_reported = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))
        if progress == total:
            all_steps_reported.set()

    with anyio.fail_after(TIMEOUT):
        added = await client.call_tool("add", {"a": 2, "b": 3})
        echoed = await client.call_tool("echo", {"text": "hello"})
        slow = await client.call_tool("slow", {"seconds": 0, "steps": 3}, progress_callback=on_progress)
        await all_steps_reported.wait()
        refused = await client.call_tool("slow", {"seconds": 0, "steps": 0})

    assert text_of(added.content[0]) == "5"
    assert text_of(echoed.content[0]) == "hello"
    assert text_of(slow.content[0]) == "finished 3 steps in 0 s"
    assert sorted(reports) == [(1, 3, "step 1 of 3"), (2, 3, "step 2 of 3"), (3, 3, "step 3 of 3")]
    assert refused.is_error


@pytest.mark.anyio
async def test_readme_resource_and_notes_written_by_write_note_are_readable(client: Client) -> None:
    with anyio.fail_after(TIMEOUT):
        resources = (await client.list_resources()).resources
        templates = (await client.list_resource_templates()).resource_templates
        readme = await client.read_resource("demo://readme")
        written = await client.call_tool("write_note", {"text": "remember the milk"})
        note = await client.read_resource("demo://notes/scratch")
        with pytest.raises(MCPError) as missing:
            await client.read_resource("demo://notes/absent")

    assert [str(resource.uri) for resource in resources] == ["demo://readme"]
    assert [template.uri_template for template in templates] == ["demo://notes/{name}"]
    assert isinstance(readme.contents[0], TextResourceContents)
    assert "whoami" in readme.contents[0].text
    assert text_of(written.content[0]) == "demo://notes/scratch"
    assert isinstance(note.contents[0], TextResourceContents)
    assert note.contents[0].text == "remember the milk"
    assert missing.value.code == INVALID_PARAMS
