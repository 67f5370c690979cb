"""The front-end stand-in that the MCP conformance suite drives: `python -m tests.conformance.client URL`.

The suite (`conformance client --command ... --scenario S`) starts scenario S's server and runs this
with its URL, `MCP_CONFORMANCE_SCENARIO=S` and, where the scenario hands the client something (the
pre-registered client's credentials), `MCP_CONFORMANCE_CONTEXT`. It does what a person at an IDE
front-end would: configures that server in a fresh home's config.toml, starts the real daemon over
stdio, logs in when the server asks for it (again on a step-up, at most `MAX_LOGINS` times in all),
calls every tool with arguments built from its input schema while answering the server's questions,
and reads every resource. Exit 0 when that worked; 1 with the reason on stderr (the suite keeps it),
and the daemon's log after it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

from tests.support.config import write_config
from tests.support.daemon import Daemon
from tests.support.frontend import (
    LoginRefused,
    call_tool,
    example_arguments,
    log_in,
    server_status,
    wait_settled,
)

SERVER = "conformance"
CLIENT_METADATA_URL = "https://conformance-test.local/client-metadata.json"
"""The client metadata document URL the suite's authorization servers accept as a client id (CIMD)."""
MAX_LOGINS = 3
"""Logins one run may start: the first, and step-ups; the suite's retry-limit scenario wants <= 3."""
WAIT = 20.0
"""Bound on each wait for the daemon; the whole run is bounded by `RUN_TIMEOUT`."""
RUN_TIMEOUT = 50.0
"""Below the timeout the test gives the suite (60 s), so this process ends by itself and says why."""


class ScenarioFailed(Exception):
    """The host could not do what the scenario's server asked; the message says what happened."""


def server_table(url: str, context: dict[str, Any]) -> dict[str, Any]:
    """The `[mcp_servers.conformance]` table: the URL, and the pre-registered client if the suite gave one."""
    table: dict[str, Any] = {"url": url}
    if "client_id" in context and "client_secret" in context:
        table["oauth"] = {"client_id": context["client_id"], "client_secret": context["client_secret"]}
    return table


async def exercise(daemon: Daemon) -> None:
    """Initialize, then log in until the server is connected and every tool call went through."""
    await daemon.initialize()
    await server_status(daemon, SERVER)  # fails at once when the config was refused
    settled = await wait_settled(daemon, SERVER)
    logins = 0
    while True:
        status = await server_status(daemon, SERVER)
        note(f"server {status['runtimeStatus']}, auth {status['authStatus']}")
        if status["runtimeStatus"] == "connected" and await use(daemon, status):
            return
        if status["runtimeStatus"] not in ("connected", "authenticationRequired"):
            raise ScenarioFailed(f"server {status['runtimeStatus']}: {settled.get('error')}")
        if logins == MAX_LOGINS:
            raise ScenarioFailed(f"still not authorized after {MAX_LOGINS} logins")
        logins += 1
        note(f"login {logins}")
        try:
            completed = await log_in(daemon, SERVER)
        except LoginRefused as refused:
            raise ScenarioFailed(str(refused)) from refused
        if not completed["success"]:
            raise ScenarioFailed(f"login failed: {completed.get('error')}")
        settled = await wait_settled(daemon, SERVER)


async def use(daemon: Daemon, status: dict[str, Any]) -> bool:
    """Call every tool and read every resource; False when a call was refused for want of
    authorization (the caller logs in again), ScenarioFailed when it failed otherwise."""
    note(f"tools {sorted(status['tools'])}")
    for name, tool in status["tools"].items():
        response = await call_tool(daemon, SERVER, name, example_arguments(tool["inputSchema"]))
        if "error" in response:
            message = response["error"]["message"]
            note(f"call {name}: error {message}")
            if await needs_login(daemon, message):
                return False
            raise ScenarioFailed(f"tools/call {name}: {message}")
        note(f"call {name}: {json.dumps(response['result'])[:300]}")
    for resource in status["resources"]:
        read = await daemon.request("mcpServer/resource/read", {"server": SERVER, "uri": resource["uri"]})
        if "error" in read:
            raise ScenarioFailed(f"resources/read {resource['uri']}: {read['error']['message']}")
        note(f"read {resource['uri']}")
    return True


async def needs_login(daemon: Daemon, message: str) -> bool:
    """Whether a failed call asks for a (new) login: the server's status says so, or the error names
    the scope it lacked."""
    status = await server_status(daemon, SERVER)
    asks = status["runtimeStatus"] == "authenticationRequired" or status["authStatus"] == "notLoggedIn"
    return asks or "scope" in message.lower()


def note(text: str) -> None:
    print(f"[stand-in] {text}", file=sys.stderr, flush=True)


async def run(url: str, context: dict[str, Any]) -> int:
    with tempfile.TemporaryDirectory(prefix="conformance-home-") as directory:
        home = Path(directory)
        write_config(
            home,
            {SERVER: server_table(url, context)},
            features={"apps": False},
            mcp_oauth_credentials_store="file",
            mcp_oauth_client_metadata_url=CLIENT_METADATA_URL,
        )
        async with Daemon.start(home, max_wait=WAIT) as daemon:
            try:
                with anyio.fail_after(RUN_TIMEOUT):
                    await exercise(daemon)
            except (ScenarioFailed, LookupError, TimeoutError, EOFError) as failure:
                note(f"FAILED: {type(failure).__name__}: {failure}")
                return 1
            finally:
                print(f"[daemon log]\n{daemon.stderr_text}", file=sys.stderr, flush=True)
    note("done")
    return 0


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m tests.conformance.client SERVER_URL", file=sys.stderr)
        return 2
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    note(f"scenario {os.environ.get('MCP_CONFORMANCE_SCENARIO')}")
    return anyio.run(run, sys.argv[1], context)


if __name__ == "__main__":
    raise SystemExit(main())
