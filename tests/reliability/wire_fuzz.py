"""Wire fuzz at the real stdio daemon: generated JSON-RPC, real methods with junk params, random bytes.

Messages go in batches (one hypothesis example each): every line of the batch is written at once,
then a probe request proves the daemon alive; the batch ends once the probe and every tracked
request are answered (a request that never is fails the wait). Every request this module
built carries a unique id and must be answered exactly once; every answer, to anything, must be
a well-formed JSON-RPC 2.0 response. Methods that reach the network or log in are left out
(turn/start would call the configured model, the login methods open flows); the rest run for real.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.harness import RecordingDaemon, dumps, running_daemon
from tests.support.daemon import BlockingDaemon, blocking
from tests.support.processes import rss

BATCH = 50
SAFE_METHODS = [
    "initialize",
    "thread/read",
    "thread/list",
    "turn/interrupt",
    "mcpServerStatus/list",
    "config/mcpServer/reload",
    "mcpServer/resource/read",
    "mcpServer/tool/call",
    "mcpServer/views/read",
    "app/list",
    "account/read",
]
FIELDS = ["threadId", "turnId", "cursor", "limit", "server", "tool", "uri", "arguments", "name", "detail"]
FIELDS += ["serverName", "includeTurns", "clientInfo", "capabilities", "_meta", "sortKey", "archived"]

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=16),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
PLAUSIBLE = st.sampled_from(["", "x", "fixture", "thr_0", "-1", "full", "fixture://info"]) | st.integers(
    -2, 2**40
)
PARAMS = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), PLAUSIBLE | JSON_VALUES, max_size=5)
PARAMS_ANY = PARAMS | JSON_VALUES
REQUEST = st.fixed_dictionaries(
    {"method": st.sampled_from(SAFE_METHODS) | st.text(max_size=12)},
    optional={"params": PARAMS_ANY, "jsonrpc": st.sampled_from(["2.0", "2.0", "1.0"])},
)
RAW_LINE = st.binary(max_size=120).filter(lambda data: b"\n" not in data)


@st.composite
def lines(draw: st.DrawFn) -> tuple[bytes, bool]:
    """One line to send, and whether it is a request this module tracks (its id is filled in later)."""
    kind = draw(st.integers(0, 9))
    if kind <= 4:
        return json.dumps(draw(REQUEST)).encode(), True
    if kind <= 6:
        return json.dumps(draw(JSON_VALUES)).encode(), False
    if kind == 7:
        batch = draw(st.lists(REQUEST | JSON_VALUES, min_size=1, max_size=4))
        return json.dumps(batch).encode(), False
    if kind == 8:
        # A valid request with bytes flipped: mostly parse errors, sometimes a different message.
        raw = bytearray(json.dumps(draw(REQUEST)).encode())
        for position in draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3)):
            raw[position] = draw(st.integers(0, 255))
        return bytes(raw).replace(b"\n", b" "), False
    return draw(RAW_LINE), False


@dataclass
class FuzzReport:
    sent: int = 0
    requests: int = 0
    answers: int = 0
    seconds: float = 0.0
    rss_before: int = 0
    rss_after: int = 0
    exit_code: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def messages_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def well_formed(message: Any) -> bool:
    """A JSON-RPC 2.0 response (or a non-empty batch of them)."""
    if isinstance(message, list):
        return bool(message) and all(well_formed(item) for item in message)
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or "id" not in message:
        return False
    if ("result" in message) == ("error" in message):
        return False
    error = message.get("error")
    return error is None or (
        isinstance(error, dict)
        and isinstance(error.get("code"), int)
        and isinstance(error.get("message"), str)
    )


class Fuzzer:
    """Drives one daemon from hypothesis' synchronous examples."""

    def __init__(self, daemon: BlockingDaemon[RecordingDaemon], report: FuzzReport) -> None:
        self.daemon = daemon
        self.report = report
        self.ids = count()

    def send_batch(self, batch: list[tuple[bytes, bool]]) -> None:
        payload = bytearray()
        tracked: set[str] = set()
        for line, is_request in batch:
            if is_request:
                request = json.loads(line)
                request["id"] = f"fz-{next(self.ids)}"
                tracked.add(request["id"])
                payload += json.dumps(request).encode() + b"\n"
            else:
                payload += line + b"\n"
        probe = f"probe-{next(self.ids)}"
        payload += dumps({"jsonrpc": "2.0", "id": probe, "method": "no/such/method"})
        self.daemon.send_raw(bytes(payload))
        self.report.sent += len(batch)
        self.report.requests += len(tracked)
        # Requests run concurrently, so the probe may be answered before slower requests are.
        probed = False
        while not probed or tracked:
            answer = self.daemon.next_message()
            if isinstance(answer, dict) and answer.get("id") == probe:
                probed = True
                continue
            self.report.answers += 1
            if not well_formed(answer):
                self.report.problems.append(f"malformed answer: {json.dumps(answer)[:200]}")
                continue
            for item in answer if isinstance(answer, list) else [answer]:
                if isinstance(item["id"], str) and item["id"].startswith("fz-"):
                    if item["id"] not in tracked:
                        self.report.problems.append(f"unexpected or repeated answer to {item['id']}")
                    tracked.discard(item["id"])

    def rss(self) -> int:
        return rss(self.daemon.daemon.process.pid)


def run_fuzz(home: Path, messages: int, *, warmup: int = 500) -> FuzzReport:
    """Fuzz a fresh daemon with `messages` generated lines (after `warmup` untimed ones)."""
    report = FuzzReport()
    with blocking(running_daemon(home, "--max-message-bytes", "65536")) as daemon:
        fuzzer = Fuzzer(daemon, report)
        _fuzz(fuzzer, warmup)
        report.rss_before = fuzzer.rss()
        report.sent = report.requests = report.answers = 0
        started = time.perf_counter()
        _fuzz(fuzzer, messages)
        report.seconds = time.perf_counter() - started
        report.rss_after = fuzzer.rss()
        daemon.close_stdin()
        report.exit_code = daemon.wait_exit()
    return report


def _fuzz(fuzzer: Fuzzer, messages: int) -> None:
    examples = max(1, messages // BATCH)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=st.lists(lines(), min_size=BATCH, max_size=BATCH))
    def one_batch(batch: list[tuple[bytes, bool]]) -> None:
        fuzzer.send_batch(batch)

    one_batch()
