"""Wire types of the account the server talks to model providers as, and the `account/*` methods."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import Omittable, Secret

AuthMode = Literal[
    "apikey",
    "chatgpt",
    "chatgptAuthTokens",
    "headers",
    "agentIdentity",
    "personalAccessToken",
    "bedrockApiKey",
    "bedrockAccessKeys",
]

PlanType = Literal[
    "free",
    "go",
    "plus",
    "pro",
    "prolite",
    "promax",
    "team",
    "self_serve_business_prolite",
    "self_serve_business_usage_based",
    "business",
    "ent26",
    "enterprise_cbp_automation",
    "enterprise_cbp_usage_based",
    "enterprise",
    "edu",
    "edu_plus",
    "edu_pro",
    "sci",
    "sci_plus",
    "unknown",
]

LoginAppBrand = Literal["codex", "chatgpt"]


class ApiKeyAccount(WireModel):
    type: Literal["apiKey"] = "apiKey"


class ChatgptAccount(WireModel):
    type: Literal["chatgpt"] = "chatgpt"
    email: str | None = None
    plan_type: PlanType = "unknown"
    workspace_name: str | None = None


class AmazonBedrockAccount(WireModel):
    type: Literal["amazonBedrock"] = "amazonBedrock"
    uses_codex_managed_credentials: bool


class GcpAccount(WireModel):
    type: Literal["gcp"] = "gcp"


Account = Annotated[
    ApiKeyAccount | ChatgptAccount | AmazonBedrockAccount | GcpAccount, Field(discriminator="type")
]


class GetAccountParams(WireModel):
    refresh_token: Omittable[bool] = None
    """Ask for a proactive token refresh before answering (a flag, not a token)."""


class GetAccountResponse(WireModel):
    account: Account | None = None
    requires_openai_auth: bool
    user_id: str | None = None


class ApiKeyLogin(WireModel):
    type: Literal["apiKey"] = "apiKey"
    api_key: Secret


class ChatgptLogin(WireModel):
    """Browser login: the server answers with a URL to open and reports completion later."""

    type: Literal["chatgpt"] = "chatgpt"
    app_brand: LoginAppBrand | None = None
    codex_streamlined_login: bool = False
    use_hosted_login_success_page: bool = False


class ChatgptDeviceCodeLogin(WireModel):
    type: Literal["chatgptDeviceCode"] = "chatgptDeviceCode"


class ChatgptAuthTokensLogin(WireModel):
    """Tokens the client obtained itself (external auth)."""

    type: Literal["chatgptAuthTokens"] = "chatgptAuthTokens"
    access_token: Secret
    chatgpt_account_id: str
    chatgpt_plan_type: str | None = None


class AmazonBedrockLogin(WireModel):
    type: Literal["amazonBedrock"] = "amazonBedrock"
    api_key: Secret
    region: str


class AmazonBedrockAccessKeysLogin(WireModel):
    type: Literal["amazonBedrockAccessKeys"] = "amazonBedrockAccessKeys"
    access_key_id: str
    region: str
    secret_access_key: Secret
    session_token: Secret | None = None


LoginAccountParams = Annotated[
    ApiKeyLogin
    | ChatgptLogin
    | ChatgptDeviceCodeLogin
    | ChatgptAuthTokensLogin
    | AmazonBedrockLogin
    | AmazonBedrockAccessKeysLogin,
    Field(discriminator="type"),
]


class ApiKeyLoginResult(WireModel):
    type: Literal["apiKey"] = "apiKey"


class ChatgptLoginResult(WireModel):
    type: Literal["chatgpt"] = "chatgpt"
    auth_url: str
    login_id: str


class ChatgptDeviceCodeLoginResult(WireModel):
    type: Literal["chatgptDeviceCode"] = "chatgptDeviceCode"
    login_id: str
    user_code: str
    verification_url: str


class ChatgptAuthTokensLoginResult(WireModel):
    type: Literal["chatgptAuthTokens"] = "chatgptAuthTokens"


class AmazonBedrockLoginResult(WireModel):
    type: Literal["amazonBedrock"] = "amazonBedrock"


LoginAccountResponse = Annotated[
    ApiKeyLoginResult
    | ChatgptLoginResult
    | ChatgptDeviceCodeLoginResult
    | ChatgptAuthTokensLoginResult
    | AmazonBedrockLoginResult,
    Field(discriminator="type"),
]


class LogoutAccountResponse(WireModel):
    """Empty object: the stored credentials are gone; `account/updated` follows."""
