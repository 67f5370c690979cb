"""The demo's story, told against a real daemon: initialize, status, a thread whose turn calls a tool
across a config reload, status again, shutdown.

The scripted model holds step 1's answer while the demo rewrites config.toml (label A -> B) and
reloads; step 1's `whoami` call must still be answered by runtime A, the runtime that step leased,
and step 2's by runtime B, a new process. The verdict comes from the call results, never assumed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from rich.status import Status

from app_server.demo.daemon_client import DaemonClient, Message
from app_server.demo.report import Answer, Report
from app_server.demo.scenario import (
    MODEL_KEY_ENV,
    MODEL_NAME,
    PROMPT,
    SERVER_NAME,
    TOOL_NAME,
    demo_script,
    write_config,
)
from app_server.errors import RequestFailed
from app_server.model.scripted import ScriptedModelServer

REQUEST_SECONDS = 30.0
"""Bound on one request (the first after `initialize` also waits for the daemon's core to load)."""
STARTUP_SECONDS = 60.0
"""Bound on MCP servers leaving `starting`."""
TURN_SECONDS = 120.0
"""Bound on the whole turn: three model steps, two tool calls, a reload and a server restart."""

FIRST_LABEL = "A"
SECOND_LABEL = "B"
CLIENT_INFO = {"name": "app-server-demo", "title": "app-server demo", "version": "0.1.0"}
_DUMMY_MODEL_KEY = "demo-key"
_STARTUP = "mcpServer/startupStatus/updated"
_QUIET = ["item/agentMessage/delta", "item/started"]
"""Notifications the demo does not show, so the daemon does not send them."""


@dataclass(slots=True)
class Outcome:
    answers: list[Answer] = field(default_factory=list)
    stray_pids: list[int] = field(default_factory=list)
    failure: BaseException | None = None


async def walk_through(report: Report) -> bool:
    """Run the demo end to end; True only when step 1 -> runtime A, step 2 -> a new runtime B, and the
    daemon left no process behind."""
    report.title("app-server demo")
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="app-server-demo-") as temporary:
        root = Path(temporary)
        log = root / "daemon-stderr.log"
        async with ScriptedModelServer(demo_script(), model=MODEL_NAME) as model:
            # Caught in here: an exception leaving this block would cancel the model's HTTP server
            # before it closes its listening socket.
            try:
                await _tell(report, model, root, log, outcome)
            except* RequestFailed as group:
                outcome.failure = _first_leaf(group)
        if outcome.failure is not None:
            report.failure(str(outcome.failure), log.read_text("utf-8", "replace") if log.exists() else "")
            return False
    labels = [answer.label for answer in outcome.answers]
    distinct_processes = len({answer.pid for answer in outcome.answers}) == len(outcome.answers)
    proven = labels == [FIRST_LABEL, SECOND_LABEL] and distinct_processes and not outcome.stray_pids
    report.verdict(outcome.answers, proven=proven)
    return proven


async def _tell(report: Report, model: ScriptedModelServer, root: Path, log: Path, outcome: Outcome) -> None:
    home = root / "home"
    home.mkdir()
    write_config(home, label=FIRST_LABEL, model_base_url=model.base_url)
    report.line("model", f"scripted model at {model.base_url}")
    report.line("server", f"`{SERVER_NAME}`: the example MCP server, label A")
    env = {**os.environ, "APP_SERVER_HOME": str(home), MODEL_KEY_ENV: _DUMMY_MODEL_KEY}
    async with DaemonClient.spawn(env=env, cwd=root, stderr_log=log) as daemon:
        session = _Session(report, daemon, model, home)
        await session.initialize()
        await session.show_servers("2. mcpServerStatus/list: the MCP servers and their tools")
        thread_id = await session.start_thread()
        outcome.answers = await session.run_turn(thread_id)
        await session.show_servers("5. mcpServerStatus/list again: the reloaded runtime")
    report.section("6. shutdown")
    outcome.stray_pids = daemon.stray_pids
    if outcome.stray_pids:
        pids = ", ".join(map(str, outcome.stray_pids))
        report.line("daemon", f"exited, but left processes running (killed now): {pids}", style="red")
    else:
        report.line("daemon", f"exited with code {daemon.process.returncode}; no process left behind")


