"""Connection identity: what makes two server configs interchangeable processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app_server.config.servers import HttpServerConfig, StdioServerConfig
from app_server.mcp.client import RuntimeContext
from app_server.mcp.pool import connection_key

CONTEXT = RuntimeContext()


def key(**keys: Any) -> object:
    return connection_key("docs", StdioServerConfig.model_validate({"command": "x", **keys}), CONTEXT, None)


def test_approval_settings_are_not_part_of_a_servers_identity() -> None:
    assert key() == key(tools={"t": {"approval_mode": "approve"}})
    assert key() == key(default_tools_approval_mode="prompt")


def test_the_cap_on_what_the_model_is_sent_is_not_part_of_a_servers_identity() -> None:
    assert key() == key(tool_output_max_chars=1_000)


def test_what_the_server_sees_is_part_of_its_identity() -> None:
    assert key() != key(args=["--flag"])
    assert key() != key(enabled_tools=["t"])
    assert key() != key(env={"A": "1"})


def test_the_workspace_is_part_of_every_servers_identity_since_it_is_the_root_each_is_told() -> None:
    configs = [
        StdioServerConfig.model_validate({"command": "x"}),
        StdioServerConfig.model_validate({"command": "x", "cwd": "/srv"}),
        HttpServerConfig.model_validate({"url": "http://127.0.0.1:1/mcp"}),
    ]
    for config in configs:
        alpha = connection_key("docs", config, RuntimeContext(cwd=Path("/alpha")), None)
        beta = connection_key("docs", config, RuntimeContext(cwd=Path("/beta")), None)
        assert alpha != beta, config
