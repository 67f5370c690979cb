"""The loopback listener that receives one OAuth login's authorization redirect on 127.0.0.1.

A deliberately tiny HTTP/1.1 server (one GET per connection, plain-text answers): the browser
only ever sends the redirect. A request for another path (404), without the expected `state`
(400) or otherwise malformed (400) is answered and ignored, so a stray or forged request cannot
end the login; only a callback carrying the expected `state` does, with a code or an error.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import anyio
from anyio.abc import Listener, SocketAttribute, SocketStream

from app_server.errors import InvalidParams, RequestFailed

logger = logging.getLogger(__name__)

CALLBACK_HOST = "127.0.0.1"
DEFAULT_CALLBACK_PATH = "/callback"
SUCCESS_PAGE = "Authentication complete. You may close this window."
_MAX_REQUEST_BYTES = 16 * 1024
_REQUEST_READ_SECONDS = 10.0
_SAFE_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class CallbackResult:
    """What the authorization server sent back: a code, or an error code (never both)."""

    state: str
    code: str | None = None
    iss: str | None = None
    error: str | None = None

    def describe_error(self) -> str:
        """The provider's error for a client: its code when it looks like one, nothing else of its text."""
        if self.error is not None and _SAFE_ERROR_CODE.match(self.error):
            return f"the authorization server answered `{self.error}`"
        return "the authorization server refused the authorization"


@dataclass(frozen=True)
class CallbackEndpoint:
    """Where the listener binds and which redirect URI it answers to."""

    port: int
    """0 picks a free port."""
    path: str
    redirect_uri: str | None
    """The configured `mcp_oauth_callback_url`, used verbatim; None derives it from the bound port."""
    port_is_preference: bool = False
    """True when no configuration named the port: another free port is fine if it is taken."""


def callback_endpoint(
    callback_port: int | None, callback_url: str | None, preferred_port: int | None = None
) -> CallbackEndpoint:
    """The endpoint for `mcp_oauth_callback_port` / `mcp_oauth_callback_url`.

    With a callback URL its path is served, on its port when it names one, else on the configured
    port, else a free one. Without configuration `preferred_port` (the port a stored client
    registration was made for) is tried first so that registration stays usable.

    Raises:
        InvalidParams: The callback URL is not an absolute http(s) URL.
    """
    if callback_url is not None:
        parts = urlsplit(callback_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParams("mcp_oauth_callback_url must be an absolute http(s) URL")
        port = parts.port or callback_port or 0
        return CallbackEndpoint(port=port, path=parts.path or "/", redirect_uri=callback_url)
    if callback_port is not None:
        return CallbackEndpoint(port=callback_port, path=DEFAULT_CALLBACK_PATH, redirect_uri=None)
    return CallbackEndpoint(
        port=preferred_port or 0, path=DEFAULT_CALLBACK_PATH, redirect_uri=None, port_is_preference=True
    )


class CallbackListener:
    """A bound listener; `wait()` returns the first callback that carries the expected state."""

    def __init__(self, listener: Listener[SocketStream], endpoint: CallbackEndpoint) -> None:
        self._listener = listener
        self._path = endpoint.path
        port = listener.extra(SocketAttribute.local_port)
        self.redirect_uri = endpoint.redirect_uri or f"http://{CALLBACK_HOST}:{port}{endpoint.path}"
        self._expected_state: str | None = None
        self._result: CallbackResult | None = None
        self._arrived = anyio.Event()

    def expect_state(self, state: str) -> None:
        """Accept callbacks for this `state` only (set before the authorization URL is handed out)."""
        self._expected_state = state

    async def wait(self) -> CallbackResult:
        """The accepted callback (blocks until one arrives)."""
        await self._arrived.wait()
        assert self._result is not None
        return self._result

    async def serve(self) -> None:
        """Answer connections until cancelled."""
        await self._listener.serve(self._handle)

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            try:
                with anyio.fail_after(_REQUEST_READ_SECONDS):
                    target = await _read_request_target(stream)
                status, body = self._answer(target)
                await _respond(stream, status, body)
            except (TimeoutError, anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                logger.debug("OAuth callback connection dropped")

    def _answer(self, target: str | None) -> tuple[int, str]:
        if target is None:
            return 400, "Invalid OAuth callback."
        parts = urlsplit(target)
        if parts.path != self._path:
            return 404, "Not found."
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        state = query.get("state")
        if self._expected_state is None or state != self._expected_state or self._result is not None:
            return 400, "Invalid OAuth callback: unknown or missing state."
        if query.get("error"):
            self._accept(CallbackResult(state=state, error=query["error"]))
            return 400, f"Authentication failed: {self._result_error()}."
        if not query.get("code"):
            return 400, "Invalid OAuth callback: missing authorization code."
        self._accept(CallbackResult(state=state, code=query["code"], iss=query.get("iss")))
        return 200, SUCCESS_PAGE

    def _accept(self, result: CallbackResult) -> None:
        self._result = result
        self._arrived.set()

    def _result_error(self) -> str:
        assert self._result is not None
        return self._result.describe_error()


async def _read_request_target(stream: SocketStream) -> str | None:
    """The request target of a GET, or None when the request is not one we serve."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += await stream.receive()
        if len(data) > _MAX_REQUEST_BYTES:
            return None
    request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/1."):
        return None
    return parts[1]


async def _respond(stream: SocketStream, status: int, body: str) -> None:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    payload = body.encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    await stream.send(head.encode() + payload)


@contextlib.asynccontextmanager
async def open_callback_listener(endpoint: CallbackEndpoint) -> AsyncIterator[CallbackListener]:
    """Bind 127.0.0.1 and serve until the block exits.

    A port taken by something else falls back to a free one only when the port was a preference
    (no configuration named it).

    Raises:
        RequestFailed: The configured callback port is in use.
    """
    try:
        listener = await anyio.create_tcp_listener(local_host=CALLBACK_HOST, local_port=endpoint.port)
    except OSError as exc:
        if not endpoint.port_is_preference or endpoint.port == 0:
            raise RequestFailed(
                f"the OAuth callback port {endpoint.port} is not available; "
                "set `mcp_oauth_callback_port` to a free port"
            ) from exc
        listener = await anyio.create_tcp_listener(local_host=CALLBACK_HOST, local_port=0)
    failure: Exception | None = None
    async with listener:
        callback = CallbackListener(listener, endpoint)
        async with anyio.create_task_group() as tg:
            tg.start_soon(callback.serve)
            try:
                yield callback
            except Exception as exc:
                # Re-raised below, outside the task group, so callers see it unwrapped.
                failure = exc
            finally:
                tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
