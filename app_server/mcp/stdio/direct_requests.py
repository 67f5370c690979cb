"""Requests this host writes to a stdio server itself, past the SDK's dispatcher: the tool-call hot path.

The SDK's client spends about 0.3 ms of CPU on each tool call beyond writing the request and
reading the answer (a tracing span, a memory stream pair, a request clock, the request built as
a model and dumped again, the result validated three times), most of it on the path between a
front-end's `tools/call` and its answer: more than the rest of the daemon's work for that call. A
direct request is one JSON line written to the child, and its answer is picked out of the
child's stdout by the parser (`claim`) and handed to the waiting caller; everything else the
server sends (its own requests, notifications) still goes to the SDK.

Ids are strings `app-server-<n>`; the SDK numbers its requests with integers, so the two never
meet, and an answer to an abandoned direct request is dropped here rather than puzzling the SDK.
A request whose caller stops waiting (a timeout or a cancellation) is withdrawn with
`notifications/cancelled`, as the SDK does.
Errors are the SDK's `MCPError`s with its codes, so callers treat both paths alike.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError

logger = logging.getLogger(__name__)

ID_PREFIX = "app-server-"
CANCEL_WRITE_TIMEOUT_SEC = 1.0


@dataclass(eq=False)
class _Pending:
    """One request waiting for its answer, and the progress reported for it meanwhile."""

    on_progress: ProgressFnT | None
    arrived: anyio.Event = field(default_factory=anyio.Event)
    answer: dict[str, Any] | types.ErrorData | None = None
    progress: deque[tuple[float, float | None, str | None]] = field(default_factory=deque)


_CLOSED = types.ErrorData(code=types.CONNECTION_CLOSED, message="Connection closed")


def _connection_closed() -> MCPError:
    return MCPError(code=_CLOSED.code, message=_CLOSED.message)


class DirectRequests:
    """The requests in flight on one stdio connection that bypass the SDK (module docstring)."""

    def __init__(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        self._write = write
        self._pending: dict[str, _Pending] = {}
        self._listening: dict[str, _Pending] = {}
        """Progress tokens and the request that waits for their reports."""
        self._ids = itertools.count(1)
        self._closed = False

    async def request(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        on_progress: ProgressFnT | None = None,
        progress_token: str | None = None,
    ) -> dict[str, Any]:
        """The raw `result` of one request. Raises MCPError: the server's error, or CONNECTION_CLOSED
        when the connection ends first. Bound it with a cancel scope: cancelling withdraws it.

        With `on_progress`, the request carries `progress_token` (one of `new_token`; default: its
        own id) and the progress reported on that token while it waits goes to `on_progress`."""
        if self._closed:
            raise _connection_closed()
        request_id = self.new_token()
        pending = self._pending[request_id] = _Pending(on_progress)
        token = progress_token or request_id
        if on_progress is not None:
            params = {**params, "_meta": {**(params.get("_meta") or {}), "progressToken": token}}
            self._listening[token] = pending
        try:
            try:
                await self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                raise _connection_closed() from None
            return await self._answer(pending)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self._withdraw(request_id)
            raise
        finally:
            del self._pending[request_id]
            if self._listening.get(token) is pending:
                del self._listening[token]

    def new_token(self) -> str:
        """A fresh id, unique on this connection: a request's own, or a progress token for several."""
        return f"{ID_PREFIX}{next(self._ids)}"

    async def _answer(self, pending: _Pending) -> dict[str, Any]:
        while True:
            await pending.arrived.wait()
            pending.arrived = anyio.Event()
            while pending.progress and pending.on_progress is not None:
                report = pending.progress.popleft()
                try:
                    await pending.on_progress(*report)
                except Exception:  # a progress report must not cost the call its answer
                    logger.exception("a progress callback failed")
            if isinstance(pending.answer, types.ErrorData):
                error = pending.answer
                raise MCPError(code=error.code, message=error.message, data=error.data)
            if pending.answer is not None:
                return pending.answer

    async def _withdraw(self, request_id: str) -> None:
        if self._closed:
            return
        notice = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": request_id, "reason": "the client no longer waits for this request"},
        }
        with (
            anyio.move_on_after(CANCEL_WRITE_TIMEOUT_SEC),
            contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError),
        ):
            await self._send(notice)

    async def _send(self, message: dict[str, Any]) -> None:
        await self._write(json.dumps(message).encode() + b"\n")

    def claim(self, message: types.JSONRPCMessage) -> bool:
        """Take an answer or progress report meant for a direct request; False leaves it to the SDK."""
        if isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
            if not (isinstance(message.id, str) and message.id.startswith(ID_PREFIX)):
                return False
            if (pending := self._pending.get(message.id)) is not None:
                if isinstance(message, types.JSONRPCResponse):
                    pending.answer = message.result
                else:
                    pending.answer = message.error
                pending.arrived.set()
            return True
        if isinstance(message, types.JSONRPCNotification) and message.method == "notifications/progress":
            params = message.params or {}
            token = params.get("progressToken")
            if not (isinstance(token, str) and token.startswith(ID_PREFIX)):
                return False
            pending = self._listening.get(token)
            if pending is not None and pending.on_progress is not None:
                progress, total, text = params.get("progress"), params.get("total"), params.get("message")
                if isinstance(progress, int | float):
                    total = total if isinstance(total, int | float) else None
                    pending.progress.append((progress, total, text if isinstance(text, str) else None))
                    pending.arrived.set()
            return True
        return False

    def close(self) -> None:
        """The connection ended: every request still waiting fails with CONNECTION_CLOSED."""
        self._closed = True
        for pending in self._pending.values():
            pending.answer = _CLOSED
            pending.arrived.set()
