"""`config/value/write` and `config/batchWrite` through the real daemon over stdio."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from filelock import FileLock

from app_server.config.editing.lock import LOCK_FILE_NAME
from app_server.config.servers import REDACTED
from app_server.config.versions import file_version
from protocol import errors as codes
from tests.app_server.handlers.servers import startup_until
from tests.support.config import cheap_server, config_text
from tests.support.daemon import Daemon
from tests.support.gate import ImportGate

pytestmark = pytest.mark.anyio

WAIT = 30.0

COMMENTED = """\
# My settings: keep these comments.
model = "gpt-5"   # the default model

[features]
apps = false  # no hosted apps here

# The docs server, started for every thread.
[mcp_servers.docs]
command = "docs-server"   # on PATH
args = ["--port", "1"]
env = { LEVEL = "info" }  # inline on purpose

# trailing comment
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
async def daemon(home: Path) -> AsyncIterator[Daemon]:
    (home / "config.toml").write_text(COMMENTED)
    async with Daemon.start(home, max_wait=WAIT) as running:
        await running.initialize()
        yield running


@dataclass(frozen=True)
class ConfigFile:
    """A daemon's config.toml as the tests look at it (plain file reads, outside the event loop's way)."""

    path: Path

    def text(self) -> str:
        return self.path.read_text()

    def data(self) -> bytes:
        return self.path.read_bytes()

    def mode(self) -> int:
        return self.path.stat().st_mode & 0o777

    def version(self) -> str:
        return file_version(self.path)

    def canonical(self) -> str:
        return str(self.path.resolve())

    def write(self, text: str, mode: int = 0o600) -> None:
        self.path.write_text(text)
        self.path.chmod(mode)


@pytest.fixture
def config(home: Path) -> ConfigFile:
    """The daemon's config.toml, reset to the commented file before each test."""
    file = ConfigFile(home / "config.toml")
    file.write(COMMENTED)
    return file


async def write(daemon: Daemon, key_path: str, value: Any, strategy: str = "replace", **more: Any) -> Any:
    params = {"keyPath": key_path, "value": value, "mergeStrategy": strategy, **more}
    with anyio.fail_after(WAIT):
        return await daemon.request("config/value/write", params)


async def batch(daemon: Daemon, edits: list[tuple[str, Any, str]], **more: Any) -> Any:
    params = {"edits": [{"keyPath": k, "value": v, "mergeStrategy": s} for k, v, s in edits], **more}
    with anyio.fail_after(WAIT):
        return await daemon.request("config/batchWrite", params)


def result_of(response: Any) -> Any:
    assert "result" in response, response
    return response["result"]


def error_of(response: Any, reason: str) -> Any:
    assert "error" in response, response
    error = response["error"]
    assert error["code"] == codes.INVALID_REQUEST, error
    assert error["data"] == {"config_write_error_code": reason}, error
    return error


async def test_a_scalar_write_changes_only_its_value_and_answers_the_new_version(
    daemon: Daemon, config: ConfigFile
) -> None:
    version = config.version()

    result = result_of(await write(daemon, "model", "o3", expectedVersion=version))

    assert config.text() == COMMENTED.replace('model = "gpt-5"', 'model = "o3"')
    assert result == {
        "status": "ok",
        "version": config.version(),
        "filePath": config.canonical(),
        "overriddenMetadata": None,
    }
    assert config.mode() == 0o600


async def test_a_nested_key_under_a_quoted_segment_is_added_keeping_every_comment(
    daemon: Daemon, config: ConfigFile
) -> None:
    result_of(await write(daemon, 'mcp_servers."docs".startup_timeout_sec', 5))
    result_of(await write(daemon, "mcp_servers.docs.env.TOKEN_FILE", "/run/token"))

    # A new key follows its table's last key; the inline table grows in place.
    expected = COMMENTED.replace(
        'env = { LEVEL = "info" }  # inline on purpose',
        'env = { LEVEL = "info", TOKEN_FILE = "/run/token"}  # inline on purpose\nstartup_timeout_sec = 5',
    )
    assert config.text() == expected


