"""Turn figures over the real stdio daemon: a turn with one MCP call on the scripted model, minus model time.

The scripted model runs in this process and times every request it serves (request received ->
last byte of the stream sent); a turn's "model time" is the sum over its requests. Turns with one
`whoami` call on the bundled example server alternate with text-only turns, so load from other
processes weighs on both alike. Lease capture per step is measured in bench_mcp.py (not repeated).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import anyio
import psutil
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app_server.model.script import Script
from app_server.model.scripted import ScriptedModelServer
from tests.support.config import MODEL_KEY_ENV, example_server, write_config
from tests.support.daemon import Daemon

TURNS = 30
WARMUP = 3
TOOL_TURN = [{"tool_calls": [{"name": "mcp__demo__whoami", "arguments": {}}]}, {"text": "done"}]
TEXT_TURN = [{"text": "done"}]
EXAMPLE_SERVER = example_server("--label", "bench", default_tools_approval_mode="approve")
WAIT = 60.0


class _RequestTimer:
    """ASGI middleware: appends each model request's serving time (seconds) to `durations`."""

    def __init__(self, app: ASGIApp, durations: list[float]) -> None:
        self._app = app
        self._durations = durations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/responses"):
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self._durations.append(time.perf_counter() - started)

        await self._app(scope, receive, timed_send)


class TimedModelServer(ScriptedModelServer):
    """The scripted model server, timing how long it spends serving each request."""

    def __init__(self, script: Script) -> None:
        self.durations: list[float] = []
        super().__init__(script)

    def _app(self) -> Any:
        return _RequestTimer(super()._app(), self.durations)


class TurnSample(NamedTuple):
    """One turn's wall time, the model server's share of it and the daemon's CPU time, in seconds."""

    total: float
    model: float
    daemon_cpu: float


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def timed_turn(daemon: Daemon, model: TimedModelServer, thread_id: str) -> TurnSample:
    """One turn from `turn/start` sent to `turn/completed` received, and the model's share of it."""
    process = psutil.Process(daemon.process.pid)
    served = len(model.durations)
    cpu_before = cpu_seconds(process)
    started = time.perf_counter()
    result = await daemon.call(
        "turn/start",
        {"threadId": thread_id, "input": [{"type": "text", "text": "go", "text_elements": []}]},
    )
    turn_id = result["turn"]["id"]
    completed = await daemon.next_message(
        lambda m: m.get("method") == "turn/completed" and m["params"]["turn"]["id"] == turn_id
    )
    total = time.perf_counter() - started
    assert completed["params"]["turn"]["status"] == "completed", completed
    return TurnSample(total, sum(model.durations[served:]), cpu_seconds(process) - cpu_before)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def measure() -> list[tuple[str, str, str]]:
    load = f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    rounds = WARMUP + TURNS
    script = Script.model_validate({"steps": (TOOL_TURN + TEXT_TURN) * rounds})
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        async with TimedModelServer(script) as model:
            write_config(home, {"demo": EXAMPLE_SERVER}, model_url=model.base_url)
            async with Daemon.start(home, env={MODEL_KEY_ENV: "bench"}, max_wait=WAIT) as daemon:
                await daemon.initialize()
                started = await daemon.call("thread/start", {"cwd": str(home)})
                thread_id = started["thread"]["id"]
                tool_turns, text_turns = [], []
                for index in range(rounds):
                    tool = await timed_turn(daemon, model, thread_id)
                    text = await timed_turn(daemon, model, thread_id)
                    if index >= WARMUP:
                        tool_turns.append(tool)
                        text_turns.append(text)
    overhead = statistics.median(sample.total - sample.model for sample in tool_turns)
    marginal = statistics.median(
        tool.total - text.total for tool, text in zip(tool_turns, text_turns, strict=True)
    )
    return [
        (
            "turn, 1 MCP call: total (model)",
            f"{median(tool_turns, 'total')} ({median(tool_turns, 'model')})",
            "-",
        ),
        ("turn, 1 MCP call: total minus model time", ms(overhead), "< 40 ms median"),
        (
            "turn, text only: total (model)",
            f"{median(text_turns, 'total')} ({median(text_turns, 'model')})",
            "-",
        ),
        ("turn, 1 MCP call minus text-only turn", ms(marginal), "-"),
        ("turn, 1 MCP call: daemon CPU time, mean", mean_cpu(tool_turns), "-"),
        ("turn, text only: daemon CPU time, mean", mean_cpu(text_turns), "-"),
        ("turn benchmarks: 1-min load average at start", load, "-"),
    ]


def median(samples: list[TurnSample], field: str) -> str:
    return ms(statistics.median(getattr(sample, field) for sample in samples))


def mean_cpu(samples: list[TurnSample]) -> str:
    """CPU time is counted in clock ticks (10 ms), so a mean says more than a median."""
    return ms(statistics.mean(sample.daemon_cpu for sample in samples))


def run() -> list[tuple[str, str, str]]:
    return anyio.run(measure)


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
