"""config.toml for a test's daemon, written from dicts: top-level keys, `[mcp_servers.*]` tables, a model.

    write_config(home, {"fix": fixture_server("A")}, model_url=model.base_url, features={"apps": False})

Servers are `[mcp_servers.X]` tables as dicts; the builders below run the fixture MCP servers with
this Python. `model_url` configures the scripted model provider (its key is read from
`MODEL_KEY_ENV`, which the test puts in the daemon's environment). Tests whose subject is the TOML
text itself (positions, comments, broken bytes) write that text by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mcp_servers"
FIXTURE_SERVER = FIXTURES / "fixture_server.py"
"""The mcp SDK fixture server: tools, resources, faults (see fixture_server.py)."""
CHEAP_SERVER = FIXTURES / "cheap_server.py"
"""A stdlib-only server that starts in milliseconds; one tool, `whoami`, answering its pid as text."""
ELICIT_SERVER = FIXTURES / "elicit_server.py"
"""A server that asks the client questions (elicitations) and counts cancellations."""
WORKSPACE_SERVER = FIXTURES / "workspace_server.py"
"""A server that asks for its roots, logs at any level and records the level it was asked for."""
CONTENT_SERVER = FIXTURES / "content_server.py"
"""An mcp SDK server whose tools return each kind of MCP content (see content_server.py)."""
TASK_SERVER = FIXTURES / "task_server.py"
"""An mcp SDK server whose tools run as tasks (`execution.taskSupport`, see task_server.py)."""
MODERN_SERVER = FIXTURES / "modern_server.py"
"""An mcp SDK server that speaks only the stateless 2026-07-28 era (asks for input in rounds)."""
MODEL_KEY_ENV = "SCRIPTED_MODEL_KEY"
"""The environment variable the scripted model provider reads its API key from."""

APPROVE = {"default_tools_approval_mode": "approve"}
"""Server keys that pre-approve every tool, so no approval prompt interferes."""

ServerTables = Mapping[str, Mapping[str, Any]]


def python_server(*args: str | Path, **keys: Any) -> dict[str, Any]:
    """A stdio `[mcp_servers.X]` table running this Python with `args`; `keys` are more keys."""
    return {"command": sys.executable, "args": [str(arg) for arg in args], **keys}


def fixture_server(label: str, *args: str, **keys: Any) -> dict[str, Any]:
    """The mcp SDK fixture server named `label` (its `--label`, which `processes` can find it by)."""
    return python_server(FIXTURE_SERVER, "--label", label, *args, **keys)


def cheap_server(label: str, *args: str, **keys: Any) -> dict[str, Any]:
    """The stdlib-only server; `label` only marks its command line (`--start-delay SECONDS` in `args`
    makes it slow to start)."""
    return python_server(CHEAP_SERVER, "--label", label, *args, **keys)


def content_server(*args: str, **keys: Any) -> dict[str, Any]:
    return python_server(CONTENT_SERVER, *args, **keys)


def elicit_server(**keys: Any) -> dict[str, Any]:
    return python_server(ELICIT_SERVER, **keys)


def modern_server(*args: str, **keys: Any) -> dict[str, Any]:
    return python_server(MODERN_SERVER, *args, **keys)


def workspace_server(**keys: Any) -> dict[str, Any]:
    return python_server(WORKSPACE_SERVER, **keys)


def task_server(*args: str, **keys: Any) -> dict[str, Any]:
    """The task server (`--undeclared`: without the `tasks` capability)."""
    return python_server(TASK_SERVER, *args, **keys)


def example_server(*args: str, **keys: Any) -> dict[str, Any]:
    """The demo's example server, `python -m app_server.demo.example_server ARGS` (its `write_note`
    is destructive; `echo`, `add` and `whoami` are read-only)."""
    return python_server("-m", "app_server.demo.example_server", *args, **keys)


TURN_STARTUP_GRACE_SEC = 30.0
"""The startup grace of tests that run turns: a loaded 2-core box can take seconds to start an SDK
server, and a test's first step should see its tools (tests of the grace itself set their own)."""


def scripted_model(model_url: str) -> dict[str, Any]:
    """The top-level keys that make the scripted model server at `model_url` the daemon's model (and
    let its steps wait for every server to start, `TURN_STARTUP_GRACE_SEC`)."""
    return {
        "mcp_startup_grace_sec": TURN_STARTUP_GRACE_SEC,
        "model": "scripted-model",
        "model_provider": "scripted",
        "model_providers": {
            "scripted": {"base_url": model_url, "wire_api": "responses", "env_key": MODEL_KEY_ENV}
        },
    }


def config_text(servers: ServerTables | None = None, *, model_url: str | None = None, **keys: Any) -> str:
    """config.toml with the top-level `keys` (tables as dicts), the scripted model at `model_url` if
    given, and `servers` as `[mcp_servers.*]`."""
    document: dict[str, Any] = {}
    if model_url is not None:
        document.update(scripted_model(model_url))
    document.update(keys)
    if servers:
        document["mcp_servers"] = {name: dict(table) for name, table in servers.items()}
    return tomlkit.dumps(document)


def write_config(
    home: Path, servers: ServerTables | None = None, *, model_url: str | None = None, **keys: Any
) -> Path:
    """Write `config_text(...)` to `<home>/config.toml` (replacing it) and return its path."""
    path = home / "config.toml"
    path.write_text(config_text(servers, model_url=model_url, **keys), encoding="utf-8")
    return path
