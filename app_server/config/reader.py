"""The daemon's config: the last good read of config.toml, and every scope's config built from it.

A read that fails leaves the last good one in place, so a broken file on disk never replaces a
working configuration; a reload is staged (`read`) and only `adopt`ed once everything built from
it has succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app_server.config.app_config import AppConfig
from app_server.config.loader import ConfigSource, build_config, read_config_source
from app_server.errors import ConfigError
from protocol.notifications import ConfigWarningNotification

logger = logging.getLogger(__name__)

Announce = Callable[[ConfigWarningNotification], None]
"""Tells clients about a config problem that did not stop anything."""


@dataclass(frozen=True)
class StagedConfig:
    """A fresh read of config.toml, not yet adopted."""

    source: ConfigSource
    config: AppConfig
    cli_overrides: tuple[str, ...]

    def for_thread(self, overrides: Mapping[str, Any] | None) -> AppConfig:
        """This read with a thread's own overrides; raises ConfigError when they do not validate."""
        if not overrides:
            return self.config
        return build_config(self.source, cli_overrides=self.cli_overrides, thread_overrides=overrides)


class ConfigReader:
    """Reads config.toml once at start (a broken file starts the daemon empty and says why)."""

    def __init__(self, home: Path, cli_overrides: Sequence[str], announce: Announce) -> None:
        self.home = home
        self.cli_overrides = tuple(cli_overrides)
        self._announce = announce
        self._staged: StagedConfig | None = None
        try:
            self.adopt(self.read())
        except ConfigError as exc:
            logger.error("config.toml could not be loaded; starting with no MCP servers:\n%s", exc.message)
            announce(
                ConfigWarningNotification(
                    summary="config.toml could not be loaded; no MCP servers were started",
                    details="\n".join(exc.problems),
                )
            )

    @property
    def current(self) -> AppConfig:
        """The config in force (empty when config.toml has never loaded)."""
        return self._staged.config if self._staged is not None else AppConfig()

    def read(self) -> StagedConfig:
        """Read config.toml afresh; raises ConfigError (nothing changes) when it does not load."""
        source = read_config_source(self.home)
        return StagedConfig(
            source, build_config(source, cli_overrides=self.cli_overrides), self.cli_overrides
        )

    def adopt(self, staged: StagedConfig) -> None:
        """Make `staged` the config in force and tell clients what it ignored."""
        self._staged = staged
        for warning in staged.config.warnings:
            self._announce(warning.to_notification())

    def for_thread(self, overrides: Mapping[str, Any] | None) -> AppConfig:
        """The config of a thread: the last good file, `-c` overrides, then the thread's own overrides.

        Raises ConfigError for overrides that do not validate.
        """
        if self._staged is not None:
            return self._staged.for_thread(overrides)
        if not overrides:
            return AppConfig()
        empty = ConfigSource(home=self.home, tree={}, positions=None)
        return build_config(empty, thread_overrides=overrides)
