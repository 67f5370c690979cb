"""Roots through the real daemon: a server's `roots/list` is answered with its scope's working directory,
so a connection is never shared across workspaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.asgi import serve_asgi
from tests.fixtures.mcp_servers.eras import http_app
from tests.fixtures.mcp_servers.workspace_server import build_server
from tests.support.config import workspace_server, write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio


async def test_a_thread_server_is_told_the_thread_cwd_as_its_root(tmp_path: Path) -> None:
    home, workdir = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    workdir.mkdir()
    write_config(home, {"ws": workspace_server()}, features={"apps": False})
    async with Daemon.start(home, max_wait=30) as daemon:
        await daemon.initialize()
        thread = await daemon.call("thread/start", {"cwd": str(workdir)})

        result = await daemon.call(
            "mcpServer/tool/call", {"server": "ws", "tool": "roots", "threadId": thread["thread"]["id"]}
        )

    assert result["structuredContent"] == {"roots": [{"uri": workdir.resolve().as_uri(), "name": "project"}]}


# The HTTP server runs in this process, where warnings are errors: the SDK's server warns that the
# 2026-07-28 era deprecates roots each time it asks for them.
@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
async def test_each_workspace_is_told_its_own_root_by_http_servers_and_servers_with_their_own_cwd(
    tmp_path: Path,
) -> None:
    home, server_dir = tmp_path / "home", tmp_path / "srv"
    workspaces = [tmp_path / "alpha", tmp_path / "beta"]
    for directory in (home, server_dir, *workspaces):
        directory.mkdir()
    app = http_app(build_server(), "legacy")
    async with serve_asgi(lambda _base_url: app) as base_url:
        servers = {"own": workspace_server(cwd=str(server_dir)), "web": {"url": f"{base_url}/mcp"}}
        write_config(home, servers, features={"apps": False})
        async with Daemon.start(home, max_wait=30) as daemon:
            await daemon.initialize()
            told: dict[tuple[str, str], object] = {}
            for workdir in workspaces:
                thread_id = (await daemon.call("thread/start", {"cwd": str(workdir)}))["thread"]["id"]
                for server in servers:
                    params = {"server": server, "tool": "roots", "threadId": thread_id}
                    result = await daemon.call("mcpServer/tool/call", params)
                    told[workdir.name, server] = result["structuredContent"]["roots"][0]["uri"]

    assert told == {(w.name, s): w.resolve().as_uri() for w in workspaces for s in servers}
