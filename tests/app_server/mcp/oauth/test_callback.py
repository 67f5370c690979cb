"""The loopback callback listener: what it accepts, what it rejects, where it listens."""

from __future__ import annotations

import socket

import anyio
import httpx2
import pytest

from app_server.errors import InvalidParams, RequestFailed
from app_server.mcp.oauth.callback import (
    SUCCESS_PAGE,
    CallbackEndpoint,
    callback_endpoint,
    open_callback_listener,
)

pytestmark = pytest.mark.anyio


async def test_only_the_expected_state_on_the_callback_path_completes_the_wait() -> None:
    async with (
        open_callback_listener(callback_endpoint(None, None)) as listener,
        httpx2.AsyncClient() as browser,
    ):
        listener.expect_state("good")
        uri = listener.redirect_uri
        answers = [
            await browser.get(uri, params={"code": "c", "state": "bad"}),
            await browser.get(uri, params={"code": "c"}),
            await browser.get(uri, params={"state": "good"}),
            await browser.get(uri.replace("/callback", "/other"), params={"code": "c", "state": "good"}),
            await browser.post(uri, params={"code": "c", "state": "good"}),
            await browser.get(uri, params={"code": "the-code", "state": "good", "iss": "http://as"}),
        ]
        with anyio.fail_after(5):
            result = await listener.wait()

    assert [answer.status_code for answer in answers] == [400, 400, 400, 404, 400, 200]
    assert answers[-1].text == SUCCESS_PAGE
    assert (result.code, result.state, result.iss) == ("the-code", "good", "http://as")


async def test_a_provider_error_ends_the_wait_and_is_reported_by_its_code_only() -> None:
    async with (
        open_callback_listener(callback_endpoint(None, None)) as listener,
        httpx2.AsyncClient() as browser,
    ):
        listener.expect_state("s")
        page = await browser.get(
            listener.redirect_uri,
            params={"error": "access_denied", "error_description": "<script>x</script>", "state": "s"},
        )
        with anyio.fail_after(5):
            result = await listener.wait()

    assert page.status_code == 400
    assert result.code is None
    assert result.describe_error() == "the authorization server answered `access_denied`"
    assert "script" not in page.text


async def test_the_listener_binds_loopback_only() -> None:
    async with open_callback_listener(callback_endpoint(None, None)) as listener:
        assert listener.redirect_uri.startswith("http://127.0.0.1:")


def test_endpoint_follows_the_callback_url_then_the_port_then_a_preference() -> None:
    assert callback_endpoint(5000, "http://localhost:7000/cb/here") == CallbackEndpoint(
        port=7000, path="/cb/here", redirect_uri="http://localhost:7000/cb/here"
    )
    assert callback_endpoint(5000, "https://tunnel.example/cb").port == 5000
    assert callback_endpoint(5000, None) == CallbackEndpoint(port=5000, path="/callback", redirect_uri=None)
    preferred = callback_endpoint(None, None, preferred_port=6000)
    assert (preferred.port, preferred.port_is_preference) == (6000, True)
    with pytest.raises(InvalidParams):
        callback_endpoint(None, "not a url")


async def test_a_taken_configured_port_fails_but_a_taken_preferred_port_falls_back() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RequestFailed, match=f"callback port {port} is not available"):
            async with open_callback_listener(callback_endpoint(port, None)):
                pass
        async with open_callback_listener(callback_endpoint(None, None, preferred_port=port)) as listener:
            assert f":{port}/" not in listener.redirect_uri
