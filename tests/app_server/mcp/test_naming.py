"""Model-facing tool names: sanitising, the 64-character limit, collisions, stability, and tool filters."""

from __future__ import annotations

import hashlib

import pytest

from app_server.config.servers import StdioServerConfig
from app_server.mcp.naming import MAX_TOOL_NAME_LENGTH, model_tool_names


def sha12(raw: str) -> str:
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


@pytest.mark.parametrize(
    ("server", "tool", "expected"),
    [
        ("files", "read", "mcp__files__read"),
        ("my-server", "do.thing", "mcp__my_server__do_thing"),
        ("s", "naïve tool/x", "mcp__s__na_ve_tool_x"),
    ],
)
def test_names_are_sanitised_to_ascii_letters_digits_and_underscores(
    server: str, tool: str, expected: str
) -> None:
    assert model_tool_names([(server, tool)]) == {(server, tool): expected}


def test_names_longer_than_64_characters_are_cut_and_hashed() -> None:
    tool = "t" * 80
    name = model_tool_names([("srv", tool)])[("srv", tool)]
    assert len(name) == MAX_TOOL_NAME_LENGTH
    assert name == ("mcp__srv__" + tool)[:51] + "_" + sha12(f"mcp__srv__{tool}")


def test_a_name_of_exactly_64_characters_is_kept() -> None:
    tool = "x" * (64 - len("mcp__s__"))
    assert model_tool_names([("s", tool)])[("s", tool)] == f"mcp__s__{tool}"


def test_colliding_names_are_all_disambiguated_by_the_hash_of_their_raw_identity() -> None:
    names = model_tool_names([("a-b", "c"), ("a_b", "c"), ("other", "c")])
    assert names[("a-b", "c")] == "mcp__a_b__c_" + sha12("mcp__a-b__c")
    assert names[("a_b", "c")] == "mcp__a_b__c_" + sha12("mcp__a_b__c")
    assert names[("other", "c")] == "mcp__other__c"


def test_names_do_not_depend_on_listing_order() -> None:
    identities = [("a-b", "c"), ("a_b", "c"), ("s", "t" * 90), ("s", "u")]
    assert model_tool_names(identities) == model_tool_names(list(reversed(identities)))


def test_a_hashed_name_never_equals_another_plain_name() -> None:
    hashed = model_tool_names([("a-b", "c"), ("a_b", "c")])[("a-b", "c")]
    plain_tool = hashed.removeprefix("mcp__a_b__")
    names = model_tool_names([("a-b", "c"), ("a_b", "c"), ("a_b", plain_tool)])
    assert len(set(names.values())) == 3


@pytest.mark.parametrize(
    ("enabled", "disabled", "allowed"),
    [
        (None, None, {"a", "b", "c"}),
        (("a", "b"), None, {"a", "b"}),
        (None, ("b",), {"a", "c"}),
        (("a", "b"), ("b",), {"a"}),
    ],
)
def test_enabled_tools_then_disabled_tools_decide_what_is_offered(
    enabled: tuple[str, ...] | None, disabled: tuple[str, ...] | None, allowed: set[str]
) -> None:
    config = StdioServerConfig(command="x", enabled_tools=enabled, disabled_tools=disabled)
    assert {tool for tool in ("a", "b", "c") if config.tool_allowed(tool)} == allowed
