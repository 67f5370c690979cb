"""`python -m app_server.commands.mcp_config mcp ...` run as a real process against a private home."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from app_server.commands.mcp_config import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.support.daemon import run_command

SAMPLES = Path(__file__).parents[2] / "fixtures" / "import_samples"
HAND_WRITTEN = '# Mine.\nmodel = "gpt-5"  # keep\n\n[features]\napps = true\n'


def _run(home: Path, *words: str) -> subprocess.CompletedProcess[str]:
    return run_command(home, "mcp", *words, module="app_server.commands.mcp_config", timeout=30)


@pytest.fixture
def config_file(home: Path) -> Path:
    path = home / "config.toml"
    path.write_text(HAND_WRITTEN)
    return path


def test_add_then_remove_leaves_the_config_file_as_it_was(home: Path, config_file: Path) -> None:
    stdio = _run(
        home, "add", "docs", "--env", "MODE=offline", "--env-var", "DOCS_TOKEN", "--", "npx", "-y", "--x"
    )
    http = _run(
        home, "add", "search", "--url", "https://s.example.com/mcp", "--bearer-token-env-var", "TOKEN"
    )

    assert (stdio.returncode, http.returncode) == (EXIT_OK, EXIT_OK), stdio.stderr + http.stderr
    servers = tomllib.loads(config_file.read_text())["mcp_servers"]
    assert servers == {
        "docs": {
            "command": "npx",
            "args": ["-y", "--x"],
            "env": {"MODE": "offline"},
            "env_vars": ["DOCS_TOKEN"],
        },
        "search": {"url": "https://s.example.com/mcp", "bearer_token_env_var": "TOKEN"},
    }

    assert _run(home, "remove", "docs").returncode == EXIT_OK
    assert _run(home, "remove", "search").returncode == EXIT_OK
    assert config_file.read_text() == HAND_WRITTEN


def test_add_over_a_configured_name_fails_with_one_line_unless_forced(home: Path, config_file: Path) -> None:
    assert _run(home, "add", "docs", "--", "first").returncode == EXIT_OK

    refused = _run(home, "add", "docs", "--", "second")

    assert refused.returncode == EXIT_FAILED
    assert refused.stderr == (
        "app-server mcp add: error: server `docs` is already configured; use --force to replace it\n"
    )
    assert _run(home, "add", "docs", "--force", "--", "second").returncode == EXIT_OK
    assert tomllib.loads(config_file.read_text())["mcp_servers"]["docs"] == {"command": "second"}


@pytest.mark.parametrize(
    "words",
    [
        ("add", "bad name", "--", "x"),
        ("add", "docs"),
        ("add", "docs", "--url", "ftp://x", "--", "x"),
        ("add", "docs", "--url", "ftp://x"),
        ("add", "docs", "--env", "NOVALUE", "--", "x"),
        ("add", "docs", "--unknown-flag", "--", "x"),
        ("import", "x.json", "--from", "zed"),
    ],
)
def test_bad_usage_exits_2_with_one_error_line_and_no_traceback(home: Path, words: tuple[str, ...]) -> None:
    result = _run(home, *words)

    assert result.returncode == EXIT_USAGE
    assert len(result.stderr.splitlines()) == 1
    assert "error:" in result.stderr
    assert not (home / "config.toml").exists()


def test_removing_an_unknown_server_exits_1(home: Path, config_file: Path) -> None:
    result = _run(home, "remove", "ghost")

    assert result.returncode == EXIT_FAILED
    assert result.stderr == "app-server mcp remove: error: no server named `ghost` is configured\n"
    assert config_file.read_text() == HAND_WRITTEN


def test_import_dry_run_reports_every_server_and_writes_nothing(home: Path, config_file: Path) -> None:
    result = _run(home, "import", str(SAMPLES / "cursor_project" / ".cursor" / "mcp.json"), "--dry-run")

    assert result.returncode == EXIT_OK, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "would import `browser` from mcpServers.browser (stdio)"
    assert lines[1].startswith("  note: env `API_KEY` holds a literal secret")
    assert "skipped `nothing` from mcpServers.nothing: entry has neither `command` nor `url`" in lines
    assert lines[-1] == "3 would import, 2 skipped (cursor source); dry run, nothing written"
    assert config_file.read_text() == HAND_WRITTEN


def test_import_writes_the_servers_after_the_existing_settings(home: Path, config_file: Path) -> None:
    result = _run(
        home, "import", "--from", "vscode", str(SAMPLES / "vscode_project" / ".vscode" / "mcp.json")
    )

    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.splitlines()[-1] == "3 imported, 3 skipped (vscode source)"
    text = config_file.read_text()
    assert text.startswith(HAND_WRITTEN)
    assert set(tomllib.loads(text)["mcp_servers"]) == {"fetch", "notes", "remote"}


def test_import_of_a_missing_file_exits_1(home: Path) -> None:
    result = _run(home, "import", str(home / "absent.json"))

    assert result.returncode == EXIT_FAILED
    assert result.stderr.startswith("app-server mcp import: error: cannot import: ")


def test_help_exits_0(home: Path) -> None:
    result = _run(home, "import", "--help")

    assert result.returncode == EXIT_OK
    assert "--dry-run" in result.stdout
