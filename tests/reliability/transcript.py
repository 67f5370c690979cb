"""The secret tokens the scenarios plant, and a scan of every log and wire byte they produce for them.

Scenarios put these tokens where a careless daemon might echo them (the model API key's
environment variable, the WebSocket token, an MCP server's env and HTTP headers) and feed every
stderr text and every wire message they receive to `TRANSCRIPT.scan`, which keeps only the
findings, so even the full-size fuzz costs no memory here.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

MODEL_KEY = f"sk-model-{secrets.token_hex(16)}"
WS_TOKEN = f"ws-token-{secrets.token_hex(16)}"
SERVER_ENV_SECRET = f"env-secret-{secrets.token_hex(16)}"
HEADER_SECRET = f"header-secret-{secrets.token_hex(16)}"
TOKENS = (MODEL_KEY, WS_TOKEN, SERVER_ENV_SECRET, HEADER_SECRET)


@dataclass
class Transcript:
    """Counts of what was scanned, and where a token was found (source name, never the token)."""

    scanned_bytes: int = 0
    sources: set[str] = field(default_factory=set)
    findings: list[str] = field(default_factory=list)

    def scan(self, source: str, text: str) -> None:
        self.scanned_bytes += len(text)
        self.sources.add(source)
        for number, token in enumerate(TOKENS):
            if token in text:
                self.findings.append(f"{source}: token #{number} at offset {text.index(token)}")

    def scan_message(self, source: str, message: Any) -> None:
        self.scan(source, json.dumps(message))


TRANSCRIPT = Transcript()
