"""Reads the shared protocol reference (REFERENCE.md): its method lists.

Its type field lists are no longer checked: where they and Codex's generated TS bindings differ the
bindings win, and tests/protocol/test_wire_keys.py checks every model against those."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REFERENCE_PATH = Path(__file__).resolve().parents[3] / "shared/protocol/REFERENCE.md"

_METHOD = re.compile(r"^- `(?P<method>[^`]+)` — params `(?P<params>[^`]+)`(?:, result `(?P<result>[^`]+)`)?")


@dataclass(frozen=True)
class ReferenceMethod:
    name: str
    params: str
    result: str | None


def reference_text() -> str:
    """The reference's text; skips the calling test when the shared checkout is not beside this one."""
    if not REFERENCE_PATH.is_file():
        pytest.skip(
            f"protocol reference not found at {REFERENCE_PATH} (expected ../shared beside the checkout)"
        )
    return REFERENCE_PATH.read_text(encoding="utf-8")


def reference_methods(section_title: str) -> list[ReferenceMethod]:
    """The methods listed under the `## <section_title>` heading."""
    methods: list[ReferenceMethod] = []
    in_section = False
    for line in reference_text().splitlines():
        if line.startswith("## "):
            in_section = line[3:].strip() == section_title
        elif in_section and (match := _METHOD.match(line)):
            methods.append(ReferenceMethod(match["method"], match["params"], match["result"]))
    return methods
