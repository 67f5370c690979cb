"""What `initialize` establishes for one connection (kept import-light: the handshake uses it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClientSession:
    """What `initialize` established for this connection."""

    client_name: str
    client_version: str
    opt_out_notification_methods: frozenset[str] = frozenset()
