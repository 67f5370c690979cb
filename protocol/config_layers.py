"""Wire types naming where a config value comes from: the layers of `config/read` and the
`overriddenMetadata` of `config/value/write` / `config/batchWrite`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from protocol.base import WireModel


class UserLayerSource(WireModel):
    """The user's config.toml (the path is given even when the file does not exist)."""

    type: Literal["user"] = "user"
    file: str
    profile: str | None = None


class SessionFlagsLayerSource(WireModel):
    """The daemon's `-c key=value` overrides."""

    type: Literal["sessionFlags"] = "sessionFlags"


class ThreadLayerSource(WireModel):
    """Extension (not in Codex): a thread's `config` overrides, shown only when `config/read` names
    the thread (`threadId`)."""

    type: Literal["thread"] = "thread"
    thread_id: str


class SystemLayerSource(WireModel):
    type: Literal["system"] = "system"
    file: str


class ProjectLayerSource(WireModel):
    type: Literal["project"] = "project"
    dot_codex_folder: str


class PackagedDefaultsLayerSource(WireModel):
    type: Literal["packagedDefaults"] = "packagedDefaults"
    file: str


class MdmLayerSource(WireModel):
    type: Literal["mdm"] = "mdm"
    domain: str
    key: str


class EnterpriseManagedLayerSource(WireModel):
    type: Literal["enterpriseManaged"] = "enterpriseManaged"
    id: str
    name: str


class LegacyManagedFileLayerSource(WireModel):
    type: Literal["legacyManagedConfigTomlFromFile"] = "legacyManagedConfigTomlFromFile"
    file: str


class LegacyManagedMdmLayerSource(WireModel):
    type: Literal["legacyManagedConfigTomlFromMdm"] = "legacyManagedConfigTomlFromMdm"


ConfigLayerSource = Annotated[
    UserLayerSource
    | SessionFlagsLayerSource
    | ThreadLayerSource
    | SystemLayerSource
    | ProjectLayerSource
    | PackagedDefaultsLayerSource
    | MdmLayerSource
    | EnterpriseManagedLayerSource
    | LegacyManagedFileLayerSource
    | LegacyManagedMdmLayerSource,
    Field(discriminator="type"),
]
"""Every layer kind of the reference, and our `thread`; this daemon produces `user`, `sessionFlags`
and (asked for a thread) `thread`."""


class ConfigLayerMetadata(WireModel):
    name: ConfigLayerSource
    version: str
