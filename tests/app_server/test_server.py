"""The real daemon over stdio: any input gets well-formed answers, the early handshake, exits and imports.

The connection contract itself (each bad input's error, batches, ...) runs over every transport in
tests/app_server/rpc/test_connection.py.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import errors as codes
from tests.app_server.handlers.servers import startup_until
from tests.app_server.rpc.transports import assert_well_formed
from tests.support.config import cheap_server, fixture_server, write_config
from tests.support.daemon import BlockingDaemon, Daemon, blocking
from tests.support.processes import alive, server_pids, wait_until

MAX_MESSAGE_BYTES = 65536
INIT = {"clientInfo": {"name": "tests", "version": "1"}}
PROBE_IDS = count()


class ProbedDaemon(BlockingDaemon[Daemon]):
    """A long-lived daemon of synchronous (hypothesis) tests, proved alive by a probe after each input."""

    def answers_until_probe(self) -> list[Any]:
        """Everything the daemon sent before answering a fresh probe request (proves it is alive)."""
        probe_id = f"probe-{next(PROBE_IDS)}"
        self.send_raw(json.dumps({"id": probe_id, "method": "no/such/method"}).encode() + b"\n")
        received = []
        while True:
            message = self.next_message()
            if isinstance(message, dict) and message.get("id") == probe_id:
                assert message["error"]["code"] == codes.METHOD_NOT_FOUND
                return received
            received.append(message)


def _blocking_daemon(tmp_path_factory: pytest.TempPathFactory, *, initialize: bool) -> Iterator[ProbedDaemon]:
    home = tmp_path_factory.mktemp("home")
    with blocking(Daemon.start(home, "--max-message-bytes", str(MAX_MESSAGE_BYTES))) as daemon:
        if initialize:
            daemon.initialize()
        yield ProbedDaemon(daemon.portal, daemon.daemon)


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbedDaemon]:
    """An initialized daemon shared by the module's tests."""
    yield from _blocking_daemon(tmp_path_factory, initialize=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbedDaemon]:
    """A daemon that is never initialized (a rejected initialize leaves it so)."""
    yield from _blocking_daemon(tmp_path_factory, initialize=False)


def test_a_line_over_max_message_bytes_is_refused_and_the_daemon_lives_on(ready: ProbedDaemon) -> None:
    ready.send_raw(b'{"id":10,"pad":"' + b"x" * MAX_MESSAGE_BYTES + b'"}\n')
    answers = ready.answers_until_probe()
    assert [(answer["id"], answer["error"]["code"]) for answer in answers] == [(None, codes.INVALID_REQUEST)]


BAD_PARAMS_BEFORE_INITIALIZE = [
    ("params an array", [1], None),
    ("params a string", "x", None),
    ("params missing clientInfo", {}, "clientInfo"),
    ("clientInfo.name not a string", {"clientInfo": {"name": 5, "version": "1"}}, "clientInfo.name"),
    ("clientInfo.version missing", {"clientInfo": {"name": "x"}}, "clientInfo.version"),
    (
        "capabilities.optOutNotificationMethods not a list",
        {**INIT, "capabilities": {"optOutNotificationMethods": "thread/started"}},
        "capabilities.optOutNotificationMethods",
    ),
]


@pytest.mark.parametrize(
    ("params", "named_field"),
    [case[1:] for case in BAD_PARAMS_BEFORE_INITIALIZE],
    ids=[case[0] for case in BAD_PARAMS_BEFORE_INITIALIZE],
)
def test_initialize_with_bad_params_is_answered_invalid_params_naming_the_field(
    fresh: ProbedDaemon, params: Any, named_field: str | None
) -> None:
    fresh.send_raw(json.dumps({"id": 1, "method": "initialize", "params": params}).encode() + b"\n")
    answer = fresh.next_message()
    assert answer["id"] == 1
    assert answer["error"]["code"] == codes.INVALID_PARAMS
    if named_field is not None:
        assert named_field in answer["error"]["message"]


