"""Wire types of `config/read` and `configRequirements/read`: the effective config, where each value
comes from, and the (absent) managed requirements."""

from __future__ import annotations

from pydantic import ConfigDict

from protocol.base import WireModel
from protocol.config_layers import ConfigLayerMetadata, ConfigLayerSource
from protocol.fields import JsonObject, JsonValue, Omittable


class ConfigReadParams(WireModel):
    """Read the effective config (config.toml under the `-c` overrides) and the layer that set each value."""

    include_layers: Omittable[bool] = None
    """Also return every layer with its own config, highest precedence first."""
    cwd: Omittable[str] = None
    """Codex resolves project layers from it; accepted (it must be absolute) and ignored here."""
    thread_id: Omittable[str] = None
    """Extension (not in Codex): read the config as this loaded thread runs under it, its `config`
    overrides the highest layer (`{type: "thread", threadId}`)."""


class Config(WireModel):
    """The effective config tree, keyed as config.toml is (snake_case, not camelCase).

    The keys Codex names are always written (null when unset); every other top-level key of the
    tree (`mcp_servers`, `model_providers`, ...) is carried as an extra key.
    """

    model_config = ConfigDict(alias_generator=None, extra="allow")

    model: JsonValue = None
    review_model: JsonValue = None
    model_context_window: JsonValue = None
    model_auto_compact_token_limit: JsonValue = None
    model_auto_compact_token_limit_scope: JsonValue = None
    model_provider: JsonValue = None
    approval_policy: JsonValue = None
    approvals_reviewer: JsonValue = None
    sandbox_mode: JsonValue = None
    sandbox_workspace_write: JsonValue = None
    forced_chatgpt_workspace_id: JsonValue = None
    forced_login_method: JsonValue = None
    web_search: JsonValue = None
    client_search_provider: JsonValue = None
    tools: JsonValue = None
    instructions: JsonValue = None
    developer_instructions: JsonValue = None
    compact_prompt: JsonValue = None
    model_reasoning_effort: JsonValue = None
    model_reasoning_summary: JsonValue = None
    model_verbosity: JsonValue = None
    service_tier: JsonValue = None
    analytics: JsonValue = None
    browser_use: JsonValue = None
    computer_use: JsonValue = None
    desktop: JsonValue = None


class ConfigLayer(WireModel):
    name: ConfigLayerSource
    version: str
    config: JsonValue
    """This layer's own tree (secrets redacted as in `Config`)."""
    disabled_reason: str | None = None


class ConfigReadResponse(WireModel):
    config: Config
    origins: dict[str, ConfigLayerMetadata]
    """Dotted key path of every leaf value (array elements by index) -> the layer that set it."""
    layers: list[ConfigLayer] | None = None


class ConfigRequirementsReadResponse(WireModel):
    supports_independent_speed_modes: bool | None = None
    requirements: JsonObject | None = None
    """Managed requirements (Codex's requirements.toml / MDM); this daemon enforces none, so null."""
