"""Thread settings: the defaults, and the one place client params become a thread's settings.

`thread/start` params become `ThreadSettings` (defaults from config filled in once, here, so the
journal records what the thread really runs under), and so do `thread/fork` params over the
source's settings; `thread/resume` and `turn/start` params become `ThreadChanges` (only what the
client set); the settings become the session state every start, resume or fork answers with.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app_server.config.app_config import DEFAULT_MODEL, AppConfig
from app_server.errors import InvalidParams, quoted
from app_server.threads.records import SETTING_FIELDS, ThreadChanges, ThreadHeader, ThreadSettings
from protocol.base import WireModel
from protocol.threads import ThreadForkParams, ThreadResumeParams, ThreadStartParams
from protocol.turns import TurnStartParams

DEFAULT_PROVIDER = "openai"
DEFAULT_APPROVAL_POLICY = "on-request"
DEFAULT_INSTRUCTIONS = "You are a helpful coding agent. Use the available tools when they help."

_SANDBOX_POLICIES: dict[str, dict[str, Any]] = {
    "read-only": {"type": "readOnly", "networkAccess": False},
    "workspace-write": {
        "type": "workspaceWrite",
        "writableRoots": [],
        "networkAccess": False,
        "excludeTmpdirEnvVar": False,
        "excludeSlashTmp": False,
    },
    "danger-full-access": {"type": "dangerFullAccess"},
}

_STORED_SETTINGS = set(ThreadSettings.model_fields)

_TURN_SETTINGS = frozenset({"model", "cwd", "approval_policy", "approvals_reviewer"})
"""What a `turn/start` may change for this and later turns."""


def resolve_cwd(requested: str | None) -> str:
    """An existing working directory, made absolute against the daemon's own (as Codex does);
    raises InvalidParams when it is not a directory."""
    path = Path(os.getcwd(), requested or "")
    if not path.is_dir():
        raise InvalidParams(f"cwd is not a directory: {quoted(requested)}")
    return str(path)


def start_settings(params: ThreadStartParams, config: AppConfig) -> ThreadSettings:
    """The settings of a new thread: the client's, with config defaults (`model`, `model_provider`,
    `approval_policy`, `sandbox_mode`) for what it left out.

    Raises InvalidParams for a cwd that is not an absolute directory.
    """
    chosen = _set_settings(params, SETTING_FIELDS | {"thread_source"})
    chosen["cwd"] = resolve_cwd(params.cwd)
    chosen["model"] = params.model or config.model or DEFAULT_MODEL
    chosen["model_provider"] = params.model_provider or config.model_provider or DEFAULT_PROVIDER
    if params.approval_policy is None and config.approval_policy is not None:
        chosen["approval_policy"] = config.approval_policy
    if params.sandbox is None and config.sandbox_mode is not None:
        chosen["sandbox"] = config.sandbox_mode
    return ThreadSettings.model_validate(chosen)


def resume_changes(params: ThreadResumeParams) -> ThreadChanges:
    """The overrides a `thread/resume` sets (they stick, as the start's did). Raises as `resolve_cwd`."""
    return _changes(_set_settings(params, SETTING_FIELDS))


def fork_settings(source: ThreadHeader, params: ThreadForkParams) -> ThreadSettings:
    """A fork's settings: the source's, with the fork's overrides applied as a resume applies them.

    Raises as `resolve_cwd`.
    """
    chosen = _cwd_resolved(_set_settings(params, SETTING_FIELDS | {"thread_source"}))
    return ThreadSettings.model_validate({**source.model_dump(include=_STORED_SETTINGS), **chosen})


def turn_changes(params: TurnStartParams) -> ThreadChanges:
    """Per-turn overrides that stick for later turns. Raises as `resolve_cwd`."""
    return _changes(_set_settings(params, _TURN_SETTINGS))


def _set_settings(params: WireModel, names: frozenset[str]) -> dict[str, Any]:
    """The fields of `params` among `names` that the client gave a value."""
    return {
        name: getattr(params, name)
        for name in names & params.model_fields_set
        if getattr(params, name) is not None
    }


def _changes(chosen: dict[str, Any]) -> ThreadChanges:
    return ThreadChanges.model_validate(_cwd_resolved(chosen))


def _cwd_resolved(chosen: dict[str, Any]) -> dict[str, Any]:
    """`chosen` with its cwd, if it has one, resolved (raises as `resolve_cwd`)."""
    if "cwd" in chosen:
        chosen["cwd"] = resolve_cwd(chosen["cwd"])
    return chosen


def session_state(settings: ThreadHeader) -> dict[str, Any]:
    """What a started or resumed thread runs under, in `ThreadStartResponse` terms (less `thread`)."""
    return {
        "approval_policy": settings.approval_policy or DEFAULT_APPROVAL_POLICY,
        "approvals_reviewer": settings.approvals_reviewer or "user",
        "cwd": settings.cwd,
        "model": model_of(settings),
        "model_provider": settings.model_provider,
        "sandbox": _SANDBOX_POLICIES.get(str(settings.sandbox), _SANDBOX_POLICIES["read-only"]),
        "reasoning_effort": settings.reasoning_effort,
        "service_tier": settings.service_tier,
    }


def model_of(settings: ThreadHeader) -> str:
    """The model a thread runs (journals written before models were resolved at start may lack one)."""
    return settings.model or DEFAULT_MODEL
