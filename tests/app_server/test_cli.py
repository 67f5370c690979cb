"""The `app-server` command line: options, validation, and the console entry point."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app_server.cli import build_parser, main, run_server
from tests.support.config import write_config
from tests.support.daemon import Daemon, run_command


def test_options_are_parsed_for_the_server_and_overrides_kept_in_order() -> None:
    args = build_parser().parse_args(
        ["--listen", "ws://127.0.0.1:4500", "--ws-allowed-origin", "https://a", "--ws-allowed-origin", "https://b",
         "-c", "model=x", "-c", "mcp_servers.s.enabled=false", "--max-message-bytes", "1024"]
    )  # fmt: skip
    assert args.func is run_server
    assert args.listen == "ws://127.0.0.1:4500"
    assert args.ws_allowed_origin == ["https://a", "https://b"]
    assert args.config_overrides == ["model=x", "mcp_servers.s.enabled=false"]
    assert args.max_message_bytes == 1024


@pytest.mark.parametrize("argv", [["-c", "no-equals-sign"], ["--max-message-bytes", "0"], ["--bogus"]])
def test_bad_arguments_exit_with_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: app-server" in capsys.readouterr().err


def test_an_empty_token_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("\n")
    assert main(["--listen", "ws://127.0.0.1:0", "--ws-token-file", str(token_file)]) == 2
    assert "empty" in capsys.readouterr().err


def test_codex_front_ends_flags_are_accepted(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    args = build_parser().parse_args(
        [
            "--listen",
            "ws://127.0.0.1:4500",
            "--ws-auth",
            "capability-token",
            "--ws-token-file",
            str(token_file),
        ]
    )
    assert (args.listen, args.ws_auth) == ("ws://127.0.0.1:4500", "capability-token")
    assert build_parser().parse_args(["--listen", "stdio://"]).listen is None  # stdio, the default


def test_ws_auth_without_a_token_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--listen", "ws://127.0.0.1:0", "--ws-auth", "capability-token"]) == 2
    assert "--ws-token-file" in capsys.readouterr().err


@pytest.mark.anyio
async def test_the_daemon_serves_stdio_when_told_stdio_explicitly(home: Path) -> None:
    async with Daemon.start(home, "--listen", "stdio://") as daemon:
        assert (await daemon.initialize())["codexHome"] == str(home)


def test_a_malformed_listen_address_is_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--listen", "http://127.0.0.1:80"]) == 2
    assert "ws://HOST:PORT" in capsys.readouterr().err


def test_help_is_printed_by_the_module_entry_point(home: Path) -> None:
    completed = run_command(home, "--help", timeout=30)
    assert completed.returncode == 0
    assert "--listen" in completed.stdout
    assert "--ws-token-file" in completed.stdout


def test_a_closed_stdout_ends_a_command_quietly(home: Path) -> None:
    write_config(home, {f"s{i}": {"command": "true"} for i in range(200)})
    reader, writer = os.pipe()
    os.close(reader)
    with os.fdopen(writer, "wb") as stdout:
        completed = run_command(home, "mcp", "list", stdout=stdout, timeout=30)
    assert completed.returncode == 1
    assert completed.stderr == ""
