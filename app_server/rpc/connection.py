"""One client connection: reads messages, gates on initialize, runs requests concurrently, writes answers.

Every inbound request runs as its own task inside its own cancel scope, recorded by id, so a slow
request never holds up a fast one (answers may come out of order) and cancellation reaches exactly
that request; a cancelled request is never answered. `initialize` alone runs inline, so requests
pipelined behind it already see the initialized connection.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import anyio
import anyio.lowlevel

from app_server.errors import ClientRequestError, Overloaded, RequestFailed
from app_server.rpc import messages
from app_server.rpc.dispatcher import MethodSpec, MethodTable, RequestContext, WireObject
from app_server.rpc.errors import wire_error
from app_server.rpc.messages import Invalid, Notification, Request, RequestId, Response
from app_server.rpc.outbound import OutboundQueue
from app_server.rpc.session import ClientSession
from app_server.transport.base import MessageStream, OversizedMessageError, UndecodableMessageError
from protocol import errors as codes

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

logger = logging.getLogger(__name__)

Reply = Callable[[str | None], None]
"""Called exactly once per inbound message: with the encoded answer, or None when there is none."""

DEFAULT_MAX_OUTBOUND_MESSAGES = 1024
DEFAULT_DRAIN_TIMEOUT = 10.0


class Host(Protocol):
    """What a connection needs from the daemon serving it; handlers get the same object as `ctx.services`."""

    @property
    def built(self) -> bool:
        """Immediate handlers can answer now; until then their requests wait in `wait_built`."""
        ...

    def subscribe(self, listener: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        """Pass every notification (method, params) published from now on to `listener`, which
        must not block; returns the function that stops it."""
        ...

    def warm_up(self) -> None:
        """The client has the `initialize` reply: start getting built in the background."""
        ...

    async def wait_built(self) -> None:
        """Return once built, building now if nothing has started it yet."""
        ...


HostT = TypeVar("HostT", bound=Host)


class _PendingRequest:
    """A server->client request waiting for the client's response."""

    def __init__(self) -> None:
        self.answered = anyio.Event()
        self.response: Response | None = None


