"""The models and providers a front-end can pick: the built-in OpenAI catalog and `[model_providers.*]`.

Pure config (no model client, no MCP): `model/list` and `modelProvider/list` answer from it as soon
as the core is built.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from app_server.config.app_config import DEFAULT_MODEL, AppConfig, ModelProviderTable, ProviderModelTable
from app_server.errors import InvalidParams, quoted
from protocol.models import (
    CustomGatewayProviderSettings,
    GatewayAuthEnvironmentVariable,
    GatewayAuthNone,
    Model,
    ModelProviderListResponse,
    ModelProviderSummary,
    OpenaiProviderSettings,
    ReasoningEffortOption,
)

OPENAI_PROVIDER_NAME = "openai"
OPENAI_DISPLAY_NAME = "OpenAI"
OPENAI_BASE_URL = "https://api.openai.com/v1"

DEFAULT_REASONING_EFFORT = "medium"

_EFFORT_DESCRIPTIONS = {
    "minimal": "Fastest answers, with very little reasoning",
    "low": "Fast answers with light reasoning",
    "medium": "Balances speed and reasoning depth for everyday tasks",
    "high": "Deepest reasoning, for complex or ambiguous problems",
}


def _efforts(*names: str) -> list[ReasoningEffortOption]:
    return [
        ReasoningEffortOption(reasoning_effort=name, description=_EFFORT_DESCRIPTIONS.get(name, name))
        for name in names
    ]


def _builtin(model_id: str, display_name: str, description: str, *efforts: str) -> Model:
    """A built-in OpenAI model: text and image input, `medium` effort unless asked otherwise."""
    return Model(
        id=model_id,
        model=model_id,
        display_name=display_name,
        description=description,
        supported_reasoning_efforts=_efforts(*efforts),
        default_reasoning_effort=DEFAULT_REASONING_EFFORT,
        input_modalities=["text", "image"],
    )


@cache
def _openai_models() -> tuple[Model, ...]:
    """The built-in OpenAI list (built on first use: constructing models builds their validators)."""
    return (
        _builtin(DEFAULT_MODEL, "GPT-5-Codex", "GPT-5 tuned for agentic coding.", "low", "medium", "high"),
        _builtin("gpt-5", "GPT-5", "General-purpose reasoning model.", "minimal", "low", "medium", "high"),
        _builtin(
            "gpt-5-mini",
            "GPT-5 mini",
            "Faster, cheaper GPT-5 for well-defined tasks.",
            "minimal",
            "low",
            "medium",
            "high",
        ),
    )


def default_provider(config: AppConfig) -> str:
    """The provider a thread uses when the client names none."""
    return config.model_provider or OPENAI_PROVIDER_NAME


def provider_models(config: AppConfig, provider: str | None, *, include_hidden: bool) -> list[Model]:
    """The models of `provider` (None: the default provider); one is `isDefault` unless it lists none.

    The default is the model a `thread/start` without `model` runs when listing the default
    provider (config.toml's `model` is listed even when the catalog lacks it); otherwise the entry
    marked `default = true`, else the first. Raises InvalidParams for a provider that is not configured.
    """
    name = provider or default_provider(config)
    catalog, chosen = _catalog(config, name)
    if name == default_provider(config) and config.model is not None:
        chosen = config.model
        if all(model.id != chosen for model in catalog):
            catalog.insert(0, _configured_model(ProviderModelTable(id=chosen)))
    return [
        model.model_copy(update={"is_default": model.id == chosen})
        for model in catalog
        if include_hidden or not model.hidden or model.id == chosen
    ]


def _catalog(config: AppConfig, name: str) -> tuple[list[Model], str | None]:
    """Provider `name`'s listed models and the one it declares its default (None: it lists none)."""
    if name == OPENAI_PROVIDER_NAME:
        return list(_openai_models()), DEFAULT_MODEL
    table = config.model_providers.get(name)
    if table is None:
        hint = f"define [model_providers.{name}] in config.toml"
        raise InvalidParams(f"unknown model provider {quoted(name)}; {hint}")
    declared = next((entry.id for entry in table.models if entry.default), None)
    if declared is None and table.models:
        declared = table.models[0].id
    return [_configured_model(entry) for entry in table.models], declared


def _configured_model(entry: ProviderModelTable) -> Model:
    efforts = entry.reasoning_efforts
    fallback = DEFAULT_REASONING_EFFORT if not efforts or DEFAULT_REASONING_EFFORT in efforts else efforts[0]
    return Model(
        id=entry.id,
        model=entry.id,
        display_name=entry.display_name or entry.id,
        description=entry.description or "",
        hidden=entry.hidden,
        supported_reasoning_efforts=_efforts(*efforts),
        default_reasoning_effort=entry.default_reasoning_effort or fallback,
        input_modalities=list(entry.input_modalities),
    )


def provider_list(config: AppConfig) -> ModelProviderListResponse:
    """The built-in provider, then every `[model_providers.NAME]` table in config order."""
    openai = ModelProviderSummary(
        id=OPENAI_PROVIDER_NAME,
        name=OPENAI_DISPLAY_NAME,
        can_edit=False,
        base_url=OPENAI_BASE_URL,
        settings=OpenaiProviderSettings(),
    )
    configured = [_summary(name, table) for name, table in config.model_providers.items()]
    return ModelProviderListResponse(
        data=[openai, *configured], default_provider_id=default_provider(config), can_change_default=True
    )


def _summary(name: str, table: ModelProviderTable) -> ModelProviderSummary:
    auth = GatewayAuthEnvironmentVariable(env_key=table.env_key) if table.env_key else GatewayAuthNone()
    return ModelProviderSummary(
        id=name,
        name=table.name or name,
        can_edit=True,
        base_url=_displayable(table.base_url),
        settings=CustomGatewayProviderSettings(auth=auth),
    )


def _displayable(url: str) -> str | None:
    """`url` unless it carries credentials (`user:secret@host`) or is not a URL at all."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc or "@" in parts.netloc:
        return None
    return url