class _Session:
    """The conversation with the daemon, one method per part of the story."""

    def __init__(self, report: Report, daemon: DaemonClient, model: ScriptedModelServer, home: Path) -> None:
        self.report = report
        self.daemon = daemon
        self.model = model
        self.home = home

    async def request(self, method: str, params: Any = None) -> Any:
        with _deadline(f"waiting for the answer to `{method}`", REQUEST_SECONDS):
            return await self.daemon.request(method, params)

    async def initialize(self) -> None:
        self.report.section("1. initialize")
        capabilities = {"optOutNotificationMethods": _QUIET}
        result = await self.request("initialize", {"clientInfo": CLIENT_INFO, "capabilities": capabilities})
        await self.daemon.notify("initialized")
        self.report.line("userAgent", str(result.get("userAgent")))

    async def show_servers(self, title: str) -> None:
        self.report.section(title)
        self.report.servers(await self.settled_servers(None))

    async def settled_servers(self, thread_id: str | None) -> list[dict[str, Any]]:
        """The status list (of the thread's runtime, or the app's) once no server is `starting`."""
        with (
            self.report.progress("waiting for MCP servers to start") as spinner,
            _deadline("waiting for the MCP servers to start", STARTUP_SECONDS),
        ):
            return await self._settled_status(spinner, thread_id)

    async def _settled_status(self, spinner: Status, thread_id: str | None) -> list[dict[str, Any]]:
        # Re-listed after every piece of startup news rather than tracked from the notifications: news
        # that raced the answer would otherwise leave a server counted as starting for ever.
        params = {} if thread_id is None else {"threadId": thread_id}
        while True:
            entries: list[dict[str, Any]] = (await self.request("mcpServerStatus/list", params))["data"]
            news = self.show_startup_news()
            starting = sorted(entry["name"] for entry in entries if entry.get("runtimeStatus") == "starting")
            if not starting:
                return entries
            spinner.update(f"waiting for MCP servers to start: {', '.join(starting)}")
            if not news:
                self._show_startup(await self.daemon.next_notification({_STARTUP}))

    def show_startup_news(self) -> list[Message]:
        """Show the startup news already received, so it appears in the order things happened."""
        news = self.daemon.take_queued({_STARTUP})
        for note in news:
            self._show_startup(note)
        return news

    def _show_startup(self, note: Message) -> dict[str, Any]:
        params: dict[str, Any] = note.get("params") or {}
        scope = "thread runtime" if params.get("threadId") else "app runtime"
        text = f"{params.get('name')} ({scope}): {params.get('status')}"
        if params.get("error"):
            text += f": {params['error']}"
        style = "red" if params.get("status") in ("failed", "cancelled") else ""
        self.report.line("startup", text, style=style)
        return params

    async def start_thread(self) -> str:
        self.report.section("3. thread/start")
        result = await self.request("thread/start", {"approvalPolicy": "never"})
        thread_id = str(result["thread"]["id"])
        self.report.line("thread", thread_id)
        self.report.line("model", f"{result.get('model')} from provider `{result.get('modelProvider')}`")
        await self.settled_servers(thread_id)
        return thread_id

    async def run_turn(self, thread_id: str) -> list[Answer]:
        self.report.section("4. turn/start: each model step calls whoami; config changes during step 1")
        user_input = [{"type": "text", "text": PROMPT, "text_elements": []}]
        result = await self.request("turn/start", {"threadId": thread_id, "input": user_input})
        self.report.line("turn", f"{result['turn']['id']} started with {PROMPT!r}")
        with _deadline("waiting for the turn to finish", TURN_SECONDS):
            await self._wait_step_held(0)
            self.show_startup_news()
            self.report.line("step 1", "leased the current runtime (A), asked the model; its answer is held")
            write_config(self.home, label=SECOND_LABEL, model_base_url=self.model.base_url)
            self.report.line("config", f"config.toml now starts `{SERVER_NAME}` with label B")
            reloaded = await self.request("config/mcpServer/reload")
            self.report.line("reload", f"config/mcpServer/reload -> {reloaded}")
            # Runtime B is up before step 1 goes on, so its call choosing A is pinning, not a race.
            await self.settled_servers(thread_id)
            self.model.release(0)
            self.report.line("step 1", "model answer released: it calls whoami")
            return await self._follow_turn(thread_id)

    async def _wait_step_held(self, step: int) -> None:
        """Wait until the model holds `step`; fail at once if the turn ends without getting there."""

        async def fail_if_turn_ends() -> None:
            note = await self.daemon.next_notification({"turn/completed"})
            raise _turn_failure((note.get("params") or {}).get("turn") or {})

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(fail_if_turn_ends)
            await self.model.wait_held(step)
            task_group.cancel_scope.cancel()

    async def _follow_turn(self, thread_id: str) -> list[Answer]:
        """Show the turn's items until `turn/completed`; the whoami answers, in call order."""
        answers: list[Answer] = []
        methods = {"item/completed", "turn/completed", "error", _STARTUP}
        while True:
            note = await self.daemon.next_notification(methods)
            params: dict[str, Any] = note.get("params") or {}
            if note["method"] == _STARTUP:
                self._show_startup(note)
            elif params.get("threadId") != thread_id:
                continue
            elif note["method"] == "error":
                error = params.get("error") or {}
                self.report.line("error", str(error.get("message")), style="red")
            elif note["method"] == "item/completed":
                answer = self._show_item(params.get("item") or {}, step=len(answers) + 1)
                if answer is not None:
                    answers.append(answer)
            else:
                turn = params.get("turn") or {}
                if turn.get("status") != "completed":
                    raise _turn_failure(turn)
                self.report.line("turn", "completed")
                return answers

    def _show_item(self, item: dict[str, Any], *, step: int) -> Answer | None:
        if item.get("type") == "agentMessage":
            self.report.line("agent", str(item.get("text")))
            return None
        if item.get("type") != "mcpToolCall":
            return None
        call = f"step {step}: {item.get('server')}.{item.get('tool')}"
        if item.get("status") != "completed":
            reason = (item.get("error") or {}).get("message", "no reason given")
            raise RequestFailed(f"{call} ended `{item.get('status')}`: {reason}")
        identity = (item.get("result") or {}).get("structuredContent") or {}
        label, pid = identity.get("label"), identity.get("pid")
        if item.get("tool") != TOOL_NAME or not isinstance(label, str) or not isinstance(pid, int):
            raise RequestFailed(f"{call} did not answer with a runtime label and pid")
        answer = Answer(label=label, pid=pid)
        self.report.line("tool call", f"{call} -> answered by {answer.describe()}", style="bold")
        return answer


def _turn_failure(turn: dict[str, Any]) -> RequestFailed:
    reason = (turn.get("error") or {}).get("message", "no reason given")
    return RequestFailed(f"the turn ended `{turn.get('status')}`: {reason}")


@contextmanager
def _deadline(waiting_for: str, seconds: float) -> Iterator[None]:
    """Bound a wait; a timeout becomes RequestFailed saying what was awaited."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise RequestFailed(f"timed out after {seconds:g} s {waiting_for}") from None


def _first_leaf(group: BaseExceptionGroup[RequestFailed]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
