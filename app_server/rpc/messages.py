"""JSON-RPC envelopes: classifying one decoded JSON value, and building the messages we send."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from protocol import errors as codes
from protocol.envelope import EMITTED_AT_MS

RequestId = str | int
"""What a request id may be on our wire: a string or an integer (never a float, bool, object or null)."""

Message = dict[str, Any]

_ABSENT: Any = object()


@dataclass(frozen=True, slots=True)
class Request:
    id: RequestId
    method: str
    params: Any
    """The raw `params` member; None when absent or null."""


@dataclass(frozen=True, slots=True)
class Notification:
    method: str
    params: Any


@dataclass(frozen=True, slots=True)
class Response:
    """A client's answer to one of our server->client requests."""

    id: RequestId | None
    """None when the client answered with an id we cannot route (e.g. null after a parse error)."""
    result: Any
    error: Any
    is_error: bool


@dataclass(frozen=True, slots=True)
class Invalid:
    """Not a valid message; answer it with `error` under `id` (null when no usable id was given)."""

    id: RequestId | None
    code: int
    message: str


Inbound = Request | Notification | Response | Invalid


def is_request_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def classify(value: Any) -> Inbound:
    """Which kind of message one decoded JSON value is (batches are split by the caller).

    `"jsonrpc"` is ignored (absent or any value), as Codex ignores it. Params are checked for shape
    by the dispatcher, so that a params array or string is answered -32602, not -32600.
    """
    if not isinstance(value, dict):
        return Invalid(None, codes.INVALID_REQUEST, "Invalid request: expected a JSON object")
    raw_id = value.get("id", _ABSENT)
    usable_id = raw_id if is_request_id(raw_id) else None
    if "method" not in value:
        return _classify_response(value, raw_id, usable_id)
    method = value["method"]
    if not isinstance(method, str):
        return Invalid(usable_id, codes.INVALID_REQUEST, 'Invalid request: "method" must be a string')
    if raw_id is _ABSENT:
        return Notification(method, value.get("params"))
    if usable_id is None:
        return Invalid(None, codes.INVALID_REQUEST, 'Invalid request: "id" must be a string or an integer')
    return Request(usable_id, method, value.get("params"))


def _classify_response(value: dict[str, Any], raw_id: Any, usable_id: RequestId | None) -> Inbound:
    has_result, has_error = "result" in value, "error" in value
    if has_result == has_error or raw_id is _ABSENT:
        return Invalid(usable_id, codes.INVALID_REQUEST, 'Invalid request: missing "method"')
    return Response(usable_id, value.get("result"), value.get("error"), has_error)


def success(request_id: RequestId, result: Any) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def failure(request_id: RequestId | None, code: int, message: str, data: Any = None) -> Message:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def request(request_id: RequestId, method: str, params: Any) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def notification(method: str, params: Any, emitted_at_ms: int) -> Message:
    """A notification; `emittedAtMs` (unix ms) stands beside `method` and `params`, as in Codex."""
    return {"jsonrpc": "2.0", "method": method, "params": params, EMITTED_AT_MS: emitted_at_ms}


def encode(message: Message | list[Message]) -> str:
    """One line of JSON text, UTF-8 encodable even when a client sent us lone surrogates to echo back.

    Raises TypeError/ValueError for values JSON cannot carry.
    """
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(message, separators=(",", ":"), allow_nan=False)
    return text
