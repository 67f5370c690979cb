"""The method table: a handler for each registry request, imported on first use, params read as declared."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app_server.errors import InvalidParams
from app_server.handlers import HANDLERS, method_table
from protocol.initialize import InitializeParams
from protocol.registry import REQUESTS


def test_every_registry_request_has_a_handler_and_every_handler_a_registry_request() -> None:
    assert sorted(set(REQUESTS) - set(HANDLERS)) == []
    assert sorted(set(HANDLERS) - set(REQUESTS)) == []


def test_every_handler_reference_resolves_to_its_function() -> None:
    table = method_table()
    for method, reference in HANDLERS.items():
        spec = table.get(method)
        assert spec is not None, method
        assert f"{spec.handler.__module__}:{spec.handler.__name__}" == f"app_server.handlers.{reference}"


@pytest.mark.parametrize(
    "method", [m for m, spec in REQUESTS.items() if spec.params_ref and m != "initialize"]
)
def test_params_are_read_by_the_registrys_reader(method: str) -> None:
    spec = method_table().get(method)
    assert spec is not None
    assert spec.read_params == REQUESTS[method].parse_params


@pytest.mark.parametrize("method", [m for m, spec in REQUESTS.items() if spec.params_ref is None])
def test_a_method_whose_registry_params_are_null_takes_absent_null_or_empty_params_only(method: str) -> None:
    spec = method_table().get(method)
    assert spec is not None
    assert spec.parse_params(None) is None
    assert spec.parse_params({}) is None
    with pytest.raises(InvalidParams, match="takes no params"):
        spec.parse_params({"x": 1})


def test_initialize_reads_its_hand_written_model_without_pydantic_or_the_other_handlers() -> None:
    spec = method_table().get("initialize")
    assert spec is not None
    assert spec.read_params == InitializeParams.model_validate
    probe = (
        "import sys; from app_server.handlers import method_table; "
        "method_table().get('initialize').parse_params({'clientInfo': {'name': 'c', 'version': '1'}}); "
        "print(sorted(m for m in sys.modules if m.startswith('app_server.handlers.')), "
        "'pydantic' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert loaded.strip() == "['app_server.handlers.initialize'] False"
