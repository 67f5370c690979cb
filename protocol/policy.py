"""Wire types of the knobs a thread or turn runs under: approval, sandbox, model effort and style."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from protocol.base import WireModel
from protocol.fields import JsonObject

AbsolutePathBuf = str
"""An absolute, normalized path on the machine the thread runs on."""

ReasoningEffort = str
"""A non-empty reasoning effort value advertised by the model."""

ReasoningSummary = Literal["auto", "concise", "detailed", "none"]

Personality = Literal["none", "friendly", "pragmatic"]

SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]

ApprovalsReviewer = Literal["user", "auto_review", "guardian_subagent"]

NetworkAccess = Literal["restricted", "enabled"]


class GranularApproval(WireModel):
    """`{granular: {...}}`: per-category approval settings, passed through as given."""

    granular: JsonObject


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
