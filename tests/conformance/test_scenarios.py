"""The official MCP conformance suite's client scenarios, each run against the host: the real daemon
driven by the front-end stand-in (client.py). A scenario passes with no failed check, no warning and
the stand-in's exit status 0 (the suite's own verdict).

Scenarios outside an IDE host's scope are listed with their reasons in expected_failures.toml and
must fail. `PENDING` (below) is temporary: scenarios that fail until a feature of issue 17 lands.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.tools import ROOT, Tools

SUITE_TIMEOUT_MS = 60_000
"""The suite's bound on one run of the stand-in (which bounds itself below it)."""
RUN_TIMEOUT = 90.0
"""Bound on one `conformance client` run, scenario servers included."""

CLIENT_SCENARIOS = [
    "initialize",
    "tools_call",
    "elicitation-sep1034-client-defaults",
    "sse-retry",
    "auth/metadata-default",
    "auth/metadata-var1",
    "auth/metadata-var2",
    "auth/metadata-var3",
    "auth/basic-cimd",
    "auth/scope-from-www-authenticate",
    "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/token-endpoint-auth-basic",
    "auth/token-endpoint-auth-post",
    "auth/token-endpoint-auth-none",
    "auth/pre-registration",
    "auth/2025-03-26-oauth-metadata-backcompat",
    "auth/2025-03-26-oauth-endpoint-fallback",
    "auth/resource-mismatch",
    "auth/offline-access-scope",
    "auth/offline-access-not-supported",
    "auth/client-credentials-jwt",
    "auth/client-credentials-basic",
    "auth/cross-app-access-complete-flow",
]
"""Every client scenario of the pinned suite (`conformance list --client`), in its order."""

OUT_OF_SCOPE: dict[str, str] = {
    name: entry["reason"]
    for name, entry in tomllib.loads((Path(__file__).with_name("expected_failures.toml")).read_text()).items()
}

PENDING: dict[str, str] = {
    # TEMPORARY, not part of the expected failures: each entry goes when its feature lands.
}


def scenario_params() -> list[Any]:
    params = []
    for name in CLIENT_SCENARIOS:
        reason = OUT_OF_SCOPE.get(name) or PENDING.get(name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@dataclass
class Outcome:
    """One `conformance client --scenario` run: the suite's exit status and output, its checks and
    the stand-in's own account (stderr.txt)."""

    returncode: int
    output: str
    checks: list[dict[str, Any]]
    stand_in: str

    @property
    def problems(self) -> list[str]:
        return [
            f"{check['status']} {check['id']}: {check.get('errorMessage') or check.get('description')}"
            for check in self.checks
            if check["status"] in ("FAILURE", "WARNING")
        ]

    def report(self) -> str:
        verdict = next((line for line in self.output.splitlines() if "Passed:" in line), self.output[-2000:])
        return "\n".join([verdict, *self.problems, "stand-in:", self.stand_in])


def run_scenario(tools: Tools, scenario: str, results: Path) -> Outcome:
    command = f"{sys.executable} -m tests.conformance.client"
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        tools.conformance(
            "client",
            "--command",
            command,
            "--scenario",
            scenario,
            "--timeout",
            str(SUITE_TIMEOUT_MS),
            "--output-dir",
            str(results),
        ),
        cwd=ROOT,
        env={**os.environ, "PATH": tools.path_env, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    (checks_file,) = results.glob("**/checks.json")
    stderr_file = checks_file.with_name("stderr.txt")
    stand_in = stderr_file.read_text() if stderr_file.exists() else ""
    account = "\n".join(line for line in stand_in.splitlines() if line.startswith("[stand-in]"))
    return Outcome(done.returncode, done.stdout + done.stderr, json.loads(checks_file.read_text()), account)


def test_the_scenarios_here_are_every_client_scenario_of_the_suite(third_party: Tools) -> None:
    listed = subprocess.run(
        third_party.conformance("list", "--client"), capture_output=True, text=True, timeout=60, check=True
    )
    names = re.findall(r"^\s+- (\S+)", listed.stdout, re.MULTILINE)

    assert names == CLIENT_SCENARIOS
    assert set(OUT_OF_SCOPE) <= set(CLIENT_SCENARIOS)
    assert set(PENDING) <= set(CLIENT_SCENARIOS) - set(OUT_OF_SCOPE)


@pytest.mark.parametrize("scenario", scenario_params())
def test_scenario_passes_with_no_failure_and_no_warning(
    third_party: Tools, scenario: str, tmp_path: Path
) -> None:
    outcome = run_scenario(third_party, scenario, tmp_path)

    assert outcome.checks, outcome.report()
    assert outcome.problems == [], outcome.report()
    assert outcome.returncode == 0, outcome.report()
