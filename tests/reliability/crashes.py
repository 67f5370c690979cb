"""Crash durability: `kill -9` the daemon at random points of many turns and read everything back.

Each round starts the daemon on the same home, resumes the thread (started in round one), starts
a turn whose steps call a tool and answer text, and kills the daemon after a random number of the
turn's notifications (zero: right after `turn/start` is answered). Some rounds also leave a torn
last line in the thread file, as a write cut short by the crash would. The next round's daemon must
show every item announced before the kill (completed ones exactly as announced), report the torn
line instead of failing on it, and have reaped the killed daemon's MCP server processes.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from app_server.model.script import Script
from app_server.model.scripted import ScriptedModelServer
from tests.reliability.harness import WAIT, RecordingDaemon, label_server, running_daemon
from tests.support.config import write_config
from tests.support.processes import alive, processes_of, wait_gone

TORN_LINE = b'{"type": "item", "item": {"id": "torn'
NOTIFIED = ("item/started", "item/completed", "turn/completed")
NOISY = ["mcpServer/startupStatus/updated", "item/agentMessage/delta", "item/mcpToolCall/progress"]


@dataclass
class CrashReport:
    rounds: int
    announced: int = 0
    torn_lines: int = 0
    torn_reported: int = 0
    recovery_seconds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def run_crashes(home: Path, marker: str, *, rounds: int, seed: int = 7) -> CrashReport:
    """`rounds` killed turns on one thread, then a last daemon that checks the final state."""
    chooser = random.Random(seed)
    report = CrashReport(rounds)
    workdir = home / "work"
    workdir.mkdir(exist_ok=True)
    turn_steps = [{"tool_calls": [{"name": "mcp__fix__whoami"}]}, {"text": "the answer, in several words"}]
    script = Script.model_validate({"steps": turn_steps * (rounds + 1)})
    announced: dict[str, dict[str, Any]] = {}
    completed: set[str] = set()
    thread_id: str | None = None
    torn_pending = False
    killed: set[int] = set()
    async with ScriptedModelServer(script) as model:
        write_config(home, {"fix": label_server(f"{marker}-fix")}, model_url=model.base_url)
        for number in range(rounds + 1):
            started = time.perf_counter()
            async with running_daemon(home, opt_out=NOISY) as daemon:
                if thread_id is None:
                    result = await daemon.call("thread/start", {"cwd": str(workdir)})
                    thread_id = str(result["thread"]["id"])
                else:
                    await daemon.call("thread/resume", {"threadId": thread_id})
                report.recovery_seconds.append(time.perf_counter() - started)
                # Loading the MCP service reaps the servers the killed daemon left behind.
                with anyio.move_on_after(WAIT):
                    await wait_gone(killed, WAIT)
                if any(alive(pid) for pid in killed):
                    report.problems.append(
                        f"MCP server processes {sorted(killed)} outlived their killed daemon"
                    )
                await _check_read_back(daemon, thread_id, announced, completed, report)
                if torn_pending:
                    report.torn_reported += "torn write" in daemon.stderr_text
                    torn_pending = False
                if number == rounds:
                    _check_every_line_readable(home, report)
                    await daemon.close_stdin()
                    await daemon.wait_exit()
                    break
                await _turn_killed_at_random(daemon, thread_id, chooser, announced, completed)
                killed = {process.pid for process in processes_of(marker)}
            if chooser.random() < 0.3:
                with (home / "threads" / f"{thread_id}.jsonl").open("ab") as journal:
                    journal.write(TORN_LINE)
                report.torn_lines += 1
                torn_pending = True
    report.announced = len(announced)
    return report


async def _turn_killed_at_random(
    daemon: RecordingDaemon,
    thread_id: str,
    chooser: random.Random,
    announced: dict[str, dict[str, Any]],
    completed: set[str],
) -> None:
    params = {"threadId": thread_id, "input": [{"type": "text", "text": "go", "text_elements": []}]}
    await daemon.call("turn/start", params)
    for _ in range(chooser.randint(0, 7)):
        message = await daemon.next_message(lambda m: m.get("method") in NOTIFIED)
        if message["method"] == "turn/completed":
            break
        item = message["params"]["item"]
        announced[item["id"]] = item
        if message["method"] == "item/completed":
            completed.add(item["id"])
    daemon.process.kill()
    await daemon.wait_exit()


async def _check_read_back(
    daemon: RecordingDaemon,
    thread_id: str,
    announced: dict[str, dict[str, Any]],
    completed: set[str],
    report: CrashReport,
) -> None:
    result = await daemon.call("thread/read", {"threadId": thread_id, "includeTurns": True})
    read_back = {item["id"]: item for turn in result["thread"]["turns"] for item in turn["items"]}
    for item_id, item in announced.items():
        if item_id not in read_back:
            report.problems.append(f"announced item {item_id} ({item['type']}) is missing")
        elif item_id in completed and read_back[item_id] != item:
            report.problems.append(f"completed item {item_id} reads back differently")
        elif read_back[item_id]["type"] != item["type"]:
            report.problems.append(f"item {item_id} changed type")


def _check_every_line_readable(home: Path, report: CrashReport) -> None:
    """Every line of every thread file is JSON, except the torn lines this scenario wrote."""
    for path in (home / "threads").glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            if line == TORN_LINE:
                continue
            try:
                json.loads(line)
            except ValueError:
                report.problems.append(f"{path.name}: a corrupt line {line[:60]!r}")
