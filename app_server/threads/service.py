"""Loaded threads: each with its own MCP runtime cell, its config overrides and at most one running turn.

The service runs before the MCP layer exists (importing it costs ~0.5 s): a thread started or
resumed meanwhile is loaded without a cell, and `attach` opens the cells of all of them at once
when the layer is up. Only a thread whose effective servers include a `required` one waits for
it, since its start depends on that server. The turn machinery (model clients, steps) is
imported with a thread's first turn, which needs the MCP layer anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio
import anyio.abc

from app_server.config.app_config import AppConfig
from app_server.config.reader import ConfigReader, StagedConfig
from app_server.errors import InvalidParams, RequestFailed, quoted
from app_server.events import EventBus
from app_server.threads.activity import waiting_while_asked
from app_server.threads.approval_memory import ApprovalMemory, PersistApproval
from app_server.threads.forking import fork_source
from app_server.threads.live import LiveThread
from app_server.threads.records import Record, ThreadChanges, ThreadHeader, ThreadSettings
from app_server.threads.settings import (
    DEFAULT_APPROVAL_POLICY,
    DEFAULT_INSTRUCTIONS,
    fork_settings,
    model_of,
    resume_changes,
    start_settings,
    turn_changes,
)
from app_server.threads.store import ThreadStore
from protocol.notifications import (
    ThreadClosedNotification,
    ThreadStartedNotification,
    ThreadStatusChangedNotification,
)
from protocol.threads import Thread, ThreadForkParams, ThreadResumeParams, ThreadStartParams
from protocol.turns import Turn, TurnStartParams, TurnSteerParams

if TYPE_CHECKING:
    from app_server.mcp.client import RuntimeContext
    from app_server.mcp.elicitation import AskClient
    from app_server.mcp.manager import Plan
    from app_server.mcp.runtime import RuntimeCell
    from app_server.mcp.scopes import ScopePlanner
    from app_server.model.client import ModelClient
    from app_server.threads.turns import TurnRunner
    from protocol.thread_admin import ThreadUnsubscribeStatus  # its models answer other methods

logger = logging.getLogger(__name__)

ModelClients: TypeAlias = Callable[[ThreadHeader], "ModelClient"]
"""A client for the model provider a thread's settings name; raises ConfigError/InvalidParams."""
RequiredServers: TypeAlias = Callable[[AppConfig], bool]
"""Whether a config's effective view has an enabled `required` server (pure: no MCP layer needed)."""


@dataclass
class LoadedThread:
    """A live thread plus what only a running daemon has: its runtime cell and its current turn."""

    live: LiveThread
    cell: RuntimeCell | None = None
    """None until the MCP layer is up (or while its servers cannot be planned)."""
    runner: TurnRunner | None = None
    announced: bool = False
    """Whether clients were told of the thread (`announce`): its cell's startup states follow."""
    approvals: ApprovalMemory = field(default_factory=lambda: ApprovalMemory(None))
    """The tool approvals it remembers while loaded."""
    subscribers: set[object] = field(default_factory=set)
    """The connections following it (they started, resumed or ran a turn on it)."""
    released: bool = False
    """Its last subscriber left while a turn ran: it unloads when the turn ends."""

    @property
    def overrides(self) -> Mapping[str, Any] | None:
        return self.live.settings.config

    @property
    def context(self) -> RuntimeContext:
        """What its MCP servers run in: the thread's working directory."""
        return _context(self.live.settings.cwd)


