"""`app-server mcp list|get|login|logout` run as real processes against a private home."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from pydantic import SecretStr

from app_server.cli import main
from app_server.commands.mcp_runtime import EXIT_FAILED, EXIT_OK, browser_available
from app_server.mcp.oauth.credentials import (
    FileCredentialStore,
    StoredCredentials,
    StoredTokens,
    save_credentials,
)
from tests.app_server.mcp.oauth.harness import follow_authorization
from tests.fixtures.oauth.server import FixtureAuthority, serve_oauth_server
from tests.support.config import cheap_server, write_config
from tests.support.daemon import COMMAND_TIMEOUT, environment, run_command, run_command_async

HTTP_URL = "http://127.0.0.1:9/mcp"
LOGIN_COMMAND = (sys.executable, "-m", "app_server", "mcp", "login", "protected")
RunHere = Callable[..., tuple[int, str, str]]


def _config(home: Path, servers: dict[str, dict[str, Any]]) -> None:
    write_config(home, servers, mcp_oauth_credentials_store="file")


@pytest.fixture
def run_here(home: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[RunHere]:
    """Run `app-server WORDS` in this process (for commands that start no server): (exit, out, err).

    The logger levels the commands set are put back afterwards.
    """
    levels = {name: logging.getLogger(name).level for name in ("", "mcp")}

    def run(*words: str) -> tuple[int, str, str]:
        try:
            code = main(list(words))
        except SystemExit as exited:
            code = int(exited.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield run
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _rows(stdout: str) -> dict[str, list[str]]:
    """The plain table of `mcp list`: server name -> its columns."""
    lines = stdout.splitlines()
    assert lines[0].split() == ["NAME", "TRANSPORT", "STATE", "AUTH", "TOOLS"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:] if ":" not in line}


def test_list_shows_each_configured_server_with_state_transport_auth_and_tools(home: Path) -> None:
    _config(
        home,
        {
            "cheap": cheap_server("cheap"),
            "off": cheap_server("off", enabled=False),
            "broken": {"command": "/nonexistent/server"},
            "web": {"url": HTTP_URL, "bearer_token_env_var": "WEB_TOKEN"},
        },
    )

    listed = run_command(home, "mcp", "list")

    assert listed.returncode == EXIT_OK, listed.stderr
    assert _rows(listed.stdout) == {
        "broken": ["stdio", "failed", "unsupported", "-"],
        "cheap": ["stdio", "connected", "unsupported", "1"],
        "off": ["stdio", "disabled", "unsupported", "-"],
        "web": ["streamable_http", "failed", "bearerToken", "-"],
    }
    assert "broken: MCP server `broken` could not be launched: command not found" in listed.stdout
    assert listed.stderr == ""


def test_list_json_prints_the_status_entries_and_honours_overrides_given_before_the_command(
    home: Path,
) -> None:
    _config(home, {"cheap": cheap_server("cheap"), "other": cheap_server("other")})

    listed = run_command(home, "-c", "mcp_servers.other.enabled=false", "mcp", "list", "--json")

    assert listed.returncode == EXIT_OK, listed.stderr
    entries = {entry["name"]: entry for entry in json.loads(listed.stdout)}
    assert entries["cheap"]["runtimeStatus"] == "connected"
    assert list(entries["cheap"]["tools"]) == ["whoami"]
    assert entries["cheap"]["serverInfo"]["name"] == "cheap"
    assert entries["other"]["runtimeStatus"] == "disabled"


def test_list_without_servers_says_how_to_add_one(home: Path, run_here: RunHere) -> None:
    assert run_here("mcp", "list") == (
        EXIT_OK,
        "No MCP servers configured. Add one with `app-server mcp add`.\n",
        "",
    )


def test_list_with_a_broken_config_fails_naming_the_problem(home: Path, run_here: RunHere) -> None:
    (home / "config.toml").write_text("[mcp_servers.bad]\ncommand = 42\n")

    code, _, err = run_here("mcp", "list")

    assert code == EXIT_FAILED
    assert err.startswith("app-server mcp list: error: invalid configuration:\n")
    assert "mcp_servers.bad.command" in err


def test_get_shows_the_config_with_secrets_redacted_the_state_and_the_tools(home: Path) -> None:
    _config(home, {"cheap": cheap_server("cheap", env={"API_KEY": "hunter2"})})

    shown = run_command(home, "mcp", "get", "cheap")
    as_json = run_command(home, "mcp", "get", "cheap", "--json")

    assert (shown.returncode, as_json.returncode) == (EXIT_OK, EXIT_OK), shown.stderr + as_json.stderr
    assert "hunter2" not in shown.stdout + as_json.stdout
    lines = shown.stdout.splitlines()
    assert lines[:4] == ["cheap", "  state: connected", "  transport: stdio", "  auth: unsupported"]
    assert '    env: {"API_KEY": "<redacted>"}' in lines
    assert lines[-2:] == ["  tools (1):", "    whoami  Answer this process's pid."]
    details = json.loads(as_json.stdout)
    assert details["config"]["env"] == {"API_KEY": "<redacted>"}
    assert details["provenance"]["key"] == "mcp_servers.cheap"
    assert details["status"]["runtimeStatus"] == "connected"
    assert list(details["status"]["tools"]) == ["whoami"]


def test_get_starts_only_the_server_it_names(home: Path) -> None:
    marker = home / "marker-started"
    touch = {"command": "/bin/sh", "args": ["-c", f"touch {marker}"]}
    _config(home, {"cheap": cheap_server("cheap"), "marker": touch})

    shown = run_command(home, "mcp", "get", "cheap", "--json")

    assert shown.returncode == EXIT_OK, shown.stderr
    assert json.loads(shown.stdout)["status"]["runtimeStatus"] == "connected"
    assert not marker.exists()
    assert run_command(home, "mcp", "list").returncode == EXIT_OK
    assert marker.exists()  # the marker does tell: `list` starts every server


@pytest.mark.parametrize("command", ["get", "login", "logout"])
def test_a_command_naming_an_unknown_server_fails_with_one_line(
    home: Path, run_here: RunHere, command: str
) -> None:
    _config(home, {"cheap": cheap_server("cheap")})

    assert run_here("mcp", command, "nope") == (
        EXIT_FAILED,
        "",
        f"app-server mcp {command}: error: No MCP server named 'nope' found.\n",
    )


@pytest.mark.parametrize("command", ["login", "logout"])
def test_oauth_commands_refuse_a_stdio_server(home: Path, run_here: RunHere, command: str) -> None:
    _config(home, {"cheap": cheap_server("cheap")})

    assert run_here("mcp", command, "cheap") == (
        EXIT_FAILED,
        "",
        f"app-server mcp {command}: error: OAuth {command} is only supported for streamable HTTP servers.\n",
    )


@pytest.mark.parametrize("words", [("login", "web", "--timeout", "0"), ("get",), ("list", "--bogus")])
def test_bad_usage_exits_2(run_here: RunHere, words: tuple[str, ...]) -> None:
    code, _, err = run_here("mcp", *words)

    assert code == 2
    assert "usage:" in err or "error:" in err


def test_logout_deletes_the_stored_credentials_and_then_says_there_are_none(
    home: Path, run_here: RunHere
) -> None:
    _config(home, {"web": {"url": HTTP_URL}})
    store = FileCredentialStore(home / ".credentials.json")
    tokens = StoredTokens(access_token=SecretStr("at-secret"), refresh_token=SecretStr("rt-secret"))
    save_credentials(store, StoredCredentials(server_name="web", server_url=HTTP_URL, tokens=tokens))
    save_credentials(store, StoredCredentials(server_name="other", server_url=HTTP_URL, tokens=tokens))

    assert run_here("mcp", "logout", "web") == (EXIT_OK, "Removed OAuth credentials for 'web'.\n", "")
    assert run_here("mcp", "logout", "web") == (EXIT_OK, "No OAuth credentials stored for 'web'.\n", "")
    assert store.load("web", HTTP_URL) is None
    assert store.load("other", HTTP_URL) is not None


async def _authorization_url(stdout: BufferedByteReceiveStream) -> str:
    """The URL line `mcp login` prints, read as it is written."""
    while True:
        line = (await stdout.receive_until(b"\n", 64 * 1024)).decode()
        if line.startswith("http"):
            return line


@pytest.fixture
def authority() -> FixtureAuthority:
    return FixtureAuthority()


@pytest.fixture
async def protected_server(home: Path, authority: FixtureAuthority) -> AsyncIterator[str]:
    """The fixture OAuth-protected MCP server, configured as `protected`; yields its MCP URL."""
    async with serve_oauth_server(authority) as base_url:
        url = f"{base_url}/mcp"
        _config(home, {"protected": {"url": url}})
        yield url


@pytest.mark.anyio
async def test_login_prints_the_url_and_after_the_browser_returns_stores_tokens_the_server_accepts(
    home: Path, protected_server: str, authority: FixtureAuthority
) -> None:
    before = await run_command_async(home, "mcp", "list")
    assert _rows(before.stdout.decode())["protected"][1:3] == ["authenticationRequired", "notLoggedIn"]

    with anyio.fail_after(COMMAND_TIMEOUT):
        async with await anyio.open_process(
            [*LOGIN_COMMAND, "--no-browser", "--scopes", "read"], env=environment(home)
        ) as login:
            assert login.stdout is not None and login.stderr is not None
            stdout = BufferedByteReceiveStream(login.stdout)
            await follow_authorization(await _authorization_url(stdout))
            assert await login.wait() == EXIT_OK, (await login.stderr.receive()).decode()
            rest = (await stdout.receive_until(b"\n", 4096)).decode()

    assert rest == "Successfully logged in to MCP server 'protected'."
    assert [request.scopes for request in authority.authorize_requests] == [["read"]]
    stored = FileCredentialStore(home / ".credentials.json").load("protected", protected_server)
    assert stored is not None and stored.tokens is not None
    after = await run_command_async(home, "mcp", "list")
    assert after.returncode == EXIT_OK, after.stderr.decode()
    assert _rows(after.stdout.decode())["protected"] == ["streamable_http", "connected", "oAuth", "2"]


@pytest.mark.anyio
async def test_login_that_is_never_authorized_fails_when_its_timeout_ends(
    home: Path, protected_server: str
) -> None:
    failed = await run_command_async(home, "mcp", "login", "protected", "--no-browser", "--timeout", "1")

    assert failed.returncode == EXIT_FAILED
    assert failed.stderr.decode() == (
        "app-server mcp login: error: OAuth login for MCP server 'protected' failed: no authorization "
        "callback arrived within the login's timeout of 1 s (callback timeout)\n"
    )
    stored = FileCredentialStore(home / ".credentials.json").load("protected", protected_server)
    assert stored is None or stored.tokens is None


@pytest.mark.parametrize(
    ("platform", "environment", "expected"),
    [
        ("linux", {"DISPLAY": ":0"}, True),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, True),
        ("linux", {}, False),
        ("linux", {"DISPLAY": ":0", "CI": "true"}, False),
        ("darwin", {}, True),
    ],
)
def test_a_browser_is_opened_only_where_one_can_show(
    monkeypatch: pytest.MonkeyPatch, platform: str, environment: dict[str, str], expected: bool
) -> None:
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "CI"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(sys, "platform", platform)

    assert browser_available() is expected


def test_building_the_command_line_imports_neither_the_mcp_sdk_nor_the_core() -> None:
    probe = (
        "import sys; from app_server.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('mcp', 'rich', 'app_server.core', 'httpx2') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=True
    )

    assert completed.stdout == "[]\n"
