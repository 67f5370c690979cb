"""`thread/start` and `thread/resume` through the real daemon: settings, and the overrides a resume sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_server.handlers.servers import startup_until
from tests.support.config import cheap_server, write_config
from tests.support.daemon import Daemon
from tests.support.gate import ImportGate
from tests.support.processes import server_pids

pytestmark = pytest.mark.anyio

INVALID_CONFIG = -32000


async def _started_thread(daemon: Daemon, cwd: Path) -> str:
    await daemon.initialize()
    result = await daemon.call("thread/start", {"cwd": str(cwd), "model": "gpt-5"})
    return str(result["thread"]["id"])


def _two_workspaces_with_a_local_server(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    write_config(home, {"local": cheap_server("local")})
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    return first, second


async def test_resume_overrides_apply_to_the_thread_and_stick_after_a_restart(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.start(home) as daemon:
        thread_id = await _started_thread(daemon, tmp_path)
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        resumed = await daemon.call(
            "thread/resume", {"threadId": thread_id, "model": "gpt-5-mini", "approvalPolicy": "never"}
        )
        assert (resumed["model"], resumed["approvalPolicy"]) == ("gpt-5-mini", "never")
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        again = await daemon.call("thread/resume", {"threadId": thread_id})
        assert (again["model"], again["approvalPolicy"]) == ("gpt-5-mini", "never")
        assert again["thread"]["model"] == "gpt-5-mini"


async def test_resume_with_overrides_that_do_not_validate_changes_nothing(home: Path, tmp_path: Path) -> None:
    async with Daemon.start(home) as daemon:
        thread_id = await _started_thread(daemon, tmp_path)
        bad = {"mcp_servers": {"x": {"command": "run", "no_such_key": 1}}}
        response = await daemon.request(
            "thread/resume", {"threadId": thread_id, "model": "m2", "config": bad}
        )
        assert response["error"]["code"] == INVALID_CONFIG
        assert "no_such_key" in response["error"]["message"]
        after = await daemon.call("thread/resume", {"threadId": thread_id})
        assert after["model"] == "gpt-5"


async def test_resuming_a_loaded_thread_in_a_new_cwd_restarts_its_servers_there(
    home: Path, tmp_path: Path
) -> None:
    first, second = _two_workspaces_with_a_local_server(home, tmp_path)
    async with Daemon.start(home) as daemon:
        thread_id = await _started_thread(daemon, first)
        await startup_until(daemon, {"local": "ready"}, thread_id=thread_id)
        resumed = await daemon.call("thread/resume", {"threadId": thread_id, "cwd": str(second)})
        assert resumed["cwd"] == str(second)
        await startup_until(daemon, {"local": "ready"}, thread_id=thread_id)
        assert server_pids(daemon.process.pid, cwd=second)["local"]


async def test_a_relative_cwd_is_resolved_against_the_daemons_own(home: Path) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        started = await daemon.call("thread/start", {"cwd": "tests"})
        assert started["cwd"] == str(Path.cwd() / "tests")
        missing = await daemon.request("thread/start", {"cwd": "no/such/dir"})
        assert missing["error"]["code"] == -32602


async def test_a_new_cwd_set_before_the_mcp_layer_is_up_is_where_the_threads_servers_start(
    home: Path, tmp_path: Path
) -> None:
    first, second = _two_workspaces_with_a_local_server(home, tmp_path)
    with ImportGate(tmp_path / "gate") as gate:
        async with Daemon.start(home, env=gate.env) as daemon:
            thread_id = await _started_thread(daemon, first)
            await daemon.call("thread/resume", {"threadId": thread_id, "cwd": str(second)})
            gate.open()
            startup = await startup_until(daemon, {"local": "ready"}, thread_id=thread_id)
            assert [update["status"] for update in startup["local"]] == ["starting", "ready"]
            assert server_pids(daemon.process.pid, cwd=second)["local"]
            assert "local" not in server_pids(daemon.process.pid, cwd=first)
