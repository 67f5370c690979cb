"""Importing other hosts' MCP configs: what maps is imported, what does not is skipped with its reason."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app_server.config.editing.edits import add_servers
from app_server.config.editing.importing import ImportPlan, import_servers, plan_import
from app_server.config.editing.sources import ImportSource, detect_source
from app_server.config.servers import HttpServerConfig, McpServerConfig, StdioServerConfig, ToolConfig
from app_server.errors import InvalidParams, RequestFailed

SAMPLES = Path(__file__).parents[3] / "fixtures" / "import_samples"
CODEX = SAMPLES / "codex" / "config.toml"
CLAUDE_PROJECT = SAMPLES / "claude_project" / ".mcp.json"
CLAUDE_USER = SAMPLES / "claude_user" / ".claude.json"
VSCODE = SAMPLES / "vscode_project" / ".vscode" / "mcp.json"
CURSOR = SAMPLES / "cursor_project" / ".cursor" / "mcp.json"


def _imported(plan: ImportPlan) -> dict[str, McpServerConfig]:
    return {server.name: server.config for server in plan.imported}


def _skipped(plan: ImportPlan) -> dict[str, str]:
    return {server.name: server.reason for server in plan.skipped}


def _written(config_path: Path) -> dict[str, McpServerConfig]:
    """config.toml's servers as servers.py loads them (the transport follows from `command` or `url`)."""
    tables = tomllib.loads(config_path.read_text())["mcp_servers"]
    return {
        name: (StdioServerConfig if "command" in table else HttpServerConfig).model_validate(table)
        for name, table in tables.items()
    }


@pytest.mark.parametrize(
    ("path", "source"),
    [
        (CODEX, "codex"),
        (CLAUDE_PROJECT, "claude"),
        (CLAUDE_USER, "claude"),
        (VSCODE, "vscode"),
        (CURSOR, "cursor"),
    ],
)
def test_the_source_is_detected_from_the_file_name_and_shape(path: Path, source: ImportSource) -> None:
    assert plan_import(path, "auto", ()).source == source


def test_a_file_of_no_known_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"editor.fontSize": 14}')

    with pytest.raises(RequestFailed, match="--from"):
        detect_source(path, {"editor.fontSize": 14})


