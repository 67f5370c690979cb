"""Loads `AppConfig`: config.toml, then `-c` overrides, then thread overrides, then plugin servers.

Every problem is collected before failing, so one ConfigError lists them all, each as
`config.toml:line:col: key.path: message` (or `-c key: key.path: message` for an override);
messages name the file relative to the home directory, never by its absolute path.
Unknown top-level keys are warnings: real config files carry many keys this daemon does not use.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app_server.config.app_config import (
    DEFAULT_APPS_MCP_PATH,
    DEFAULT_CHATGPT_BASE_URL,
    DEFAULT_STARTUP_GRACE_SEC,
    DEFAULT_TOOL_OUTPUT_MAX_CHARS,
    DEFAULT_TOOL_SEARCH_THRESHOLD,
    AppConfig,
    ApprovalPolicy,
    ClientMetadataUrl,
    CredentialsStoreMode,
    Features,
    ModelProviderTable,
    PluginSettings,
    SandboxMode,
)
from app_server.config.diagnostics import Diagnostics, Location, dotted, validate_strict
from app_server.config.entries import Provenance, ServerEntry
from app_server.config.locator import KeyPath, KeyPositions, locate_toml_keys
from app_server.config.overrides import LayeredTree
from app_server.config.plugins import load_plugin_servers
from app_server.config.server_tables import validate_server_table
from app_server.errors import ConfigError

CONFIG_FILE_NAME = "config.toml"
PLUGINS_DIR_NAME = "plugins"


class _GlobalKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    model_provider: str | None = None
    approval_policy: ApprovalPolicy | None = None
    sandbox_mode: SandboxMode | None = None
    mcp_oauth_credentials_store: CredentialsStoreMode = "auto"
    mcp_oauth_callback_port: int | None = Field(default=None, ge=1, le=65535)
    mcp_oauth_callback_url: str | None = None
    mcp_oauth_client_metadata_url: ClientMetadataUrl | None = None
    chatgpt_base_url: str = Field(default=DEFAULT_CHATGPT_BASE_URL, pattern=r"^https?://[^/\s]+")
    apps_mcp_product_sku: str | None = None
    mcp_startup_grace_sec: float = Field(default=DEFAULT_STARTUP_GRACE_SEC, ge=0)
    tool_output_max_chars: int = Field(default=DEFAULT_TOOL_OUTPUT_MAX_CHARS, gt=0)
    tool_search_threshold: int = Field(default=DEFAULT_TOOL_SEARCH_THRESHOLD, ge=0)


_GLOBALS = TypeAdapter(_GlobalKeys)
_PROVIDER = TypeAdapter(ModelProviderTable)
_TABLES = frozenset({"mcp_servers", "features", "plugins", "model_providers"})
_KNOWN_TOP_LEVEL = frozenset(_GlobalKeys.model_fields) | _TABLES
_PATH_OVERRIDE_KEYS = frozenset({"enabled", "path"})
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class ConfigSource:
    """One read of `<home>/config.toml`: keep the last good one and build thread configs from it,
    so a broken file on disk never replaces a working configuration."""

    home: Path
    tree: Mapping[str, Any]
    positions: KeyPositions | None
    """None when there was no config.toml."""

    @property
    def file(self) -> Path:
        return self.home / CONFIG_FILE_NAME


def read_config_source(home: Path) -> ConfigSource:
    """Read and parse config.toml (missing means empty). Raises ConfigError on unreadable or bad TOML."""
    file = home / CONFIG_FILE_NAME
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigSource(home=home, tree={}, positions=None)
    except (OSError, UnicodeDecodeError):
        raise ConfigError([f"{CONFIG_FILE_NAME}: cannot be read as UTF-8 text"]) from None
    return parse_config_source(home, text)


def parse_config_source(home: Path, text: str) -> ConfigSource:
    """`text` as the config.toml of `home` (a config write checks its result before writing it).

    Raises ConfigError, naming line and column, when it is not valid TOML.
    """
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([_syntax_problem(error)]) from None
    return ConfigSource(home=home, tree=tree, positions=locate_toml_keys(text))


def load_config(
    home: Path,
    *,
    cli_overrides: Sequence[str] = (),
    thread_overrides: Mapping[str, Any] | None = None,
) -> AppConfig:
    """The configuration of `home` with the overrides applied; a missing config.toml is empty.

    Raises ConfigError listing every problem (syntax errors name file:line:col).
    """
    return build_config(
        read_config_source(home), cli_overrides=cli_overrides, thread_overrides=thread_overrides
    )


def build_config(
    source: ConfigSource,
    *,
    cli_overrides: Sequence[str] = (),
    thread_overrides: Mapping[str, Any] | None = None,
) -> AppConfig:
    """Validate `source` with the overrides applied and add the plugin servers under its home.

    Raises ConfigError listing every problem.
    """
    file, positions = source.file, source.positions
    layers = LayeredTree(source.tree)
    for override in cli_overrides:
        layers.apply_cli_override(override)
    if thread_overrides:
        layers.apply_thread_overrides(thread_overrides)

    def locate(path: KeyPath) -> Location | None:
        label = layers.origin(path)
        if label is None and (positions is None or path not in positions):
            label = layers.origin(path, descendants=True)
        if label is not None:
            return Location(source=label)
        if positions is None:
            return None
        found = positions.position(path)
        if found is None:
            return Location(source=str(file), shown_as=CONFIG_FILE_NAME)
        return Location(source=str(file), shown_as=CONFIG_FILE_NAME, line=found[0], column=found[1])

    diagnostics = Diagnostics(locate=locate)
    config = _validate(layers.tree, diagnostics, config_file=str(file) if positions else None)
    diagnostics.raise_errors()
    return _with_plugin_servers(config, source.home / PLUGINS_DIR_NAME, diagnostics)


def _syntax_problem(error: tomllib.TOMLDecodeError) -> str:
    """`config.toml:line:col: invalid TOML: reason`, position and reason taken from the parser."""
    text = str(error)
    match = _TOML_POSITION.search(text)
    reason = _TOML_POSITION.sub("", text).strip()
    where = f"{CONFIG_FILE_NAME}:{match.group(1)}:{match.group(2)}" if match else CONFIG_FILE_NAME
    return f"{where}: invalid TOML: {reason}"


def _validate(tree: dict[str, Any], diagnostics: Diagnostics, *, config_file: str | None) -> AppConfig:
    for key in tree:
        if key not in _KNOWN_TOP_LEVEL:
            diagnostics.warning((key,), "unknown key; ignored")
    try:
        globals_ = validate_strict(
            _GLOBALS, {key: tree[key] for key in _GlobalKeys.model_fields if key in tree}
        )
    except ValidationError as error:
        diagnostics.validation_errors((), error)
        globals_ = _GlobalKeys()
    return AppConfig(
        config_file=config_file,
        mcp_servers=_servers(tree, diagnostics),
        features=_features(tree.get("features"), diagnostics),
        plugins=_plugins(tree.get("plugins"), diagnostics),
        model_providers=_model_providers(tree.get("model_providers"), diagnostics),
        **globals_.model_dump(),
    )


def _table(tree: Mapping[str, Any] | None, key: str, diagnostics: Diagnostics) -> Mapping[str, Any]:
    value = tree.get(key) if tree is not None else None
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        diagnostics.error((key,), "expected a table")
        return {}
    return value


def _servers(tree: Mapping[str, Any], diagnostics: Diagnostics) -> dict[str, ServerEntry]:
    servers = {}
    for name, table in _table(tree, "mcp_servers", diagnostics).items():
        path = ("mcp_servers", name)
        config = validate_server_table(name, table, path, diagnostics)
        if config is None:
            continue
        location = diagnostics.locate(path)
        provenance = Provenance(source="config", file=location.source if location else None, key=dotted(path))
        servers[name] = ServerEntry(name=name, config=config, provenance=provenance)
    return servers


def _features(raw: object, diagnostics: Diagnostics) -> Features:
    table = _table({"features": raw}, "features", diagnostics)
    apps = table.get("apps", True)
    if not isinstance(apps, bool):
        diagnostics.error(("features", "apps"), "expected a boolean")
        apps = True
    for key in table:
        if key not in {"apps", "apps_mcp_path_override"}:
            diagnostics.warning(("features", key), "unknown feature; ignored")
    path = _apps_mcp_path(table.get("apps_mcp_path_override", False), diagnostics)
    return Features(apps=apps, apps_mcp_path_override=path)


def _apps_mcp_path(raw: object, diagnostics: Diagnostics) -> str | None:
    """`true` -> `/ps/mcp`; a table `{enabled, path}` (a `path` alone counts as enabled)."""
    key: KeyPath = ("features", "apps_mcp_path_override")
    if isinstance(raw, bool):
        return DEFAULT_APPS_MCP_PATH if raw else None
    if not isinstance(raw, Mapping):
        diagnostics.error(key, "expected a boolean or a table `{ enabled, path }`")
        return None
    for unknown in sorted(set(raw) - _PATH_OVERRIDE_KEYS):
        diagnostics.error((*key, unknown), "unknown key")
    enabled = raw.get("enabled", True)
    path = raw.get("path", DEFAULT_APPS_MCP_PATH)
    if not isinstance(enabled, bool):
        diagnostics.error((*key, "enabled"), "expected a boolean")
        return None
    if not isinstance(path, str) or not path.strip("/ "):
        diagnostics.error((*key, "path"), "expected a non-empty path such as `/ps/mcp`")
        return None
    return "/" + path.strip().lstrip("/") if enabled else None


def _plugins(raw: object, diagnostics: Diagnostics) -> dict[str, PluginSettings]:
    plugins = {}
    for plugin_id, table in _table({"plugins": raw}, "plugins", diagnostics).items():
        path = ("plugins", plugin_id)
        if not isinstance(table, Mapping):
            diagnostics.error(path, "expected a table")
            continue
        for key in table:
            if key != "enabled":
                diagnostics.warning((*path, key), "unknown key; ignored")
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            diagnostics.error((*path, "enabled"), "expected a boolean")
            continue
        plugins[plugin_id] = PluginSettings(enabled=enabled)
    return plugins


def _model_providers(raw: object, diagnostics: Diagnostics) -> dict[str, ModelProviderTable]:
    providers = {}
    known = ModelProviderTable.model_fields
    for name, table in _table({"model_providers": raw}, "model_providers", diagnostics).items():
        path = ("model_providers", name)
        if not isinstance(table, Mapping):
            diagnostics.error(path, "expected a table")
            continue
        for key in table:
            if key not in known:
                diagnostics.warning((*path, key), "unknown key; ignored")
        try:
            providers[name] = validate_strict(_PROVIDER, {k: v for k, v in table.items() if k in known})
        except ValidationError as error:
            diagnostics.validation_errors(path, error)
    return providers


def _with_plugin_servers(config: AppConfig, plugins_dir: Path, diagnostics: Diagnostics) -> AppConfig:
    """Add plugin servers to the configured view; a user server of the same name wins."""
    disabled = frozenset(pid for pid, settings in config.plugins.items() if not settings.enabled)
    plugins = load_plugin_servers(plugins_dir, disabled)
    servers = dict(config.mcp_servers)
    warnings = [*diagnostics.warnings, *plugins.warnings]
    for name, entry in plugins.entries.items():
        if name in servers:
            diagnostics.warning(
                ("mcp_servers", name),
                f"overrides the server `{name}` of plugin `{entry.provenance.plugin_id}`",
            )
            warnings.append(diagnostics.warnings[-1])
            continue
        servers[name] = entry
    return config.model_copy(update={"mcp_servers": servers, "warnings": tuple(warnings)})
