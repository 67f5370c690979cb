"""The domain exception tree; `rpc/` maps it to JSON-RPC errors in one place.

    AppServerError            base; never raised itself
    ├── InvalidParams         the request's params are wrong or name something that does not exist (-32602)
    ├── ConfigWriteError      a config write refused (stale version, invalid result, other file) (-32600)
    ├── Overloaded            the outbound queue is full (-32001)
    ├── RequestFailed         a valid request whose operation failed; the message says what to do (-32000)
    │   ├── McpServerError    an MCP server failed or answered with an error (carries its code and data)
    │   ├── ConfigError       config files could not be loaded or validated
    │   └── ClientRequestError  the client answered a server->client request with an error
    └── (anything else)       a bug: logged to stderr, answered -32603 with a generic message

The connection answers a request before `initialize` (or a second one) with -32002 itself: that
rule belongs to the JSON-RPC session, not to any service, so no exception carries it.

Messages of these exceptions go on the wire as they are, so they must never contain secrets,
tokens or exception text from third-party code.
"""

from __future__ import annotations

import json
from typing import Any

from protocol import errors as codes

MAX_QUOTED_CHARS = 200
"""How much of a client's input an error message may quote."""


def quoted(value: object) -> str:
    """Client input fit to quote in an error message: at most `MAX_QUOTED_CHARS` characters, with
    quotes, control characters and lone surrogates escaped (so the reply stays valid UTF-8 JSON)."""
    text = str(value)
    escaped = json.dumps(text[:MAX_QUOTED_CHARS], ensure_ascii=False)[1:-1]
    escaped = escaped.encode("utf-8", "backslashreplace").decode("utf-8")
    more = len(text) - MAX_QUOTED_CHARS
    return escaped + (f"... ({more} more characters)" if more > 0 else "")


class AppServerError(Exception):
    """Base of every error whose message is safe to show a client."""

    code: int = codes.REQUEST_FAILED

    def __init__(self, message: str, *, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class InvalidParams(AppServerError):
    code = codes.INVALID_PARAMS


class ConfigWriteError(AppServerError):
    """A `config/value/write` or `config/batchWrite` refused; nothing was written.

    As the reference does: -32600 with `data.config_write_error_code` naming why, so a front-end can
    tell a stale read (re-read and retry) from an edit that does not validate.
    """

    code = codes.INVALID_REQUEST

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, data={"config_write_error_code": reason})
        self.reason = reason


class Overloaded(AppServerError):
    code = codes.SERVER_OVERLOADED

    def __init__(self) -> None:
        super().__init__("Server overloaded; retry later.")


class RequestFailed(AppServerError):
    code = codes.REQUEST_FAILED


class McpServerError(RequestFailed):
    """An error answered by an MCP server, forwarded with its own code, message and data."""

    def __init__(self, message: str, *, code: int = codes.REQUEST_FAILED, data: Any = None) -> None:
        super().__init__(message, data=data)
        self.code = code


class ConfigError(RequestFailed):
    """Config could not be loaded; `problems` lists every problem found, each naming file:line:col and key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(problems))
        self.problems = problems


class ClientRequestError(RequestFailed):
    """The client answered one of our server->client requests with a JSON-RPC error."""

    def __init__(
        self, method: str, *, client_code: int | None, client_message: str, data: Any = None
    ) -> None:
        super().__init__(f"The client answered `{method}` with an error: {client_message}", data=data)
        self.client_code = client_code
        self.client_message = client_message
