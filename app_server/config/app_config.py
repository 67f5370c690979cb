"""The loaded, validated configuration: one immutable `AppConfig` per load."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app_server.config.diagnostics import ConfigProblem
from app_server.config.entries import ServerEntry

DEFAULT_CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/"
DEFAULT_APPS_MCP_PATH = "/ps/mcp"

CredentialsStoreMode = Literal["auto", "file", "keyring"]


ApprovalPolicy = Literal["untrusted", "on-request", "never"]
SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]

DEFAULT_MODEL = "gpt-5-codex"
"""What a thread runs when neither the client nor config.toml's `model` names one (here, not in the
model catalog, so that starting a thread does not build the catalog's wire models)."""

DEFAULT_STARTUP_GRACE_SEC = 1.0
"""Codex waits about a second for servers still starting before a model step."""

DEFAULT_TOOL_OUTPUT_MAX_CHARS = 100_000
"""About 25 000 tokens: a tenth of today's larger context windows (Claude Code caps MCP results there)."""

DEFAULT_TOOL_SEARCH_THRESHOLD = 100
"""Past about a hundred tools, advertising them all costs more than tens of thousands of tokens a
step, and models pick worse among them."""


def _https_url_with_path(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or parts.path in ("", "/"):
        raise PydanticCustomError("https_url_with_path", "must be an https URL with a path")
    return value


ClientMetadataUrl = Annotated[str, AfterValidator(_https_url_with_path)]
"""Where this client's OAuth metadata document is served: its URL is the client id (CIMD)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Features(_Frozen):
    """`[features]`."""

    apps: bool = True
    apps_mcp_path_override: str | None = None
    """The hosted apps MCP path when the override is on (`/ps/mcp` unless a path is configured)."""


class PluginSettings(_Frozen):
    """`[plugins."<id>"]`."""

    enabled: bool = True


InputModality = Literal["text", "image", "audio"]


def _entry_from_id(value: object) -> object:
    return {"id": value} if isinstance(value, str) else value


def _text_only() -> list[InputModality]:
    return ["text"]


class ProviderModelTable(_Frozen):
    """One entry of a provider's `models = [...]` (a bare string is just the `id`): what `model/list`
    shows for it."""

    id: str = Field(min_length=1)
    """The model slug sent to the provider."""
    display_name: str | None = None
    description: str | None = None
    default: bool = False
    """The model `model/list` marks `isDefault` for this provider (else its first)."""
    hidden: bool = False
    """Left out of `model/list` unless the client asks for hidden models."""
    input_modalities: list[InputModality] = Field(default_factory=_text_only)
    reasoning_efforts: list[str] = Field(default_factory=list)
    default_reasoning_effort: str | None = None


ProviderModelEntry = Annotated[ProviderModelTable, BeforeValidator(_entry_from_id)]


class ModelProviderTable(_Frozen):
    """`[model_providers.NAME]` as written; unset keys stay None so the model client's defaults apply."""

    name: str | None = None
    """Display name (the table key is the provider's id)."""
    base_url: str = Field(min_length=1)
    wire_api: Literal["responses", "chat"] | None = None
    env_key: str | None = None
    request_max_retries: int | None = Field(default=None, ge=0, le=100)
    stream_max_retries: int | None = Field(default=None, ge=0, le=100)
    stream_idle_timeout_ms: int | None = Field(default=None, gt=0)
    http_headers: dict[str, str] | None = Field(default=None, repr=False)
    query_params: dict[str, str] | None = None
    models: tuple[ProviderModelEntry, ...] = ()
    """What `model/list` lists for this provider (the model client does not read it)."""

    @field_validator("models")
    @classmethod
    def _one_entry_per_model(cls, models: tuple[ProviderModelTable, ...]) -> tuple[ProviderModelTable, ...]:
        ids = [model.id for model in models]
        duplicates = sorted({model_id for model_id in ids if ids.count(model_id) > 1})
        if duplicates:
            reason = f"listed more than once: {', '.join(duplicates)}"
            raise PydanticCustomError("config_rule", "{reason}", {"reason": reason})
        if sum(model.default for model in models) > 1:
            reason = "more than one model has `default = true`"
            raise PydanticCustomError("config_rule", "{reason}", {"reason": reason})
        return models

    def as_table(self) -> dict[str, object]:
        """The keys that were set, in the shape `app_server.model.provider.providers_from_table` reads."""
        return self.model_dump(exclude_none=True, exclude={"models"})


class AppConfig(_Frozen):
    """Everything the daemon reads from config.toml, `-c` overrides, thread overrides and plugins."""

    config_file: str | None = None
    """The config.toml that was read; None when there was none."""
    mcp_servers: dict[str, ServerEntry] = Field(default_factory=dict)
    """The configured view: user servers, then plugin servers whose names the user did not take."""
    mcp_oauth_credentials_store: CredentialsStoreMode = "auto"
    mcp_oauth_callback_port: int | None = Field(default=None, ge=1, le=65535)
    mcp_oauth_callback_url: str | None = None
    mcp_oauth_client_metadata_url: ClientMetadataUrl | None = None
    chatgpt_base_url: str = Field(default=DEFAULT_CHATGPT_BASE_URL, min_length=1)
    apps_mcp_product_sku: str | None = None
    mcp_startup_grace_sec: float = Field(default=DEFAULT_STARTUP_GRACE_SEC, ge=0)
    """How long a model step waits for MCP servers still starting before it runs with the ready
    ones (their tools join from the next step)."""
    tool_output_max_chars: int = Field(default=DEFAULT_TOOL_OUTPUT_MAX_CHARS, gt=0)
    """The most characters of one tool result sent to the model (a server may set its own)."""
    tool_search_threshold: int = Field(default=DEFAULT_TOOL_SEARCH_THRESHOLD, ge=0)
    """With more tools than this in a step's catalog, the model is given a tool search instead."""
    features: Features = Features()
    plugins: dict[str, PluginSettings] = Field(default_factory=dict)
    model: str | None = None
    model_provider: str | None = None
    approval_policy: ApprovalPolicy | None = None
    """The approval policy of threads that do not choose one (`never`: a call that needs approval fails)."""
    sandbox_mode: SandboxMode | None = None
    """The sandbox mode threads report when they do not choose one (no sandbox is applied)."""
    model_providers: dict[str, ModelProviderTable] = Field(default_factory=dict)
    warnings: tuple[ConfigProblem, ...] = ()
    """Problems that did not stop loading; the daemon reports each as `configWarning`."""
