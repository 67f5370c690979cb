"""One process per server, through the real stdio daemon: threads in one workspace share connections.

Pinning holds with sharing on: a step keeps the connections of the generation it leased, whoever
else holds them, and a reload starts a changed server once for every thread that needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.app_server.threads.test_pinning import advertised, call, held, one_pid
from tests.app_server.threads.turn_harness import (
    DEFAULT_WAIT,
    TurnDaemon,
    answering_pid,
    cheap_server,
    elicit_server,
    fixture_server,
    turn_daemon,
)
from tests.support.processes import alive, wait_gone

pytestmark = pytest.mark.anyio

STARTUP = "mcpServer/startupStatus/updated"


async def started_threads(turns: TurnDaemon, count: int, *servers: str) -> list[str]:
    """`count` threads in the workspace, each once its `servers` are announced ready to it."""
    thread_ids = []
    for _ in range(count):
        thread_id = await turns.start_thread()
        for name in servers:
            await turns.server_ready(name, thread_id)
        thread_ids.append(thread_id)
    return thread_ids


async def process_of(turns: TurnDaemon, thread_id: str, server: str) -> dict[str, Any]:
    """The `process` extension of `server` in the thread's status list."""
    result = await turns.daemon.call("mcpServerStatus/list", {"threadId": thread_id})
    (entry,) = [entry for entry in result["data"] if entry["name"] == server]
    return dict(entry["process"])


async def test_threads_in_one_workspace_share_one_process_per_server(home: Path) -> None:
    servers = {"one": cheap_server("one"), "two": cheap_server("two")}
    async with turn_daemon(home, [], servers) as turns:
        thread_ids = await started_threads(turns, 3, "one", "two")
        assert [len(turns.server_pids(label)) for label in ("one", "two")] == [1, 1]
        process = await process_of(turns, thread_ids[0], "one")
        assert process["threadIds"] == sorted(thread_ids)
        assert (process["isolation"], process["appLevel"]) == ("shared", False)
        assert process["pid"] == one_pid(turns, "one")


async def test_a_server_isolated_per_thread_runs_once_for_each_thread(home: Path) -> None:
    servers = {"own": cheap_server("own", isolation="thread"), "shared": cheap_server("shared")}
    async with turn_daemon(home, [], servers) as turns:
        first, second = await started_threads(turns, 2, "own", "shared")
        assert (len(turns.server_pids("own")), len(turns.server_pids("shared"))) == (2, 1)
        own = await process_of(turns, first, "own")
        assert (own["isolation"], own["threadIds"]) == ("thread", [first])
        assert (await process_of(turns, second, "own"))["pid"] != own["pid"]


async def test_the_views_list_every_process_with_its_server_pid_isolation_and_scopes(home: Path) -> None:
    servers = {"own": cheap_server("own", isolation="thread"), "shared": cheap_server("shared")}
    async with turn_daemon(home, [], servers) as turns:
        for name in servers:
            await turns.server_ready(name, None)  # the app level's, in another workspace
        first, second = await started_threads(turns, 2, "own", "shared")
        views = await turns.daemon.call("mcpServer/views/read", {})
        listed = [(p["server"], p["isolation"], p["appLevel"], p["threadIds"]) for p in views["processes"]]
        assert sorted(listed[:3]) == [
            ("own", "thread", False, [first]),
            ("own", "thread", False, [second]),
            ("own", "thread", True, []),
        ]
        assert sorted(listed[3:]) == [
            ("shared", "shared", False, sorted([first, second])),
            ("shared", "shared", True, []),
        ]
        pids = {(p["server"], tuple(p["threadIds"])): p["pid"] for p in views["processes"]}
        assert {pids["own", (first,)], pids["own", (second,)]} == turns.server_pids("own")
        assert pids["shared", tuple(sorted([first, second]))] == one_pid(turns, "shared")
        assert pids["own", ()] not in turns.server_pids("own") | turns.server_pids("shared")


async def test_the_app_level_shares_each_process_with_a_thread_in_the_daemons_own_workspace(
    home: Path,
) -> None:
    servers = {"one": cheap_server("one"), "two": cheap_server("two")}
    async with turn_daemon(home, [], servers, in_workdir=True) as turns:
        for name in servers:
            await turns.server_ready(name, None)
        (thread_id,) = await started_threads(turns, 1, "one", "two")
        assert [len(turns.server_pids(label)) for label in ("one", "two")] == [1, 1]
        process = await process_of(turns, thread_id, "one")
        assert (process["appLevel"], process["threadIds"], process["pid"]) == (
            True,
            [thread_id],
            one_pid(turns, "one"),
        )
        app_level = await turns.daemon.call("mcpServerStatus/list", {})
        (app_one,) = [entry for entry in app_level["data"] if entry["name"] == "one"]
        assert app_one["process"]["connectionId"] == process["connectionId"]


def threadless_startups(turns: TurnDaemon) -> int:
    """How many received startup notifications for the app level no wait took yet."""
    return sum(
        1
        for m in turns.daemon.untaken()
        if m.get("method") == STARTUP and m["params"].get("threadId") is None
    )


