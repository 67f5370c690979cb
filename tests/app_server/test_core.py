"""The application core over the wire: config problems reach clients, a broken config never stops it,
and what needs no MCP connection is answered before the MCP layer is up."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from protocol import errors as codes
from tests.app_server.threads.turn_harness import answering_pid, cheap_server, turn_daemon
from tests.support.daemon import Daemon
from tests.support.gate import ImportGate

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


# ---- the first replies come before the MCP layer -----------------------------------------------

STARTUP = "mcpServer/startupStatus/updated"


def _thread_started_or_its_startup(message: Any) -> bool:
    return isinstance(message, dict) and message.get("method") in ("thread/started", STARTUP)


async def test_requests_that_need_no_mcp_connection_are_answered_while_the_mcp_sdk_is_held(
    home: Path, tmp_path: Path
) -> None:
    script = [{"tool_calls": [{"name": "mcp__fix__whoami", "arguments": {}}]}, {"text": "done"}]
    with ImportGate(tmp_path / "gate") as gate:
        async with turn_daemon(home, script, {"fix": cheap_server("fix")}, env=gate.env) as turns:
            daemon = turns.daemon
            with anyio.fail_after(WAIT):  # every one of these is answered with `import mcp` held
                thread_id = await turns.start_thread()
                resumed = await daemon.call("thread/resume", {"threadId": thread_id})
                read = await daemon.call("thread/read", {"threadId": thread_id})
                listed = await daemon.call("thread/list", {})
                turns_page = await daemon.call("thread/turns/list", {"threadId": thread_id})
                items_page = await daemon.call("thread/items/list", {"threadId": thread_id})
                account = await daemon.call("account/read", {})
                views = await daemon.call("mcpServer/views/read", {"threadId": thread_id})
            assert resumed["thread"]["id"] == read["thread"]["id"] == thread_id
            assert [thread["id"] for thread in listed["data"]] == [thread_id]
            assert turns_page["data"] == items_page["data"] == []
            assert account["account"] is None
            assert [entry["name"] for entry in views["effective"]] == ["fix"]

            gate.open()
            with anyio.fail_after(WAIT):
                first = await daemon.next_message(_thread_started_or_its_startup)
                await turns.server_ready("fix", thread_id)
                turn_id = await turns.start_turn(thread_id)
                item = await turns.item_completed("call_0_0")
                turn = await turns.turn_completed(turn_id)
            assert answering_pid(item) in turns.server_pids("fix")
    assert (first["method"], first["params"]["thread"]["id"]) == ("thread/started", thread_id)
    assert turn["status"] == "completed"


async def test_a_required_server_holds_thread_start_until_the_mcp_layer_has_it_ready(
    home: Path, tmp_path: Path
) -> None:
    servers = {"must": cheap_server("must", required=True)}
    with ImportGate(tmp_path / "gate") as gate:
        async with turn_daemon(home, [], servers, env=gate.env) as turns:
            daemon = turns.daemon
            request_id = daemon.new_id()
            await daemon.send({"id": request_id, "method": "thread/start", "params": {"cwd": str(home)}})
            with anyio.fail_after(WAIT):
                assert (await daemon.call("account/read", {}))["account"] is None  # answered meanwhile
            gate.open()
            with anyio.fail_after(WAIT):
                reply = await daemon.next_message(lambda m: m.get("id") == request_id)
                thread_id = reply["result"]["thread"]["id"]
                # Announced after thread/started, with the state it had when the reply went out.
                first = await daemon.next_message(
                    lambda m: m.get("method") == STARTUP and m["params"]["threadId"] == thread_id
                )
    assert first["params"]["status"] == "ready", (
        "thread/start was answered before its required server was ready"
    )


async def test_a_failing_required_server_fails_thread_start_and_the_thread_is_never_announced(
    home: Path, tmp_path: Path
) -> None:
    must = {"command": str(tmp_path / "no-such-server"), "required": True, "startup_timeout_sec": 5}
    with ImportGate(tmp_path / "gate") as gate:
        async with turn_daemon(home, [], {"must": must}, env=gate.env) as turns:
            daemon = turns.daemon
            request_id = daemon.new_id()
            await daemon.send({"id": request_id, "method": "thread/start", "params": {"cwd": str(home)}})
            gate.open()
            with anyio.fail_after(WAIT):
                failed = await daemon.next_message(lambda m: m.get("id") == request_id)
                # A thread without the required server starts; the first `thread/started` is its own.
                second = await turns.start_thread(config={"mcp_servers.must.required": False})
                started = await daemon.next_notification("thread/started")
    assert failed["error"]["code"] == codes.REQUEST_FAILED
    assert failed["error"]["message"].startswith("required MCP servers failed to initialize: must: ")
    assert started["params"]["thread"]["id"] == second


# ---- exit does not wait for the MCP layer's build ------------------------------------------------

EXIT_WITHIN = 5.0
"""A generous bound on the exit; the SDK import stays held until the test ends."""


async def _close_stdin(daemon: Daemon) -> None:
    await daemon.close_stdin()


async def _send_sigterm(daemon: Daemon) -> None:
    daemon.process.send_signal(signal.SIGTERM)


@pytest.mark.parametrize("stop", [_close_stdin, _send_sigterm], ids=["stdin-closed", "sigterm"])
async def test_the_daemon_exits_without_waiting_for_a_held_mcp_sdk_import(
    home: Path, tmp_path: Path, stop: Callable[[Daemon], Awaitable[None]]
) -> None:
    with ImportGate(tmp_path / "gate") as gate:
        async with Daemon.start(home, env=gate.env, max_wait=WAIT) as daemon:
            await daemon.initialize()
            # Answered by the running core, which queued the MCP layer's build before it could be.
            assert (await daemon.call("account/read", {}))["account"] is None
            await stop(daemon)
            with anyio.fail_after(EXIT_WITHIN):
                code = await daemon.process.wait()
    assert code == 0
