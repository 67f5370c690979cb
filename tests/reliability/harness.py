"""The real daemon for reliability scenarios: every message and stderr byte scanned for tokens.

    write_config(home, {"fix": label_server("run-1-fix")}, model_url=model.base_url)
    async with running_daemon(home) as daemon:
        ...

`write_config` (tests/support/config.py) writes config.toml; `running_daemon` starts
`python -m app_server` with the model key in its environment, initializes with the noisy
notifications opted out (a storm would otherwise queue hundreds of thousands) and, when the daemon
is gone, feeds its stderr and every message it sent (taken or not) to the transcript. Servers are
named by a run marker in their `--label`, so `processes_of(marker)` (tests/support/processes.py)
finds them, and only them, in the process table.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.reliability.transcript import MODEL_KEY, TRANSCRIPT
from tests.support import config
from tests.support.config import APPROVE, MODEL_KEY_ENV
from tests.support.daemon import Daemon

LABEL_SERVER = Path(__file__).resolve().parent / "label_server.py"
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
    flood = ["--stderr-flood"] if stderr_flood else []
    return config.python_server("-I", "-S", LABEL_SERVER, "--label", label, *flood, **APPROVE, **options)


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


def text_of(item: Mapping[str, Any]) -> str:
    """The first text content of a completed mcpToolCall item."""
    return str(item["result"]["content"][0]["text"])


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode() + b"\n"
