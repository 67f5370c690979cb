"""config.toml edits touch only the entry they are about: every other byte stays."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from app_server.config.editing.edits import add_servers, approve_tool, configured_servers, remove_server
from app_server.config.servers import (
    HttpServerConfig,
    McpServerConfig,
    OAuthClientConfig,
    StdioServerConfig,
    ToolConfig,
)
from app_server.errors import InvalidParams, RequestFailed

HAND_WRITTEN = '''# My settings.
model = "gpt-5"   # the default model

# The docs server, kept offline.
[mcp_servers.docs]
command = "npx"   # from npm
args = ["-y", """@acme/docs
[mcp_servers.not_a_header]
"""]

[mcp_servers.docs.env]
DOCS_MODE = "offline"

# Comment about the next table.
[features]
apps = true

[mcp_servers.search]
url = "https://search.example.com/mcp"
'''

STDIO = StdioServerConfig(
    command="uvx",
    args=("mcp-server-fetch", "--quiet"),
    env={"FETCH_MODE": "fast"},
    env_vars=("FETCH_TOKEN",),
    tools={"fetch": ToolConfig(approval_mode="approve")},
    startup_timeout_sec=12.5,
)
HTTP = HttpServerConfig(
    url="https://tools.example.com/mcp",
    bearer_token_env_var="TOOLS_TOKEN",
    http_headers={"X-Team": "core"},
    enabled=False,
)


def _loaded(table: dict[str, Any]) -> McpServerConfig:
    """What servers.py makes of a written table (the transport follows from `command` or `url`)."""
    model = StdioServerConfig if "command" in table else HttpServerConfig
    return model.model_validate(table)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN)
    return path


def test_adding_then_removing_servers_restores_the_file_byte_for_byte(config_file: Path) -> None:
    add_servers(config_file, {"fetch": STDIO, "tools": HTTP})
    assert config_file.read_text().startswith(HAND_WRITTEN)

    remove_server(config_file, "fetch")
    remove_server(config_file, "tools")

    assert config_file.read_text() == HAND_WRITTEN


def test_added_servers_load_back_into_equal_configs(config_file: Path) -> None:
    add_servers(config_file, {"fetch": STDIO, "tools": HTTP})

    servers = configured_servers(config_file)

    assert _loaded(servers["fetch"]) == STDIO
    assert _loaded(servers["tools"]) == HTTP
    assert "transport" not in servers["fetch"]


def test_an_added_server_is_one_table_appended_after_everything_else(config_file: Path) -> None:
    add_servers(config_file, {"tools": HTTP})

    assert config_file.read_text() == HAND_WRITTEN + (
        "\n[mcp_servers.tools]\n"
        "enabled = false\n"
        'url = "https://tools.example.com/mcp"\n'
        'bearer_token_env_var = "TOOLS_TOKEN"\n'
        'http_headers = {X-Team = "core"}\n'
    )


def test_a_pre_registered_client_is_written_inline_with_its_secret_and_loads_back(config_file: Path) -> None:
    client = OAuthClientConfig(client_id="app-1", client_secret=SecretStr("s3cret"))
    config = HttpServerConfig(url="https://tools.example.com/mcp", oauth=client)
    add_servers(config_file, {"tools": config})

    assert config_file.read_text().endswith('oauth = {client_id = "app-1", client_secret = "s3cret"}\n')
    assert _loaded(configured_servers(config_file)["tools"]) == config


def test_adding_a_configured_name_is_refused_and_leaves_the_file_alone(config_file: Path) -> None:
    with pytest.raises(RequestFailed, match="already configured"):
        add_servers(config_file, {"docs": STDIO})

    assert config_file.read_text() == HAND_WRITTEN


def test_replacing_a_configured_name_keeps_the_other_settings(config_file: Path) -> None:
    add_servers(config_file, {"docs": STDIO}, replace=True)

    data = tomllib.loads(config_file.read_text())
    assert _loaded(data["mcp_servers"]["docs"]) == STDIO
    assert data["mcp_servers"]["search"] == {"url": "https://search.example.com/mcp"}
    assert data["features"] == {"apps": True}
    assert "# Comment about the next table.\n[features]" in config_file.read_text()


def test_an_invalid_name_is_refused(config_file: Path) -> None:
    with pytest.raises(InvalidParams):
        add_servers(config_file, {"my server": STDIO})

    assert config_file.read_text() == HAND_WRITTEN


def test_adding_creates_a_private_home_and_config_file(tmp_path: Path) -> None:
    path = tmp_path / "new-home" / "config.toml"

    add_servers(path, {"fetch": STDIO})

    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("[mcp_servers.fetch]\n")
    remove_server(path, "fetch")
    assert path.read_text() == ""


def test_removing_a_server_takes_its_subtables_and_own_comment_but_not_the_next_tables(
    config_file: Path,
) -> None:
    remove_server(config_file, "docs")

    assert config_file.read_text() == (
        "# My settings.\n"
        'model = "gpt-5"   # the default model\n'
        "\n"
        "# Comment about the next table.\n"
        "[features]\n"
        "apps = true\n"
        "\n"
        "[mcp_servers.search]\n"
        'url = "https://search.example.com/mcp"\n'
    )


def test_removing_a_server_declared_with_dotted_keys_keeps_its_neighbours(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[mcp_servers]\n"
        "# first\n"
        'docs.command = "npx"  # docs\n'
        'docs.args = ["-y"]\n'
        "# second\n"
        'search = { url = "https://search.example.com/mcp" }  # search\n'
    )

    remove_server(path, "docs")

    assert path.read_text() == (
        '[mcp_servers]\n# first\n# second\nsearch = { url = "https://search.example.com/mcp" }  # search\n'
    )


def test_removing_a_server_from_a_root_inline_table_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'mcp_servers = { docs = { command = "npx" }, search = { url = "https://s.example.com" } }  # both\n'
        'model = "gpt-5"\n'
    )

    remove_server(path, "docs")

    assert tomllib.loads(path.read_text()) == {
        "mcp_servers": {"search": {"url": "https://s.example.com"}},
        "model": "gpt-5",
    }
    assert path.read_text().endswith('}  # both\nmodel = "gpt-5"\n')


def test_adding_to_a_root_inline_table_extends_that_table(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('mcp_servers = { search = { url = "https://s.example.com" } }\nmodel = "gpt-5"\n')

    add_servers(path, {"fetch": STDIO})

    data = tomllib.loads(path.read_text())
    assert set(data["mcp_servers"]) == {"search", "fetch"}
    assert _loaded(data["mcp_servers"]["fetch"]) == STDIO
    assert data["model"] == "gpt-5"


def test_removing_an_unknown_server_fails_and_leaves_the_file_alone(config_file: Path) -> None:
    with pytest.raises(RequestFailed, match="no server named `nope`"):
        remove_server(config_file, "nope")

    assert config_file.read_text() == HAND_WRITTEN


def test_a_file_that_is_not_valid_toml_is_not_edited(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("model = \n")

    with pytest.raises(RequestFailed, match="not valid TOML"):
        add_servers(path, {"fetch": STDIO})

    assert path.read_text() == "model = \n"


# ---- approving a tool ("always allow") ---------------------------------------------------------


def approved_tools(path: Path, server: str) -> dict[str, Any]:
    tools: dict[str, Any] = tomllib.loads(path.read_text())["mcp_servers"][server].get("tools", {})
    return tools


def test_approving_a_tool_adds_its_table_after_its_servers_tables_and_keeps_every_other_byte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN)
    approve_tool(path, "docs", "write.note")
    section = '[mcp_servers.docs.tools."write.note"]\napproval_mode = "approve"\n'
    expected = HAND_WRITTEN.replace('DOCS_MODE = "offline"\n', f'DOCS_MODE = "offline"\n\n{section}')
    assert path.read_text() == expected
    approve_tool(path, "docs", "write.note")  # already approved: nothing changes
    assert path.read_text() == expected


def test_approving_a_second_tool_goes_after_the_first_and_replaces_a_prompt_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN)
    approve_tool(path, "search", "a")
    approve_tool(path, "search", "b")
    assert path.read_text().endswith(
        '[mcp_servers.search.tools.a]\napproval_mode = "approve"\n\n'
        '[mcp_servers.search.tools.b]\napproval_mode = "approve"\n'
    )
    path.write_text('[mcp_servers.docs]\ncommand = "x"\ntools = { a = { approval_mode = "prompt" } } # me\n')
    approve_tool(path, "docs", "a")
    assert approved_tools(path, "docs") == {"a": {"approval_mode": "approve"}}
    assert path.read_text().endswith("# me\n")


def test_approving_a_tool_of_an_inline_server_edits_the_inline_table(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# servers\n[mcp_servers]\ndocs = { command = "x" }\n')
    approve_tool(path, "docs", "t")
    assert approved_tools(path, "docs") == {"t": {"approval_mode": "approve"}}
    assert path.read_text().startswith("# servers\n[mcp_servers]\ndocs = {")


def test_approving_a_tool_of_a_server_config_toml_does_not_declare_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(HAND_WRITTEN)
    with pytest.raises(RequestFailed, match="not configured"):
        approve_tool(path, "elsewhere", "t")
    assert path.read_text() == HAND_WRITTEN
