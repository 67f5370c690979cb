"""Questions a server asks (`elicitation/create`) while calls are in flight, and the clock they stop.

A caller that can ask a user passes an `Elicitor` with its call, and a question goes to exactly
the call it belongs to where MCP says which: in the 2026-07-28 era a question is part of the answer
to one call (an input request, `input_rounds`), answered from that call's own task; over streamable
HTTP a handshake-era server sends a request's related questions on that request's own response
stream, and the SDK runs the callback in the context of the task that sent it. `_CALLING` names
that call. Otherwise (stdio, or HTTP's standalone stream, in the handshake era) it goes to the most
recent call still in flight that can ask, the one most likely waiting on it. With no call to ask
for (or the question's own call cannot ask), the server is told `decline`. When a call ends, a
question still open on its behalf is withdrawn and answered `cancel`. A question is asked of the
client whose request made the call (`relayed_to`), in a turn and in a direct call alike, and an
accepted form answer gets the defaults its schema gives for the fields the user left out
(SEP-1034, `with_defaults`).

A call's `tool_timeout_sec` measures the server, not how long a person takes to answer: its
clock (`CallBudget`) stops while a question is open on the call's behalf.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from mcp.client.session import ClientRequestContext
from pydantic import ValidationError

from app_server.errors import AppServerError
from app_server.mcp.catalog import WireDict
from app_server.mcp.server_log import ServerLog
from protocol.server_requests import McpServerElicitationRequestParams

Elicitor = Callable[[WireDict], Awaitable[Any]]
"""Asks a user the server's elicitation (its params as wire JSON); returns the `{action, content}` answer."""
AskClient = Callable[[McpServerElicitationRequestParams], Awaitable[Any]]
"""Asks a client (a server->client request) and returns its answer as the client sent it."""


def relayed_to(ask: AskClient, server: str, *, thread_id: str | None, turn_id: str | None = None) -> Elicitor:
    """`server`'s questions during one call, asked through `ask` as `mcpServer/elicitation/request`
    (tagged with the call's thread and turn, when it has them)."""

    async def elicit(question: WireDict) -> Any:
        params = McpServerElicitationRequestParams.model_validate(
            {**question, "thread_id": thread_id, "turn_id": turn_id, "server_name": server}
        )
        return await ask(params)

    return elicit


def with_defaults(params: types.ElicitRequestParams, result: types.ElicitResult) -> types.ElicitResult:
    """An accepted form answer completed with the `default` of each requested field it leaves out."""
    if result.action != "accept" or not isinstance(params, types.ElicitRequestFormParams):
        return result
    properties = params.requested_schema.get("properties")
    if not isinstance(properties, dict):
        return result
    content = dict(result.content or {})
    for name, schema in properties.items():
        if name not in content and isinstance(schema, dict) and "default" in schema:
            content[name] = schema["default"]
    return result.model_copy(update={"content": content})


class CallBudget:
    """One call's time limit, spent only while no question is open on its behalf; bound the
    call with `scope`."""

    def __init__(self, seconds: float) -> None:
        self.scope = anyio.CancelScope(deadline=anyio.current_time() + seconds)
        self._left = seconds
        self._pauses = 0

    def pause(self) -> None:
        if self._pauses == 0:
            self._left = self.scope.deadline - anyio.current_time()
            self.scope.deadline = math.inf
        self._pauses += 1

    def resume(self) -> None:
        self._pauses -= 1
        if self._pauses == 0:
            self.scope.deadline = anyio.current_time() + self._left


@dataclass(eq=False)
class _Route:
    """One in-flight call that can ask a user, and the questions open on its behalf."""

    elicit: Elicitor
    budget: CallBudget
    open_questions: set[anyio.CancelScope] = field(default_factory=set)


_CALLING: ContextVar[tuple[ElicitationRouter, _Route | None] | None] = ContextVar("mcp_calling", default=None)
"""The connection and call (None: one that cannot ask) whose request the current task sent."""


class ElicitationRouter:
    """One connection's in-flight calls that can ask, and its answer to the server's questions."""

    def __init__(self, log: ServerLog) -> None:
        self._log = log
        self._routes: list[_Route] = []

    @contextlib.contextmanager
    def routed_to(self, elicit: Elicitor | None, budget: CallBudget | None) -> Iterator[None]:
        """While the block runs, the server's questions go to `elicit` (if given) and stop `budget`."""
        route = _Route(elicit, budget) if elicit is not None and budget is not None else None
        calling = _CALLING.set((self, route))
        if route is not None:
            self._routes.append(route)
        try:
            yield
        finally:
            _CALLING.reset(calling)
            if route is not None:
                self._routes.remove(route)
                for question in route.open_questions:
                    question.cancel()

    def _route_for_question(self) -> _Route | None:
        """The call a question arriving now belongs to (module docstring), if it can ask."""
        calling = _CALLING.get()
        if calling is not None and calling[0] is self:
            route = calling[1]
            return route if route in self._routes else None
        return self._routes[-1] if self._routes else None

    async def answer(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        """The SDK's elicitation callback: relay to the call the question belongs to (module docstring)."""
        route = self._route_for_question()
        if route is None:
            return types.ElicitResult(action="decline")
        question = params.model_dump(by_alias=True, exclude_none=True, mode="json")
        with anyio.CancelScope() as withdrawn:
            route.open_questions.add(withdrawn)
            route.budget.pause()
            try:
                answer = await route.elicit(question)
            except AppServerError:
                return types.ElicitResult(action="cancel")
            finally:
                route.budget.resume()
                route.open_questions.discard(withdrawn)
        if withdrawn.cancelled_caught:
            return types.ElicitResult(action="cancel")
        fields = answer if isinstance(answer, dict) else {}
        try:
            result = types.ElicitResult.model_validate(
                {"action": fields.get("action"), "content": fields.get("content")}
            )
        except ValidationError:
            self._log.append("[app-server] the client answered an elicitation with an invalid result")
            return types.ElicitResult(action="decline")
        return with_defaults(params, result)