class Connection(Generic[HostT]):
    """Serves one client; satisfies `Peer` for the handlers of its requests."""

    def __init__(
        self,
        stream: MessageStream,
        *,
        methods: MethodTable[HostT],
        services: HostT,
        max_outbound_messages: int = DEFAULT_MAX_OUTBOUND_MESSAGES,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        session: ClientSession | None = None,
    ) -> None:
        """`services`: what handlers share, and the connection's `Host`; `session`: the client was
        already answered `initialize` (see `app_server.handshake`)."""
        self._stream = stream
        self._methods = methods
        self._services = services
        self._outbound = OutboundQueue(max_outbound_messages)
        self._drain_timeout = drain_timeout
        self.session = session
        self._initialize_claimed = session is not None
        self._in_flight: dict[RequestId, list[anyio.CancelScope]] = {}
        self._in_flight_count = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._pending: dict[RequestId, _PendingRequest] = {}
        self._next_request_id = 0
        self._task_group: TaskGroup | None = None
        self._started_requests = False

    @property
    def dropped_notifications(self) -> int:
        return self._outbound.dropped_notifications

    async def run(self) -> None:
        """Serve the client until its input ends (then finish in-flight requests, bounded) or it goes away."""
        unsubscribe = self._services.subscribe(self._on_event)
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                task_group.start_soon(self._write_loop, task_group.cancel_scope)
                await self._read_loop()
                await self._finish_in_flight()
                self._outbound.close()
        finally:
            unsubscribe()
            self._abandon_pending_requests()
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()

    def open_session(self, session: ClientSession) -> None:
        """Mark the connection initialized; called by the `initialize` handler."""
        self.session = session

    def notify(self, method: str, params: WireObject | dict[str, Any]) -> bool:
        """Send a notification (with `emittedAtMs`); False when not sent.

        Not sent before initialize, when the client opted out of `method`, or when the outbound
        queue is full (dropped and counted).
        """
        if self.session is None or method in self.session.opt_out_notification_methods:
            return False
        payload = params if isinstance(params, dict) else params.to_wire()
        text = messages.encode(messages.notification(method, payload, time.time_ns() // 1_000_000))
        return self._send_now(text) or self._outbound.offer(text)

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        self.notify(method, params)

    async def request(
        self,
        method: str,
        params: WireObject | dict[str, Any] | None,
        *,
        timeout: float,  # noqa: ASYNC109 - expiry becomes a RequestFailed that names the method
        request_id: RequestId | None = None,
    ) -> Any:
        """Send a server->client request and return the client's result.

        `request_id` lets the caller name the request (to announce it later, e.g. in
        `serverRequest/resolved`); by default ids are consecutive integers, which a string never
        collides with. Raises Overloaded (queue full), ClientRequestError (the client answered an
        error), and RequestFailed (no answer within `timeout` seconds, or the client went away).
        """
        if self._outbound.is_full:
            raise Overloaded
        if request_id is None:
            request_id = self._next_request_id
            self._next_request_id += 1
        if request_id in self._pending:
            raise ValueError(f"request id {request_id!r} is already pending")
        pending = self._pending[request_id] = _PendingRequest()
        payload = params if params is None or isinstance(params, dict) else params.to_wire()
        try:
            self._send(messages.encode(messages.request(request_id, method, payload)))
            with anyio.fail_after(timeout):
                await pending.answered.wait()
        except TimeoutError:
            raise RequestFailed(f"The client did not answer `{method}` within {timeout:g} seconds.") from None
        finally:
            del self._pending[request_id]
        response = pending.response
        if response is None:
            raise RequestFailed(f"The client disconnected before answering `{method}`.")
        if response.is_error:
            error = response.error if isinstance(response.error, dict) else {}
            code = error.get("code")
            raise ClientRequestError(
                method,
                client_code=code if isinstance(code, int) else None,
                client_message=str(error.get("message", "")),
                data=error.get("data"),
            )
        return response.result

    def cancel_request(self, request_id: RequestId) -> bool:
        """Cancel the in-flight client request(s) with this id; they will not be answered."""
        scopes = self._in_flight.get(request_id, [])
        for scope in scopes:
            scope.cancel()
        return bool(scopes)

    # -- reading ---------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while True:
            if self._started_requests:
                # Let the requests just started run their first step (which often sends the work
                # on: a tool call reaches its MCP server) before this task reads and waits again.
                self._started_requests = False
                await anyio.lowlevel.checkpoint()
            await self._outbound.wait_below_hard_limit()
            try:
                text = await self._stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
            except OversizedMessageError:
                self._send(_error(None, codes.INVALID_REQUEST, "Invalid request: message too large"))
                continue
            except UndecodableMessageError:
                self._send(_error(None, codes.PARSE_ERROR, "Parse error: message is not valid UTF-8"))
                continue
            await self._handle_text(text)

    async def _handle_text(self, text: str) -> None:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            self._send(_error(None, codes.PARSE_ERROR, "Parse error"))
            return
        if not isinstance(value, list):
            await self._handle_value(value, self._send)
        elif not value:
            self._send(_error(None, codes.INVALID_REQUEST, "Invalid request: empty batch"))
        else:
            batch = _BatchReply(self._send, len(value))
            for item in value:
                await self._handle_value(item, batch.add)

    async def _handle_value(self, value: Any, reply: Reply) -> None:
        message = messages.classify(value)
        if isinstance(message, Request):
            await self._handle_request(message, reply)
            return
        if isinstance(message, Invalid):
            reply(_error(message.id, message.code, message.message))
            return
        if isinstance(message, Response):
            self._route_response(message)
        elif isinstance(message, Notification):
            logger.debug("client notification %r", message.method)
            if message.method == "initialized" and self.session is not None:
                # The client has our `initialize` reply: build the core now, off the handshake path.
                self._services.warm_up()
        reply(None)

    async def _handle_request(self, request: Request, reply: Reply) -> None:
        if self._outbound.is_full:
            reply(_error_from(request, Overloaded()))
            return
        is_initialize = request.method == "initialize"
        if is_initialize and self._initialize_claimed:
            reply(_error(request.id, codes.NOT_INITIALIZED, "Already initialized"))
            return
        if not is_initialize and self.session is None:
            reply(_error(request.id, codes.NOT_INITIALIZED, "Not initialized"))
            return
        try:
            spec = self._methods.get(request.method)
        except Exception as exc:
            reply(_error_from(request, exc))
            return
        if spec is None:
            reply(_error(request.id, codes.METHOD_NOT_FOUND, "Method not found"))
        elif is_initialize:
            self._initialize_claimed = True
            await self._run_request(request, spec, reply, self._track(request.id))
            # A failed initialize (bad params) may be retried.
            self._initialize_claimed = self.session is not None
        elif spec.immediate and self._services.built:
            self._answer_now(request, spec, reply)
        else:
            assert self._task_group is not None
            # Tracked before the task runs, so input that ends right after it still waits for it.
            self._task_group.start_soon(self._run_request, request, spec, reply, self._track(request.id))
            self._started_requests = True

    def _answer_now(self, request: Request, spec: MethodSpec[HostT], reply: Reply) -> None:
        """Run an immediate handler on the reader: no task, and the reply goes out in this step."""
        context = RequestContext(self, self._services, request.id)
        try:
            answer = _success(request, spec.call_now(context, request.params))
        except Exception as exc:
            reply(_error_from(request, exc))
        else:
            reply(answer)
            _run_after_reply(context)

    async def _run_request(
        self, request: Request, spec: MethodSpec[HostT], reply: Reply, scope: anyio.CancelScope
    ) -> None:
        context = RequestContext(self, self._services, request.id)
        with scope:
            succeeded = False
            try:
                if spec.immediate:
                    await self._services.wait_built()  # immediate handlers answer only once it is built
                answer = _success(request, await spec.call(context, request.params))
                succeeded = True
            except Exception as exc:
                answer = _error_from(request, exc)
            finally:
                self._untrack(request.id, scope)
        reply(None if scope.cancelled_caught else answer)
        if succeeded and not scope.cancelled_caught:
            _run_after_reply(context)

    def _route_response(self, response: Response) -> None:
        pending = self._pending.get(response.id) if response.id is not None else None
        if pending is None or pending.answered.is_set():
            logger.warning("dropped a response whose id matches no pending request: %r", response.id)
            return
        pending.response = response
        pending.answered.set()

    # -- writing and lifecycle -------------------------------------------------------------------

    def _send(self, text: str | None) -> None:
        """Send a message that must go out (responses, requests); None sends nothing."""
        if text is not None and not self._send_now(text):
            self._outbound.put(text)

    def _send_now(self, text: str) -> bool:
        """Write `text` in this step when nothing waits before it and the transport can."""
        return self._outbound.is_empty and self._stream.try_send(text)

    async def _write_loop(self, connection_scope: anyio.CancelScope) -> None:
        try:
            while True:
                await self._stream.send(await self._outbound.get())
        except anyio.EndOfStream:
            return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            logger.info("client went away; cancelling its requests")
            connection_scope.cancel()

    async def _finish_in_flight(self) -> None:
        with anyio.move_on_after(self._drain_timeout):
            await self._idle.wait()
        for scopes in self._in_flight.values():
            for scope in scopes:
                scope.cancel()

    def _track(self, request_id: RequestId) -> anyio.CancelScope:
        """A new in-flight request's cancel scope (enter it in the task that runs the request)."""
        scope = anyio.CancelScope()
        self._in_flight.setdefault(request_id, []).append(scope)
        self._in_flight_count += 1
        if self._in_flight_count == 1:
            self._idle = anyio.Event()
        return scope

    def _untrack(self, request_id: RequestId, scope: anyio.CancelScope) -> None:
        scopes = self._in_flight[request_id]
        scopes.remove(scope)
        if not scopes:
            del self._in_flight[request_id]
        self._in_flight_count -= 1
        if self._in_flight_count == 0:
            self._idle.set()

    def _abandon_pending_requests(self) -> None:
        for pending in self._pending.values():
            pending.answered.set()


class _BatchReply:
    """Collects the answers to one batch and sends them as one array once every member has replied."""

    def __init__(self, send: Reply, size: int) -> None:
        self._send = send
        self._waiting = size
        self._answers: list[str] = []

    def add(self, answer: str | None) -> None:
        if answer is not None:
            self._answers.append(answer)
        self._waiting -= 1
        if self._waiting == 0 and self._answers:
            self._send("[" + ",".join(self._answers) + "]")


def _error(request_id: RequestId | None, code: int, message: str) -> str:
    return messages.encode(messages.failure(request_id, code, message))


def _success(request: Request, result: Any) -> str:
    return messages.encode(messages.success(request.id, result))


def _run_after_reply(context: RequestContext[Any]) -> None:
    for action in context.after_reply:
        action()


def _error_from(request: Request, exc: BaseException) -> str:
    code, message, data = wire_error(exc, method=request.method)
    try:
        return messages.encode(messages.failure(request.id, code, message, data))
    except (TypeError, ValueError):
        logger.error("error data for %s is not JSON; sent without it", request.method)
        return _error(request.id, code, message)
