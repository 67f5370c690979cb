"""The version of a config layer: a digest of its exact bytes, so any edit, by us or by hand, changes it.

`config/read` reports it per layer and `config/value/write` / `config/batchWrite` compare a client's
`expectedVersion` with it to refuse a write based on a stale read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path


def text_version(data: bytes) -> str:
    """`sha256:<hex>` of the bytes (a missing file counts as empty)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_bytes(path: Path) -> bytes:
    """The bytes of the file at `path`; none when it does not exist (a missing config is empty)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def file_version(path: Path) -> str:
    """The version of the file at `path`, or of an empty file when it does not exist."""
    return text_version(layer_bytes(path))


def overrides_version(overrides: Sequence[str]) -> str:
    """The version of the `-c` layer: a digest of the overrides as given, one a line."""
    return text_version("\n".join(overrides).encode())
