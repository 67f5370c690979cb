"""Reads the committed Codex key list (codex_wire_keys.json, from scripts/gen_wire_keys.py) and checks
JSON values against it: every required key of every TS type present, recursively, values of the kind
the binding says (null only where it allows null)."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

KEY_LIST_PATH = Path(__file__).resolve().parent / "codex_wire_keys.json"

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_wire_keys.py"


@cache
def load_generator() -> types.ModuleType:
    """scripts/ is not a package, so the generator is loaded from its file (once)."""
    spec = importlib.util.spec_from_file_location("gen_wire_keys", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_wire_keys"] = module
    spec.loader.exec_module(module)
    return module


Shape = Any
"""A type expression as the key list writes it (see scripts/gen_wire_keys.py)."""

_KINDS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bigint": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "unknown": lambda _v: True,
    "any": lambda _v: True,
    "undefined": lambda _v: False,
    "never": lambda _v: False,
}


@dataclass(frozen=True)
class Problem:
    """One way a value departs from its binding type."""

    path: str
    """Where in the value, e.g. `thread.turns[0].items[1]`."""
    type_name: str
    """The binding type (a tagged variant as `ThreadItem[type=mcpToolCall]`)."""
    detail: str

    def __str__(self) -> str:
        return f"{self.path or '(top)'}: {self.type_name}: {self.detail}"


def is_object(shape: Shape) -> bool:
    return isinstance(shape, dict) and "required" in shape


def tag_of(shape: Shape) -> tuple[str, Any] | None:
    """The first literal-typed key of an object shape (`("type", "mcpToolCall")`), if it has one."""
    if not is_object(shape):
        return None
    for key, value in shape["required"].items():
        if isinstance(value, dict) and "literal" in value:
            return key, value["literal"]
    return None


class KeyList:
    """The key list: the methods' binding types and every type reachable from them."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.types: dict[str, Shape] = {name: entry["shape"] for name, entry in data["types"].items()}

    def shape(self, name: str) -> Shape:
        return self.types[name]

    def sent_roots(self) -> list[str]:
        """The types we write: request results, notification params, server request params."""
        roots = [spec["result"] for spec in self.data["requests"].values()]
        roots += list(self.data["notifications"].values())
        roots += [spec["params"] for spec in self.data["serverRequests"].values()]
        return roots

    def received_roots(self) -> list[str]:
        """The types we read: request params, server request results."""
        roots = [spec["params"] for spec in self.data["requests"].values() if spec["params"]]
        roots += [spec["result"] for spec in self.data["serverRequests"].values()]
        return roots

    def reachable(self, roots: list[str]) -> set[str]:
        """Every type name reachable from `roots`, the roots included."""
        seen: set[str] = set()
        pending = list(roots)
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                pending.extend(load_generator().names_in(self.types[name]))
        return seen

    def problems(self, value: Any, type_name: str, path: str = "") -> list[Problem]:
        """Why `value` is not a `type_name` by the bindings (empty when it is)."""
        return self._check(value, type_name, path, type_name)

    def _check(self, value: Any, shape: Shape, path: str, label: str) -> list[Problem]:
        if isinstance(shape, str):
            if shape in _KINDS:
                ok = _KINDS[shape](value)
                return (
                    [] if ok else [Problem(path, label, f"{_describe(value)} where the binding has {shape}")]
                )
            return self._check(value, self.types[shape], path, shape)
        if "literal" in shape:
            ok = value == shape["literal"]
            return [] if ok else [Problem(path, label, f"{value!r:.60} is not {shape['literal']!r}")]
        if "array" in shape or "tuple" in shape:
            if not isinstance(value, list):
                return [Problem(path, label, f"{_describe(value)} where the binding has an array")]
            elements = [shape["array"]] * len(value) if "array" in shape else shape["tuple"]
            if len(elements) != len(value):
                return [Problem(path, label, f"{len(value)} elements where the binding has {len(elements)}")]
            return [
                problem
                for index, (element, element_shape) in enumerate(zip(value, elements, strict=True))
                for problem in self._check(element, element_shape, f"{path}[{index}]", label)
            ]
        if "map" in shape:
            if not isinstance(value, dict):
                return [Problem(path, label, f"{_describe(value)} where the binding has a map")]
            return [
                problem
                for key, element in value.items()
                for problem in self._check(element, shape["map"], _at(path, key), label)
            ]
        if "union" in shape:
            return self._check_union(value, shape["union"], path, label)
        return self._check_object(value, shape, path, label)

    def _check_object(self, value: Any, shape: Shape, path: str, label: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [Problem(path, label, f"{_describe(value)} where the binding has an object")]
        found = [
            Problem(path, label, f"lacks required key `{key}`")
            for key in shape["required"]
            if key not in value
        ]
        for keys in (shape["required"], shape["optional"]):
            for key, key_shape in keys.items():
                if key in value:
                    found += self._check(value[key], key_shape, _at(path, key), f"{label}.{key}")
        if "rest" in shape:  # an open object: every other key holds the rest type
            named = shape["required"].keys() | shape["optional"].keys()
            for key in value.keys() - named:
                found += self._check(value[key], shape["rest"], _at(path, key), label)
        return found

    def _check_union(self, value: Any, members: list[Shape], path: str, label: str) -> list[Problem]:
        attempts = []
        for member in members:
            found = self._check(value, member, path, self._variant_label(label, member))
            if not found:
                return []
            attempts.append((member, found))
        # Report against the variant the value meant to be: its tag matches, or it is the closest.
        tagged = [
            (member, found)
            for member, found in attempts
            if (tag := tag_of(self._resolved(member))) is not None
            and isinstance(value, dict)
            and value.get(tag[0]) == tag[1]
        ]
        if tagged:
            return min(tagged, key=lambda attempt: len(attempt[1]))[1]
        if any(tag_of(self._resolved(member)) for member in members) and isinstance(value, dict):
            return [Problem(path, label, f"no variant has this tag: {_describe(value)}")]
        objects = [attempt for attempt in attempts if is_object(self._resolved(attempt[0]))]
        if isinstance(value, dict) and objects:
            # the variant sharing the most keys with the value, then the one it misses least
            def closeness(attempt: tuple[Shape, list[Problem]]) -> tuple[int, int]:
                shared = set(self._resolved(attempt[0])["required"]) & set(value)
                return -len(shared), len(attempt[1])

            return min(objects, key=closeness)[1]
        return [Problem(path, label, f"{_describe(value)} fits none of its variants")]

    def _resolved(self, shape: Shape) -> Shape:
        while isinstance(shape, str) and shape in self.types:
            shape = self.types[shape]
        return shape

    def _variant_label(self, label: str, member: Shape) -> str:
        if isinstance(member, str) and member not in _KINDS:
            return member
        tag = tag_of(member)
        return f"{label}[{tag[0]}={tag[1]}]" if tag else label


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    return f"{type(value).__name__} {json.dumps(value)[:80]}"


@cache
def key_list() -> KeyList:
    """The committed key list."""
    return KeyList(json.loads(KEY_LIST_PATH.read_text(encoding="utf-8")))
