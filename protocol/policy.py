"""Wire types of the knobs a thread or turn runs under: approval, sandbox, model effort and style."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from protocol.base import WireModel

AbsolutePathBuf = str
"""An absolute, normalized path on the machine the thread runs on."""

ReasoningEffort = str
"""A non-empty reasoning effort value advertised by the model."""

ReasoningSummary = Literal["auto", "concise", "detailed", "none"]

Personality = Literal["none", "friendly", "pragmatic"]

SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]

ApprovalsReviewer = Literal["user", "auto_review", "guardian_subagent"]

NetworkAccess = Literal["restricted", "enabled"]


class GranularApprovalConfig(WireModel):
    """Which approval prompts may be shown; a category set to false is rejected without asking.

    The reference spells these keys in snake_case on the wire; `skill_approval` and
    `request_permissions` may be left out on input (false).
    """

    sandbox_approval: bool = Field(alias="sandbox_approval")
    rules: bool
    skill_approval: bool = Field(default=False, alias="skill_approval")
    request_permissions: bool = Field(default=False, alias="request_permissions")
    mcp_elicitations: bool = Field(alias="mcp_elicitations")


class GranularApproval(WireModel):
    """`{granular: {...}}`: per-category approval settings."""

    granular: GranularApprovalConfig


AskForApproval = Literal["untrusted", "on-request", "never"] | GranularApproval


class DangerFullAccessSandbox(WireModel):
    type: Literal["dangerFullAccess"] = "dangerFullAccess"


class ReadOnlySandbox(WireModel):
    type: Literal["readOnly"] = "readOnly"
    network_access: bool = False


class ExternalSandbox(WireModel):
    type: Literal["externalSandbox"] = "externalSandbox"
    network_access: NetworkAccess = "restricted"


class WorkspaceWriteSandbox(WireModel):
    type: Literal["workspaceWrite"] = "workspaceWrite"
    exclude_slash_tmp: bool = False
    exclude_tmpdir_env_var: bool = False
    network_access: bool = False
    writable_roots: list[AbsolutePathBuf] = Field(default_factory=list)


SandboxPolicy = Annotated[
    DangerFullAccessSandbox | ReadOnlySandbox | ExternalSandbox | WorkspaceWriteSandbox,
    Field(discriminator="type"),
]
