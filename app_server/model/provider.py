"""Model providers: `[model_providers.NAME]` config, the built-in `openai` provider, which key to send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app_server.config.model_catalog import OPENAI_BASE_URL, OPENAI_PROVIDER_NAME
from app_server.errors import ConfigError


class ProviderConfig(BaseModel):
    """One model provider: where to send steps, which wire API it speaks, and how hard to retry.

    `name` is the key of its `[model_providers.NAME]` table; unknown keys in the table are ignored
    so config files written for Codex (which also carry e.g. a display `name`) load unchanged.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    base_url: str
    wire_api: Literal["responses", "chat"] = "responses"
    env_key: str | None = None
    request_max_retries: int = Field(default=4, ge=0, le=100)
    stream_max_retries: int = Field(default=5, ge=0, le=100)
    stream_idle_timeout_ms: int = Field(default=300_000, gt=0)
    http_headers: dict[str, str] = Field(default_factory=dict)
    query_params: dict[str, str] = Field(default_factory=dict)


OPENAI_PROVIDER = ProviderConfig(
    name=OPENAI_PROVIDER_NAME,
    base_url=OPENAI_BASE_URL,
    wire_api="responses",
    env_key="OPENAI_API_KEY",
)

BUILT_IN_PROVIDERS: Mapping[str, ProviderConfig] = {OPENAI_PROVIDER_NAME: OPENAI_PROVIDER}


def providers_from_table(table: Mapping[str, Any]) -> dict[str, ProviderConfig]:
    """The built-in providers plus every `[model_providers.NAME]` table.

    The built-in `openai` cannot be redefined: the account's API key goes to it, so letting a config
    file point it elsewhere would hand that key to another host.

    Raises ConfigError listing every invalid table as `model_providers.NAME.FIELD: problem`.
    """
    providers = dict(BUILT_IN_PROVIDERS)
    problems: list[str] = []
    for name, raw in table.items():
        if name in BUILT_IN_PROVIDERS:
            problems.append(f"model_providers.{name}: the built-in provider '{name}' cannot be redefined")
            continue
        if not isinstance(raw, Mapping):
            problems.append(f"model_providers.{name}: expected a table")
            continue
        try:
            providers[name] = ProviderConfig.model_validate({**raw, "name": name})
        except ValidationError as error:
            for detail in error.errors(include_url=False, include_input=False):
                where = ".".join(str(part) for part in detail["loc"])
                problems.append(f"model_providers.{name}.{where}: {detail['msg']}")
    if problems:
        raise ConfigError(problems)
    return providers


def resolve_provider(name: str, providers: Mapping[str, ProviderConfig]) -> ProviderConfig:
    """The provider called `name`. Raises ConfigError naming the table to add when there is none."""
    provider = providers.get(name)
    if provider is None:
        hint = f"define [model_providers.{name}] in config.toml"
        raise ConfigError([f"model_provider: unknown model provider '{name}'; {hint}"])
    return provider


def api_key_for(
    provider: ProviderConfig, account_api_key: str | None, environ: Mapping[str, str]
) -> str | None:
    """The key to send as `Authorization: Bearer`, or None to send no Authorization header.

    The signed-in account's API key is used only for the built-in `openai` provider and wins over the
    environment there; every provider falls back to its `env_key` variable (blank counts as unset).
    """
    if provider.name == OPENAI_PROVIDER_NAME and account_api_key:
        return account_api_key
    if provider.env_key:
        value = environ.get(provider.env_key, "").strip()
        return value or None
    return None
