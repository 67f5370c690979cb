"""Leases and generations with real server processes: a leased generation survives a publish; no leaks."""

from __future__ import annotations

import random

import anyio
import psutil
import pytest

from app_server.mcp.client import RuntimeContext
from tests.app_server.mcp.conftest import Running, cheap_config, stdio_config
from tests.support.processes import child_pids, wait_gone

pytestmark = pytest.mark.anyio

CONTEXT = RuntimeContext()


async def test_a_leased_generation_survives_a_publish_until_its_lease_is_released(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("v1")}, CONTEXT)
    with anyio.fail_after(30):
        lease = cell.lease()
        old = lease.runtime
        await old.wait_started()
        old_pid = (await old.call_tool("a", "whoami"))["structuredContent"]["pid"]
        call = old.call_tool("a", "block", {"key": "k"})

        manager.publish(manager.plan(cell, {"a": stdio_config("v2")}, CONTEXT))
        assert cell.current is not old
        assert (old.retired, old.is_closed) == (True, False)
        await cell.current.wait_started()
        new_pid = (await cell.current.call_tool("a", "whoami"))["structuredContent"]["pid"]
        assert new_pid != old_pid

        async with anyio.create_task_group() as tg:
            answers: list[str] = []

            async def blocked_call() -> None:
                answers.append((await call)["structuredContent"]["result"])

            tg.start_soon(blocked_call)
            # The old generation still serves calls: release the blocked one through it.
            await old.call_tool("a", "release", {"key": "k"})
        assert answers == ["released k"]
        assert psutil.pid_exists(old_pid)

        lease.release()
        assert old.is_closed
        await wait_gone({old_pid})
        assert psutil.Process(new_pid).is_running()


async def test_a_retired_generation_without_leases_closes_at_once(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": cheap_config()}, CONTEXT)
    first = cell.current
    manager.publish(manager.plan(cell, {"a": cheap_config(env={"V": "2"})}, CONTEXT))
    assert first.is_closed
    with anyio.fail_after(10):
        await first.slots["a"].connection.closed.wait()  # type: ignore[union-attr]
    assert manager.live_generations == 1


async def test_publish_lease_cycles_leave_no_extra_processes_or_generations(running: Running) -> None:
    manager = running.manager
    rng = random.Random(7)
    cell = manager.open_cell({"stable": cheap_config(), "churn": cheap_config(env={"N": "0"})}, CONTEXT)
    held = []
    every_connection = set(cell.current.connections())
    with anyio.fail_after(90):
        for cycle in range(1, 201):
            if rng.random() < 0.5:
                held.append(cell.lease())
            servers = {"stable": cheap_config(), "churn": cheap_config(env={"N": str(cycle % 3)})}
            manager.publish(manager.plan(cell, servers, CONTEXT))
            every_connection.update(cell.current.connections())
            while held and rng.random() < 0.6:
                held.pop(rng.randrange(len(held))).release()
            if cycle % 50 == 0:
                await cell.current.wait_started()
        for lease in held:
            lease.release()
        await cell.current.wait_started()
        current = set(cell.current.connections())
        for connection in every_connection - current:
            await connection.closed.wait()
        current_pids = {c.pid for c in current}
        assert manager.live_generations == 1
        await wait_gone(child_pids() - current_pids)
    # `stable` ran once throughout; `churn` restarted at each change, except where a generation
    # still held keeps its config running, which the pool then shares.
    assert [c.name for c in every_connection].count("stable") == 1
    assert 100 < len(every_connection) <= 202
    assert len(current_pids) == 2
    assert set(running.manager.registry.pids()) == current_pids  # type: ignore[union-attr]
