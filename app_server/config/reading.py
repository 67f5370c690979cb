"""`config/read` and `configRequirements/read`: the layer stack as Codex's wire shows it, secrets redacted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app_server.config.layers import ThreadOverrides, read_layer_stack
from app_server.config.redaction import redact_tree
from app_server.errors import InvalidParams, quoted
from protocol.config import (
    Config,
    ConfigLayer,
    ConfigReadParams,
    ConfigReadResponse,
    ConfigRequirementsReadResponse,
)


def read_config(
    home: Path, cli_overrides: Sequence[str], params: ConfigReadParams, thread: ThreadOverrides | None = None
) -> ConfigReadResponse:
    """The effective config of `home` under `cli_overrides` (and the overrides of the thread named,
    `thread`), each leaf's origin, and the layers if asked.

    Raises InvalidParams for a `cwd` that is not absolute (it is otherwise ignored: there are no
    project layers), ConfigError when config.toml or an override does not load.
    """
    if params.cwd is not None and not Path(params.cwd).is_absolute():
        raise InvalidParams(f"Invalid params: `cwd` must be an absolute path, not {quoted(params.cwd)}")
    stack = read_layer_stack(home, cli_overrides, thread)
    layers = None
    if params.include_layers:
        layers = [
            ConfigLayer(
                name=layer.metadata.name, version=layer.metadata.version, config=redact_tree(layer.tree)
            )
            for layer in stack.highest_first()
        ]
    return ConfigReadResponse(
        config=Config.model_validate(redact_tree(stack.effective)), origins=dict(stack.origins), layers=layers
    )


def read_requirements() -> ConfigRequirementsReadResponse:
    """No requirements: this daemon reads no requirements.toml, MDM or cloud policy."""
    return ConfigRequirementsReadResponse()
