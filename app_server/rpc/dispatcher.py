"""The inbound method table: method name -> (params reader, handler), and calling one.

A handler is `async def` when it waits for anything (I/O, a server, a lock); a plain `def`
handler answers from memory and is *immediate*: the connection runs it as soon as the request
is read, without a task of its own (see `Connection`), which is what keeps cheap requests cheap.

The table knows nothing of what the methods mean: the layer above names the handlers, says how
each method's params are read, and what its handlers share (`RequestContext.services`).

Why not jsonrpcserver (read in the venv, 5.0.9): its request schema requires `"jsonrpc":"2.0"` and
forbids extra members (we must accept messages without `jsonrpc`), while it accepts float, null and
fractional ids that we must reject; it validates params by binding Python signatures (no pydantic
models, no readable field paths); its async dispatcher gathers on asyncio directly and answers a
batch only as a whole, with no notion of server->client requests, response routing, cancellation
or backpressure; and importing it costs ~0.17 s, more than the whole start->initialize budget
(0.15 s). The parts we would keep (a name -> function table) are a few lines, so they live here.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeAlias, TypeVar, cast

from app_server.errors import InvalidParams
from app_server.rpc.errors import describe_invalid_params

if TYPE_CHECKING:
    from app_server.rpc.messages import RequestId
    from app_server.rpc.session import ClientSession

ServicesT = TypeVar("ServicesT")
"""What the handlers of one table share (`ctx.services`)."""


class ParamsModel(Protocol):
    """What validates a method's params: every `WireModel` (pydantic), and the hand-written
    handshake models that keep pydantic off the `initialize` path."""

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        """Raises ValueError (pydantic's ValidationError is one) for input that does not fit."""
        ...


class WireObject(Protocol):
    def to_wire(self) -> dict[str, Any]: ...


class Peer(Protocol):
    """The client at the other end of a request's connection, as the request's handler talks to it."""

    def open_session(self, session: ClientSession) -> None:
        """Mark the connection initialized (the `initialize` handler does)."""
        ...

    def notify(self, method: str, params: WireObject | dict[str, Any]) -> bool:
        """Send a notification to this client; False when it was not sent."""
        ...

    async def request(
        self,
        method: str,
        params: WireObject | dict[str, Any] | None,
        *,
        timeout: float,  # noqa: ASYNC109 - the peer names the method when it expires
        request_id: RequestId | None = None,
    ) -> Any:
        """Ask the client and return its result; raises what `Connection.request` raises."""
        ...


@dataclass(frozen=True, slots=True)
class RequestContext(Generic[ServicesT]):
    """What a handler gets besides its params: who asked, and the shared services."""

    connection: Peer
    """For server->client requests (`await connection.request(...)`) and notifications."""
    services: ServicesT
    request_id: RequestId
    after_reply: list[Callable[[], None]] = field(default_factory=list)
    """Run once the successful reply is queued: announcements that must follow the response."""


Handler: TypeAlias = (
    Callable[[RequestContext[ServicesT], Any], Awaitable[object]]
    | Callable[[RequestContext[ServicesT], Any], object]
)
"""`[async] def handler(ctx, params) -> result`: params is what the method's reader made of them
(None for no params); the result is a WireModel (anything with `to_wire()`) or a JSON-ready value."""

ParamsReader: TypeAlias = Callable[[dict[str, Any]], Any]
"""Reads a method's params object (`{}` when absent or null) into what its handler takes; raises
ValueError (pydantic's ValidationError is one) for params that do not fit."""


@dataclass(frozen=True, slots=True)
class MethodSpec(Generic[ServicesT]):
    method: str
    handler: Handler[ServicesT]
    read_params: ParamsReader
    immediate: bool
    """The handler is a plain function: it answers without waiting (`call_now`)."""

    @classmethod
    def of(cls, method: str, handler: Handler[ServicesT], read_params: ParamsReader | None) -> Self:
        """`read_params` None: the method takes no params (absent, null or `{}`)."""
        if read_params is None:
            read_params = _no_params(method)
        return cls(method, handler, read_params, immediate=not inspect.iscoroutinefunction(handler))

    def parse_params(self, raw: Any) -> Any:
        """The validated params; raises InvalidParams (-32602) naming the offending fields."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise InvalidParams("Invalid params: params must be an object")
        try:
            return self.read_params(raw)
        except ValueError as exc:
            raise InvalidParams(describe_invalid_params(exc)) from None

    async def call(self, ctx: RequestContext[ServicesT], raw_params: Any) -> Any:
        """Validate, run the handler, and return its result in wire form."""
        if self.immediate:
            return self.call_now(ctx, raw_params)
        result = await cast(Awaitable[object], self.handler(ctx, self.parse_params(raw_params)))
        return _wire_form(result)

    def call_now(self, ctx: RequestContext[ServicesT], raw_params: Any) -> Any:
        """`call` for an immediate handler."""
        return _wire_form(self.handler(ctx, self.parse_params(raw_params)))


def _wire_form(result: object) -> Any:
    to_wire = getattr(result, "to_wire", None)
    return to_wire() if callable(to_wire) else result


def _no_params(method: str) -> ParamsReader:
    def read(raw: dict[str, Any]) -> None:
        if raw:
            raise ValueError(f"`{method}` takes no params")

    return read


class MethodTable(Generic[ServicesT]):
    """Handlers by method name.

    `handlers` names each method's handler as `"package.module:function"`: the module (and the
    protocol models and services it pulls in) is imported on the method's first call, keeping
    them off the path to the `initialize` reply. `read_params(method)` gives the reader of that
    method's params, None when it takes none (absent, null or `{}`). `add` puts a handler in directly.
    """

    def __init__(
        self, handlers: Mapping[str, str], *, read_params: Callable[[str], ParamsReader | None]
    ) -> None:
        self._references = handlers
        self._read_params = read_params
        self._specs: dict[str, MethodSpec[ServicesT]] = {}

    def add(self, method: str, handler: Handler[ServicesT], *, params: type[ParamsModel] | None) -> None:
        """Answer `method` with `handler`, its params read by `params` (None: it takes none)."""
        read_params = None if params is None else params.model_validate
        self._specs[method] = MethodSpec.of(method, handler, read_params)

    def get(self, method: str) -> MethodSpec[ServicesT] | None:
        """The spec for `method`, importing its handler on first use; None if unknown.

        Raises ImportError or AttributeError when the reference names no handler.
        """
        spec = self._specs.get(method)
        if spec is None and method in self._references:
            module, _, name = self._references[method].partition(":")
            handler = getattr(importlib.import_module(module), name)
            spec = self._specs[method] = MethodSpec.of(method, handler, self._read_params(method))
        return spec
