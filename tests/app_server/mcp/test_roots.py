"""Roots through the real daemon: a server's `roots/list` is answered with its scope's working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

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
