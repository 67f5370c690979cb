"""A `tools/call` on a 2026-07-28 connection: the rounds until the server stops asking for input.

In that era a server never sends requests of its own: a call that needs an answer (an
elicitation, the roots) comes back as an `InputRequiredResult`, and the call is sent again with
the answers and the server's opaque `requestState`. The questions are answered through the
session's callbacks (the SDK's `dispatch_input_request`, as in the handshake era) from the
caller's own task, so the elicitation router knows exactly which call asked
(`ElicitationRouter.routed_to`). The SDK's driver runs the rounds; the result is dumped as the
raw path's (`direct_requests`) so `tool_results` checks both alike.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.client import Client
from mcp.client._input_required import DEFAULT_INPUT_REQUIRED_MAX_ROUNDS, run_input_required_driver
from mcp.client.session import ClientRequestContext
from mcp.shared.dispatcher import ProgressFnT
from pydantic import TypeAdapter

_ROUND: TypeAdapter[types.CallToolResult | types.InputRequiredResult] = TypeAdapter(
    types.CallToolResult | types.InputRequiredResult
)


async def call_tool_in_rounds(
    client: Client, params: dict[str, Any], progress: ProgressFnT | None
) -> dict[str, Any]:
    """The final result of `tools/call` with `params` (wire form), every input round answered.

    Raises the SDK's `MCPError` for an error answer (or a refused input request) and
    `InputRequiredRoundsExceededError` past the SDK's round limit.
    """
    session = client.session

    async def send(
        responses: types.InputResponses | None, state: str | None
    ) -> types.CallToolResult | types.InputRequiredResult:
        round_params = types.CallToolRequestParams.model_validate(params).model_copy(
            update={"input_responses": responses, "request_state": state}
        )
        return await session.send_request(
            types.CallToolRequest(params=round_params), _ROUND, progress_callback=progress
        )

    async def answer(key: str, request: types.InputRequest) -> types.InputResponse | types.ErrorData:
        meta = request.params.meta if request.params is not None else None
        return await session.dispatch_input_request(
            ClientRequestContext(session=session, request_id=key, meta=meta), request
        )

    first = await send(None, None)
    result: types.CallToolResult = (
        first
        if isinstance(first, types.CallToolResult)
        else await run_input_required_driver(
            first, dispatch=answer, retry=send, max_rounds=DEFAULT_INPUT_REQUIRED_MAX_ROUNDS
        )
    )
    return result.model_dump(by_alias=True, exclude_none=True, mode="json")
