"""The WebSocket listener's gate: Host, Origin and capability-token checks before anything is served.

Runs as ASGI middleware, so a refused WebSocket handshake gets a real HTTP status (via the ASGI
WebSocket denial-response extension) instead of being accepted and closed:
- 421 when `Host` does not name this listener (DNS rebinding: a browser page on evil.example that
  resolves to 127.0.0.1 still sends `Host: evil.example`); skipped on wildcard binds, which
  require a token anyway, and on a Unix socket, which no browser can reach by a name;
- 403 when an `Origin` header is present and not on the allow-list (default: no Origin allowed,
  so no web page can reach the socket);
- 401 when a token is configured and `Authorization: Bearer <token>` does not match
  (constant-time compare). `/healthz` and `/readyz` need no token.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from http import HTTPStatus

from starlette.types import ASGIApp, Receive, Scope, Send

PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class ListenerGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        bind_host: str | None,
        port: int | None,
        token: str | None,
        allowed_origins: Iterable[str],
    ) -> None:
        self._app = app
        self._token = token.encode() if token is not None else None
        self._allowed_origins = frozenset(origin.rstrip("/").lower() for origin in allowed_origins)
        if bind_host is None or bind_host in WILDCARD_HOSTS:
            self._allowed_hosts: frozenset[str] | None = None
        else:
            named = f"[{bind_host}]" if ":" in bind_host else bind_host
            self._allowed_hosts = frozenset(f"{name}:{port}".lower() for name in (*LOOPBACK_NAMES, named))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            status = self.refusal(scope["path"], scope["headers"])
            if status is not None:
                await _deny(scope, send, status)
                return
        await self._app(scope, receive, send)

    def refusal(self, path: str, raw_headers: Iterable[tuple[bytes, bytes]]) -> HTTPStatus | None:
        """The status refusing this request, or None to let it through."""
        hosts: list[str] = []
        origins: list[str] = []
        authorizations: list[bytes] = []
        for name, value in raw_headers:
            lowered = name.lower()
            if lowered == b"host":
                hosts.append(value.decode("latin-1").lower())
            elif lowered == b"origin":
                origins.append(value.decode("latin-1").rstrip("/").lower())
            elif lowered == b"authorization":
                authorizations.append(value)
        if self._allowed_hosts is not None and (len(hosts) != 1 or hosts[0] not in self._allowed_hosts):
            return HTTPStatus.MISDIRECTED_REQUEST
        if any(origin not in self._allowed_origins for origin in origins):
            return HTTPStatus.FORBIDDEN
        if self._token is not None and path not in PUBLIC_PATHS and not self._authorized(authorizations):
            return HTTPStatus.UNAUTHORIZED
        return None

    def _authorized(self, authorizations: list[bytes]) -> bool:
        assert self._token is not None
        if len(authorizations) != 1:
            return False
        scheme, _, presented = authorizations[0].partition(b" ")
        # Compare even on a wrong scheme so timing says nothing about which part failed.
        matches = hmac.compare_digest(presented.strip(), self._token)
        return scheme.lower() == b"bearer" and matches


async def _deny(scope: Scope, send: Send, status: HTTPStatus) -> None:
    body = f"{status.value} {status.phrase}\n".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if status is HTTPStatus.UNAUTHORIZED:
        headers.append((b"www-authenticate", b"Bearer"))
    prefix = "websocket." if scope["type"] == "websocket" else ""
    await send({"type": f"{prefix}http.response.start", "status": status.value, "headers": headers})
    await send({"type": f"{prefix}http.response.body", "body": body})
