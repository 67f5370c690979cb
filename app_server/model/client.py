"""The model provider client: streams one step over httpx2, retrying what is safe to retry.

Two budgets, as in Codex: `request_max_retries` covers attempts that never produced a stream
(connection errors, 429, 5xx); `stream_max_retries` covers streams that broke before completing.
A broken stream is retried only if that attempt had yielded nothing, so the caller never sees a
delta twice; once output has reached the caller, a broken stream is a ModelError.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing, asynccontextmanager
from types import TracebackType
from typing import Any, Protocol

import anyio
import httpx2

from app_server.model import chat_api, responses_api
from app_server.model.backoff import Backoff, parse_retry_after
from app_server.model.errors import ModelError
from app_server.model.provider import ProviderConfig
from app_server.model.step import Retrying, StepEvent, StepRequest
from app_server.model.stream import ResponseFailedError, StreamDecoder

logger = logging.getLogger(__name__)

_MAX_EVENT_BYTES = 16 * 1024 * 1024
_MAX_ERROR_BODY_BYTES = 16 * 1024
_MAX_DETAIL_CHARS = 300
_CLOSE_TIMEOUT_SECONDS = 2.0
_SECRET_LIKE = re.compile(r"\b(sk|rk|pk)-[A-Za-z0-9_\-*.]{6,}")


class _Wire(Protocol):
    PATH: str

    def request_body(self, request: StepRequest) -> dict[str, Any]: ...


_WIRES: Mapping[str, _Wire] = {"responses": responses_api, "chat": chat_api}


def _decoder_for(wire_api: str) -> StreamDecoder:
    return responses_api.ResponsesDecoder() if wire_api == "responses" else chat_api.ChatDecoder()


class _RetryableRequestError(Exception):
    """An attempt that produced no stream but may succeed if sent again."""

    def __init__(self, summary: str, *, retry_after: float | None = None, detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.retry_after = retry_after
        self.detail = detail


class _BrokenStreamError(Exception):
    """A stream that ended without completing; `retryable` is False when the provider said why."""

    def __init__(self, summary: str, *, retryable: bool = True, detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.retryable = retryable
        self.detail = detail


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle (50-150 ms), and a client
    is made per turn."""
    return httpx2.create_ssl_context()


