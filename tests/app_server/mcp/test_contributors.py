"""The contributor registry: order, unique names, overlays tagged with their contributor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest

from app_server.config.app_config import AppConfig
from app_server.config.servers import StdioServerConfig
from app_server.mcp.contributors import Contribution, ContributorRegistry, Overlay, Remove, Set


@dataclass
class Fixed:
    name: str
    overlays: Sequence[Overlay]

    def contribute(self, config: AppConfig, environ: Mapping[str, str]) -> Sequence[Overlay]:
        return self.overlays


def test_contributions_come_in_registration_order_tagged_with_names() -> None:
    server = StdioServerConfig(command="x")
    registry = ContributorRegistry([Fixed("first", [Set("a", server)])])
    registry.register(Fixed("second", [Remove("a")]))
    assert registry.names == ("first", "second")
    assert registry.contributions(AppConfig(), {}) == (
        Contribution("first", (Set("a", server),)),
        Contribution("second", (Remove("a"),)),
    )


def test_a_contributor_name_can_be_registered_once() -> None:
    registry = ContributorRegistry([Fixed("apps", [])])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Fixed("apps", []))


def test_a_set_overlay_does_not_show_secrets_in_its_repr() -> None:
    overlay = Set("a", StdioServerConfig(command="x", env={"TOKEN": "s3cret"}))
    assert "s3cret" not in repr(overlay)