async def test_a_thread_start_on_servers_already_running_sends_no_threadless_startup_notification(
    home: Path,
) -> None:
    servers = {"one": cheap_server("one"), "two": cheap_server("two")}
    async with turn_daemon(home, [], servers, in_workdir=True) as turns:
        for name in servers:
            await turns.server_ready(name, None)
        await started_threads(turns, 1, "one", "two")
        before = threadless_startups(turns)
        await started_threads(turns, 1, "one", "two")
        await turns.daemon.call("thread/loaded/list", {})  # answered after anything that start sent
        assert threadless_startups(turns) == before


async def test_a_thread_hears_its_servers_after_thread_started_even_when_they_already_run(home: Path) -> None:
    async with turn_daemon(home, [], {"one": cheap_server("one")}) as turns:
        await started_threads(turns, 1, "one")
        second = await turns.start_thread()
        first_heard = await turns.daemon.next_message(
            lambda m: (
                (m.get("method") == "thread/started" and m["params"]["thread"]["id"] == second)
                or (m.get("method") == STARTUP and m["params"]["threadId"] == second)
            )
        )
        assert first_heard["method"] == "thread/started"
        ready = await turns.daemon.next_message(
            lambda m: m.get("method") == STARTUP and m["params"]["threadId"] == second
        )
        assert (ready["params"]["name"], ready["params"]["status"]) == ("one", "ready")
        assert len(turns.server_pids("one")) == 1


async def test_a_reload_during_one_threads_held_step_pins_it_while_another_thread_runs_on_the_new_server(
    home: Path,
) -> None:
    script = [
        {"tool_calls": [call("fix", "whoami"), call("gone", "whoami")], "hold": "before_response"},
        {"tool_calls": [call("fix", "whoami")]},
        {"text": "done"},
        {"text": "done"},
    ]
    servers = {"fix": cheap_server("A"), "gone": cheap_server("G")}
    async with turn_daemon(home, script, servers) as turns:
        holding, starting = await started_threads(turns, 2, "fix", "gone")
        held_turn = await turns.start_turn(holding)
        await held(turns, 0)
        old_fix, old_gone = one_pid(turns, "A"), one_pid(turns, "G")

        turns.configure({"fix": cheap_server("B")})
        await turns.reload()
        await turns.server_ready("fix", starting)
        new_fix = one_pid(turns, "B")  # one new process for both threads
        new_turn = await turns.start_turn(starting)
        assert answering_pid(await turns.item_completed("call_1_0")) == new_fix
        assert (await turns.turn_completed(new_turn))["status"] == "completed"
        assert alive(old_fix) and alive(old_gone), "the held step's servers stopped before it ended"

        turns.model.release(0)
        assert answering_pid(await turns.item_completed("call_0_0")) == old_fix
        assert answering_pid(await turns.item_completed("call_0_1")) == old_gone  # removed, still answering
        assert (await turns.turn_completed(held_turn))["status"] == "completed"
        await wait_gone({old_fix, old_gone})
        assert turns.server_pids("B") == {new_fix}
        assert {"mcp__fix__whoami", "mcp__gone__whoami"} <= advertised(turns, 0)
        assert not any(name.startswith("mcp__gone__") for name in advertised(turns, 1))


async def test_two_threads_calling_one_shared_process_in_parallel_each_get_their_own_answer(
    home: Path,
) -> None:
    script = [
        {"tool_calls": [call("fix", "block", key="first")]},
        {"tool_calls": [call("fix", "block", key="second")]},
        {"text": "done"},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"fix": fixture_server("A")}) as turns:
        first, second = await started_threads(turns, 2, "fix")
        first_turn = await turns.start_turn(first)
        await turns.item_started("call_0_0")
        second_turn = await turns.start_turn(second)
        await turns.item_started("call_1_0")
        assert len(turns.server_pids("A")) == 1
        for key in ("second", "first"):  # released in the other order
            release = {"threadId": first, "server": "fix", "tool": "release", "arguments": {"key": key}}
            await turns.daemon.call("mcpServer/tool/call", release)
        with anyio.fail_after(DEFAULT_WAIT):
            one = await turns.item_completed("call_0_0")
            two = await turns.item_completed("call_1_0")
        assert (one["result"]["content"][0]["text"], two["result"]["content"][0]["text"]) == (
            "released first",
            "released second",
        )
        for turn_id in (first_turn, second_turn):
            assert (await turns.turn_completed(turn_id))["status"] == "completed"


