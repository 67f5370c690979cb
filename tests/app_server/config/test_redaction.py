"""Secrets out of raw config trees: map values, client secrets and credentials in URLs."""

from __future__ import annotations

import copy

from app_server.config.redaction import redact_tree
from app_server.config.servers import REDACTED


def test_secret_values_are_replaced_their_names_kept_and_the_input_left_alone() -> None:
    tree = {
        "model": "m",
        "mcp_servers": {
            "docs": {"command": "x", "env": {"TOKEN": "t"}, "env_vars": ["HOME"]},
            "web": {"url": "https://a:b@example.test/mcp", "oauth": {"client_id": "c", "client_secret": "s"}},
        },
        "model_providers": {"p": {"base_url": "https://example.test/v1", "query_params": {"k": "v"}}},
    }
    original = copy.deepcopy(tree)

    redacted = redact_tree(tree)

    assert tree == original
    assert redacted == {
        "model": "m",
        "mcp_servers": {
            "docs": {"command": "x", "env": {"TOKEN": REDACTED}, "env_vars": ["HOME"]},
            "web": {"url": REDACTED, "oauth": {"client_id": "c", "client_secret": REDACTED}},
        },
        "model_providers": {"p": {"base_url": "https://example.test/v1", "query_params": {"k": REDACTED}}},
    }


def test_secrets_outside_server_and_provider_tables_are_not_guessed_at() -> None:
    tree = {"mcp_servers": "not a table", "env": {"TOKEN": "t"}, "model_providers": {"p": 3}}

    assert redact_tree(tree) == tree
