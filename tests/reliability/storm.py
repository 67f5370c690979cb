"""Refresh storm: threads run tool-calling steps while reloads alternate two configurations.

The scripted model serves `tool steps` (each calls `mcp__fix__whoami` once) and then one text
step per thread; steps are handed out in arrival order, so every thread keeps calling tools until
the tool steps run out, then ends its turn. Both configurations run the stdlib label server under
the name `fix` with a different label, so every reload replaces every cell's server. Every tool
step is held by the model until the storm releases it: two steps after each reload, whose calls
it then waits for. So the reloads and the calls interleave for the whole run, and each reload
lands while up to one step per thread is held mid-step on the lease it took. Each step's model
request shows the server it leased (the tool description carries its label and pid); the call's
answer shows the server that answered; they must match.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from app_server.model.script import Script
from app_server.model.scripted import RecordedRequest, ScriptedModelServer
from tests.reliability.harness import WAIT, RecordingDaemon, label_server, running_daemon, text_of
from tests.support.config import write_config
from tests.support.processes import labels_of, processes_of, wait_until

TOOL = "mcp__fix__whoami"
CALLS_PER_RELOAD = 2
_LEASED = re.compile(r"whoami of (\S+) pid (\d+)")


@dataclass
class StormReport:
    threads: int
    reloads: int
    tool_calls: int = 0
    leases_checked: int = 0
    seconds: float = 0.0
    wrong_runtime: list[str] = field(default_factory=list)
    lost_calls: list[str] = field(default_factory=list)
    unfinished_turns: list[str] = field(default_factory=list)
    final_labels: list[str] = field(default_factory=list)
    expected_labels: list[str] = field(default_factory=list)

    @property
    def reloads_per_second(self) -> float:
        return self.reloads / self.seconds if self.seconds else 0.0


def leased_server(request: RecordedRequest) -> str | None:
    """ "label pid" of the `fix` server a step's model request advertised, None if it advertised none."""
    for tool in request.body.get("tools") or []:
        if tool.get("name") == TOOL and (found := _LEASED.fullmatch(str(tool.get("description")))):
            return f"{found.group(1)} {found.group(2)}"
    return None


async def run_storm(home: Path, marker: str, *, threads: int, reloads: int) -> StormReport:
    """Run the storm in a fresh daemon; the report lists every violation found."""
    report = StormReport(threads, reloads, tool_calls=reloads * CALLS_PER_RELOAD + threads)
    configs = [{"fix": label_server(f"{marker}-A")}, {"fix": label_server(f"{marker}-B")}]
    workdir = home / "work"
    workdir.mkdir(exist_ok=True)
    steps: list[dict[str, Any]] = [
        {"tool_calls": [{"name": TOOL}], "hold": "before_response"}
    ] * report.tool_calls
    steps += [{"text": "done"}] * threads
    async with ScriptedModelServer(Script.model_validate({"steps": steps})) as model:
        write_config(home, configs[0], model_url=model.base_url)
        async with running_daemon(home) as daemon:
            thread_ids = [await _start_thread(daemon, workdir) for _ in range(threads)]
            turn_ids = [await _start_turn(daemon, thread_id) for thread_id in thread_ids]
            answered: dict[str, str] = {}
            started = time.perf_counter()
            for number in range(1, reloads + 1):
                write_config(home, configs[number % 2], model_url=model.base_url)
                assert await daemon.call("config/mcpServer/reload", {}) == {}
                for step in range((number - 1) * CALLS_PER_RELOAD, number * CALLS_PER_RELOAD):
                    model.release(step)
                for _ in range(CALLS_PER_RELOAD):
                    await _take_call(daemon, answered, report)
            report.seconds = time.perf_counter() - started
            for step in range(reloads * CALLS_PER_RELOAD, report.tool_calls):
                model.release(step)
            while len(answered) + len(report.lost_calls) < report.tool_calls:
                await _take_call(daemon, answered, report)
            for turn_id in turn_ids:
                turn = await daemon.next_message(
                    lambda m, turn_id=turn_id: (
                        m.get("method") == "turn/completed"  # type: ignore[misc]
                        and m["params"]["turn"]["id"] == turn_id
                    )
                )
                if turn["params"]["turn"]["status"] != "completed":
                    report.unfinished_turns.append(f"{turn_id}: {turn['params']['turn']['status']}")
            await _check_recorded(daemon, thread_ids, answered, report)
            _check_leases(model.requests, answered, report)
            final_label = f"{marker}-{'AB'[reloads % 2]}"
            # Once the retired generations have stopped: one process shared by every thread (they all
            # run in `workdir`) and one for the app level (in the daemon's cwd); a timeout is reported below.
            report.expected_labels = [final_label] * 2
            with anyio.move_on_after(WAIT):
                await wait_until(lambda: labels_of(processes_of(marker)) == report.expected_labels, WAIT)
            report.final_labels = sorted(labels_of(processes_of(marker)))
            await daemon.close_stdin()
            await daemon.wait_exit()
    return report


async def _start_thread(daemon: RecordingDaemon, workdir: Path) -> str:
    return str((await daemon.call("thread/start", {"cwd": str(workdir)}))["thread"]["id"])


async def _start_turn(daemon: RecordingDaemon, thread_id: str) -> str:
    params = {"threadId": thread_id, "input": [{"type": "text", "text": "go", "text_elements": []}]}
    return str((await daemon.call("turn/start", params))["turn"]["id"])


async def _take_call(daemon: RecordingDaemon, answered: dict[str, str], report: StormReport) -> None:
    """Wait for the next tool call item to complete and note who answered it."""
    note = await daemon.next_message(
        lambda m: m.get("method") == "item/completed" and m["params"]["item"]["type"] == "mcpToolCall"
    )
    item = note["params"]["item"]
    if item["status"] == "completed":
        answered[item["id"]] = text_of(item)
    else:
        report.lost_calls.append(f"{item['id']}: {item['status']} {item.get('error')}")


async def _check_recorded(
    daemon: RecordingDaemon, thread_ids: list[str], answered: dict[str, str], report: StormReport
) -> None:
    """Every announced call is in its thread's history with the same answer."""
    recorded: dict[str, str] = {}
    for thread_id in thread_ids:
        result = await daemon.call("thread/read", {"threadId": thread_id, "includeTurns": True})
        for turn in result["thread"]["turns"]:
            for item in turn["items"]:
                if item["type"] == "mcpToolCall" and item["status"] == "completed":
                    recorded[item["id"]] = text_of(item)
    for item_id, answer in answered.items():
        if recorded.get(item_id) != answer:
            report.lost_calls.append(f"{item_id}: announced {answer!r}, recorded {recorded.get(item_id)!r}")
    if len(recorded) != report.tool_calls:
        report.lost_calls.append(f"{len(recorded)} calls recorded, {report.tool_calls} scripted")


def _check_leases(requests: list[RecordedRequest], answered: dict[str, str], report: StormReport) -> None:
    """Each step's call was answered by the very server its model request advertised."""
    for request in requests:
        if request.step is None or request.step >= report.tool_calls:
            continue
        item_id = f"call_{request.step}_0"
        leased = leased_server(request)
        report.leases_checked += 1
        if item_id in answered and answered[item_id] != leased:
            report.wrong_runtime.append(f"{item_id}: leased {leased}, answered by {answered[item_id]}")
