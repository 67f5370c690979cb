"""The real daemon for reliability scenarios: every message and stderr byte scanned for tokens.

    write_config(home, model.base_url, {"fix": label_server("run-1-fix")})
    async with running_daemon(home) as daemon:
        ...

`write_config` writes config.toml; `running_daemon` starts `python -m app_server` with the model key in its
environment, initializes with the noisy notifications opted out (a storm would otherwise queue
hundreds of thousands) and, when the daemon is gone, feeds its stderr and every message it sent
(taken or not) to the transcript. Servers are named by a run marker in their `--label`, so
`processes_of(marker)` finds them, and only them, in the process table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import psutil

from tests.app_server.daemon import Daemon
from tests.app_server.threads.turn_harness import MODEL_KEY_ENV
from tests.reliability.transcript import MODEL_KEY, TRANSCRIPT

LABEL_SERVER = str(Path(__file__).resolve().parent / "label_server.py")
FIXTURE_SERVER = str(Path(__file__).resolve().parents[1] / "fixtures" / "mcp_servers" / "fixture_server.py")
QUIET = [
    "mcpServer/startupStatus/updated",
    "item/agentMessage/delta",
    "item/started",
    "item/mcpToolCall/progress",
]
WAIT = 60.0
"""Seconds any one wait may take: generous, since a loaded 2-core box may be running other suites."""


class RecordingDaemon(Daemon):
    """A Daemon whose every taken message is scanned for tokens."""

    async def next_message(self, matches: Callable[[Any], bool] = lambda _m: True) -> Any:
        message = await super().next_message(matches)
        TRANSCRIPT.scan_message("daemon stdout", message)
        return message

    async def drain(self) -> None:
        """After exit: scan stderr and every message nobody took."""
        TRANSCRIPT.scan("daemon stderr", self.stderr_text)
        try:
            while True:
                await self.next_message()
        except EOFError:
            return


def label_server(label: str, *, stderr_flood: bool = False, **options: Any) -> dict[str, Any]:
    """A `[mcp_servers.X]` table for the stdlib label server, tools pre-approved, `python -I -S` for speed."""
    return {
        "command": sys.executable,
        "args": ["-I", "-S", LABEL_SERVER, "--label", label, *(["--stderr-flood"] if stderr_flood else [])],
        "default_tools_approval_mode": "approve",
        **options,
    }


def fixture_server(label: str, *args: str, **options: Any) -> dict[str, Any]:
    """A table for the mcp SDK fixture server (tools crash, block, huge...; `--fault` modes)."""
    return {
        "command": sys.executable,
        "args": [FIXTURE_SERVER, "--label", label, *args],
        "default_tools_approval_mode": "approve",
        **options,
    }


def write_config(home: Path, model_url: str, servers: Mapping[str, Mapping[str, Any]]) -> None:
    """config.toml using the scripted model provider at `model_url` and the given MCP servers."""
    lines = [
        'model = "scripted-model"',
        'model_provider = "scripted"',
        "[model_providers.scripted]",
        f"base_url = {toml_value(model_url)}",
        'wire_api = "responses"',
        f"env_key = {toml_value(MODEL_KEY_ENV)}",
    ]
    for name, table in servers.items():
        lines.append(f"[mcp_servers.{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in table.items())
    (home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def toml_value(value: Any) -> str:
    """TOML for strings, booleans, numbers, lists and (inline) tables of them."""
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + " }"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value)


@asynccontextmanager
async def running_daemon(
    home: Path, *args: str, opt_out: Iterable[str] = QUIET, max_wait: float = WAIT
) -> AsyncIterator[RecordingDaemon]:
    """An initialized daemon (config.toml already written) that is killed if still running at the end."""
    async with RecordingDaemon.start(
        home, *args, env={MODEL_KEY_ENV: MODEL_KEY}, max_wait=max_wait
    ) as daemon:
        assert isinstance(daemon, RecordingDaemon)
        await daemon.initialize({"optOutNotificationMethods": list(opt_out)})
        yield daemon
    await daemon.drain()


def processes_of(marker: str) -> list[psutil.Process]:
    """Every live process (zombies excluded) whose command line mentions `marker`."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if process.info["status"] != psutil.STATUS_ZOMBIE and any(marker in part for part in cmdline):
            found.append(process)
    return found


async def wait_until(condition: Callable[[], bool], seconds: float = WAIT) -> None:
    """Poll `condition` (for process-table facts, which have no event to await) until it holds."""
    with anyio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 (a process exit has no event to await)
            await anyio.sleep(0.02)


def labels_of(processes: Iterable[psutil.Process]) -> list[str]:
    """The `--label` argument of each process that still exists."""
    labels = []
    for process in processes:
        try:
            cmdline = process.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "--label" in cmdline:
            labels.append(cmdline[cmdline.index("--label") + 1])
    return labels


def text_of(item: Mapping[str, Any]) -> str:
    """The first text content of a completed mcpToolCall item."""
    return str(item["result"]["content"][0]["text"])


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode() + b"\n"
