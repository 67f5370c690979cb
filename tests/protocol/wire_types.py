"""Finds protocol types by name across the model modules, and the models inside parsed values."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from protocol.base import WireModel

MODEL_MODULES = [
    "protocol.initialize",
    "protocol.policy",
    "protocol.items",
    "protocol.turns",
    "protocol.threads",
    "protocol.mcp",
    "protocol.views",
    "protocol.apps",
    "protocol.account",
    "protocol.notifications",
    "protocol.server_requests",
]


def public_names() -> dict[str, Any]:
    """Every public name the model modules define (classes and type aliases), by name."""
    names: dict[str, Any] = {}
    for module_name in MODEL_MODULES:
        module = importlib.import_module(module_name)
        names.update({name: value for name, value in vars(module).items() if not name.startswith("_")})
    return names


def wire_model_classes() -> dict[str, type[WireModel]]:
    """Every public WireModel subclass the model modules define, by name."""
    classes: dict[str, type[WireModel]] = {}
    for module_name in MODEL_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            is_model = isinstance(value, type) and issubclass(value, WireModel)
            if is_model and value.__module__ == module_name and not name.startswith("_"):
                classes[name] = value
    return classes


def models_in(value: object) -> Iterator[BaseModel]:
    """Every model instance inside a parsed value, depth first."""
    if isinstance(value, BaseModel):
        yield value
        for name in type(value).model_fields:
            yield from models_in(getattr(value, name))
    elif isinstance(value, list | tuple):
        for element in value:
            yield from models_in(element)
    elif isinstance(value, dict):
        for element in value.values():
            yield from models_in(element)
