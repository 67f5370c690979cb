"""The MCP reference servers server-filesystem and server-memory (npm) and mcp-server-time and
mcp-server-git (PyPI) through the real daemon, called in a thread whose workspace is a git repository."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.support.config import write_config
from tests.support.daemon import Daemon
from tests.support.frontend import call_tool, server_status, wait_settled
from tests.support.tools import Tools

pytestmark = pytest.mark.anyio

WAIT = 30.0
"""Bound on each test's exchange with the daemon (a loaded 2-core box starts these servers slowly)."""
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
"""So commits work on a machine with no git identity configured."""


@dataclass
class Running:
    daemon: Daemon
    thread_id: str
    workspace: Path

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A direct call in the thread; its result, which must not be an error."""
        with anyio.fail_after(WAIT):
            response = await call_tool(self.daemon, server, tool, arguments, thread_id=self.thread_id)
        assert "result" in response, response
        assert not response["result"].get("isError"), response["result"]
        return dict(response["result"])


def text_of(result: dict[str, Any]) -> str:
    (block,) = result["content"]
    return str(block["text"])


def git(workspace: Path, *args: str) -> None:
    environment = {**os.environ, **GIT_IDENTITY}
    subprocess.run(["git", "-C", str(workspace), *args], check=True, capture_output=True, env=environment)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with one commit of `notes.txt`."""
    path = tmp_path_factory.mktemp("workspace").resolve()
    git(path, "init", "-q", "-b", "main")
    (path / "notes.txt").write_text("first line\n")
    git(path, "add", "notes.txt")
    git(path, "commit", "-q", "-m", "first commit")
    return path


@pytest.fixture(scope="module")
async def servers(
    third_party: Tools, workspace: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    """A daemon with the four servers, and a thread whose workspace is `workspace`."""
    home = tmp_path_factory.mktemp("home")
    memory_file = {"MEMORY_FILE_PATH": str(home / "memory.jsonl")}
    tables = {
        "files": third_party.node_server("mcp-server-filesystem"),
        "given": third_party.node_server("mcp-server-filesystem", str(workspace)),
        "memory": third_party.node_server("mcp-server-memory", env=memory_file),
        "time": third_party.python_server("mcp-server-time"),
        "git": third_party.python_server("mcp-server-git", env=GIT_IDENTITY),
    }
    write_config(home, tables, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        started = await daemon.call("thread/start", {"cwd": str(workspace)})
        thread_id = started["thread"]["id"]
        for name in tables:
            settled = await wait_settled(daemon, name, thread_id)
            assert settled["status"] == "ready", settled
        yield Running(daemon, thread_id, workspace)


async def test_filesystem_reads_in_the_directory_it_was_given(servers: Running) -> None:
    result = await servers.call("given", "read_text_file", {"path": str(servers.workspace / "notes.txt")})

    assert text_of(result) == "first line\n"


async def test_filesystem_learns_its_root_from_the_threads_workspace(servers: Running) -> None:
    allowed = await servers.call("files", "list_allowed_directories", {})
    listed = await servers.call("files", "list_directory", {"path": str(servers.workspace)})

    assert str(servers.workspace) in text_of(allowed).splitlines()
    assert "[FILE] notes.txt" in text_of(listed)


async def test_memory_keeps_an_entity_finds_it_and_shows_it_in_its_graph_resource(servers: Running) -> None:
    entity = {"name": "Ada", "entityType": "person", "observations": ["wrote the first program"]}

    await servers.call("memory", "create_entities", {"entities": [entity]})
    found = await servers.call("memory", "search_nodes", {"query": "first program"})
    with anyio.fail_after(WAIT):
        read = await servers.daemon.call(
            "mcpServer/resource/read",
            {"server": "memory", "uri": "memory://knowledge-graph", "threadId": servers.thread_id},
        )

    assert found["structuredContent"]["entities"] == [entity]
    (graph,) = read["contents"]
    assert json.loads(graph["text"])["entities"] == [entity]


async def test_time_tells_the_time_in_a_zone_and_converts_between_zones(servers: Running) -> None:
    now = await servers.call("time", "get_current_time", {"timezone": "Europe/Paris"})
    converted = await servers.call(
        "time", "convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
    )

    assert now["structuredContent"]["timezone"] == "Europe/Paris"
    assert converted["structuredContent"]["target"]["datetime"].endswith("T21:00:00+09:00")
    assert converted["structuredContent"]["time_difference"] == "+9.0h"


async def test_git_lists_its_tools_and_commits_a_change_in_the_workspace(servers: Running) -> None:
    repo = {"repo_path": str(servers.workspace)}
    with anyio.fail_after(WAIT):
        status = await server_status(servers.daemon, "git", servers.thread_id)
    assert {"git_status", "git_diff_unstaged", "git_add", "git_commit", "git_log"} <= set(status["tools"])
    (servers.workspace / "notes.txt").write_text("first line\nsecond line\n")

    diff = await servers.call("git", "git_diff_unstaged", repo)
    await servers.call("git", "git_add", {**repo, "files": ["notes.txt"]})
    await servers.call("git", "git_commit", {**repo, "message": "second commit"})
    clean = await servers.call("git", "git_status", repo)
    log = await servers.call("git", "git_log", {**repo, "max_count": 5})

    assert "+second line" in text_of(diff)
    assert "working tree clean" in text_of(clean)
    assert text_of(log).index("Message: second commit") < text_of(log).index("Message: first commit")
