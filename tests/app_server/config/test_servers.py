"""Server config models: redaction for the wire and logs, secrets out of reprs."""

from __future__ import annotations

from pydantic import SecretStr

from app_server.config.servers import REDACTED, HttpServerConfig, OAuthClientConfig, StdioServerConfig


def test_redacted_hides_env_and_header_values_but_keeps_their_names() -> None:
    stdio = StdioServerConfig(command="x", env={"TOKEN": "s3cret"}, env_vars=("HOME",))
    http = HttpServerConfig(
        url="http://h", http_headers={"Authorization": "Bearer s3cret"}, env_http_headers={"X-Key": "KEY_VAR"}
    )
    assert stdio.redacted()["env"] == {"TOKEN": REDACTED}
    assert stdio.redacted()["env_vars"] == ["HOME"]
    assert http.redacted()["http_headers"] == {"Authorization": REDACTED}
    assert http.redacted()["env_http_headers"] == {"X-Key": "KEY_VAR"}
    assert "s3cret" not in repr(stdio) + repr(http) + str(stdio.redacted()) + str(http.redacted())


def test_writes_is_an_approval_mode() -> None:
    assert (
        StdioServerConfig(command="x", default_tools_approval_mode="writes").default_tools_approval_mode
        == "writes"
    )


def test_a_pre_registered_client_secret_is_redacted_and_kept_out_of_reprs() -> None:
    http = HttpServerConfig(
        url="http://h", oauth=OAuthClientConfig(client_id="app-1", client_secret=SecretStr("s3cret"))
    )
    assert http.redacted()["oauth"] == {"client_id": "app-1", "client_secret": REDACTED}
    assert "s3cret" not in repr(http) + str(http.redacted()) + http.model_dump_json()
    assert HttpServerConfig(url="http://h", oauth=OAuthClientConfig(client_id="app-1")).redacted()[
        "oauth"
    ] == {
        "client_id": "app-1",
        "client_secret": None,
    }
