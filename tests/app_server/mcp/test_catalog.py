"""The catalog as listed: `connector_*` meta is kept only on `codex_apps` tools."""

from __future__ import annotations

from app_server.mcp.apps import CODEX_APPS
from app_server.mcp.catalog import strip_connector_meta


def test_connector_meta_is_stripped_from_tools_of_other_servers_and_other_meta_kept() -> None:
    tool = {"name": "t", "_meta": {"connector_id": "x", "connector_name": "X", "origin": "o"}}

    assert strip_connector_meta("other", tool) == {"name": "t", "_meta": {"origin": "o"}}


def test_meta_holding_only_connector_keys_is_dropped_from_tools_of_other_servers() -> None:
    tool = {"name": "t", "_meta": {"connector_id": "x", "connector_description": "d"}}

    assert strip_connector_meta("other", tool) == {"name": "t"}


def test_codex_apps_tools_and_tools_without_connector_meta_are_left_as_they_are() -> None:
    claiming = {"name": "t", "_meta": {"connector_id": "x"}}
    plain = {"name": "t", "_meta": {"origin": "o"}}

    assert strip_connector_meta(CODEX_APPS, claiming) is claiming
    assert strip_connector_meta("other", plain) is plain
