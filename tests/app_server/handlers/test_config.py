"""`config/read` and `configRequirements/read` through the real daemon over stdio, with a config.toml
and `-c` overrides."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.config.versions import file_version, text_version
from protocol import errors as codes
from protocol.registry import REQUESTS
from tests.protocol.wire_keys import key_list
from tests.support.config import write_config
from tests.support.daemon import Daemon
from tests.support.gate import ImportGate

pytestmark = pytest.mark.anyio

WAIT = 30.0

OVERRIDES = ("model=gpt-5", 'mcp_servers.docs.env.EXTRA="from-flag"', 'mcp_servers.docs.args=["--flag"]')
SERVERS = {
    "docs": {"command": "docs-mcp", "args": ["--port", "1"], "env": {"TOKEN": "file-secret-1"}},
    "search": {
        "url": "https://example.test/mcp",
        "bearer_token_env_var": "SEARCH_TOKEN",
        "http_headers": {"X-Api-Key": "file-secret-2"},
        "oauth": {"client_id": "cid", "client_secret": "file-secret-3"},
    },
}
PROVIDERS = {
    "local": {
        "base_url": "http://user:file-secret-4@127.0.0.1:1/v1",
        "http_headers": {"Authorization": "Bearer file-secret-5"},
        "query_params": {"api-key": "file-secret-6"},
        "env_key": "LOCAL_KEY",
    }
}
SECRETS = [f"file-secret-{n}" for n in range(1, 7)]


@pytest.fixture(scope="module")
def daemon_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    write_config(
        home,
        SERVERS,
        model="gpt-5-codex",
        approval_policy="never",
        features={"apps": False},
        model_providers=PROVIDERS,
    )
    return home


@pytest.fixture(scope="module")
async def daemon(daemon_home: Path) -> AsyncIterator[Daemon]:
    flags = [arg for override in OVERRIDES for arg in ("-c", override)]
    async with Daemon.start(daemon_home, *flags, max_wait=WAIT) as running:
        await running.initialize()
        yield running


async def read(daemon: Daemon, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `config/read` result, checked against its registry model and its Codex TS type."""
    with anyio.fail_after(WAIT):
        result: dict[str, Any] = await daemon.call("config/read", params or {})
    assert REQUESTS["config/read"].parse_result(result).to_wire() == result
    assert [str(problem) for problem in key_list().problems(result, "ConfigReadResponse")] == []
    return result


def user_layer(home: Path) -> dict[str, Any]:
    file = home / "config.toml"
    return {"name": {"type": "user", "file": str(file), "profile": None}, "version": file_version(file)}


SESSION_FLAGS = {"name": {"type": "sessionFlags"}, "version": text_version("\n".join(OVERRIDES).encode())}


async def test_the_config_is_the_file_under_the_overrides_with_every_named_key_present(
    daemon: Daemon,
) -> None:
    config = (await read(daemon))["config"]

    assert (config["model"], config["approval_policy"], config["sandbox_mode"]) == ("gpt-5", "never", None)
    assert config["features"] == {"apps": False}
    assert config["mcp_servers"]["docs"]["command"] == "docs-mcp"
    assert config["mcp_servers"]["docs"]["args"] == ["--flag"]  # an array is replaced, not merged
    assert config["mcp_servers"]["docs"]["env"] == {"TOKEN": "<redacted>", "EXTRA": "<redacted>"}
    assert set(key_list().shape("Config")["required"]) <= set(config)


async def test_each_leaf_names_the_layer_that_set_it(daemon: Daemon, daemon_home: Path) -> None:
    origins = (await read(daemon))["origins"]

    user = user_layer(daemon_home)
    assert origins["model"] == SESSION_FLAGS
    assert origins["approval_policy"] == origins["mcp_servers.docs.command"] == user
    assert origins["mcp_servers.docs.env.TOKEN"] == user
    assert origins["mcp_servers.docs.env.EXTRA"] == SESSION_FLAGS
    assert origins["mcp_servers.docs.args.0"] == SESSION_FLAGS
    assert "mcp_servers.docs.args.1" not in origins  # the file's second element was replaced
    assert origins["features.apps"] == user
    assert "mcp_servers" not in origins and "mcp_servers.docs" not in origins  # leaves only


async def test_layers_are_listed_highest_precedence_first_each_with_its_own_tree_when_asked(
    daemon: Daemon, daemon_home: Path
) -> None:
    plain = await read(daemon)
    layered = await read(daemon, {"includeLayers": True})

    assert plain["layers"] is None
    flags, user = layered["layers"]
    assert {**flags, "config": None} == {**SESSION_FLAGS, "config": None, "disabledReason": None}
    assert flags["config"] == {
        "model": "gpt-5",
        "mcp_servers": {"docs": {"env": {"EXTRA": "<redacted>"}, "args": ["--flag"]}},
    }
    assert {**user, "config": None} == {**user_layer(daemon_home), "config": None, "disabledReason": None}
    assert user["config"]["model"] == "gpt-5-codex"
    assert user["config"]["mcp_servers"]["docs"]["args"] == ["--port", "1"]


async def test_secret_values_never_reach_the_wire_but_their_names_do(daemon: Daemon) -> None:
    with anyio.fail_after(WAIT):
        response = await daemon.request("config/read", {"includeLayers": True})
    text = json.dumps(response)
    config = response["result"]["config"]

    assert [secret for secret in SECRETS if secret in text] == []
    assert "from-flag" not in text
    search, local = config["mcp_servers"]["search"], config["model_providers"]["local"]
    assert search["http_headers"] == {"X-Api-Key": "<redacted>"}
    assert search["oauth"] == {"client_id": "cid", "client_secret": "<redacted>"}
    assert search["bearer_token_env_var"] == "SEARCH_TOKEN"
    assert local["base_url"] == "<redacted>"
    assert local["query_params"] == {"api-key": "<redacted>"}
    assert local["env_key"] == "LOCAL_KEY"


