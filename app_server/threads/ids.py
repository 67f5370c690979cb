"""Thread and turn ids: UUIDv7 strings, validated before any id is used to build a file path."""

from __future__ import annotations

import re

import uuid6

from app_server.errors import InvalidParams, quoted

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def new_id() -> str:
    """A fresh UUIDv7 (time-ordered) as its canonical lowercase string."""
    return str(uuid6.uuid7())


def is_valid_id(value: str) -> bool:
    """Whether `value` is a canonical lowercase UUID string (nothing else can reach a file name)."""
    return _CANONICAL_UUID.fullmatch(value) is not None


def require_thread_id(value: str) -> str:
    """Return `value` if it can name a thread.

    Raises InvalidParams for anything that is not a canonical UUID, so input such as `../x`
    is rejected before the filesystem is touched.
    """
    if not is_valid_id(value):
        raise InvalidParams(f"invalid thread id: {quoted(value)}")
    return value
