"""`mcpServer/views/read` through the real daemon: the three views, provenance, account gating, redaction."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.app_server.handlers.servers import startup_until
from tests.support.config import write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

HEADER_SECRET = "header-secret-5e1d"
ENV_SECRET = "env-secret-a93f"
APPS_GATE = "Apps feature on and ChatGPT auth"
CHATGPT = {
    "type": "chatgptAuthTokens",
    "accessToken": "tok",
    "chatgptAccountId": "acc",
    "chatgptPlanType": None,
}
API_KEY = {"type": "apiKey", "apiKey": "sk-views"}
EXTENSIONS = ("processes",)
"""Keys of the views result that are not a view: the live processes and the scopes sharing them."""


@dataclass
class Running:
    daemon: Daemon
    home: Path
    apps_url: str


@pytest.fixture(scope="module")
def refused_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory, refused_port: int) -> AsyncIterator[Running]:
    """Apps on, hosted at a refused loopback port; a user HTTP server, a user stdio server, a plugin one."""
    home = tmp_path_factory.mktemp("home")
    base = f"http://127.0.0.1:{refused_port}"
    servers = {
        "docs": {"url": f"{base}/mcp", "enabled": False, "http_headers": {"X-Secret": HEADER_SECRET}},
        "tool": {"command": "run-tool", "enabled": False, "env": {"TOKEN": ENV_SECRET}},
    }
    write_config(home, servers, chatgpt_base_url=base, features={"apps": True})
    plugin = home / "plugins" / "beta"
    (plugin / ".codex-plugin").mkdir(parents=True)
    (plugin / ".codex-plugin" / "plugin.json").write_text(json.dumps({"mcpServers": "./.mcp.json"}))
    (plugin / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"plug": {"command": "run-plug", "enabled": False}}})
    )
    async with Daemon.start(home, max_wait=30) as daemon:
        await daemon.initialize()
        yield Running(daemon, home, f"{base}/api/codex/apps")


async def views(daemon: Daemon, **params: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Each view as name -> entry (the order is checked where it matters)."""
    result = await daemon.call("mcpServer/views/read", params)
    assert set(result) == {"configured", "runtime", "effective", "processes"}
    return {
        view: {entry["name"]: entry for entry in result[view]}
        for view in ("configured", "runtime", "effective")
    }


async def login(daemon: Daemon, params: dict[str, Any]) -> None:
    await daemon.call("account/login/start", params)
    await daemon.next_notification("account/updated")


async def test_each_view_names_where_its_entries_come_from(running: Running) -> None:
    await login(running.daemon, API_KEY)
    shown = await views(running.daemon)
    config_file = str(running.home / "config.toml")
    assert list(shown["configured"]) == ["docs", "tool", "plug"]
    assert shown["configured"]["docs"]["provenance"] == {
        "source": "config",
        "file": config_file,
        "key": "mcp_servers.docs",
    }
    assert shown["configured"]["plug"]["provenance"] == {
        "source": "plugin",
        "file": str((running.home / "plugins" / "beta" / ".mcp.json").resolve()),
        "key": "mcpServers.plug",
        "pluginId": "beta",
    }
    apps = shown["runtime"]["codex_apps"]
    assert apps["provenance"] == {"source": "contributor", "contributor": "apps"}
    assert (apps["transport"], apps["config"]["url"]) == ("streamable_http", running.apps_url)
    assert list(shown["runtime"]) == ["docs", "tool", "plug", "codex_apps"]
    assert shown["configured"]["docs"]["enabled"] is False


async def test_chatgpt_tokens_with_apps_on_put_codex_apps_in_the_effective_view_and_an_api_key_does_not(
    running: Running,
) -> None:
    daemon = running.daemon
    await login(daemon, CHATGPT)
    with_chatgpt = await views(daemon)
    apps = with_chatgpt["effective"]["codex_apps"]
    assert apps["provenance"] == {"source": "contributor", "contributor": "apps", "gating": APPS_GATE}
    # The account change refreshed the servers: the hosted apps server was tried (and refused).
    startup = await startup_until(daemon, {"codex_apps": "failed"})
    statuses = [note["status"] for note in startup["codex_apps"]]  # a reload re-announces a carried one
    assert (statuses[0], statuses[-1], set(statuses)) == ("starting", "failed", {"starting", "failed"})

    await login(daemon, API_KEY)
    with_api_key = await views(daemon)
    assert "codex_apps" not in with_api_key["effective"]
    assert "codex_apps" in with_api_key["runtime"]
    assert list(with_api_key["effective"]) == ["docs", "tool", "plug"]


async def test_secret_header_and_env_values_are_redacted_and_their_names_kept(running: Running) -> None:
    response = await running.daemon.request("mcpServer/views/read", {})
    text = json.dumps(response)
    assert HEADER_SECRET not in text and ENV_SECRET not in text
    shown = await views(running.daemon)
    for view in shown.values():
        assert list(view["docs"]["config"]["http_headers"]) == ["X-Secret"]
        assert list(view["tool"]["config"]["env"]) == ["TOKEN"]


async def test_a_thread_sees_the_views_of_its_own_config(running: Running) -> None:
    daemon = running.daemon
    await login(daemon, CHATGPT)
    overrides = {"features.apps": False, "mcp_servers.extra": {"command": "run-extra", "enabled": False}}
    started = await daemon.call("thread/start", {"cwd": str(running.home), "config": overrides})
    in_thread = await views(daemon, threadId=started["thread"]["id"])
    assert in_thread["configured"]["extra"]["provenance"]["file"] == "thread config `mcp_servers.extra`"
    assert "codex_apps" not in in_thread["runtime"]
    assert "codex_apps" not in in_thread["effective"]
    app_level = await views(daemon)
    assert "extra" not in app_level["configured"]
    assert "codex_apps" in app_level["effective"]