def test_requests_before_initialize_are_answered_not_initialized(fresh: ProbedDaemon) -> None:
    fresh.send_raw(b'{"id":"early","method":"no/such"}\n')
    answer = fresh.next_message()
    assert answer["id"] == "early"
    assert answer["error"] == {"code": codes.NOT_INITIALIZED, "message": "Not initialized"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
REQUEST_LIKE = st.fixed_dictionaries(
    {"id": st.integers() | st.text(max_size=8), "method": st.text(max_size=12)},
    optional={"params": JSON_VALUES, "jsonrpc": st.just("2.0")},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON_VALUES | REQUEST_LIKE)
def test_any_json_value_gets_well_formed_answers_and_every_request_is_answered(
    ready: ProbedDaemon, value: Any
) -> None:
    ready.send_raw(json.dumps(value).encode() + b"\n")
    answers = ready.answers_until_probe()
    for answer in answers:
        assert_well_formed(answer)
    if isinstance(value, dict) and "method" in value and isinstance(value["method"], str) and "id" in value:
        assert [answer["id"] for answer in answers] == [value["id"]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.binary(max_size=64).filter(lambda data: b"\n" not in data))
def test_any_byte_line_gets_well_formed_answers(ready: ProbedDaemon, line: bytes) -> None:
    ready.send_raw(line + b"\n")
    for answer in ready.answers_until_probe():
        assert_well_formed(answer)


@pytest.mark.anyio
async def test_the_daemon_exits_cleanly_when_stdin_ends(home: Path) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        await daemon.close_stdin()
        assert await daemon.wait_exit() == 0


@pytest.mark.anyio
async def test_the_daemon_exits_cleanly_on_sigterm(home: Path) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        daemon.process.send_signal(signal.SIGTERM)
        assert await daemon.wait_exit() == 0
        await daemon.wait_for_stderr("SIGTERM")


async def _stop_daemon(daemon: Daemon, how: str) -> None:
    if how == "stdin":
        await daemon.close_stdin()
    else:
        daemon.process.send_signal(signal.SIGTERM)


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["stdin", "sigterm"])
async def test_at_exit_every_server_is_reaped_even_one_that_ignores_eof_and_sigterm(
    home: Path, how: str
) -> None:
    servers = {
        "sdk": fixture_server("sdk"),
        "cheap": cheap_server("cheap"),
        "stubborn": fixture_server("stubborn", "--fault", "hang-at-start", startup_timeout_sec=60),
    }
    write_config(home, servers, features={"apps": False})
    async with Daemon.start(home, max_wait=30) as daemon:
        await daemon.initialize()
        await startup_until(daemon, {"sdk": "ready", "cheap": "ready"})
        await wait_until(lambda: "stubborn" in server_pids(daemon.process.pid))
        pids = [pid for pids in server_pids(daemon.process.pid).values() for pid in pids]
        await _stop_daemon(daemon, how)
        assert await daemon.wait_exit() == 0
    assert len(pids) == 3 and not [pid for pid in pids if alive(pid)]
    assert not list((home / "run").glob("mcp-children-*.json")), "the daemon reaped each child itself"


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["stdin", "sigterm"])
async def test_at_exit_servers_get_sigterm_with_their_eof_rather_than_a_grace_each(
    home: Path, tmp_path: Path, how: str
) -> None:
    """The server would exit on EOF well within the stdin grace; the exiting daemon does not wait."""
    note = tmp_path / "exit-note"
    write_config(home, {"slow": fixture_server("slow", "--exit-note", str(note))}, features={"apps": False})
    async with Daemon.start(home, max_wait=30) as daemon:
        await daemon.initialize()
        await startup_until(daemon, {"slow": "ready"})
        await _stop_daemon(daemon, how)
        assert await daemon.wait_exit() == 0
    assert note.read_text() == "sigterm"


def _catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler installed for `signum` (its `SigCgt` mask)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.anyio
async def test_the_daemon_exits_cleanly_on_sigterm_while_waiting_for_its_first_message(home: Path) -> None:
    async with Daemon.start(home) as daemon:
        await wait_until(lambda: _catches(daemon.process.pid, signal.SIGTERM))
        daemon.process.send_signal(signal.SIGTERM)
        assert await daemon.wait_exit() == 0
        await daemon.wait_for_stderr("SIGTERM")


