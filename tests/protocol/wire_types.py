"""Finds protocol types by name across the model modules, and the models inside parsed values.

Two kinds of model: pydantic `WireModel`s, and the handshake's hand-written dataclasses (pydantic
stays off the path to the `initialize` reply) that offer the same `model_validate` / `to_wire`.
"""

from __future__ import annotations

import dataclasses
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
    "protocol.thread_admin",
    "protocol.thread_pages",
    "protocol.mcp",
    "protocol.views",
    "protocol.apps",
    "protocol.account",
    "protocol.models",
    "protocol.config",
    "protocol.config_write",
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


HANDSHAKE_MODULE = "protocol.initialize"


def handshake_model_classes() -> dict[str, type[Any]]:
    """Every public hand-written (dataclass) model of the handshake module, by name."""
    module = importlib.import_module(HANDSHAKE_MODULE)
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and dataclasses.is_dataclass(value)
        and value.__module__ == HANDSHAKE_MODULE
        and not name.startswith("_")
    }


def is_handshake_model(value: object) -> bool:
    """True for a hand-written handshake model class or instance."""
    cls = value if isinstance(value, type) else type(value)
    return cls in handshake_model_classes().values()


def models_in(value: object) -> Iterator[object]:
    """Every model instance (WireModel or handshake dataclass) inside a parsed value, depth first."""
    if isinstance(value, BaseModel):
        yield value
        for name in type(value).model_fields:
            yield from models_in(getattr(value, name))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type) and is_handshake_model(value):
        yield value
        for field in dataclasses.fields(value):
            yield from models_in(getattr(value, field.name))
    elif isinstance(value, list | tuple):
        for element in value:
            yield from models_in(element)
    elif isinstance(value, dict):
        for element in value.values():
            yield from models_in(element)
