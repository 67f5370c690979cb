"""Thread and turn ids: UUIDv7 strings, validated before any id is used to build a file path."""

from __future__ import annotations

import re
import secrets
import time
import uuid

from app_server.errors import InvalidParams, quoted

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_RANDOM_B_BITS = 62


class _Milliseconds:
    """Unix milliseconds that never repeat: a call in the same millisecond as the last takes the next."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(time.time_ns() // 1_000_000, self._last + 1)
        return self._last


_CLOCK = _Milliseconds()


def new_id() -> str:
    """A fresh UUIDv7 (RFC 9562: 48 bits of Unix milliseconds, version, 74 random bits, variant) as
    its canonical lowercase string; ids sort in the order they were made. (The `uuid6` package does
    the same, but its import reads its own package metadata, ~10 ms of the first `thread/start`.)"""
    random = secrets.randbits(12 + _RANDOM_B_BITS)
    rand_a, rand_b = random >> _RANDOM_B_BITS, random & ((1 << _RANDOM_B_BITS) - 1)
    value = (_CLOCK.next() & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


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
