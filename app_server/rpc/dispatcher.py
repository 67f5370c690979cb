"""The inbound method table: method name -> (params model, handler), and calling one.

A handler is `async def` when it waits for anything (I/O, a server, a lock); a plain `def`
handler answers from memory and is *immediate*: the connection runs it as soon as the request
is read, without a task of its own (see `Connection`), which is what keeps cheap requests cheap.

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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, cast

from app_server.errors import InvalidParams
from app_server.rpc.errors import describe_invalid_params

if TYPE_CHECKING:
    from app_server.rpc.connection import Connection
    from app_server.rpc.messages import RequestId
    from app_server.server import Services


class ParamsModel(Protocol):
    """What validates a method's params: every `WireModel` (pydantic), and the hand-written
    handshake models that keep pydantic off the `initialize` path."""

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        """Raises ValueError (pydantic's ValidationError is one) for input that does not fit."""
        ...


class WireObject(Protocol):
    def to_wire(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a handler gets besides its params: who asked, and the shared services."""

    connection: Connection
    """For server->client requests (`await connection.request(...)`) and notifications."""
    services: Services
    request_id: RequestId
    after_reply: list[Callable[[], None]] = field(default_factory=list)
    """Run once the successful reply is queued: announcements that must follow the response."""


Handler = Callable[[RequestContext, Any], Awaitable[object]] | Callable[[RequestContext, Any], object]
"""`[async] def handler(ctx, params) -> result`: params is the validated model (None for no
params); the result is a WireModel (anything with `to_wire()`) or a JSON-ready value."""

HandlerT = TypeVar("HandlerT", bound=Handler)


@dataclass(frozen=True, slots=True)
class MethodSpec:
    method: str
    params: type[ParamsModel] | None
    """None: the method takes no params (absent, null or `{}`), unless `parser` reads them."""
    handler: Handler
    parser: Callable[[Any], Any] | None = None
    """Reads the params instead of `params` (the protocol registry's models and tagged unions)."""
    immediate: bool = False
    """The handler is a plain function: it answers without waiting (`call_now`)."""

    @classmethod
    def of(
        cls,
        method: str,
        handler: Handler,
        params: type[ParamsModel] | None = None,
        parser: Callable[[Any], Any] | None = None,
    ) -> MethodSpec:
        immediate = not inspect.iscoroutinefunction(handler)
        return cls(method, params, handler, parser, immediate)

    def parse_params(self, raw: Any) -> Any:
        """The validated params; raises InvalidParams (-32602) naming the offending fields."""
        if self.parser is not None:
            if raw is not None and not isinstance(raw, dict):
                raise InvalidParams("Invalid params: params must be an object")
            try:
                return self.parser(raw)
            except ValueError as exc:
                raise InvalidParams(describe_invalid_params(exc)) from None
        if self.params is None:
            if raw is None or raw == {}:
                return None
            raise InvalidParams(f"Invalid params: `{self.method}` takes no params")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise InvalidParams("Invalid params: params must be an object")
        try:
            return self.params.model_validate(raw)
        except ValueError as exc:
            raise InvalidParams(describe_invalid_params(exc)) from None

    async def call(self, ctx: RequestContext, raw_params: Any) -> Any:
        """Validate, run the handler, and return its result in wire form."""
        if self.immediate:
            return self.call_now(ctx, raw_params)
        result = await cast(Awaitable[object], self.handler(ctx, self.parse_params(raw_params)))
        return _wire_form(result)

    def call_now(self, ctx: RequestContext, raw_params: Any) -> Any:
        """`call` for an immediate handler."""
        return _wire_form(self.handler(ctx, self.parse_params(raw_params)))


def _wire_form(result: object) -> Any:
    to_wire = getattr(result, "to_wire", None)
    return to_wire() if callable(to_wire) else result


class MethodTable:
    """Handlers registered per method name.

    Resources plug in with `add`/`route` from a `register(table)` function in their handler module.
    `add_lazy` names a module's methods without importing it: the module (and the protocol models
    and services it pulls in) is imported on the first call, keeping them off the path to the
    `initialize` reply.
    """

    def __init__(self) -> None:
        self._specs: dict[str, MethodSpec] = {}
        self._lazy: dict[str, str] = {}

    def add(self, method: str, handler: Handler, *, params: type[ParamsModel] | None) -> None:
        self._lazy.pop(method, None)
        self._specs[method] = MethodSpec.of(method, handler, params)

    def add_registered(self, method: str, handler: Handler) -> None:
        """Add `method` with its params read as `protocol.registry` declares them."""
        from protocol.registry import REQUESTS

        spec = REQUESTS[method]
        parser = spec.parse_params if spec.params_ref is not None else None
        self._lazy.pop(method, None)
        self._specs[method] = MethodSpec.of(method, handler, parser=parser)

    def route(self, method: str, *, params: type[ParamsModel] | None) -> Callable[[HandlerT], HandlerT]:
        """Decorator form of `add`."""

        def decorate(handler: HandlerT) -> HandlerT:
            self.add(method, handler, params=params)
            return handler

        return decorate

    def add_lazy(self, methods: Iterable[str], module: str) -> None:
        """`module` defines `register(table: MethodTable) -> None` adding at least `methods`."""
        for method in methods:
            self._lazy[method] = module

    def get(self, method: str) -> MethodSpec | None:
        """The spec for `method`, importing its module first if it was added lazily; None if unknown."""
        module = self._lazy.get(method)
        if module is not None:
            importlib.import_module(module).register(self)
            self._lazy = {name: mod for name, mod in self._lazy.items() if mod != module}
        return self._specs.get(method)
