"""Validated `[mcp_servers.NAME]` entries: one immutable model per transport.

Instances are frozen and compare by value: "exact config unchanged" (carrying a connection into
the next runtime generation) is plain equality. Secrets (header values, env values) are hidden
from reprs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

SERVER_NAME_PATTERN = r"^[a-zA-Z0-9_-]+$"

ApprovalMode = Literal["auto", "prompt", "writes", "approve"]
"""Codex's modes. `auto`: ask when the tool is annotated destructive, or is not annotated read-only and
its destructive / open-world hints are missing or true; `prompt`: always ask; `writes`: ask unless the
tool is annotated read-only; `approve`: never ask."""

Isolation = Literal["shared", "thread"]
McpLogLevel = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
"""An MCP logging level (RFC 5424 severities), lowest first."""

REDACTED = "<redacted>"
_SECRET_MAPS = ("env", "http_headers")
"""Fields whose values are secrets; their keys (variable and header names) are not."""


class ToolConfig(BaseModel):
    """`[mcp_servers.NAME.tools.TOOL]`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approval_mode: ApprovalMode | None = None


class OAuthClientConfig(BaseModel):
    """`oauth = { client_id, client_secret }`: a client registered with the authorization server
    beforehand, used instead of dynamic registration (`client_id` is Codex's key, `client_secret`
    ours, for confidential clients)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None


class _ServerCommon(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    required: bool = False
    startup_timeout_sec: float = Field(default=30.0, gt=0)
    tool_timeout_sec: float = Field(default=300.0, gt=0)
    enabled_tools: tuple[str, ...] | None = None
    disabled_tools: tuple[str, ...] | None = None
    default_tools_approval_mode: ApprovalMode | None = None
    tools: dict[str, ToolConfig] = Field(default_factory=dict)
    supports_parallel_tool_calls: bool = False
    tool_output_max_chars: int | None = Field(default=None, gt=0)
    """The most characters of one of this server's tool results sent to the model (None: the
    top-level `tool_output_max_chars`)."""
    log_level: McpLogLevel | None = None
    """The level asked of the server with `logging/setLevel` at connect (None: its own default)."""
    isolation: Isolation = "shared"
    """`shared`: one process serves every scope (app level, threads) with the same config and
    context; `thread`: one process per scope, for servers that keep per-conversation state."""

    def tool_allowed(self, raw_tool_name: str) -> bool:
        """`enabled_tools` (when set) then `disabled_tools` decide whether a tool is offered and callable."""
        if self.enabled_tools is not None and raw_tool_name not in self.enabled_tools:
            return False
        return not (self.disabled_tools is not None and raw_tool_name in self.disabled_tools)

    def redacted(self) -> dict[str, Any]:
        """The JSON-ready config for the wire and logs: env and header values replaced, names kept."""
        data = self.model_dump(mode="json")
        for field in _SECRET_MAPS:
            if field in data:
                data[field] = dict.fromkeys(data[field], REDACTED)
        oauth = data.get("oauth")
        if oauth is not None and oauth.get("client_secret") is not None:
            oauth["client_secret"] = REDACTED
        return data


class StdioServerConfig(_ServerCommon):
    """A server launched as a child process speaking MCP over its stdin/stdout."""

    transport: Literal["stdio"] = "stdio"
    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict, repr=False)
    env_vars: tuple[str, ...] = ()
    """Names of variables passed through from the daemon's environment."""
    cwd: Path | None = None


class HttpServerConfig(_ServerCommon):
    """A server reached over streamable HTTP."""

    transport: Literal["streamable_http"] = "streamable_http"
    url: str
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] = Field(default_factory=dict, repr=False)
    env_http_headers: dict[str, str] = Field(default_factory=dict)
    """Header name -> name of the environment variable holding its value."""
    scopes: tuple[str, ...] | None = None
    oauth_resource: str | None = None
    oauth: OAuthClientConfig | None = None


McpServerConfig = Annotated[StdioServerConfig | HttpServerConfig, Field(discriminator="transport")]
