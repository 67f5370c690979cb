"""Connector discovery: apps read from `codex_apps` tools, paging, `app/list/updated`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream

from app_server.auth import AuthStore
from app_server.config.app_config import AppConfig
from app_server.config.servers import HttpServerConfig
from app_server.errors import InvalidParams
from app_server.events import EventBus
from app_server.mcp.apps import CODEX_APPS, codex_apps_auth_headers, codex_apps_config
from app_server.mcp.catalog import ToolRef
from app_server.mcp.client import RuntimeContext, ServerConfig
from app_server.mcp.connectors import (
    connector_attribution,
    page,
    settled_connectors,
    watch_app_list,
)
from app_server.mcp.manager import McpManager
from app_server.mcp.runtime import RuntimeCell
from app_server.mcp_core import StaticHeadersAuth
from protocol.errors import INVALID_PARAMS
from protocol.items import McpToolCallAppContext
from tests.app_server.threads.turn_harness import turn_daemon
from tests.fixtures import apps_server
from tests.fixtures.apps_server import (
    ACCESS_TOKEN,
    ACCOUNT_ID,
    AppsFixture,
    ConnectorTool,
    serve_apps_fixture,
    serve_impostor,
)
from tests.support.config import write_config
from tests.support.daemon import Daemon

APP_LIST_UPDATED = "app/list/updated"


def app(connector_id: str, name: str, description: str | None) -> dict[str, Any]:
    """An `app/list` entry as the wire carries it."""
    return {
        "id": connector_id,
        "name": name,
        "description": description,
        "appMetadata": None,
        "branding": None,
        "distributionChannel": None,
        "iconAssets": None,
        "iconDarkAssets": None,
        "installUrl": None,
        "isAccessible": True,
        "isEnabled": True,
        "labels": None,
        "logoUrl": None,
        "logoUrlDark": None,
        "pluginDisplayNames": [],
    }


LOGIN = {
    "type": "chatgptAuthTokens",
    "accessToken": ACCESS_TOKEN,
    "chatgptAccountId": ACCOUNT_ID,
    "chatgptPlanType": "plus",
}
CALENDAR = app("calendar", "Calendar", "Events of your calendar")
DRIVE = app("drive", "Drive", "Files in your drive")


# ---- pure parts ----------------------------------------------------------------------------------


def test_a_codex_apps_call_is_attributed_to_the_connector_its_tool_names() -> None:
    ref = ToolRef(CODEX_APPS, "drive_search", {"name": "drive_search", "_meta": {"connector_id": "drive"}})
    named = ToolRef(
        CODEX_APPS, "drive_search", {"_meta": {"connector_id": "drive", "connector_name": "Drive"}}
    )

    assert connector_attribution(ref) == McpToolCallAppContext(
        connector_id="drive", action_name="drive_search"
    )
    assert connector_attribution(named) == McpToolCallAppContext(
        connector_id="drive", app_name="Drive", action_name="drive_search"
    )


def test_calls_outside_codex_apps_or_without_a_connector_are_not_attributed() -> None:
    claiming = ToolRef("other", "t", {"name": "t", "_meta": {"connector_id": "drive"}})
    unnamed = ToolRef(CODEX_APPS, "t", {"name": "t", "_meta": {"connector_id": " "}})

    assert connector_attribution(claiming) is None
    assert connector_attribution(unnamed) is None
    assert connector_attribution(None) is None


def test_pages_follow_the_decimal_cursor_to_the_end() -> None:
    items = [{"id": str(index)} for index in range(5)]

    first, cursor = page(items, None, 2)
    second, cursor_after = page(items, cursor, 2)
    last, end = page(items, cursor_after, 2)

    assert [first, second, last] == [items[0:2], items[2:4], items[4:5]]
    assert (cursor, cursor_after, end) == ("2", "4", None)
    assert page(items, None, None) == (items, None)


@pytest.mark.parametrize("cursor", ["x", "-1", "1.5", "٣", "6", "9" * 5000])
def test_a_cursor_that_is_not_an_index_of_the_list_is_invalid_params(cursor: str) -> None:
    with pytest.raises(InvalidParams):
        page([{"id": str(index)} for index in range(5)], cursor, 2)


def test_a_cursor_that_is_not_a_number_is_named_in_the_error() -> None:
    with pytest.raises(InvalidParams, match="invalid cursor: nope"):
        page([], "nope", None)


# ---- a real generation over the loopback apps endpoint -------------------------------------------


@dataclass
class Scene:
    manager: McpManager
    events: EventBus
    updates: MemoryObjectReceiveStream[dict[str, Any]]

    def open(self, servers: dict[str, ServerConfig]) -> RuntimeCell:
        return self.manager.open_cell(servers, RuntimeContext())


@asynccontextmanager
async def scene(home: Path, *, signed_in: bool = True) -> AsyncIterator[Scene]:
    """A running manager whose `codex_apps` requests carry the account's ChatGPT token when signed in."""
    events = EventBus()
    auth = AuthStore(home, events)
    if signed_in:
        auth.login_chatgpt_tokens(ACCESS_TOKEN, ACCOUNT_ID, "plus")

    def auth_for(name: str, config: HttpServerConfig) -> StaticHeadersAuth | None:
        headers = codex_apps_auth_headers(config, auth) if name == CODEX_APPS else {}
        return StaticHeadersAuth(headers) if headers else None

    send, receive = anyio.create_memory_object_stream[dict[str, Any]](100)
    events.subscribe(lambda method, params: send.send_nowait(params) if method == APP_LIST_UPDATED else None)
    manager = McpManager(events, home=home, auth_for=auth_for)
    with send, receive:
        async with anyio.create_task_group() as tg:
            await tg.start(manager.run)
            yield Scene(manager, events, receive)
            tg.cancel_scope.cancel()


