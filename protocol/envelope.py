"""The envelope keys Codex writes beside a message's `method` and `params` (its types do not show them)."""

from __future__ import annotations

from typing import Final

EMITTED_AT_MS: Final = "emittedAtMs"
"""Every notification's send time, unix milliseconds, at the top level of the message."""
