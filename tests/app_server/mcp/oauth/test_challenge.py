"""Parsing a server's `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1)."""

from __future__ import annotations

import httpx2

from app_server.mcp.oauth.challenge import Challenge, parse_challenge, union_scopes


def _answer(status: int, *headers: str) -> httpx2.Response:
    return httpx2.Response(status, headers=[("WWW-Authenticate", header) for header in headers])


def test_a_401_names_its_resource_metadata_and_scope_quoted_or_not() -> None:
    challenge = parse_challenge(
        _answer(401, 'Bearer resource_metadata="https://h/meta/x, y", scope=read realm="mcp"')
    )
    assert challenge == Challenge(status=401, scope="read", resource_metadata="https://h/meta/x, y")
    assert not challenge.insufficient_scope


def test_a_403_insufficient_scope_is_a_step_up_with_the_required_scopes() -> None:
    challenge = parse_challenge(
        _answer(
            403, 'Bearer error="insufficient_scope", scope="read write", error_description="say \\"hi\\""'
        )
    )
    assert challenge is not None and challenge.insufficient_scope
    assert challenge.scopes == ("read", "write")


def test_parameters_come_from_every_challenge_header_the_first_one_winning() -> None:
    challenge = parse_challenge(_answer(401, 'Basic realm="x"', 'Bearer scope="a", resource_metadata="m"'))
    assert challenge is not None
    assert (challenge.scope, challenge.resource_metadata) == ("a", "m")


def test_other_answers_carry_no_challenge_and_a_bare_401_an_empty_one() -> None:
    assert parse_challenge(_answer(200, 'Bearer scope="a"')) is None
    assert parse_challenge(httpx2.Response(401)) == Challenge(status=401)
    assert not Challenge(status=401, error="insufficient_scope").insufficient_scope


def test_union_keeps_first_seen_order_once() -> None:
    assert union_scopes(("read", "x"), ("write", "read"), ()) == ("read", "x", "write")
