"""The error a model step raises when the provider cannot give an answer; its message is user-facing."""

from __future__ import annotations

from app_server.errors import RequestFailed


class ModelError(RequestFailed):
    """The model provider rejected the request, failed the response, or could not be reached.

    The message names the provider and, when helpful, the HTTP status and the provider's own short
    explanation; it never contains the API key or the provider's URL.
    """
