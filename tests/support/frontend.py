"""What a front-end does with a daemon's MCP servers: wait for one to settle, log in as a person with a
browser would, call its tools with arguments built from their input schemas while answering the
server's questions, read its resources.

    settled = await wait_settled(daemon, "docs")            # its final startup status
    completed = await log_in(daemon, "docs")                # mcpServer/oauth/login + the browser
    response = await call_tool(daemon, "docs", "search", example_arguments(tool["inputSchema"]))

Used by the conformance suite's front-end stand-in (tests/conformance/client.py) and by the tests
of real third-party servers; every wait is bounded (the daemon's `max_wait`, `BROWSER_WAIT`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import httpx2

from tests.support.daemon import Daemon

STARTUP_STATUS = "mcpServer/startupStatus/updated"
LOGIN_COMPLETED = "mcpServer/oauthLogin/completed"
ELICITATION = "mcpServer/elicitation/request"
SETTLED = ("ready", "failed", "cancelled")
BROWSER_WAIT = 15.0
"""Bound on the browser's two requests."""

Answer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Answers one `mcpServer/elicitation/request` (its params) with the client's result."""


async def wait_settled(daemon: Daemon, name: str, thread_id: str | None = None) -> dict[str, Any]:
    """The params of the next startup notification that says server `name` (of that scope) is
    `ready`, `failed` or `cancelled`."""
    message = await daemon.next_message(
        lambda m: (
            isinstance(m, dict)
            and m.get("method") == STARTUP_STATUS
            and m["params"]["name"] == name
            and m["params"].get("threadId") == thread_id
            and m["params"]["status"] in SETTLED
        )
    )
    return dict(message["params"])


async def server_status(daemon: Daemon, name: str, thread_id: str | None = None) -> dict[str, Any]:
    """Server `name`'s `mcpServerStatus/list` entry, with its tools and resources; LookupError when
    no such server is configured."""
    params: dict[str, Any] = {"serverName": name, "detail": "full"}
    if thread_id is not None:
        params["threadId"] = thread_id
    result = await daemon.call("mcpServerStatus/list", params)
    for entry in result["data"]:
        if entry["name"] == name:
            return dict(entry)
    raise LookupError(f"no MCP server named {name!r} is configured")


async def follow_authorization(authorization_url: str) -> httpx2.Response:
    """Act as the browser: open the authorization URL (the authorization server approves at once, as
    test servers do) and follow its redirect to the daemon's loopback callback; the callback's page."""
    with anyio.fail_after(BROWSER_WAIT):
        async with httpx2.AsyncClient() as browser:
            approval = await browser.get(authorization_url)
            if not approval.is_redirect:
                raise LoginRefused(f"authorization answered {approval.status_code}: {approval.text[:200]}")
            return await browser.get(approval.headers["location"])


class LoginRefused(Exception):
    """The daemon or the authorization server refused a login; the message says how."""


async def log_in(daemon: Daemon, name: str) -> dict[str, Any]:
    """`mcpServer/oauth/login` for `name`, the browser's part, then the completion notification's params."""
    started = await daemon.request("mcpServer/oauth/login", {"name": name})
    if "error" in started:
        raise LoginRefused(f"mcpServer/oauth/login: {started['error']['message']}")
    await follow_authorization(started["result"]["authorizationUrl"])
    completed = await daemon.next_notification(LOGIN_COMPLETED)
    return dict(completed["params"])


async def accept_with_examples(params: dict[str, Any]) -> dict[str, Any]:
    """The user accepts a form with example values for the required fields that have no default (the
    daemon fills in the defaults, SEP-1034), and opens a URL-mode link as asked."""
    if params.get("mode") == "url":
        return {"action": "accept", "content": None}
    return {"action": "accept", "content": example_arguments(params["requestedSchema"], with_defaults=False)}


async def call_tool(
    daemon: Daemon,
    server: str,
    tool: str,
    arguments: Mapping[str, Any],
    *,
    answer: Answer = accept_with_examples,
    thread_id: str | None = None,
) -> dict[str, Any]:
    """`mcpServer/tool/call`, answering every elicitation that arrives meanwhile with `answer`; the
    whole response message (result or error)."""
    params: dict[str, Any] = {"server": server, "tool": tool, "arguments": dict(arguments)}
    if thread_id is not None:
        params["threadId"] = thread_id
    request_id = daemon.new_id()
    await daemon.send({"jsonrpc": "2.0", "id": request_id, "method": "mcpServer/tool/call", "params": params})
    while True:
        message = await daemon.next_message(
            lambda m: (
                isinstance(m, dict)
                and ((m.get("id") == request_id and "method" not in m) or m.get("method") == ELICITATION)
            )
        )
        if message.get("method") != ELICITATION:
            return dict(message)
        await daemon.respond(message["id"], await answer(message["params"]))


def example_arguments(
    schema: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, *, with_defaults: bool = True
) -> dict[str, Any]:
    """Arguments for an object schema: each required property (and, `with_defaults`, each property
    with a default) gets `overrides[name]`, else its default, else an example of its type."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    arguments: dict[str, Any] = {}
    for name, prop in properties.items():
        if overrides and name in overrides:
            arguments[name] = overrides[name]
        elif "default" in prop:
            if with_defaults:
                arguments[name] = prop["default"]
        elif name in required:
            arguments[name] = example_value(prop)
    return arguments


def example_value(schema: Mapping[str, Any]) -> Any:
    """A value that `schema` accepts: its default, its first enum or const, else one of its type."""
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_value(schema[key][0])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return example_arguments(schema)
    if kind == "array":
        return [example_value(schema.get("items") or {})] * int(schema.get("minItems", 0))
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _example_string(schema)


def _example_string(schema: Mapping[str, Any]) -> str:
    examples = {"uri": "https://example.com/", "email": "someone@example.com", "date": "2026-01-01"}
    text = examples.get(schema.get("format", ""), "example")
    return text.ljust(int(schema.get("minLength", 0)), "x")
