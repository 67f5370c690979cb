"""The contributor contract: named sources of `Set` / `Remove` overlays applied over the configured view.

Contributors run in registration order; for the same server name the later overlay wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app_server.config.app_config import AppConfig
from app_server.config.servers import McpServerConfig


@dataclass(frozen=True)
class Set:
    """Insert `name`, or replace its whole entry, with `config`."""

    name: str
    config: McpServerConfig


@dataclass(frozen=True)
class Remove:
    """Delete `name` from the view (nothing happens when it is not there)."""

    name: str


Overlay = Set | Remove


class Contributor(Protocol):
    """An extension that adds, replaces or removes servers from the loaded config (no I/O)."""

    @property
    def name(self) -> str: ...

    def contribute(self, config: AppConfig, environ: Mapping[str, str]) -> Sequence[Overlay]: ...


@dataclass(frozen=True)
class Contribution:
    """The overlays one contributor produced for one config, tagged with its name for provenance."""

    contributor: str
    overlays: tuple[Overlay, ...]


class ContributorRegistry:
    """The installed contributors, in registration order."""

    def __init__(self, contributors: Iterable[Contributor] = ()) -> None:
        self._contributors: list[Contributor] = []
        for contributor in contributors:
            self.register(contributor)

    def register(self, contributor: Contributor) -> None:
        """Install `contributor` after the others. Raises ValueError when its name is taken."""
        if contributor.name in self.names:
            raise ValueError(f"a contributor named {contributor.name!r} is already registered")
        self._contributors.append(contributor)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(contributor.name for contributor in self._contributors)

    def contributions(self, config: AppConfig, environ: Mapping[str, str]) -> tuple[Contribution, ...]:
        """Every contributor's overlays for `config`, in registration order."""
        return tuple(
            Contribution(contributor.name, tuple(contributor.contribute(config, environ)))
            for contributor in self._contributors
        )