@pytest.mark.anyio
async def test_initialize_reports_the_home_directory_and_platform(home: Path) -> None:
    async with Daemon.start(home) as daemon:
        result = await daemon.initialize()
    assert result["codexHome"] == str(home)
    assert result["platformFamily"] in ("unix", "windows")
    assert result["platformOs"]
    # Codex's layout: <originator>/<version> (<os> <os version>; <arch>) <terminal> (<client>; <version>)
    assert re.fullmatch(r"app-server/[\w.]+ \([^;()]+; [^;()]+\) \S+ \(tests; 0\.0\.1\)", result["userAgent"])


async def _two_answers_after_closing_stdin(home: Path, *sent: dict[str, Any]) -> list[dict[str, Any]]:
    """Send `sent`, close stdin, check the daemon exits 0, and return the first two answers."""
    async with Daemon.start(home) as daemon:
        for message in sent:
            await daemon.send(message)
        await daemon.close_stdin()
        assert await daemon.wait_exit() == 0
        with anyio.fail_after(5):
            return [await daemon.next_message(), await daemon.next_message()]


@pytest.mark.anyio
async def test_answers_to_requests_piped_before_stdin_closes_are_all_written(home: Path) -> None:
    first, second = await _two_answers_after_closing_stdin(
        home, {"id": 1, "method": "initialize", "params": INIT}, {"id": 2, "method": "no/such"}
    )
    assert (first["id"], second["id"]) == (1, 2)


@pytest.mark.anyio
async def test_a_request_piped_just_before_stdin_closes_waits_for_the_core_and_is_answered(
    home: Path,
) -> None:
    first, second = await _two_answers_after_closing_stdin(
        home,
        {"id": 1, "method": "initialize", "params": INIT},
        {"method": "initialized"},
        {"id": 2, "method": "account/read"},
    )
    assert first["id"] == 1
    assert (second["id"], second["result"]["account"]) == (2, None)


@pytest.mark.anyio
async def test_an_immediate_method_sent_before_the_core_is_built_waits_for_it(home: Path) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.send({"id": 1, "method": "initialize", "params": INIT})
        await daemon.send({"id": 2, "method": "account/read"})  # no `initialized`: nothing built yet
        with anyio.fail_after(30):
            first = await daemon.next_message()
            second = await daemon.next_message()
    assert first["id"] == 1
    assert second == {
        "jsonrpc": "2.0",
        "id": 2,
        "result": {"account": None, "requiresOpenaiAuth": True, "userId": None},
    }


def _modules_loaded_by(imports: str, candidates: tuple[str, ...]) -> str:
    probe = f"import sys, {imports}; print(sorted(m for m in {candidates!r} if m in sys.modules))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True
    )
    return completed.stdout.strip()


def test_the_path_to_the_initialize_reply_imports_no_event_loop_pydantic_or_mcp() -> None:
    heavy = ("asyncio", "anyio", "pydantic", "mcp", "uvicorn", "httpx2")
    assert _modules_loaded_by("app_server.cli, app_server.handshake", heavy) == "[]"


def test_the_served_connection_imports_neither_pydantic_nor_mcp_nor_uvicorn() -> None:
    heavy = ("pydantic", "mcp", "uvicorn", "httpx2")
    imports = "app_server.server, app_server.handlers, app_server.transport.stdio"
    assert _modules_loaded_by(imports, heavy) == "[]"


def test_the_core_and_every_handler_import_neither_the_mcp_sdk_nor_the_turn_machinery() -> None:
    # What answers thread/start, thread/list, account/* and the views before the MCP layer is up.
    heavy = ("mcp", "mcp_types", "httpx2", "jsonschema", "app_server.mcp_core", "app_server.threads.step")
    handlers = ", ".join(
        f"app_server.handlers.{module}" for module in ("thread", "turn", "account", "mcp", "app")
    )
    assert _modules_loaded_by(f"app_server.core, {handlers}", heavy) == "[]"


def test_the_path_to_the_first_thread_start_and_account_read_replies_builds_no_other_methods_models() -> None:
    # Building wire models is most of that path: those of the model catalog, the server views and
    # status, and the thread admin methods answer other requests, and come with their first call.
    unneeded = (
        "protocol.models",
        "protocol.views",
        "protocol.mcp",
        "protocol.thread_admin",
        "app_server.config.model_catalog",
    )
    imports = "app_server.server, app_server.core, app_server.handlers.thread, app_server.handlers.account"
    assert _modules_loaded_by(imports, unneeded) == "[]"
