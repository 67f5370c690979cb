"""Stdio server processes: the environment a child gets."""

from __future__ import annotations

import pytest

from app_server.mcp.stdio.process import BASE_ENV_VARS, CA_BUNDLE_ENV_VARS, child_environment


def test_the_child_environment_is_an_allow_list_plus_env_vars_plus_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/ca.pem")
    monkeypatch.setenv("USER", "me")
    monkeypatch.setenv("EXTRA", "1")
    env = child_environment({"EXTRA": "override", "OWN": "x"}, ("EXTRA",))
    assert env["SSL_CERT_FILE"] == "/ca.pem" and env["EXTRA"] == "override" and env["OWN"] == "x"
    assert "USER" not in env
    assert set(env) <= {*BASE_ENV_VARS, *CA_BUNDLE_ENV_VARS, "EXTRA", "OWN"}
