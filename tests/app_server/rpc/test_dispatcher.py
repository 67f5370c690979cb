"""The method table: lazy registration keeps a resource's module unimported until first use."""

from __future__ import annotations

import sys

from app_server.rpc.dispatcher import MethodTable

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