class ThreadService:
    """Starts, resumes and runs threads; run it with `await task_group.start(service.run)`."""

    def __init__(
        self,
        store: ThreadStore,
        events: EventBus,
        configs: ConfigReader,
        model_clients: ModelClients,
        required_servers: RequiredServers,
        *,
        persist_approval: PersistApproval | None = None,
    ) -> None:
        """The scope planner comes later, with the MCP layer (`attach`). `persist_approval` saves a
        tool approved "always" (without it such a choice holds for the thread only)."""
        self.store = store
        self._events = events
        self._configs = configs
        self._model_clients = model_clients
        self._required_servers = required_servers
        self._persist_approval = persist_approval
        self._scopes: ScopePlanner | None = None
        self._attached = anyio.Event()
        self._threads: dict[str, LoadedThread] = {}
        self._tg: anyio.abc.TaskGroup | None = None

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            task_status.started()
            await anyio.sleep_forever()

    def get(self, thread_id: str) -> LoadedThread:
        """A loaded thread; raises InvalidParams when it is not loaded in this daemon."""
        thread = self._threads.get(thread_id)
        if thread is None:
            raise InvalidParams(f"thread not loaded: {quoted(thread_id)}")
        return thread

    def loaded_ids(self) -> list[str]:
        """The ids of every thread loaded in this daemon (ephemeral ones included)."""
        return list(self._threads)

    # ---- MCP runtime cells ---------------------------------------------------------------

    def attach(self, scopes: ScopePlanner) -> None:
        """The MCP layer is up: open the cell of every thread loaded before it, all in this one step,
        so from here on every loaded thread gets its cell when it is loaded."""
        self._scopes = scopes
        for thread in self._threads.values():
            self._open_cell(thread)
        self._attached.set()

    def cell(self, thread_id: str) -> RuntimeCell:
        """The runtime cell of a loaded thread (only once the MCP layer is attached).

        Raises InvalidParams when the thread is not loaded, or when its servers cannot be planned.
        """
        thread = self.get(thread_id)
        if thread.cell is None:
            thread.cell = self._planner().open(
                self._configs.for_thread(thread.overrides), thread.context, thread_id=thread_id
            )
            if thread.announced:
                self._planner().announce(thread.cell)
        return thread.cell

    def plans(self, staged: StagedConfig) -> list[Plan]:
        """The next generation of every loaded thread under a fresh config read (nothing published).

        A thread without a cell has nothing to replace: its cell opens from the adopted config.
        Raises ConfigError when a thread's overrides do not validate, InvalidParams when a plan fails.
        """
        return [
            self._planner().plan(thread.cell, staged.for_thread(thread.overrides), thread.context)
            for thread in self._threads.values()
            if thread.cell is not None
        ]

    def _planner(self) -> ScopePlanner:
        assert self._scopes is not None, "the MCP layer is not attached yet"
        return self._scopes

    def _open_cell(self, thread: LoadedThread) -> None:
        """Open a cell for a thread loaded before the MCP layer was up; a thread whose servers cannot
        be planned stays without one (its next use opens it, and answers the error)."""
        try:
            self.cell(thread.live.id)
        except InvalidParams as exc:
            logger.warning("MCP servers of thread %s did not start: %s", thread.live.id, exc.message)

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self, params: ThreadStartParams) -> LoadedThread:
        """Create the thread; its MCP servers start in the background (once the MCP layer is up).

        Waits only when a server is `required`: then a failed one fails the start (RequestFailed).
        Raises ConfigError when the thread's config overrides do not validate, InvalidParams for a
        bad cwd.
        """
        config = self._configs.for_thread(params.config)
        return await self._create(start_settings(params, config), config, ephemeral=bool(params.ephemeral))

    async def fork(self, params: ThreadForkParams) -> LoadedThread:
        """A new thread with the source's turns through `lastTurnId` and its settings, the fork's
        overrides applied; loaded as a started one is (its MCP servers start the same way).

        The source is only read. Raises as `forking.fork_source`, ConfigError when the config
        overrides do not validate, InvalidParams for a bad cwd, and as `start` for a required server.
        """
        source = await fork_source(self.store, params.thread_id, params.last_turn_id)
        settings = fork_settings(source.settings, params)
        return await self._create(
            settings,
            self._configs.for_thread(settings.config),
            ephemeral=bool(params.ephemeral),
            forked_from_id=params.thread_id,
            history=source.records,
        )

    async def _create(
        self,
        settings: ThreadSettings,
        config: AppConfig,
        *,
        ephemeral: bool,
        forked_from_id: str | None = None,
        history: Sequence[Record] = (),
    ) -> LoadedThread:
        """Create and load a new thread; one whose required server fails leaves no trace."""
        live = await self.store.create(
            settings, ephemeral=ephemeral, forked_from_id=forked_from_id, history=history
        )
        try:
            return await self._load(live, config)
        except RequestFailed:
            await self.store.discard(live.id)  # never announced: it leaves no trace
            raise

    async def resume(self, params: ThreadResumeParams) -> LoadedThread:
        """Load a thread from disk (or take the loaded one) and apply the overrides the client set.

        Raises InvalidParams for an unknown thread or a bad cwd, ConfigError for config overrides
        that do not validate (nothing is changed then).
        """
        changes = resume_changes(params)
        loaded = self._threads.get(params.thread_id)
        if loaded is None:
            live = await self.store.resume(params.thread_id)
            if changes.model_fields_set:
                self._configs.for_thread(_overrides_after(live, changes))  # refuse before recording
                await live.update(changes)
            return await self._load(live, self._configs.for_thread(live.settings.config))
        await self._change(loaded, changes)
        return loaded

    async def _load_stored(self, thread_id: str) -> LoadedThread:
        """Load a stored thread as it is, its servers announced at once; raises InvalidParams for an
        unknown one."""
        live = await self.store.resume(thread_id)
        thread = await self._load(live, self._configs.for_thread(live.settings.config))
        self.announce(thread)
        return thread

    def announce(self, thread: LoadedThread, *, started: Thread | None = None) -> None:
        """Tell clients about a thread just loaded, once its start or resume has been answered:
        `thread/started` (for a new thread) first, then its servers' startup states. A stored thread
        loaded here goes from `notLoaded` to its status now, which is announced as Codex does."""
        if started is not None:
            self._events.publish(ThreadStartedNotification(thread=started))
        elif not thread.announced:
            status = thread.live.status()
            self._events.publish(ThreadStatusChangedNotification(thread_id=thread.live.id, status=status))
        thread.announced = True
        if thread.cell is not None:  # else its cell is announced when it opens
            self._planner().announce(thread.cell)

    async def _load(self, live: LiveThread, config: AppConfig) -> LoadedThread:
        """Register the thread, with its cell when the MCP layer is up.

        A thread with a `required` server waits for the layer and the server: when it fails, the
        cell is closed and the thread is not loaded (RequestFailed).
        """
        if self._scopes is None and self._required_servers(config):
            await self._attached.wait()
        thread = LoadedThread(live=live, approvals=ApprovalMemory(self._persist_approval))
        if self._scopes is not None:
            cell = thread.cell = self._scopes.open(config, thread.context, thread_id=live.id)
            if any(slot.config.required for slot in cell.current.slots.values()):
                try:
                    await cell.current.check_required()
                except RequestFailed:
                    self._scopes.close(cell)
                    raise
        self._threads[live.id] = thread
        return thread

    async def _change(self, thread: LoadedThread, changes: ThreadChanges) -> None:
        """Record changed settings; a new cwd or config re-plans the thread's servers for its next step.

        Raises ConfigError/InvalidParams (nothing changed) when the new settings cannot be planned.
        """
        if not changes.model_fields_set:
            return
        replans = bool(changes.model_fields_set & {"cwd", "config"})
        plan = None
        if replans:
            config = self._configs.for_thread(_overrides_after(thread.live, changes))
            cwd = changes.cwd if changes.cwd is not None else thread.live.settings.cwd
            if thread.cell is not None:
                plan = self._planner().plan(thread.cell, config, _context(cwd))
        await thread.live.update(changes)
        if plan is not None:
            self._planner().publish(plan)
        elif replans and thread.cell is not None:
            # The MCP layer came up while the change was recorded and opened the cell from the
            # settings before it: open it again from the new ones.
            self._planner().close(thread.cell)
            thread.cell = None
            self._open_cell(thread)

    async def delete(self, thread_id: str) -> None:
        """Delete a thread: its journal is gone and, if it was loaded, it is unloaded and its MCP
        runtime cell closed (servers only it used stop).

        Raises InvalidParams for an unknown thread, or one whose turn is still running (interrupt it first).
        """
        thread = self._threads.get(thread_id)
        if thread is not None and _running(thread):
            raise InvalidParams(f"thread {quoted(thread_id)} has a turn in progress: interrupt it first")
        await self.store.delete(thread_id)
        if thread is not None:
            self._unload(thread)

    # ---- subscriptions -------------------------------------------------------------------

    def subscribe(self, thread_id: str, subscriber: object) -> None:
        """`subscriber` (a connection) follows the loaded thread: it stays loaded while one does."""
        thread = self._threads.get(thread_id)
        if thread is not None:
            thread.subscribers.add(subscriber)
            thread.released = False

    def unsubscribe(self, thread_id: str, subscriber: object) -> ThreadUnsubscribeStatus:
        """Stop following a thread; the last subscriber leaving unloads it (see `_close_if_idle`)."""
        thread = self._threads.get(thread_id)
        if thread is None:
            return "notLoaded"
        if subscriber not in thread.subscribers:
            return "notSubscribed"
        thread.subscribers.discard(subscriber)
        self._close_if_idle(thread)
        return "unsubscribed"

    def drop_subscriber(self, subscriber: object) -> None:
        """A connection ended: it unsubscribes from every thread it followed."""
        for thread in list(self._threads.values()):
            if subscriber in thread.subscribers:
                thread.subscribers.discard(subscriber)
                self._close_if_idle(thread)

    def _close_if_idle(self, thread: LoadedThread) -> None:
        """Unload a thread nobody follows and announce `thread/closed`; with a turn running, only
        once the turn ends (its history and servers are still in use)."""
        if thread.subscribers or self._threads.get(thread.live.id) is not thread:
            return
        if _running(thread):
            thread.released = True
            return
        self._unload(thread)
        self._events.publish(ThreadClosedNotification(thread_id=thread.live.id))

    def _unload(self, thread: LoadedThread) -> None:
        """Drop a loaded thread from this daemon and from the store's live ones; close its cell."""
        self._threads.pop(thread.live.id, None)
        self.store.unload(thread.live.id)
        if thread.cell is not None:
            self._planner().close(thread.cell)
            thread.cell = None

    # ---- turns ---------------------------------------------------------------------------

    async def start_turn(self, params: TurnStartParams, ask: AskClient) -> Turn:
        """Record a new turn and run it in the background; the runner announces it (`turn/started`).

        Waits for the MCP layer: every step leases the thread's runtime. The runner task is only
        scheduled here: it first runs once the caller yields, which the request path does only
        after its reply is queued, so `turn/started` follows the response.

        Returns the wire Turn. Raises InvalidParams when the thread does not exist, is archived,
        already has a running turn or its servers cannot be planned, ConfigError/InvalidParams when the model
        provider is not configured.
        """
        from app_server.threads.step import TurnScope
        from app_server.threads.turns import TurnRunner, UserTurnInput
        from app_server.threads.user_input import recorded_content

        changes = turn_changes(params)
        await self._attached.wait()
        thread = self._threads.get(params.thread_id)
        if thread is None:
            stored, _loaded = await self.store.history(params.thread_id)
            _refuse_archived(stored.header)  # before loading: an archived thread starts no MCP server
            thread = await self._load_stored(params.thread_id)
        _refuse_archived(thread.live.settings)
        if _running(thread):
            raise InvalidParams(f"thread {quoted(params.thread_id)} already has a turn in progress")
        cwd = changes.cwd if changes.cwd is not None else thread.live.settings.cwd
        recorded_input = await recorded_content(params.input, cwd)
        await self._change(thread, changes)
        cell = self.cell(params.thread_id)
        settings = thread.live.settings
        model = self._model_clients(settings)
        config = self._configs.for_thread(settings.config)
        turn = await thread.live.start_turn(root_turn_id=params.root_turn_id)
        scope = TurnScope(
            thread=thread.live,
            turn_id=turn.id,
            events=self._events,
            model=model,
            model_name=model_of(settings),
            instructions=settings.base_instructions or DEFAULT_INSTRUCTIONS,
            developer_instructions=settings.developer_instructions,
            approval_policy=settings.approval_policy or DEFAULT_APPROVAL_POLICY,
            # Approvals and MCP elicitations alike wait on the user's permission, as in Codex.
            ask=waiting_while_asked(ask, thread.live.activity, "waitingOnApproval", self._events.publish),
            approvals=thread.approvals,
            startup_grace=config.mcp_startup_grace_sec,
            tool_output_max_chars=config.tool_output_max_chars,
            tool_search_threshold=config.tool_search_threshold,
        )
        user_input = UserTurnInput(params.input, recorded_input, params.client_user_message_id)
        runner = thread.runner = TurnRunner(scope, cell, user_input, turn)
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
                if thread.released:
                    self._close_if_idle(thread)

    def interrupt(self, thread_id: str, turn_id: str) -> None:
        """Interrupt the running turn; raises InvalidParams when it is not the running one."""
        self._running_turn(thread_id, turn_id).interrupt()

    async def steer(self, params: TurnSteerParams) -> str:
        """Add input to the running turn (its next model request carries it); returns the turn's id.

        Raises InvalidParams, with nothing recorded, when the thread is not loaded, no turn runs,
        `expectedTurnId` is not the running one, or a local image cannot be read.
        """
        from app_server.threads.turns import UserTurnInput
        from app_server.threads.user_input import recorded_content

        if not params.input:
            raise InvalidParams("input must not be empty")
        runner = self._running_turn(params.thread_id, params.expected_turn_id)
        recorded = await recorded_content(params.input, self.get(params.thread_id).live.settings.cwd)
        # Checked again: the turn may have ended while the images were read.
        if self._running_turn(params.thread_id, params.expected_turn_id) is not runner:
            raise InvalidParams(f"no turn is running in thread {quoted(params.thread_id)}")
        runner.steer(UserTurnInput(params.input, recorded, params.client_user_message_id))
        return runner.turn_id

    def _running_turn(self, thread_id: str, turn_id: str) -> TurnRunner:
        """The thread's running turn, which must be `turn_id`; raises InvalidParams otherwise."""
        runner = self.get(thread_id).runner
        if runner is None or runner.done.is_set():
            raise InvalidParams(f"no turn is running in thread {quoted(thread_id)}")
        if runner.turn_id != turn_id:
            raise InvalidParams(
                f"turn {quoted(turn_id)} is not the running turn of thread {quoted(thread_id)}"
                f" (that is {quoted(runner.turn_id)})"
            )
        return runner


def _refuse_archived(settings: ThreadHeader) -> None:
    """Raises InvalidParams for an archived thread: it runs no turn until unarchived."""
    if settings.archived:
        raise InvalidParams(f"thread {quoted(settings.id)} is archived: unarchive it to run a turn")


def _running(thread: LoadedThread) -> bool:
    """Whether a turn runs (a finished runner may still be closing its model client: its turn is
    already completed)."""
    return thread.runner is not None and not thread.runner.done.is_set()


def _context(cwd: str) -> RuntimeContext:
    """What a thread's MCP servers run in (built only once the MCP layer, which defines it, is up)."""
    from app_server.mcp.client import RuntimeContext

    return RuntimeContext(cwd=Path(cwd))


def _overrides_after(live: LiveThread, changes: ThreadChanges) -> Mapping[str, Any] | None:
    """The thread's config overrides once `changes` apply."""
    return changes.config if "config" in changes.model_fields_set else live.settings.config
