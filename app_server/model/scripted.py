"""A scripted model server: a real HTTP provider on 127.0.0.1 that plays a Script, for tests and the demo.

It speaks streaming Responses SSE at `POST /v1/responses` and streaming Chat Completions at
`POST /v1/chat/completions`, and logs every request (step, attempt, headers, JSON body).

Matching requests to steps is sequential by arrival: each request is served the first step not yet
served, after that step's scripted `failures` (one per attempt) have been played; a failed attempt
does not advance, so a client's retry meets the same step. A request after the last step gets a 400.

Steps are numbered from 0. A held step waits for `release(n)` (or `POST /control/release/n`);
`wait_held(n)` (or `POST /control/wait-held/n`, which answers once step n is held) lets a test act
while the answer is pending. `GET /control/requests` returns the request log as JSON.

In-process: `async with ScriptedModelServer(script) as server: ... server.base_url`.
As a process: `python -m app_server.model.scripted --script FILE.json --port-file F [--port N]`
writes its port to F once listening, prints nothing, and exits on SIGTERM or SIGINT. Once the port
file is written it also points its stdout at /dev/null, so a parent holding the pipe's read end sees
end-of-file exactly when the server is ready: wait for that instead of polling for the file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import anyio
import uvicorn
from anyio.abc import TaskGroup, TaskStatus
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app_server.model.script import Script, ScriptedFailure, ScriptStep
from app_server.model.script_frames import (
    Frame,
    chat_failure_frames,
    chat_frames,
    responses_failure_frames,
    responses_frames,
)
from app_server.transport.sockets import EmbeddedUvicorn, tcp_listener

WireApi = Literal["responses", "chat"]

_SHUTDOWN_GRACE_SECONDS = 2


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received; `step` is None when the script had no step left for it."""

    api: WireApi
    step: int | None
    attempt: int
    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools the request advertised, for either wire API."""
        names = []
        for tool in self.body.get("tools") or []:
            function = tool.get("function", tool)
            names.append(str(function.get("name")))
        return names

    def to_json(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "step": self.step,
            "attempt": self.attempt,
            "headers": self.headers,
            "query": self.query,
            "body": self.body,
        }


class _StepState:
    """Per-step bookkeeping: attempts seen, and the hold / release / disconnect signals."""

    def __init__(self) -> None:
        self.attempts = 0
        self.held = anyio.Event()
        self.released = anyio.Event()
        self.disconnected = anyio.Event()


class ScriptedModelServer:
    """Serves a Script over real HTTP on 127.0.0.1; see the module docstring for the rules."""

    def __init__(
        self, script: Script | list[ScriptStep], *, port: int = 0, model: str = "scripted-model"
    ) -> None:
        self._script = script if isinstance(script, Script) else Script(steps=script)
        self._model = model
        self._steps = [_StepState() for _ in self._script.steps]
        self._next_step = 0
        self._requested_port = port
        self.port = 0
        """The port it listens on, once started."""
        self.requests: list[RecordedRequest] = []
        self._server = EmbeddedUvicorn(
            uvicorn.Config(
                self._app(),
                log_config=None,
                access_log=False,
                lifespan="off",
                ws="none",
                timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
            )
        )
        self._task_group: TaskGroup | None = None

    @property
    def base_url(self) -> str:
        """The provider `base_url` to configure: `http://127.0.0.1:PORT/v1`."""
        return f"http://127.0.0.1:{self.port}/v1"

    def release(self, step: int) -> None:
        """Let held step `step` stream its answer (a no-op if it is not held or already released)."""
        self._steps[step].released.set()

    async def wait_held(self, step: int) -> None:
        """Return once step `step`'s stream has reached its hold point."""
        await self._steps[step].held.wait()

    async def wait_disconnected(self, step: int) -> None:
        """Return once a client went away while step `step` was still streaming."""
        await self._steps[step].disconnected.wait()

    def steps_served(self) -> int:
        return self._next_step

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve until `stop()`; reports started once it accepts connections on `port`."""
        listener = tcp_listener("127.0.0.1", self._requested_port)
        self.port = listener.getsockname()[1]
        async with anyio.create_task_group() as group:
            # uvicorn owns the socket from here and closes it on shutdown.
            group.start_soon(self._server.serve, [listener])
            await self._server.ready.wait()
            task_status.started()

    def stop(self) -> None:
        """Ask the server to stop; held steps are released so their streams can end."""
        for state in self._steps:
            state.released.set()
        self._server.should_exit = True

    async def __aenter__(self) -> ScriptedModelServer:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        await self._task_group.start(self.run)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        self.stop()
        assert self._task_group is not None
        return await self._task_group.__aexit__(exc_type, exc, tb)

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/responses", self._endpoint("responses"), methods=["POST"]),
                Route("/v1/chat/completions", self._endpoint("chat"), methods=["POST"]),
                Route("/control/release/{step:int}", self._release_endpoint, methods=["POST"]),
                Route("/control/wait-held/{step:int}", self._wait_held_endpoint, methods=["POST"]),
                Route("/control/requests", self._requests_endpoint, methods=["GET"]),
            ]
        )

    def _endpoint(self, api: WireApi) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self._answer(api, request)

        return endpoint

    async def _answer(self, api: WireApi, request: Request) -> Response:
        body = json.loads(await request.body())
        headers = dict(request.headers)
        query = dict(request.query_params)
        index = self._next_step
        if index >= len(self._steps):
            self.requests.append(RecordedRequest(api, None, 0, headers, query, body))
            message = f"scripted model server: no step left for this request (script has {index} steps)"
            return _error_response(400, message)
        state = self._steps[index]
        attempt = state.attempts
        state.attempts += 1
        self.requests.append(RecordedRequest(api, index, attempt, headers, query, body))
        step = self._script.steps[index]
        failure = step.failures[attempt] if attempt < len(step.failures) else None
        if failure is None:
            self._next_step += 1
        if failure is not None and failure.status is not None:
            return _failure_response(failure)
        model = str(body.get("model", self._model))
        render = responses_frames if api == "responses" else chat_frames
        frames = render(step, index, model)
        if failure is not None and failure.cut_after is not None:
            frames = frames[: failure.cut_after]
        if failure is not None and failure.error_code is not None:
            frames = (
                responses_failure_frames(index, model, failure.error_code, failure.message)
                if api == "responses"
                else chat_failure_frames(failure.error_code, failure.message)
            )
        return StreamingResponse(self._stream(step, state, frames), media_type="text/event-stream")

    async def _stream(self, step: ScriptStep, state: _StepState, frames: list[Frame]) -> AsyncIterator[bytes]:
        finished = False
        try:
            if step.hold == "before_response":
                await self._hold(state)
            hold_pending = step.hold == "after_first_output"
            for frame in frames:
                yield frame.data
                if frame.output and hold_pending:
                    hold_pending = False
                    await self._hold(state)
            finished = True
        finally:
            if not finished:
                state.disconnected.set()

    async def _hold(self, state: _StepState) -> None:
        state.held.set()
        await state.released.wait()

    async def _release_endpoint(self, request: Request) -> Response:
        step = self._step_param(request)
        if step is None:
            return _error_response(404, "no such step")
        self.release(step)
        return JSONResponse({"released": step})

    async def _wait_held_endpoint(self, request: Request) -> Response:
        step = self._step_param(request)
        if step is None:
            return _error_response(404, "no such step")
        await self.wait_held(step)
        return JSONResponse({"held": step})

    async def _requests_endpoint(self, request: Request) -> Response:
        return JSONResponse([recorded.to_json() for recorded in self.requests])

    def _step_param(self, request: Request) -> int | None:
        step = request.path_params["step"]
        return step if isinstance(step, int) and 0 <= step < len(self._steps) else None


def _error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    kind = "invalid_request_error" if status < 500 and status != 429 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": None}}, status, headers)


def _failure_response(failure: ScriptedFailure) -> Response:
    assert failure.status is not None
    headers = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
    return _error_response(failure.status, failure.message, headers)


async def _serve_until_signalled(script: Script, port: int, port_file: Path) -> None:
    server = ScriptedModelServer(script, port=port)
    async with anyio.create_task_group() as group:
        await group.start(server.run)
        # Written to a temporary name and renamed, so a reader never sees a partial port.
        partial = port_file.with_name(port_file.name + ".partial")
        partial.write_text(str(server.port), encoding="utf-8")
        os.replace(partial, port_file)
        _signal_ready_by_closing_stdout()
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                server.stop()
                break


def _signal_ready_by_closing_stdout() -> None:
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    """Run the server as a process; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m app_server.model.scripted", description=__doc__)
    parser.add_argument("--script", type=Path, required=True, help="the script, a JSON file")
    parser.add_argument("--port-file", type=Path, required=True, help="where to write the port")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    args = parser.parse_args(argv)
    try:
        script = Script.load(args.script)
    except (OSError, ValueError) as error:
        print(f"scripted model server: cannot load the script: {error}", file=sys.stderr)
        return 2
    anyio.run(_serve_until_signalled, script, args.port, args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
