"""The method table: lazy registration keeps a resource's module unimported until first use."""

from __future__ import annotations

import sys
from typing import cast

from app_server.rpc.dispatcher import MethodTable, RequestContext

LAZY_MODULE = "tests.app_server.rpc.lazy_methods"


def test_a_lazily_added_module_is_imported_on_first_lookup_only() -> None:
    sys.modules.pop(LAZY_MODULE, None)
    table = MethodTable()
    table.add_lazy(["lazy/echo"], LAZY_MODULE)
    assert LAZY_MODULE not in sys.modules
    assert table.get("no/such") is None
    assert LAZY_MODULE not in sys.modules
    spec = table.get("lazy/echo")
    assert spec is not None
    assert spec.method == "lazy/echo"
    assert LAZY_MODULE in sys.modules


def test_plain_function_handlers_are_immediate_and_coroutine_handlers_are_not() -> None:
    def read_now(ctx: object, params: object) -> dict[str, bool]:
        return {"now": True}

    async def read_later(ctx: object, params: object) -> dict[str, bool]:
        return {"now": False}

    table = MethodTable()
    table.add("now", read_now, params=None)
    table.add("later", read_later, params=None)
    now, later = table.get("now"), table.get("later")

    assert now is not None and now.immediate
    assert later is not None and not later.immediate
    assert now.call_now(cast(RequestContext, None), None) == {"now": True}
