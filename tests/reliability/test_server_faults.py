"""Faulty MCP servers behind the real daemon: it lives, others work, errors read well, nothing is orphaned.

Every fault runs once, in one daemon, next to a healthy server: a server that exits at start,
hangs at start (ignoring SIGTERM), writes garbage to stdout, cannot be reached over HTTP, floods
stderr slowly for its whole life, exits in the middle of a call, hangs in the middle of a call,
and answers 50 MB. The process table is checked while the daemon runs (failed servers are gone)
and after it exits (nothing left).
"""

from __future__ import annotations

import secrets
import socket
from pathlib import Path
from typing import Any

import anyio
import pytest

from protocol import errors as codes
from tests.app_server.threads.turn_harness import fixture_server
from tests.reliability.harness import WAIT, RecordingDaemon, label_server, running_daemon
from tests.reliability.transcript import HEADER_SECRET, SERVER_ENV_SECRET
from tests.support.config import write_config
from tests.support.processes import labels_of, processes_of, wait_until

pytestmark = pytest.mark.anyio

FAILING_AT_START = {"exit_start", "hang_start", "garbage", "remote"}
WORKING = {"good", "flood", "midcall"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def servers(marker: str) -> dict[str, dict[str, Any]]:
    return {
        "good": label_server(f"{marker}-good", env={"API_TOKEN": SERVER_ENV_SECRET}),
        "flood": label_server(f"{marker}-flood", stderr_flood=True),
        "exit_start": fixture_server(f"{marker}-exit", "--fault", "exit-at-start"),
        "hang_start": fixture_server(f"{marker}-hang", "--fault", "hang-at-start", startup_timeout_sec=3),
        "garbage": fixture_server(f"{marker}-garbage", "--fault", "garbage-stdout"),
        "midcall": fixture_server(f"{marker}-midcall", tool_timeout_sec=3),
        "remote": {
            "url": f"http://127.0.0.1:{closed_port()}/mcp",
            "http_headers": {"X-Api-Key": HEADER_SECRET},
            "default_tools_approval_mode": "approve",
        },
    }


async def settled_statuses(daemon: RecordingDaemon, thread_id: str) -> dict[str, dict[str, Any]]:
    """The final startup status of every server of the thread, once none is still starting."""
    final: dict[str, dict[str, Any]] = {}
    while set(final) != FAILING_AT_START | WORKING:
        note = await daemon.next_message(
            lambda m: (
                m.get("method") == "mcpServer/startupStatus/updated"
                and m["params"].get("threadId") == thread_id
                and m["params"]["status"] != "starting"
            )
        )
        final[note["params"]["name"]] = note["params"]
    return final


def assert_readable(error: str, name: str | None, home: Path) -> None:
    """A user-facing error: names the server (if given); no traceback, path of this machine or secret."""
    assert error.strip(), "an empty error message"
    assert name is None or f"`{name}`" in error, error
    assert "Traceback" not in error and str(home) not in error and "/tmp/" not in error, error
    assert SERVER_ENV_SECRET not in error and HEADER_SECRET not in error


async def call_tool(daemon: RecordingDaemon, thread_id: str, server: str, tool: str, **arguments: Any) -> Any:
    return await daemon.request(
        "mcpServer/tool/call", {"threadId": thread_id, "server": server, "tool": tool, "arguments": arguments}
    )


async def assert_good_answers(daemon: RecordingDaemon, thread_id: str, marker: str) -> None:
    response = await call_tool(daemon, thread_id, "good", "whoami")
    assert response["result"]["content"][0]["text"].startswith(f"{marker}-good "), response


async def test_each_server_fault_leaves_the_daemon_and_the_other_servers_working_and_no_process_behind(
    home: Path,
) -> None:
    marker = f"rel-{secrets.token_hex(4)}"
    workdir = home / "work"
    workdir.mkdir()
    write_config(home, servers(marker), model_url="http://127.0.0.1:9/v1")
    async with running_daemon(home, opt_out=[]) as daemon:
        started = await daemon.call("thread/start", {"cwd": str(workdir)})
        thread_id = started["thread"]["id"]
        statuses = await settled_statuses(daemon, thread_id)
        assert {name for name, note in statuses.items() if note["status"] == "ready"} == WORKING, statuses
        for name in FAILING_AT_START:
            assert statuses[name]["status"] == "failed"
            assert_readable(statuses[name]["error"], name, home)

        # The failed servers' processes are gone while the daemon runs (the hung one was killed).
        failed_labels = {f"{marker}-{suffix}" for suffix in ("exit", "hang", "garbage")}
        await wait_until(lambda: not failed_labels & set(labels_of(processes_of(marker))), WAIT)

        # A slow stderr flood does not stall its server, nor anyone else.
        for _ in range(20):
            flood = await call_tool(daemon, thread_id, "flood", "whoami")
            assert flood["result"]["content"][0]["text"].startswith(f"{marker}-flood ")

        # Hangs mid-call: the call times out with a readable error while the others answer.
        async with anyio.create_task_group() as tg:
            hung: dict[str, Any] = {}

            async def block() -> None:
                hung.update(await call_tool(daemon, thread_id, "midcall", "block", key="never"))

            tg.start_soon(block)
            await assert_good_answers(daemon, thread_id, marker)
        assert hung["error"]["code"] == codes.REQUEST_FAILED, hung
        assert_readable(hung["error"]["message"], "midcall", home)

        # 50 MB result: either delivered whole or refused with a readable error.
        huge = await call_tool(daemon, thread_id, "midcall", "huge", megabytes=50)
        if "error" in huge:
            assert huge["error"]["code"] == codes.REQUEST_FAILED, huge
            assert_readable(huge["error"]["message"], "midcall", home)
        else:
            assert len(huge["result"]["content"][0]["text"]) == 50 * 1024 * 1024
        await assert_good_answers(daemon, thread_id, marker)

        # Exits mid-call: a readable error, the process is gone, the others answer.
        crashed = await call_tool(daemon, thread_id, "midcall", "crash")
        assert crashed["error"]["code"] == codes.REQUEST_FAILED, crashed
        assert_readable(crashed["error"]["message"], "midcall", home)
        # Left: the app cell's and the thread's good and flood servers, and the app cell's midcall.
        expected = sorted(f"{marker}-{name}" for name in ("good", "good", "flood", "flood", "midcall"))
        await wait_until(lambda: sorted(labels_of(processes_of(marker))) == expected, WAIT)
        await assert_good_answers(daemon, thread_id, marker)

        assert daemon.process.returncode is None
        await daemon.close_stdin()
        assert await daemon.wait_exit() == 0
    await wait_until(lambda: processes_of(marker) == [], WAIT)
