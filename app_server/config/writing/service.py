"""Writes edits into the user's config.toml: all of them or none, never a file the daemon would refuse.

Under `<home>/.config.toml.lock` (held across processes, so two daemons or a daemon and
`app-server mcp add` do not interleave) the file is read, its version compared with the client's
`expectedVersion`, every edit applied in memory, the result re-read and validated by the daemon's
own loader (with the `-c` overrides), and only then written once, atomically.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread

from app_server.config.editing.edits import write_atomically
from app_server.config.editing.lock import config_lock
from app_server.config.loader import CONFIG_FILE_NAME, ConfigSource, build_config, parse_config_source
from app_server.config.overrides import LayeredTree
from app_server.config.redaction import redact_tree
from app_server.config.versions import layer_bytes, overrides_version, text_version
from app_server.config.writing.document import edited_text
from app_server.config.writing.edits import KeyEdit, apply_edit, read_edit, value_at
from app_server.errors import ConfigError, ConfigWriteError, RequestFailed
from protocol.config_layers import ConfigLayerMetadata, SessionFlagsLayerSource
from protocol.config_write import ConfigEdit, ConfigWriteResponse, OverriddenMetadata


class ConfigWriter:
    """The writes of one daemon: its home and the `-c` overrides its config is built with."""

    def __init__(self, home: Path, cli_overrides: Sequence[str]) -> None:
        self.home = home
        self.cli_overrides = tuple(cli_overrides)

    @property
    def file(self) -> Path:
        """The canonical absolute path of the user's config.toml (a symlink is written through)."""
        return Path(os.path.realpath(self.home / CONFIG_FILE_NAME))

    async def write(
        self, edits: Sequence[ConfigEdit], *, file_path: str | None, expected_version: str | None
    ) -> ConfigWriteResponse:
        """Apply `edits` in order and write the result once.

        Raises ConfigWriteError (nothing written) for another file, a stale `expected_version`, an
        edit that is not one, or a result that does not validate; RequestFailed when the file cannot
        be edited without changing other settings.
        """
        if file_path is not None and not self._is_user_file(file_path):
            raise ConfigWriteError("configLayerReadonly", "Only writes to the user config are allowed")
        parsed = [read_edit(edit.key_path, edit.value, edit.merge_strategy) for edit in edits]
        return await anyio.to_thread.run_sync(self._write, parsed, expected_version)

    def _is_user_file(self, file_path: str) -> bool:
        path = Path(file_path).expanduser()
        return path.is_absolute() and Path(os.path.realpath(path)) == self.file

    def _write(self, edits: list[KeyEdit], expected_version: str | None) -> ConfigWriteResponse:
        file = self.file
        with config_lock(self.home):
            data = layer_bytes(file)
            if expected_version is not None and expected_version != text_version(data):
                raise ConfigWriteError(
                    "configVersionConflict",
                    "Configuration was modified since last read. Fetch latest version and retry.",
                )
            text = _decoded(data)
            tree = copy.deepcopy(dict(_parsed(self.home, text).tree))
            for edit in edits:
                apply_edit(tree, edit)
            new_text = edited_text(text, edits)
            source = _parsed(self.home, new_text)
            if source.tree != tree:
                raise RequestFailed(
                    "config.toml could not be edited without changing other settings; edit it by hand"
                )
            try:
                build_config(source, cli_overrides=self.cli_overrides)
            except ConfigError as exc:
                raise ConfigWriteError("configValidationError", exc.message) from None
            if new_text != text:
                write_atomically(file, new_text)
        overridden = self._overridden(tree, edits)
        return ConfigWriteResponse(
            status="okOverridden" if overridden else "ok",
            version=text_version(new_text.encode()),
            file_path=str(file),
            overridden_metadata=overridden,
        )

    def _overridden(self, tree: dict[str, Any], edits: list[KeyEdit]) -> OverriddenMetadata | None:
        """The first edit a `-c` override shadows: the written value is not the one in force (its
        value shown as `config/read` shows it, secrets redacted)."""
        if not self.cli_overrides:
            return None
        layers = LayeredTree(tree)
        for override in self.cli_overrides:
            layers.apply_cli_override(override)
        for edit in edits:
            written, effective = value_at(tree, edit.path), value_at(layers.tree, edit.path)
            label = layers.origin(edit.path, descendants=True)
            if written == effective or label is None:
                continue
            return OverriddenMetadata(
                message=f"Overridden by session flags ({label})",
                overriding_layer=ConfigLayerMetadata(
                    name=SessionFlagsLayerSource(), version=overrides_version(self.cli_overrides)
                ),
                effective_value=value_at(redact_tree(layers.tree), edit.path)[1],
            )
        return None


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigWriteError(
            "configValidationError", f"{CONFIG_FILE_NAME}: cannot be read as UTF-8 text"
        ) from None


def _parsed(home: Path, text: str) -> ConfigSource:
    """`text` as config.toml; ConfigWriteError naming `config.toml:line:col` when it is not TOML."""
    try:
        return parse_config_source(home, text)
    except ConfigError as exc:
        raise ConfigWriteError("configValidationError", exc.message) from None