async def test_upsert_merges_a_table_key_by_key_and_replace_replaces_it(
    daemon: Daemon, config: ConfigFile
) -> None:
    result_of(await write(daemon, "mcp_servers.docs", {"args": ["--port", "2"], "cwd": "/srv"}, "upsert"))
    text = config.text()
    assert 'command = "docs-server"   # on PATH' in text
    assert 'args = ["--port", "2"]' in text
    assert 'cwd = "/srv"' in text
    assert 'env = { LEVEL = "info" }' in text

    result_of(await write(daemon, "mcp_servers.docs", {"command": "other"}, "replace"))
    text = config.text()
    assert 'command = "other"' in text
    assert "--port" not in text
    assert "LEVEL" not in text
    assert text.startswith(COMMENTED[: COMMENTED.index("[mcp_servers.docs]")])  # the rest is untouched


async def test_null_removes_the_key_and_a_missing_parent_is_refused(
    daemon: Daemon, config: ConfigFile
) -> None:
    result_of(await write(daemon, "mcp_servers.docs.args", None))
    assert config.text() == COMMENTED.replace('args = ["--port", "1"]\n', "")

    unchanged = config.data()
    error = error_of(await write(daemon, "profiles.work.model", None), "configPathNotFound")
    assert "profiles" in error["message"]
    assert config.data() == unchanged


@pytest.mark.parametrize(
    ("key_path", "value", "problem"),
    # Positions are in the file as the edit would have left it.
    [
        ("mcp_servers.docs.command", 5, "config.toml:9:1: mcp_servers.docs.command: expected a string"),
        (
            "mcp_servers.docs.startup_timeout_sec",
            "abc",
            "config.toml:12:1: mcp_servers.docs.startup_timeout_sec: expected a number",
        ),
    ],
)
async def test_an_edit_that_does_not_validate_is_refused_with_its_position_and_nothing_written(
    daemon: Daemon, config: ConfigFile, key_path: str, value: Any, problem: str
) -> None:
    before = config.data()

    error = error_of(await write(daemon, key_path, value), "configValidationError")

    assert error["message"].startswith(f"invalid configuration:\n{problem}")
    assert str(config.path.parent) not in error["message"]
    assert config.data() == before


async def test_a_refused_value_is_not_quoted_in_the_error(daemon: Daemon, config: ConfigFile) -> None:
    before = config.data()

    error = error_of(await write(daemon, "mcp_servers.docs.env", "sk-live-SECRET"), "configValidationError")

    assert "SECRET" not in str(error)
    assert config.data() == before


async def test_a_stale_expected_version_is_refused_as_a_conflict(daemon: Daemon, config: ConfigFile) -> None:
    version = config.version()
    config.write(COMMENTED + 'approval_policy = "never"\n')  # edited by hand since the read
    before = config.data()

    error = error_of(await write(daemon, "model", "o3", expectedVersion=version), "configVersionConflict")

    assert "modified since last read" in error["message"]
    assert config.data() == before


async def test_two_concurrent_writes_from_one_version_one_wins_and_the_other_conflicts(
    daemon: Daemon, config: ConfigFile
) -> None:
    version = config.version()
    ids = [daemon.new_id(), daemon.new_id()]
    for request_id, model in zip(ids, ["first", "second"], strict=True):
        params = {"keyPath": "model", "value": model, "mergeStrategy": "replace", "expectedVersion": version}
        await daemon.send({"id": request_id, "method": "config/value/write", "params": params})

    with anyio.fail_after(WAIT):
        responses = [await daemon.next_message(lambda m, i=i: m.get("id") == i) for i in ids]

    winners = [r for r in responses if "result" in r]
    losers = [r for r in responses if "error" in r]
    assert len(winners) == 1
    assert len(losers) == 1
    error_of(losers[0], "configVersionConflict")
    assert winners[0]["result"]["version"] == config.version()
    winner = "first" if winners[0]["id"] == ids[0] else "second"
    assert f'model = "{winner}"' in config.text()


async def test_a_write_waits_for_another_writers_lock_and_then_sees_its_change(
    daemon: Daemon, config: ConfigFile
) -> None:
    version = config.version()
    with FileLock(config.path.parent / LOCK_FILE_NAME):
        request_id = daemon.new_id()
        params = {"keyPath": "model", "value": "mine", "mergeStrategy": "replace", "expectedVersion": version}
        await daemon.send({"id": request_id, "method": "config/value/write", "params": params})
        config.write(COMMENTED + 'approval_policy = "never"\n')  # the other writer's change
        edited = config.data()

    with anyio.fail_after(WAIT):
        response = await daemon.next_message(lambda m: m.get("id") == request_id)
    error_of(response, "configVersionConflict")
    assert config.data() == edited


