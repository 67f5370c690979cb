"""JSON-RPC error codes, each with the one situation it is used for."""

from __future__ import annotations

from typing import Final

PARSE_ERROR: Final = -32700
"""The line or frame is not valid JSON (answered with id null)."""

INVALID_REQUEST: Final = -32600
"""Valid JSON that is not a JSON-RPC request: not an object, bad method or id, oversized line, empty batch."""

METHOD_NOT_FOUND: Final = -32601
"""No such method."""

INVALID_PARAMS: Final = -32602
"""Params of the wrong shape or type, or a value the method rejects (unknown server, bad cursor, ...)."""

INTERNAL_ERROR: Final = -32603
"""An unexpected failure inside the server; the detail goes to stderr, the wire gets a generic message."""

SERVER_OVERLOADED: Final = -32001
"""The connection's outbound queue is full: "Server overloaded; retry later." """

NOT_INITIALIZED: Final = -32002
"""A request arrived before `initialize` (or `initialize` arrived twice: "Already initialized")."""

REQUEST_FAILED: Final = -32000
"""A valid request whose operation failed for a reason the user can act on (MCP server down, ...)."""