def apps_config(fixture: AppsFixture) -> HttpServerConfig:
    return codex_apps_config(AppConfig(chatgpt_base_url=fixture.base_url), {})


async def apps_of(cell: RuntimeCell) -> list[dict[str, Any]]:
    with cell.lease() as runtime:
        return await settled_connectors(runtime)


@pytest.mark.anyio
async def test_apps_are_the_connectors_of_codex_apps_tools_one_each_sorted_by_name(home: Path) -> None:
    tools = (*apps_server.DEFAULT_TOOLS, ConnectorTool("archive_find", "archive", "", None))
    async with serve_apps_fixture(tools) as fixture, scene(home) as running:
        cell = running.open({CODEX_APPS: apps_config(fixture)})

        with anyio.fail_after(10):
            apps = await apps_of(cell)

    assert apps == [app("archive", "archive", None), CALENDAR, DRIVE]


@pytest.mark.anyio
async def test_without_the_chatgpt_token_the_endpoint_refuses_and_no_app_is_listed(home: Path) -> None:
    async with serve_apps_fixture() as fixture, scene(home, signed_in=False) as running:
        cell = running.open({CODEX_APPS: apps_config(fixture)})

        with anyio.fail_after(10):
            apps = await apps_of(cell)

        connection = cell.current.slots[CODEX_APPS].connection
        assert apps == []
        assert fixture.rejected > 0
        assert connection is not None
        assert connection.state == "failed"


@pytest.mark.anyio
async def test_a_generation_without_codex_apps_lists_no_app(home: Path) -> None:
    async with serve_impostor() as impostor_url, scene(home) as running:
        cell = running.open({"impostor": HttpServerConfig(url=impostor_url)})

        with anyio.fail_after(10), cell.lease() as runtime:
            await runtime.wait_started()
            apps = await settled_connectors(runtime)
            servers = {ref.server for ref in runtime.tool_index().values()}

    assert apps == []
    assert servers == {"impostor"}


@pytest.mark.anyio
async def test_catalogs_of_other_servers_carry_no_connector_meta(home: Path) -> None:
    async with serve_apps_fixture() as fixture, serve_impostor() as impostor_url, scene(home) as running:
        cell = running.open(
            {CODEX_APPS: apps_config(fixture), "impostor": HttpServerConfig(url=impostor_url)}
        )

        with anyio.fail_after(10), cell.lease() as runtime:
            await runtime.wait_started()
            tools = {(ref.server, ref.tool): ref.definition for ref in runtime.tool_index().values()}

    assert tools[("impostor", "lookalike")]["_meta"] == {"origin": "impostor"}
    assert tools[(CODEX_APPS, "drive_search")]["_meta"]["connector_id"] == "drive"


