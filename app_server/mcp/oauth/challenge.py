"""A server's `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3, RFC 9728 §5.1), parsed once.

A 401 says "log in" and may name where the protected resource metadata lives (`resource_metadata`,
which discovery must try first); a 403 with `error="insufficient_scope"` says the token lacks the
scopes in `scope` (step-up). Cheap to import: no SDK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx2

_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    """The parameters of one Bearer challenge that this client acts on."""

    status: int
    error: str | None = None
    scope: str | None = None
    resource_metadata: str | None = None

    @property
    def insufficient_scope(self) -> bool:
        return self.status == 403 and self.error == "insufficient_scope"

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.scope.split()) if self.scope else ()


def parse_challenge(response: httpx2.Response) -> Challenge | None:
    """The challenge of a 401 or 403 answer (parameters empty when it sent no header), else None."""
    if response.status_code not in (401, 403):
        return None
    params: dict[str, str] = {}
    for header in response.headers.get_list("www-authenticate"):
        for match in _PARAM.finditer(header):
            value = match.group(2) if match.group(2) is not None else match.group(3)
            params.setdefault(match.group(1).lower(), re.sub(r"\\(.)", r"\1", value))
    return Challenge(
        status=response.status_code,
        error=params.get("error"),
        scope=params.get("scope"),
        resource_metadata=params.get("resource_metadata"),
    )


def union_scopes(*scope_lists: tuple[str, ...]) -> tuple[str, ...]:
    """Every scope of the lists, in first-seen order, once."""
    return tuple(dict.fromkeys(scope for scopes in scope_lists for scope in scopes))
