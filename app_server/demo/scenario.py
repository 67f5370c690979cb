"""What the demo sets up: the scripted model's three steps and the daemon's config.toml."""

from __future__ import annotations

import sys
from pathlib import Path

import tomlkit

from app_server.model.script import Script, ScriptedToolCall, ScriptStep

SERVER_NAME = "demo"
TOOL_NAME = "whoami"
MODEL_FACING_TOOL = f"mcp__{SERVER_NAME}__{TOOL_NAME}"
PROVIDER_NAME = "scripted"
MODEL_NAME = "scripted-model"
MODEL_KEY_ENV = "APP_SERVER_DEMO_MODEL_KEY"
"""The variable the daemon reads the scripted provider's key from; the demo sets a dummy value."""
PROMPT = "Who answers?"
FINAL_TEXT = "Both calls answered: the first by the runtime its step leased, the second by the reloaded one."


def demo_script() -> Script:
    """Step 0 calls `whoami` and is held before answering (the demo reloads meanwhile), step 1 calls
    it again from a new step, step 2 ends the turn with text."""
    call = ScriptedToolCall(name=MODEL_FACING_TOOL)
    return Script(
        steps=[
            ScriptStep(tool_calls=[call], hold="before_response"),
            ScriptStep(tool_calls=[call]),
            ScriptStep(text=FINAL_TEXT),
        ]
    )


def write_config(home: Path, *, label: str, model_base_url: str) -> None:
    """Write `<home>/config.toml`: the example server answering as `label`, and the scripted model."""
    document = {
        "model_provider": PROVIDER_NAME,
        "model": MODEL_NAME,
        "model_providers": {
            PROVIDER_NAME: {"base_url": model_base_url, "wire_api": "responses", "env_key": MODEL_KEY_ENV}
        },
        "mcp_servers": {
            SERVER_NAME: {
                "command": sys.executable,
                "args": ["-m", "app_server.demo.example_server", "--label", label],
            }
        },
    }
    (home / "config.toml").write_text(tomlkit.dumps(document), encoding="utf-8")
