"""config.toml tables for the fixture MCP servers, their processes (psutil), and startup notifications."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import psutil

from tests.app_server.daemon import Daemon

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mcp_servers"
FIXTURE_SERVER = FIXTURES / "fixture_server.py"
CHEAP_SERVER = FIXTURES / "cheap_server.py"


def server_table(name: str, script: Path, *args: str, **keys: object) -> str:
    """`[mcp_servers.NAME]` running `script ARGS` with this Python; `keys` are more keys, JSON-encoded."""
    lines = [
        f"[mcp_servers.{name}]",
        f"command = {json.dumps(sys.executable)}",
        f"args = {json.dumps([str(script), *args])}",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def cheap_table(name: str, tag: str = "", **keys: object) -> str:
    """A stdlib-only server; its command line carries `name` (and `tag`) so its process can be found."""
    return server_table(name, CHEAP_SERVER, f"--server={name}", f"--tag={tag}", **keys)


def fixture_table(name: str, *args: str, **keys: object) -> str:
    """The mcp SDK fixture server labelled `name` (tools, resources, faults: see fixture_server.py)."""
    return server_table(name, FIXTURE_SERVER, "--label", name, *args, **keys)


def server_pids(daemon: Daemon) -> dict[str, list[int]]:
    """Label (the `--label`/`--server=` argument) -> pids of the daemon's MCP server processes."""
    found: dict[str, list[int]] = {}
    for child in psutil.Process(daemon.process.pid).children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            args = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        label = _label(args)
        if label is not None:
            found.setdefault(label, []).append(child.pid)
    return found


def _label(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        if arg.startswith("--server="):
            return arg.removeprefix("--server=")
        if arg == "--label" and index + 1 < len(args):
            return args[index + 1]
    return None


STARTUP_STATUS = "mcpServer/startupStatus/updated"


async def startup_until(
    daemon: Daemon, final: dict[str, str], *, thread_id: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Take `mcpServer/startupStatus/updated` notifications of one scope until each server in `final`
    reached its final status; returns every taken notification's params by server name."""
    seen: dict[str, list[dict[str, Any]]] = {}
    while any(not seen.get(name) or seen[name][-1]["status"] != status for name, status in final.items()):
        message = await daemon.next_message(
            lambda m: (
                isinstance(m, dict)
                and m.get("method") == STARTUP_STATUS
                and m["params"].get("threadId") == thread_id
            )
        )
        params = message["params"]
        seen.setdefault(params["name"], []).append(params)
    return seen
