"""Loaded threads: each with its own MCP runtime cell, its config overrides and at most one running turn."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from app_server.config.app_config import AppConfig
from app_server.errors import InvalidParams, RequestFailed
from app_server.mcp.client import RuntimeContext
from app_server.mcp.manager import Plan
from app_server.mcp.runtime import RuntimeCell
from app_server.model.client import ModelClient
from app_server.model.provider import api_key_for, providers_from_table, resolve_provider
from app_server.threads.live import LiveThread
from app_server.threads.records import ThreadChanges, ThreadSettings
from app_server.threads.step import AskClient, TurnScope
from app_server.threads.store import ThreadStore
from app_server.threads.turns import TurnRunner

if TYPE_CHECKING:
    from app_server.core import AppCore

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gpt-5-codex"
DEFAULT_PROVIDER = "openai"
DEFAULT_APPROVAL_POLICY = "on-request"
DEFAULT_INSTRUCTIONS = "You are a helpful coding agent. Use the available tools when they help."

_SANDBOX_POLICIES: dict[str, dict[str, Any]] = {
    "read-only": {"type": "readOnly", "networkAccess": False},
    "workspace-write": {
        "type": "workspaceWrite",
        "writableRoots": [],
        "networkAccess": False,
        "excludeTmpdirEnvVar": False,
        "excludeSlashTmp": False,
    },
    "danger-full-access": {"type": "dangerFullAccess"},
}


@dataclass
class LoadedThread:
    """A live thread plus what only a running daemon has: its runtime cell and its current turn."""

    live: LiveThread
    cell: RuntimeCell
    runner: TurnRunner | None = None

    @property
    def overrides(self) -> Mapping[str, Any] | None:
        return self.live.settings.config

    @property
    def cwd(self) -> Path:
        return Path(self.live.settings.cwd)


def sandbox_policy(mode: object) -> dict[str, Any]:
    """The wire SandboxPolicy for a SandboxMode (read-only when unset)."""
    return _SANDBOX_POLICIES.get(str(mode), _SANDBOX_POLICIES["read-only"])


def resolve_cwd(requested: str | None) -> str:
    """An absolute, existing working directory; raises InvalidParams otherwise."""
    path = Path(requested) if requested else Path(os.getcwd())
    if not path.is_absolute():
        raise InvalidParams(f"cwd must be an absolute path: {requested}")
    if not path.is_dir():
        raise InvalidParams(f"cwd is not a directory: {requested}")
    return str(path)


class ThreadService:
    """Starts, resumes and runs threads; run it with `await task_group.start(service.run)`."""

    def __init__(self, core: AppCore) -> None:
        self._core = core
        self.store = ThreadStore(core.home / "threads")
        self._threads: dict[str, LoadedThread] = {}
        self._tg: anyio.abc.TaskGroup | None = None

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            await anyio.sleep_forever()

    def loaded(self) -> list[LoadedThread]:
        return list(self._threads.values())

    def get(self, thread_id: str) -> LoadedThread:
        """A loaded thread; raises InvalidParams when it is not loaded in this daemon."""
        thread = self._threads.get(thread_id)
        if thread is None:
            raise InvalidParams(f"thread not loaded: {thread_id}")
        return thread

    def plan(self, thread: LoadedThread, config: AppConfig) -> Plan:
        scope = self._core.effective(config)
        return self._core.manager.plan(
            thread.cell, scope.servers, RuntimeContext(cwd=thread.cwd), plugin_ids=scope.plugin_ids
        )

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self, settings: ThreadSettings, *, ephemeral: bool) -> LoadedThread:
        """Create the thread and start its MCP servers in the background.

        Waits only when a server is `required`: then a failed one fails the start (RequestFailed).
        Raises ConfigError when the thread's config overrides do not validate.
        """
        config = self._core.config_for(settings.config)
        live = await self.store.create(settings, ephemeral=ephemeral)
        return await self._load(live, config)

    async def resume(self, thread_id: str) -> LoadedThread:
        """Load a thread from disk (or return it when already loaded) with a fresh runtime cell."""
        loaded = self._threads.get(thread_id)
        if loaded is not None:
            return loaded
        live = await self.store.resume(thread_id)
        return await self._load(live, self._core.config_for(live.settings.config))

    async def _load(self, live: LiveThread, config: AppConfig) -> LoadedThread:
        scope = self._core.effective(config)
        cell = self._core.manager.open_cell(
            scope.servers,
            RuntimeContext(cwd=Path(live.settings.cwd)),
            plugin_ids=scope.plugin_ids,
            thread_id=live.id,
        )
        if any(server.required for server in scope.servers.values()):
            try:
                await cell.current.check_required()
            except RequestFailed:
                self._core.manager.close_cell(cell)
                raise
        thread = LoadedThread(live=live, cell=cell)
        self._threads[live.id] = thread
        return thread

    # ---- turns ---------------------------------------------------------------------------

    async def start_turn(
        self,
        thread_id: str,
        user_input: list[dict[str, Any]],
        changes: ThreadChanges,
        ask: AskClient,
    ) -> dict[str, Any]:
        """Record a new turn and run it in the background; the runner announces it (`turn/started`).

        The runner task is only scheduled here: it first runs once the caller yields, which the
        request path does only after its reply is queued, so `turn/started` follows the response.

        Returns the wire Turn. Raises InvalidParams when the thread is not loaded or already has a
        running turn, ConfigError/InvalidParams when the model provider is not configured.
        """
        thread = await self.resume(thread_id)
        # A finished runner may still be closing its model client; its turn is already completed.
        if thread.runner is not None and not thread.runner.done.is_set():
            raise InvalidParams(f"thread {thread_id} already has a turn in progress")
        if changes.model_fields_set:
            await thread.live.update(changes)
        model = self._model_client(thread)
        turn = await thread.live.start_turn()
        settings = thread.live.settings
        scope = TurnScope(
            thread=thread.live,
            turn_id=turn["id"],
            events=self._core.events,
            manager=self._core.manager,
            model=model,
            model_name=settings.model or self._core.config.model or DEFAULT_MODEL,
            instructions=settings.base_instructions or DEFAULT_INSTRUCTIONS,
            developer_instructions=settings.developer_instructions,
            approval_policy=settings.approval_policy or DEFAULT_APPROVAL_POLICY,
            ask=ask,
        )
        runner = thread.runner = TurnRunner(scope, thread.cell, user_input, turn)
        assert self._tg is not None
        self._tg.start_soon(self._run_turn, thread, runner)
        return turn

    async def _run_turn(self, thread: LoadedThread, runner: TurnRunner) -> None:
        try:
            async with runner.scope.model:
                await runner.run()
        finally:
            if thread.runner is runner:
                thread.runner = None

    def interrupt(self, thread_id: str, turn_id: str) -> None:
        """Interrupt the running turn; raises InvalidParams when it is not the running one."""
        thread = self.get(thread_id)
        if thread.runner is None or thread.runner.turn_id != turn_id:
            raise InvalidParams(f"turn {turn_id} is not running in thread {thread_id}")
        thread.runner.interrupt()

    def _model_client(self, thread: LoadedThread) -> ModelClient:
        config = self._core.config_for(thread.overrides)
        provider_name = thread.live.settings.model_provider or config.model_provider or DEFAULT_PROVIDER
        providers = providers_from_table(
            {name: table.as_table() for name, table in config.model_providers.items()}
        )
        provider = resolve_provider(provider_name, providers)
        api_key = api_key_for(provider, self._core.auth.api_key(), self._core.environ)
        return ModelClient(provider, api_key)