async def test_a_batch_is_all_or_nothing(daemon: Daemon, config: ConfigFile) -> None:
    before = config.data()
    bad = [("model", "o3", "replace"), ("mcp_servers.docs.command", 5, "replace")]

    error_of(await batch(daemon, bad), "configValidationError")
    assert config.data() == before

    good = [
        ("model", "o3", "replace"),
        ("features.apps", None, "replace"),
        ("approval_policy", "never", "upsert"),
    ]
    result = result_of(await batch(daemon, good, expectedVersion=config.version()))
    text = config.text()
    assert 'model = "o3"' in text
    assert "apps = false" not in text
    assert 'approval_policy = "never"' in text
    assert result["version"] == config.version()


@pytest.mark.parametrize("other", ["/etc/app-server.toml", "config.toml", "{home}/other.toml"])
async def test_a_file_other_than_the_user_config_is_refused(
    daemon: Daemon, config: ConfigFile, other: str
) -> None:
    before = config.data()

    response = await write(daemon, "model", "o3", filePath=other.format(home=config.path.parent))

    error_of(response, "configLayerReadonly")
    assert config.data() == before
    written = result_of(await write(daemon, "model", "o3", filePath=str(config.path)))
    assert written["filePath"] == config.canonical()


async def test_a_value_write_does_not_reload(daemon: Daemon, config: ConfigFile) -> None:
    result_of(await write(daemon, "mcp_servers.fresh", cheap_server("fresh")))

    with anyio.fail_after(WAIT):
        listed = await daemon.call("mcpServerStatus/list", {})
    assert "fresh" not in [entry["name"] for entry in listed["data"]]


# ---- daemons of their own ------------------------------------------------------------------


async def test_a_batch_with_reload_starts_a_newly_added_server(tmp_path: Path) -> None:
    ConfigFile(tmp_path / "config.toml").write(config_text(features={"apps": False}))
    async with Daemon.start(tmp_path, max_wait=WAIT) as daemon:
        await daemon.initialize()
        edit = ("mcp_servers.fresh", cheap_server("fresh"), "replace")

        result_of(await batch(daemon, [edit], reloadUserConfig=True))

        with anyio.fail_after(WAIT):
            await startup_until(daemon, {"fresh": "ready"})
            listed = await daemon.call("mcpServerStatus/list", {})
        assert [entry["name"] for entry in listed["data"]] == ["fresh"]


async def test_a_write_a_c_override_shadows_answers_ok_overridden(tmp_path: Path) -> None:
    config = ConfigFile(tmp_path / "config.toml")
    config.write(config_text(features={"apps": False}), mode=0o640)
    async with Daemon.start(tmp_path, "-c", 'model="forced"', max_wait=WAIT) as daemon:
        await daemon.initialize()

        result = result_of(await write(daemon, "model", "o3"))
        plain = result_of(await write(daemon, "approval_policy", "never"))

    assert result["status"] == "okOverridden"
    metadata = result["overriddenMetadata"]
    assert metadata["effectiveValue"] == "forced"
    assert metadata["overridingLayer"]["name"] == {"type": "sessionFlags"}
    assert metadata["overridingLayer"]["version"].startswith("sha256:")
    assert "-c model" in metadata["message"]
    assert plain["status"] == "ok"
    assert plain["overriddenMetadata"] is None
    assert 'model = "o3"' in config.text()
    assert config.mode() == 0o640


async def test_the_overriding_value_of_a_secret_is_shown_redacted(tmp_path: Path) -> None:
    config = ConfigFile(tmp_path / "config.toml")
    config.write(config_text({"s": cheap_server("s")}, features={"apps": False}))
    override = 'mcp_servers.s.env={TOKEN="s3cret-from-flags"}'
    async with Daemon.start(tmp_path, "-c", override, max_wait=WAIT) as daemon:
        await daemon.initialize()
        response = await write(daemon, "mcp_servers.s.env", {"TOKEN": "mine"})

    metadata = result_of(response)["overriddenMetadata"]
    assert metadata["effectiveValue"] == {"TOKEN": REDACTED}
    assert "s3cret-from-flags" not in json.dumps(response)


async def test_a_value_write_needs_no_mcp_layer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    ConfigFile(home / "config.toml").write(config_text(features={"apps": False}))
    with ImportGate(tmp_path / "gate") as gate:
        async with Daemon.start(home, env=gate.env, max_wait=WAIT) as daemon:
            with anyio.fail_after(WAIT):  # answered with `import mcp` held
                await daemon.initialize()
                result = result_of(await write(daemon, "model", "o3"))
            gate.open()
    assert result["status"] == "ok"
