"""`model/list` and `modelProvider/list` through the real daemon over stdio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from protocol import errors as codes
from tests.support.config import write_config
from tests.support.daemon import Daemon
from tests.support.gate import ImportGate

pytestmark = pytest.mark.anyio

WAIT = 30.0

LOCAL = {
    "name": "Local",
    "base_url": "http://127.0.0.1:11434/v1",
    "wire_api": "chat",
    "models": ["llama3.1", {"id": "qwen-coder", "default": True}, {"id": "preview", "hidden": True}],
}


@pytest.fixture(scope="module")
def daemon_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    write_config(home, features={"apps": False}, model_providers={"local": LOCAL})
    return home


@pytest.fixture(scope="module")
async def daemon(daemon_home: Path) -> AsyncIterator[Daemon]:
    async with Daemon.start(daemon_home, max_wait=WAIT) as running:
        await running.initialize()
        yield running


async def all_pages(daemon: Daemon, params: dict[str, Any]) -> list[list[str]]:
    """The model ids of every page, following `nextCursor` to the end."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = await daemon.call("model/list", {**params, "cursor": cursor})
        pages.append([model["id"] for model in page["data"]])
        cursor = page["nextCursor"]
        if cursor is None:
            return pages


async def test_the_default_provider_lists_the_built_in_openai_models(daemon: Daemon) -> None:
    with anyio.fail_after(WAIT):
        listed = await daemon.call("model/list", {})
    assert [(model["id"], model["isDefault"]) for model in listed["data"]] == [
        ("gpt-5-codex", True),
        ("gpt-5", False),
        ("gpt-5-mini", False),
    ]
    assert listed["nextCursor"] is None
    codex = listed["data"][0]
    assert codex["defaultReasoningEffort"] == "medium"
    efforts = [option["reasoningEffort"] for option in codex["supportedReasoningEfforts"]]
    assert efforts == ["low", "medium", "high"]


async def test_a_configured_provider_lists_its_declared_models_a_page_at_a_time(daemon: Daemon) -> None:
    with anyio.fail_after(WAIT):
        pages = await all_pages(daemon, {"modelProvider": "local", "limit": 1})
        hidden = await all_pages(daemon, {"modelProvider": "local", "limit": 2, "includeHidden": True})
        listed = await daemon.call("model/list", {"modelProvider": "local"})
    assert pages == [["llama3.1"], ["qwen-coder"]]
    assert hidden == [["llama3.1", "qwen-coder"], ["preview"]]
    assert [model["id"] for model in listed["data"] if model["isDefault"]] == ["qwen-coder"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"cursor": "not-a-cursor"}, "invalid cursor: not-a-cursor"),
        ({"cursor": "9"}, "cursor 9 exceeds total models 3"),
        (
            {"modelProvider": "nope"},
            "unknown model provider nope; define [model_providers.nope] in config.toml",
        ),
    ],
)
async def test_a_bad_cursor_or_an_unknown_provider_is_invalid_params(
    daemon: Daemon, params: dict[str, Any], message: str
) -> None:
    with anyio.fail_after(WAIT):
        response = await daemon.request("model/list", params)
    assert response["error"] == {"code": codes.INVALID_PARAMS, "message": message}


async def test_providers_are_the_built_in_one_and_the_configured_ones(daemon: Daemon) -> None:
    with anyio.fail_after(WAIT):
        listed = await daemon.call("modelProvider/list", {})
    assert [(p["id"], p["name"], p["canEdit"], p["settings"]["type"]) for p in listed["data"]] == [
        ("openai", "OpenAI", False, "openai"),
        ("local", "Local", True, "customGateway"),
    ]
    assert (listed["defaultProviderId"], listed["canChangeDefault"]) == ("openai", True)


async def test_both_are_answered_while_the_mcp_sdk_is_held(home: Path, tmp_path: Path) -> None:
    write_config(home, model_provider="local", model_providers={"local": LOCAL})
    with ImportGate(tmp_path / "gate") as gate:
        async with Daemon.start(home, env=gate.env, max_wait=WAIT) as daemon:
            with anyio.fail_after(WAIT):  # answered with `import mcp` held
                await daemon.initialize()
                models = await daemon.call("model/list", {})
                providers = await daemon.call("modelProvider/list")
            gate.open()
    assert [model["id"] for model in models["data"]] == ["llama3.1", "qwen-coder"]
    assert providers["defaultProviderId"] == "local"
