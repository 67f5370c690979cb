"""Opaque page cursors: a short list of strings and numbers, as unpadded URL-safe base64 JSON.

Clients must treat them as opaque; keeping the encoding in one place lets every paged method
refuse a cursor it did not issue the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from app_server.errors import InvalidParams, quoted

CursorPart = str | int | bool


def encode_cursor(parts: Sequence[CursorPart]) -> str:
    raw = json.dumps(list(parts), separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[object]:
    """The parts `encode_cursor` wrote; raises InvalidParams for anything that is not such a list."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid_cursor(cursor) from None
    if not isinstance(parts, list):
        raise invalid_cursor(cursor)
    return parts


def invalid_cursor(cursor: str) -> InvalidParams:
    return InvalidParams(f"invalid cursor: {quoted(cursor)}")