@pytest.mark.anyio
async def test_app_list_updated_is_published_when_the_app_set_changes_and_only_then(home: Path) -> None:
    calendar_v2 = ConnectorTool("calendar_v2", "calendar", "Calendar", "Events of your calendar")
    drive_v2 = ConnectorTool("drive_v2", "drive", "Drive", "Files in your drive")
    async with serve_apps_fixture() as fixture, scene(home) as running, anyio.create_task_group() as tg:
        cell = running.open({CODEX_APPS: apps_config(fixture)})
        await tg.start(watch_app_list, cell, running.events)
        with anyio.fail_after(10):
            assert await apps_of(cell) == [CALENDAR, DRIVE]
            await fixture.stream_opened.wait()

            renamed = cell.changed
            await fixture.set_tools([calendar_v2, drive_v2])
            await renamed.wait()
            await fixture.set_tools([drive_v2])
            first = await running.updates.receive()
            await fixture.set_tools([])
            second = await running.updates.receive()
        tg.cancel_scope.cancel()

    assert first == {"data": [DRIVE]}
    assert second == {"data": []}


# ---- through the daemon ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_chatgpt_login_brings_the_apps_of_the_endpoint_to_app_list(home: Path) -> None:
    async with serve_apps_fixture() as fixture, serve_impostor() as impostor_url:
        write_config(home, {"impostor": {"url": impostor_url}}, chatgpt_base_url=fixture.base_url)
        async with Daemon.start(home) as daemon:
            await daemon.initialize()
            assert await daemon.call("app/list", {}) == {"data": [], "nextCursor": None}

            await daemon.call("account/login/start", LOGIN)
            announced = await daemon.next_notification("app/list/updated")
            first = await daemon.call("app/list", {"limit": 1})
            rest = await daemon.call("app/list", {"cursor": first["nextCursor"]})
            bad_cursor = await daemon.request("app/list", {"cursor": "later"})
            status = await daemon.call("mcpServerStatus/list", {"serverName": "impostor"})

            with anyio.fail_after(10):
                await fixture.stream_opened.wait()
            await fixture.set_tools([ConnectorTool("drive_v2", "drive", "Drive", "Files in your drive")])
            changed = await daemon.next_notification("app/list/updated")
            after_change = await daemon.call("app/list", {})

    assert announced["params"]["data"] == [CALENDAR, DRIVE]
    assert first == {"data": [CALENDAR], "nextCursor": "1"}
    assert rest == {"data": [DRIVE], "nextCursor": None}
    assert bad_cursor["error"]["code"] == INVALID_PARAMS
    assert status["data"][0]["tools"]["lookalike"]["_meta"] == {"origin": "impostor"}
    assert changed["params"]["data"] == [DRIVE]
    assert after_change["data"] == [DRIVE]
    assert fixture.rejected == 0


@pytest.mark.anyio
async def test_a_thread_lists_its_apps_and_its_codex_apps_calls_carry_their_connector(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "mcp__codex_apps__drive_search"}]},
        {"text": "done"},
    ]
    async with serve_apps_fixture() as fixture, turn_daemon(home, script, {}) as turns:
        # Signed out, the app level lists no apps: the login below is what changes that.
        assert await turns.daemon.call("app/list", {}) == {"data": [], "nextCursor": None}
        turns.configure({}, chatgpt_base_url=fixture.base_url)
        await turns.daemon.call("account/login/start", LOGIN)
        await turns.daemon.next_notification("app/list/updated")
        thread_id = await turns.start_thread()
        await turns.server_ready(CODEX_APPS, thread_id)
        thread_apps = await turns.daemon.call("app/list", {"threadId": thread_id})
        unknown_thread = await turns.daemon.request("app/list", {"threadId": "no-such-thread"})

        turn_id = await turns.start_turn(thread_id)
        item = await turns.item_completed("call_0_0")
        await turns.turn_completed(turn_id)
        recorded = (await turns.read_items(thread_id))["call_0_0"]

    assert thread_apps == {"data": [CALENDAR, DRIVE], "nextCursor": None}
    assert unknown_thread["error"]["code"] == INVALID_PARAMS
    assert item["status"] == "completed", item
    assert item["appContext"] == {
        "connectorId": "drive",
        "linkId": None,
        "resourceUri": None,
        "appName": "Drive",
        "actionName": "drive_search",
    }
    assert recorded["appContext"] == item["appContext"]
