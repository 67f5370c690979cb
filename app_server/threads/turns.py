"""A running turn: steps until the model stops calling tools, one lease per step, interruptible, steerable."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from app_server.errors import AppServerError, InvalidParams, quoted
from app_server.mcp.runtime import RuntimeCell
from app_server.threads.ids import new_id
from app_server.threads.records import FinalTurnStatus
from app_server.threads.step import TurnScope, run_step
from protocol.items import UserInput, UserMessageItem
from protocol.notifications import ErrorNotification, TurnCompletedNotification, TurnStartedNotification
from protocol.turns import Turn

logger = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = "turn interrupted"


@dataclass(frozen=True, slots=True)
class UserTurnInput:
    """One user message for a turn: the wire inputs, as `user_input.recorded_content` records them,
    and the `clientUserMessageId` kept on its userMessage."""

    inputs: Sequence[UserInput]
    recorded: list[dict[str, Any]]
    client_id: str | None = None


class TurnRunner:
    """Runs one turn of a thread. `interrupt()` cancels the model stream and in-flight MCP calls;
    `steer()` adds input that the turn's next model request carries."""

    def __init__(
        self,
        scope: TurnScope,
        cell: RuntimeCell,
        user_input: UserTurnInput,
        turn: Turn,
    ) -> None:
        self.scope = scope
        self._cell = cell
        self._input = user_input
        self._turn = turn
        self._steered: list[UserTurnInput] = []
        """Input steered in and not yet recorded: the next step records it before its request."""
        self._steerable = True
        """False from the moment the turn will make no more model requests."""
        self._cancel = anyio.CancelScope()
        self.done = anyio.Event()

    @property
    def turn_id(self) -> str:
        return self.scope.turn_id

    def interrupt(self) -> None:
        self._cancel.cancel()

    def steer(self, user_input: UserTurnInput) -> None:
        """Add input to the turn: its next model request carries it (and if the model was about to
        end the turn, one more request is made for it). Raises InvalidParams once the turn makes no
        more requests."""
        if not self._steerable:
            raise InvalidParams(f"turn {quoted(self.turn_id)} is ending and takes no more input")
        self._steered.append(user_input)

    async def run(self) -> None:
        """Run to the end and record how it ended; never raises (a failure is the turn's status)."""
        status: FinalTurnStatus = "completed"
        error: dict[str, str] | None = None
        try:
            with self._cancel:
                await self._run_steps()
            if self._cancel.cancelled_caught:
                status, error = "interrupted", {"message": INTERRUPTED_MESSAGE}
        except AppServerError as exc:
            status, error = "failed", {"message": exc.message}
        except Exception:
            logger.exception("turn %s failed", self.turn_id)
            status, error = "failed", {"message": "internal error while running the turn"}
        finally:
            self._steerable = False
            with anyio.CancelScope(shield=True):
                await self._record_steered_after_the_end()
                # The status first, so that it is cleared even if the turn's end cannot be recorded.
                self.scope.thread.activity.turn_ended(self.scope.events.publish, failed=status == "failed")
                turn = await self.scope.thread.complete_turn(self.turn_id, status, error)
                if status == "failed" and turn.error is not None:
                    # As Codex: the failure is also an `error` notification, before the turn ends.
                    self.scope.events.publish(
                        ErrorNotification(
                            thread_id=self.scope.thread.id,
                            turn_id=self.turn_id,
                            error=turn.error,
                            will_retry=False,
                        )
                    )
                self.scope.events.publish(
                    TurnCompletedNotification(thread_id=self.scope.thread.id, turn=turn)
                )
            self.done.set()

    async def _run_steps(self) -> None:
        self.scope.thread.activity.turn_started(self.scope.events.publish)
        self.scope.events.publish(TurnStartedNotification(thread_id=self.scope.thread.id, turn=self._turn))
        await self._record(self._input)
        while True:
            await self._record_steered()
            # The whole step, its calls included, runs on the runtime leased here.
            with self._cell.lease() as runtime:
                more = await run_step(self.scope, runtime)
            # No await between this check and the end: a steer is either seen here or refused.
            if not more and not self._steered:
                self._steerable = False
                return

    async def _record_steered(self) -> None:
        while self._steered:
            await self._record(self._steered.pop(0))

    async def _record_steered_after_the_end(self) -> None:
        """Input steered in while the turn was interrupted or failing still joins its history (the
        model sees it at the next turn); a failure to record it leaves the turn's end unharmed."""
        try:
            await self._record_steered()
        except Exception:
            logger.exception("input steered into turn %s was not recorded", self.turn_id)

    async def _record(self, user_input: UserTurnInput) -> None:
        """One userMessage item, recorded durably and announced (started, then completed)."""
        item = UserMessageItem(id=new_id(), client_id=user_input.client_id, content=list(user_input.inputs))
        recorded = {"content": user_input.recorded}
        await self.scope.start_item(item, recorded)
        await self.scope.complete_item(item, recorded)
