"""Model-facing tool names: `mcp__<server>__<tool>`, sanitised, at most 64 characters, unique and stable."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable

MAX_TOOL_NAME_LENGTH = 64
_HASH_HEX_DIGITS = 12
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")

ToolIdentity = tuple[str, str]
"""(server name, raw tool name): what the model-facing name stands for."""


def raw_tool_name(server: str, tool: str) -> str:
    return f"mcp__{server}__{tool}"


def _with_hash(sanitized: str, identity: ToolIdentity) -> str:
    digest = hashlib.sha1(raw_tool_name(*identity).encode()).hexdigest()[:_HASH_HEX_DIGITS]
    return f"{sanitized[: MAX_TOOL_NAME_LENGTH - _HASH_HEX_DIGITS - 1]}_{digest}"


def model_tool_names(identities: Iterable[ToolIdentity]) -> dict[ToolIdentity, str]:
    """Assign each (server, tool) its model-facing name.

    Characters outside `[A-Za-z0-9_]` become `_`. A name longer than 64 characters, or one that
    several identities sanitise to, is cut and suffixed with `_` + 12 hex digits of the SHA-1 of
    its raw `mcp__server__tool`, so the result does not depend on listing order or on other runs.
    """
    by_sanitized: dict[str, list[ToolIdentity]] = defaultdict(list)
    for identity in dict.fromkeys(identities):
        by_sanitized[_UNSAFE.sub("_", raw_tool_name(*identity))].append(identity)
    names: dict[ToolIdentity, str] = {}
    for sanitized, group in by_sanitized.items():
        clash = len(group) > 1
        for identity in group:
            fits = len(sanitized) <= MAX_TOOL_NAME_LENGTH
            names[identity] = sanitized if fits and not clash else _with_hash(sanitized, identity)
    taken = set(names.values())
    if len(taken) < len(names):
        # A hashed name can still equal another server's plain name; hash that plain one too.
        plain_users: dict[str, list[ToolIdentity]] = defaultdict(list)
        for identity, name in names.items():
            plain_users[name].append(identity)
        for users in plain_users.values():
            if len(users) > 1:
                for identity in users:
                    names[identity] = _with_hash(_UNSAFE.sub("_", raw_tool_name(*identity)), identity)
    return names