def test_codex_servers_import_and_the_unmappable_ones_are_skipped(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"

    plan = import_servers(CODEX, config_path)

    assert _imported(plan) == {
        "docs": StdioServerConfig(
            command="npx",
            args=("-y", "@acme/docs-mcp"),
            env={"DOCS_MODE": "offline"},
            env_vars=("DOCS_TOKEN",),
            startup_timeout_sec=20,
        ),
        "search": HttpServerConfig(
            url="https://search.example.com/mcp",
            bearer_token_env_var="SEARCH_TOKEN",
            http_headers={"X-Team": "core"},
            enabled=False,
        ),
        "tools": StdioServerConfig(
            command="acme-tools", tools={"lookup": ToolConfig(approval_mode="approve")}
        ),
    }
    skipped = _skipped(plan)
    assert set(skipped) == {"legacy", "mixed", "my.server"}
    assert "inline `bearer_token` is not supported" in skipped["legacy"]
    assert "both `command` and `url`" in skipped["mixed"]
    assert "--rename 'my.server=my_server'" in skipped["my.server"]
    assert _written(config_path) == _imported(plan)


def test_claude_project_servers_map_placeholders_onto_variables(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"

    plan = import_servers(CLAUDE_PROJECT, config_path, "claude")

    assert _imported(plan) == {
        "github": StdioServerConfig(
            command="npx", args=("-y", "@modelcontextprotocol/server-github"), env_vars=("GITHUB_TOKEN",)
        ),
        "api": HttpServerConfig(
            url="https://api.example.com/mcp",
            bearer_token_env_var="API_TOKEN",
            http_headers={"X-Team": "core"},
            env_http_headers={"X-Region": "API_REGION"},
        ),
        "keyed": HttpServerConfig(
            url="https://keyed.example.com/mcp", http_headers={"X-API-Key": "sk-live-literal"}
        ),
    }
    skipped = _skipped(plan)
    assert skipped["events"].startswith("SSE transport is not supported")
    assert "`${DEBUG:-false}`, which cannot be resolved" in skipped["debug"]
    assert "`$OTHER_TOKEN`" in skipped["renamed-env"]
    keyed = next(server for server in plan.imported if server.name == "keyed")
    assert keyed.notes == (
        "header `X-API-Key` holds a literal secret, now stored in config.toml "
        "(prefer env_http_headers or bearer_token_env_var)",
    )
    assert _written(config_path) == _imported(plan)


def test_claude_user_config_adds_per_project_servers_and_skips_repeated_names() -> None:
    plan = plan_import(CLAUDE_USER, "auto", ())

    assert _imported(plan) == {
        "memory": StdioServerConfig(command="npx", args=("-y", "@modelcontextprotocol/server-memory")),
        "db": StdioServerConfig(
            command="uvx", args=("mcp-server-sqlite", "--db-path", "app.db"), cwd=Path("/src/app")
        ),
    }
    assert [(server.name, server.origin) for server in plan.skipped] == [
        ("memory", "projects./src/app.mcpServers.memory"),
        ("ws-only", "projects./src/site.mcpServers.ws-only"),
    ]
    assert _skipped(plan)["ws-only"] == "transport `ws` is not supported by this host"


def test_vscode_servers_resolve_the_workspace_and_skip_inputs_env_files_and_sse(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"

    plan = import_servers(VSCODE, config_path)

    workspace = VSCODE.resolve().parent.parent
    assert _imported(plan) == {
        "fetch": StdioServerConfig(command="uvx", args=("mcp-server-fetch",)),
        "notes": StdioServerConfig(
            command="python", args=(f"{workspace}/tools/notes_server.py",), env_vars=("NOTES_HOME",)
        ),
        "remote": HttpServerConfig(
            url="https://remote.example.com/mcp",
            http_headers={"X-Url": "https://x.example.com//path"},
            env_http_headers={"X-Remote-Token": "REMOTE_TOKEN"},
        ),
    }
    skipped = _skipped(plan)
    assert set(skipped) == {"perplexity", "with-env-file", "legacy-sse"}
    assert "`${input:perplexity-key}`, which VS Code prompts for" in skipped["perplexity"]
    assert skipped["with-env-file"].startswith("`envFile` is not supported")
    assert skipped["legacy-sse"].startswith("SSE transport is not supported")
    assert _written(config_path) == _imported(plan)


def test_cursor_servers_import_with_notes_and_an_offered_name_for_an_invalid_one(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"

    plan = import_servers(CURSOR, config_path)

    workspace = CURSOR.resolve().parent.parent
    assert _imported(plan) == {
        "browser": StdioServerConfig(
            command="npx", args=("-y", "@acme/browser-mcp"), env={"API_KEY": "value"}
        ),
        "linear": HttpServerConfig(
            url="https://mcp.linear.example.com/mcp", bearer_token_env_var="LINEAR_TOKEN"
        ),
        "home-tools": StdioServerConfig(
            command=f"{Path.home()}/bin/home-tools", args=("--workspace", str(workspace))
        ),
    }
    browser = next(server for server in plan.imported if server.name == "browser")
    assert browser.notes == (
        "env `API_KEY` holds a literal secret, now stored in config.toml (prefer env_vars)",
    )
    assert _skipped(plan) == {
        "bad name!": "invalid server name (use letters, digits, `_` and `-`); "
        "import it as `bad_name` with --rename 'bad name!=bad_name'",
        "nothing": "entry has neither `command` nor `url`",
    }
    assert _written(config_path) == _imported(plan)


def test_a_renamed_server_imports_under_its_new_name() -> None:
    plan = plan_import(CURSOR, "auto", (), renames={"bad name!": "bad_name"})

    assert _imported(plan)["bad_name"] == StdioServerConfig(command="bad")


def test_no_name_is_offered_when_the_sanitised_one_is_taken() -> None:
    plan = plan_import(CURSOR, "auto", ("bad_name",))

    assert _skipped(plan)["bad name!"].endswith("choose one with --rename 'bad name!=NEW_NAME'")


def test_a_rename_of_a_name_the_source_lacks_is_refused() -> None:
    with pytest.raises(InvalidParams, match="no server named `ghost`"):
        plan_import(CURSOR, "auto", (), renames={"ghost": "spirit"})


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"

    plan = import_servers(CURSOR, config_path, dry_run=True)

    assert len(plan.imported) == 3
    assert not config_path.exists()


def test_configured_names_are_skipped_unless_forced(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"
    add_servers(config_path, {"linear": StdioServerConfig(command="old-linear")})

    plan = import_servers(CURSOR, config_path)

    assert (
        _skipped(plan)["linear"]
        == "a server with this name is already configured (use --force to replace it)"
    )
    assert _written(config_path)["linear"] == StdioServerConfig(command="old-linear")

    forced = import_servers(CURSOR, config_path, force=True)

    linear = next(server for server in forced.imported if server.name == "linear")
    assert linear.replaces_existing
    assert _written(config_path)["linear"] == linear.config


def test_an_explicit_source_that_does_not_fit_the_file_is_refused() -> None:
    with pytest.raises(RequestFailed, match="has no `mcpServers`, where cursor keeps its MCP servers"):
        plan_import(VSCODE, "cursor", ())


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RequestFailed, match="does not exist"):
        plan_import(tmp_path / "absent.json", "auto", ())


def test_a_malformed_json_file_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{\n  "mcpServers": {\n    "a": \n')

    with pytest.raises(RequestFailed, match="not valid JSON \\(line 4"):
        plan_import(path, "auto", ())
