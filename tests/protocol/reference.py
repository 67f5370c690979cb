"""Reads the shared protocol reference (REFERENCE.md): its method lists and its type field lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REFERENCE_PATH = Path(__file__).resolve().parents[3] / "shared/protocol/REFERENCE.md"

_METHOD = re.compile(r"^- `(?P<method>[^`]+)` — params `(?P<params>[^`]+)`(?:, result `(?P<result>[^`]+)`)?")
_TYPE_HEADER = re.compile(r"^\*\*(?P<name>\w+)\*\*")
_FIELD = re.compile(r"^  - `(?P<name>[^`?]+)(?P<optional>\?)?`: (?P<type>.+?)(?: — .*)?$")


@dataclass(frozen=True)
class ReferenceMethod:
    name: str
    params: str
    result: str | None


@dataclass(frozen=True)
class ReferenceField:
    name: str
    optional: bool
    nullable: bool
    any_json: bool = False
    """Typed plain `JSON`, whose values include null: written as null or omitted, both are faithful."""


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


def reference_type_fields() -> dict[str, list[ReferenceField]]:
    """Every `**Type**` block that lists fields, by type name."""
    types: dict[str, list[ReferenceField]] = {}
    current: list[ReferenceField] | None = None
    for line in reference_text().splitlines():
        if header := _TYPE_HEADER.match(line):
            current = types.setdefault(header["name"], [])
        elif current is not None and (field := _FIELD.match(line)):
            nullable = "| null" in field["type"]
            any_json = field["type"].strip() == "JSON"
            current.append(ReferenceField(field["name"], field["optional"] is not None, nullable, any_json))
    return {name: fields for name, fields in types.items() if fields}