async def test_progress_on_a_shared_process_goes_to_each_threads_own_call(home: Path) -> None:
    async with turn_daemon(home, [], {"el": elicit_server()}) as turns:
        threads = await started_threads(turns, 2, "el")
        request_ids = {}
        for thread_id in threads:  # both in flight at once: the tool waits for the other
            arguments = {"group": "both", "expect": 2, "patience": 20, "label": thread_id}
            params = {"threadId": thread_id, "server": "el", "tool": "meet_progress", "arguments": arguments}
            request_ids[thread_id] = turns.daemon.new_id()
            await turns.daemon.send(
                {
                    "jsonrpc": "2.0",
                    "id": request_ids[thread_id],
                    "method": "mcpServer/tool/call",
                    "params": params,
                }
            )
        for thread_id, request_id in request_ids.items():
            answer = await turns.daemon.next_message(
                lambda m, request_id=request_id: m.get("id") == request_id and "method" not in m
            )
            assert answer["result"]["content"][0]["text"] == thread_id
        progress = [
            m["params"] for m in turns.daemon.untaken() if m.get("method") == "mcpServer/toolCall/progress"
        ]
        assert sorted((p["message"], p["threadId"], p["requestId"]) for p in progress) == sorted(
            (thread_id, thread_id, request_id) for thread_id, request_id in request_ids.items()
        )


async def test_a_crashed_shared_server_fails_for_every_thread_and_a_thread_start_restarts_it_for_itself(
    home: Path,
) -> None:
    async with turn_daemon(home, [], {"fix": fixture_server("A")}) as turns:
        first, second = await started_threads(turns, 2, "fix")
        crashed = one_pid(turns, "A")
        crash = {"threadId": first, "server": "fix", "tool": "crash", "arguments": {}}
        assert "error" in await turns.daemon.request("mcpServer/tool/call", crash)
        for thread_id in (first, second):
            failed = await turns.daemon.next_message(
                lambda m, thread_id=thread_id: (
                    m.get("method") == STARTUP
                    and m["params"]["threadId"] == thread_id
                    and m["params"]["status"] == "failed"
                )
            )
            assert failed["params"]["error"] == "MCP server `fix` exited"
        await wait_gone({crashed})
        (third,) = await started_threads(turns, 1, "fix")
        restarted = one_pid(turns, "A")
        assert restarted != crashed
        whoami = {"threadId": third, "server": "fix", "tool": "whoami", "arguments": {}}
        pinned = await turns.daemon.request("mcpServer/tool/call", {**whoami, "threadId": first})
        assert pinned.get("error", {}).get("message") == (
            "MCP server `fix` is not connected: MCP server `fix` exited"
        ), "a call of a thread pinned to the crashed process reached the new one"
        assert (await process_of(turns, third, "fix"))["threadIds"] == [third]
        assert (await turns.daemon.call("mcpServer/tool/call", whoami))["structuredContent"][
            "pid"
        ] == restarted


async def test_an_unloaded_thread_no_longer_hears_a_shared_server_another_thread_still_holds(
    home: Path,
) -> None:
    async with turn_daemon(home, [], {"fix": fixture_server("A")}) as turns:
        daemon = turns.daemon
        gone, staying = await started_threads(turns, 2, "fix")
        assert await daemon.call("thread/unsubscribe", {"threadId": gone}) == {"status": "unsubscribed"}
        await daemon.next_notification("thread/closed")
        crash = {"threadId": staying, "server": "fix", "tool": "crash", "arguments": {}}
        assert "error" in await daemon.request("mcpServer/tool/call", crash)
        await daemon.next_message(
            lambda m: (
                m.get("method") == STARTUP
                and (m["params"]["threadId"], m["params"]["status"]) == (staying, "failed")
            )
        )
        # Whatever the crash announced is written before the answer to a later request.
        await daemon.call("account/read", {})
        heard = [
            m["params"]["status"]
            for m in daemon.untaken()
            if m.get("method") == STARTUP and m["params"]["threadId"] == gone
        ]
        assert "failed" not in heard, "the unloaded thread still hears the server"


async def test_a_step_waits_for_a_slow_server_only_the_startup_grace_and_its_tools_join_later(
    home: Path,
) -> None:
    script = [{"tool_calls": [call("fast", "whoami")]}, {"text": "first done"}, {"text": "second done"}]
    servers = {"fast": cheap_server("fast"), "slow": cheap_server("slow", "--start-delay", "3")}
    async with turn_daemon(home, script, servers, mcp_startup_grace_sec=0.2) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("fast", thread_id)
        first_turn = await turns.start_turn(thread_id)
        finished = await turns.daemon.next_message(
            lambda m: (
                (m.get("method") == "turn/completed" and m["params"]["turn"]["id"] == first_turn)
                or (
                    m.get("method") == STARTUP
                    and m["params"]["name"] == "slow"
                    and m["params"]["status"] == "ready"
                )
            )
        )
        assert finished["method"] == "turn/completed", "the step waited for the slow server"
        assert finished["params"]["turn"]["status"] == "completed"
        assert "mcp__fast__whoami" in advertised(turns, 0)
        assert not any(name.startswith("mcp__slow__") for name in advertised(turns, 0) | advertised(turns, 1))

        await turns.server_ready("slow", thread_id)
        second_turn = await turns.start_turn(thread_id)
        assert (await turns.turn_completed(second_turn))["status"] == "completed"
        assert "mcp__slow__whoami" in advertised(turns, 2)
