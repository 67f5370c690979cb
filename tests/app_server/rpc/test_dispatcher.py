"""The method table: a handler's module is imported on first lookup; plain functions are immediate."""

from __future__ import annotations

import sys
from typing import Any, cast

import anyio
import pytest

from app_server.errors import InvalidParams
from app_server.rpc.dispatcher import MethodTable, ParamsReader, RequestContext

LAZY_MODULE = "tests.app_server.rpc.lazy_methods"
HANDLERS = {"lazy/echo": f"{LAZY_MODULE}:echo", "lazy/now": f"{LAZY_MODULE}:read_now"}
NO_CONTEXT = cast(RequestContext[Any], None)


def takes_nothing(_method: str) -> ParamsReader:
    def read(raw: dict[str, Any]) -> None:
        assert raw == {}

    return read


def test_a_handlers_module_is_imported_on_its_methods_first_lookup_only() -> None:
    sys.modules.pop(LAZY_MODULE, None)
    table = MethodTable[Any](HANDLERS, read_params=takes_nothing)
    assert LAZY_MODULE not in sys.modules
    assert table.get("no/such") is None
    assert LAZY_MODULE not in sys.modules
    spec = table.get("lazy/echo")
    assert spec is not None
    assert spec.method == "lazy/echo"
    assert LAZY_MODULE in sys.modules
    assert table.get("lazy/echo") is spec


def test_plain_function_handlers_are_immediate_and_coroutine_handlers_are_not() -> None:
    table = MethodTable[Any](HANDLERS, read_params=takes_nothing)
    now, later = table.get("lazy/now"), table.get("lazy/echo")

    assert now is not None and now.immediate
    assert later is not None and not later.immediate
    assert now.call_now(NO_CONTEXT, None) == {"now": True}
    assert anyio.run(later.call, NO_CONTEXT, {}) == "lazy"


def test_params_are_read_by_the_methods_reader_and_absent_params_read_as_an_empty_object() -> None:
    read: list[tuple[str, dict[str, Any]]] = []

    def recording(method: str) -> ParamsReader:
        return lambda raw: read.append((method, raw))

    spec = MethodTable[Any](HANDLERS, read_params=recording).get("lazy/now")
    assert spec is not None
    spec.parse_params(None)
    spec.parse_params({"a": 1})
    assert read == [("lazy/now", {}), ("lazy/now", {"a": 1})]
    with pytest.raises(InvalidParams, match="must be an object"):
        spec.parse_params([1])
