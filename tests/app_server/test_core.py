"""The application core over the wire: config problems reach clients; a broken config never stops it."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

WAIT = 30.0


async def test_unknown_top_level_keys_are_announced_as_config_warnings(home: Path) -> None:
    (home / "config.toml").write_text('model = "m"\nnot_a_real_key = 1\n')
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        with anyio.fail_after(WAIT):
            warning = await daemon.next_notification("configWarning")
        assert "not_a_real_key" in warning["params"]["summary"]
        assert warning["params"]["range"]["start"]["line"] == 2


async def test_a_broken_config_at_start_is_announced_and_the_daemon_serves_no_servers(home: Path) -> None:
    (home / "config.toml").write_text('[mcp_servers.x]\ncommand = "python"\nurl = "http://127.0.0.1:1/mcp"\n')
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        with anyio.fail_after(WAIT):
            warning = await daemon.next_notification("configWarning")
            status = await daemon.call("mcpServerStatus/list", {})
        assert "could not be loaded" in warning["params"]["summary"]
        assert "config.toml:" in warning["params"]["details"]
        assert str(home) not in warning["params"]["details"]
        assert status == {"data": [], "nextCursor": None}