class ModelClient:
    """Streams steps to one provider; one HTTP connection pool, closed by `aclose()` / `async with`.

    `transport` is a seam for embedding (e.g. a custom proxy transport); tests use real HTTP.
    """

    def __init__(
        self,
        provider: ProviderConfig,
        api_key: str | None,
        *,
        backoff: Backoff | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self._provider = provider
        self._api_key = api_key
        self._backoff = backoff or Backoff()
        idle = provider.stream_idle_timeout_ms / 1000
        self._http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(connect=15.0, read=idle, write=30.0, pool=30.0),
            follow_redirects=False,
            transport=transport,
            verify=_shared_ssl_context(),
        )

    @property
    def provider(self) -> ProviderConfig:
        return self._provider

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @asynccontextmanager
    async def stream_step(self, request: StepRequest) -> AsyncIterator[AsyncIterator[StepEvent]]:
        """Stream one step: `async with client.stream_step(req) as events: async for event in events`.

        Events arrive in order and end with exactly one Completed. Leaving the block (normally, by
        error, or by cancellation of the caller's task) closes the HTTP stream at once.

        Raises ModelError when the provider rejects the request, fails the response, cannot be
        reached within the retry budget, or drops a stream after output was delivered.
        """
        events = self._events(request)
        try:
            yield events
        finally:
            await events.aclose()

    async def _events(self, request: StepRequest) -> AsyncGenerator[StepEvent]:
        body = _WIRES[self._provider.wire_api].request_body(request)
        request_failures = 0
        stream_failures = 0
        while True:
            try:
                # aclosing: when our caller closes us, the attempt's HTTP stream must close now, not at GC.
                async with aclosing(self._attempt(body)) as attempt:
                    async for event in attempt:
                        yield event
                return
            except _RetryableRequestError as failure:
                request_failures += 1
                if request_failures > self._provider.request_max_retries:
                    raise ModelError(
                        f"{self._name} {failure.summary} after {_attempts(request_failures)}"
                        + _suffix(failure.detail)
                    ) from None
                logger.info("model request to %s failed (%s); retrying", self._name, failure.summary)
                yield _retrying(
                    self._name, failure.summary, request_failures, self._provider.request_max_retries
                )
                await anyio.sleep(self._backoff.delay(request_failures, failure.retry_after))
            except _BrokenStreamError as broken:
                stream_failures += 1
                if not broken.retryable or stream_failures > self._provider.stream_max_retries:
                    attempts = f" after {_attempts(stream_failures)}" if broken.retryable else ""
                    raise ModelError(
                        f"{self._name} {broken.summary}{attempts}" + _suffix(broken.detail)
                    ) from None
                logger.info("model stream from %s broke (%s); retrying", self._name, broken.summary)
                yield _retrying(
                    self._name, broken.summary, stream_failures, self._provider.stream_max_retries
                )
                await anyio.sleep(self._backoff.delay(stream_failures))

    async def _attempt(self, body: dict[str, Any]) -> AsyncGenerator[StepEvent]:
        """One attempt; raises the private retry errors only while it has yielded nothing."""
        yielded = False
        async with self._open(body) as response:
            decoder = _decoder_for(self._provider.wire_api)
            try:
                async for sse in httpx2.EventSource(response, max_event_size=_MAX_EVENT_BYTES):
                    for event in decoder.decode(sse.data):
                        yielded = True
                        yield event
            except httpx2.TransportError as error:
                summary = (
                    "stopped sending (idle timeout)"
                    if isinstance(error, httpx2.ReadTimeout)
                    else "stream disconnected before the response completed"
                )
                raise self._broken(summary, yielded) from None
            except ResponseFailedError as failure:
                detail = _presentable(failure.message, self._api_key)
                raise self._broken(
                    "failed the response", yielded, retryable=failure.retryable, detail=detail
                ) from None
            completion = decoder.completion
            if completion is None:
                raise self._broken("stream disconnected before the response completed", yielded)
            yield completion

    def _broken(self, summary: str, yielded: bool, *, retryable: bool = True, detail: str = "") -> Exception:
        if yielded:
            return ModelError(f"{self._name} {summary}" + _suffix(detail))
        return _BrokenStreamError(summary, retryable=retryable, detail=detail)

    @asynccontextmanager
    async def _open(self, body: dict[str, Any]) -> AsyncIterator[httpx2.Response]:
        """A streaming response with a 2xx status and an event-stream body, closed on exit."""
        url = self._provider.base_url.rstrip("/") + _WIRES[self._provider.wire_api].PATH
        headers = {**self._provider.http_headers, "Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        http_request = self._http.build_request(
            "POST", url, json=body, headers=headers, params=self._provider.query_params
        )
        try:
            response = await self._http.send(http_request, stream=True)
        except httpx2.TransportError:
            raise _RetryableRequestError("could not be reached") from None
        try:
            await self._check(response)
            yield response
        finally:
            # Shielded so that a cancelled caller still closes the connection instead of leaking it.
            with anyio.move_on_after(_CLOSE_TIMEOUT_SECONDS, shield=True):
                await response.aclose()

    async def _check(self, response: httpx2.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
            if content_type != "text/event-stream":
                raise ModelError(f"{self._name} answered with something other than an event stream")
            return
        detail = await self._error_detail(response)
        summary = f"failed the request ({status} {response.reason_phrase})"
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _RetryableRequestError(summary, retry_after=retry_after, detail=detail)
        raise ModelError(
            f"{self._name} rejected the request ({status} {response.reason_phrase})" + _suffix(detail)
        )

    async def _error_detail(self, response: httpx2.Response) -> str:
        """The provider's own explanation from an error body, if short and plain; else ''."""
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= _MAX_ERROR_BODY_BYTES:
                    break
        except httpx2.TransportError:
            return ""
        text = b"".join(chunks)[:_MAX_ERROR_BODY_BYTES].decode("utf-8", errors="replace")
        try:
            parsed: object = json.loads(text)
        except ValueError:
            parsed = text
        return _presentable(_message_of(parsed), self._api_key)

    @property
    def _name(self) -> str:
        return f"model provider '{self._provider.name}'"


def _message_of(parsed: object) -> str:
    """The message in the usual error shapes: {"error": {"message"}}, {"error": "..."}, {"message"}, text."""
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(parsed.get("message"), str):
            return str(parsed["message"])
    return ""


def _presentable(text: str, api_key: str | None) -> str:
    """`text` collapsed to one line if it is short plain prose, with anything key-like masked; else ''."""
    line = " ".join(text.split())
    if not line or len(line) > _MAX_DETAIL_CHARS or "<" in line:
        return ""
    if api_key:
        line = line.replace(api_key, "***")
    return _SECRET_LIKE.sub("***", line)


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _retrying(name: str, summary: str, attempt: int, budget: int) -> Retrying:
    return Retrying(f"{name} {summary}; retrying ({attempt}/{budget})")


def _suffix(detail: str) -> str:
    return f": {detail}" if detail else ""
