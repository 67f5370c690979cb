"""Wire types of models and model providers, and the `model/list` and `modelProvider/list` methods."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import Omittable

InputModality = Literal["text", "image", "audio"]
MultiAgentVersion = Literal["disabled", "v1", "v2"]
CyberAccessProgram = Literal["standard", "daybreakBlue", "daybreakRed"]
ReasoningEffort = str
"""`minimal`, `low`, `medium`, `high`, ...: the reference leaves it an open string."""


class ModelUpgradeInfo(WireModel):
    model: str
    upgrade_copy: str | None = None
    model_link: str | None = None
    migration_markdown: str | None = None
    retirement_at: int | None = None


class ModelAvailabilityNux(WireModel):
    message: str


class ReasoningEffortOption(WireModel):
    reasoning_effort: ReasoningEffort
    description: str


class ModelServiceTier(WireModel):
    id: str
    name: str
    description: str


class ModelAccessPrograms(WireModel):
    cyber: list[CyberAccessProgram]


class Model(WireModel):
    id: str
    model: str
    """The slug sent to the provider."""
    upgrade: str | None = None
    upgrade_info: ModelUpgradeInfo | None = None
    availability_nux: ModelAvailabilityNux | None = None
    display_name: str
    description: str
    model_specialty: str | None = None
    hidden: bool = False
    supported_reasoning_efforts: list[ReasoningEffortOption] = Field(default_factory=list)
    default_reasoning_effort: ReasoningEffort
    input_modalities: list[InputModality]
    supports_personality: bool = False
    multi_agent_version: MultiAgentVersion | None = None
    additional_speed_tiers: list[str] = Field(default_factory=list)
    service_tiers: list[ModelServiceTier] = Field(default_factory=list)
    default_service_tier: str | None = None
    available_access_programs: ModelAccessPrograms | None = None
    is_default: bool = False


class ModelListParams(WireModel):
    """List the models of the default provider or a named one, a page at a time."""

    model_provider: Omittable[str] = None
    """List this configured provider's models instead of the default provider's."""
    cursor: Omittable[str] = None
    limit: Omittable[int] = None
    include_hidden: Omittable[bool] = None


class ModelListResponse(WireModel):
    data: list[Model]
    next_cursor: str | None = None


class GatewayAuthNone(WireModel):
    mode: Literal["none"] = "none"


class GatewayAuthEnvironmentVariable(WireModel):
    mode: Literal["environmentVariable"] = "environmentVariable"
    env_key: str


class GatewayAuthExternallyConfigured(WireModel):
    mode: Literal["externallyConfigured"] = "externallyConfigured"
    env_key: str | None = None


GatewayAuth = Annotated[
    GatewayAuthNone | GatewayAuthEnvironmentVariable | GatewayAuthExternallyConfigured,
    Field(discriminator="mode"),
]


class OpenaiProviderSettings(WireModel):
    type: Literal["openai"] = "openai"


class CustomGatewayProviderSettings(WireModel):
    type: Literal["customGateway"] = "customGateway"
    auth: GatewayAuth


class BedrockProviderSettings(WireModel):
    type: Literal["bedrock"] = "bedrock"
    profile: str | None = None
    region: str | None = None


class GcpProviderSettings(WireModel):
    type: Literal["gcp"] = "gcp"
    project_id: str | None = None
    location: str | None = None
    credential_file: str | None = None


ProviderSettings = Annotated[
    OpenaiProviderSettings | CustomGatewayProviderSettings | BedrockProviderSettings | GcpProviderSettings,
    Field(discriminator="type"),
]


class ModelProviderSummary(WireModel):
    id: str
    name: str
    can_edit: bool
    """Whether the provider's table can be edited in the user's config.toml (built-ins cannot)."""
    base_url: str | None = None
    settings: ProviderSettings


class ModelProviderListParams(WireModel):
    """List the built-in and configured model providers, and which one threads use by default.

    An empty object on the wire.
    """


class ModelProviderListResponse(WireModel):
    data: list[ModelProviderSummary]
    default_provider_id: str
    can_change_default: bool