@pytest.mark.parametrize(
    "params",
    [{"cwd": "relative/dir"}, {"includeLayers": "maybe"}, {"cwd": 3}],
    ids=["relative-cwd", "non-boolean-include-layers", "non-string-cwd"],
)
async def test_bad_params_are_invalid_params(daemon: Daemon, params: dict[str, Any]) -> None:
    with anyio.fail_after(WAIT):
        response = await daemon.request("config/read", params)

    assert response["error"]["code"] == codes.INVALID_PARAMS


async def test_an_absolute_cwd_is_accepted_and_changes_nothing(daemon: Daemon, tmp_path: Path) -> None:
    assert await read(daemon, {"cwd": str(tmp_path)}) == await read(daemon)


async def test_there_are_no_requirements(daemon: Daemon) -> None:
    with anyio.fail_after(WAIT):
        result = await daemon.call("configRequirements/read")

    assert result == {"supportsIndependentSpeedModes": None, "requirements": None}


# ---- a daemon of each test's own ----------------------------------------------------------------


async def test_the_file_is_read_afresh_so_its_version_and_values_follow_edits(home: Path) -> None:
    write_config(home, model="first")
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        before = await read(daemon, {"includeLayers": True})
        write_config(home, model="second")
        after = await read(daemon, {"includeLayers": True})

    assert (before["config"]["model"], after["config"]["model"]) == ("first", "second")
    assert before["origins"]["model"]["version"] != after["origins"]["model"]["version"]
    assert after["origins"]["model"] == user_layer(home)
    assert [layer["name"]["type"] for layer in after["layers"]] == ["user"]  # no -c: no sessionFlags layer


async def test_without_a_config_file_the_user_layer_is_empty(home: Path) -> None:
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        result = await read(daemon, {"includeLayers": True})

    assert result["origins"] == {}
    assert result["layers"] == [{**user_layer(home), "config": {}, "disabledReason": None}]
    assert result["layers"][0]["version"] == text_version(b"")


async def test_a_file_that_does_not_load_is_a_failed_request_naming_file_line_and_column(home: Path) -> None:
    write_config(home, model="m")
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        (home / "config.toml").write_text('model = "m"\n[mcp_servers.x]\ncommand = 5\n')
        with anyio.fail_after(WAIT):
            invalid = await daemon.request("config/read", {})
        (home / "config.toml").write_text('model = "m"\nbroken = \n')
        with anyio.fail_after(WAIT):
            unparsable = await daemon.request("config/read", {})

    assert invalid["error"]["code"] == unparsable["error"]["code"] == codes.REQUEST_FAILED
    assert "config.toml:3:" in invalid["error"]["message"]
    assert "mcp_servers.x.command" in invalid["error"]["message"]
    assert unparsable["error"]["message"].startswith("invalid configuration:\nconfig.toml:2:")
    assert str(home) not in invalid["error"]["message"] + unparsable["error"]["message"]


async def test_both_are_answered_while_the_mcp_sdk_is_held(home: Path, tmp_path: Path) -> None:
    write_config(home, model="m")
    with ImportGate(tmp_path / "gate") as gate:
        async with Daemon.start(home, "-c", "model=n", env=gate.env, max_wait=WAIT) as daemon:
            with anyio.fail_after(WAIT):  # answered with `import mcp` held
                await daemon.initialize()
                config = await daemon.call("config/read", {})
                requirements = await daemon.call("configRequirements/read")
            gate.open()
    assert config["config"]["model"] == "n"
    assert requirements["requirements"] is None


async def test_a_named_threads_overrides_are_the_highest_layer_and_the_origin_of_what_they_set(
    daemon: Daemon, daemon_home: Path
) -> None:
    thread_config = {"model": "thread-model", "mcp_servers.docs.env.THREAD": "thread-secret"}
    thread_id = (await daemon.call("thread/start", {"config": thread_config}))["thread"]["id"]
    with anyio.fail_after(WAIT):
        result = await daemon.call("config/read", {"threadId": thread_id, "includeLayers": True})

    assert REQUESTS["config/read"].parse_result(result).to_wire() == result
    thread_layer = {"type": "thread", "threadId": thread_id}
    origins = result["origins"]
    assert result["config"]["model"] == "thread-model"
    assert origins["model"]["name"] == origins["mcp_servers.docs.env.THREAD"]["name"] == thread_layer
    assert origins["mcp_servers.docs.env.EXTRA"] == SESSION_FLAGS
    assert origins["mcp_servers.docs.env.TOKEN"] == origins["approval_policy"] == user_layer(daemon_home)
    assert [layer["name"] for layer in result["layers"]][:2] == [thread_layer, {"type": "sessionFlags"}]
    assert result["layers"][0]["config"] == {
        "model": "thread-model",
        "mcp_servers": {"docs": {"env": {"THREAD": "<redacted>"}}},
    }
    assert "thread-secret" not in json.dumps(result)
    assert (await read(daemon))["config"]["model"] == "gpt-5"  # without the thread: as before


async def test_a_thread_that_is_not_loaded_is_invalid_params(daemon: Daemon) -> None:
    response = await daemon.request("config/read", {"threadId": "01900000-0000-7000-8000-000000000000"})

    assert response["error"]["code"] == codes.INVALID_PARAMS
