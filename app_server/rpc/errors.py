"""THE one place exceptions become JSON-RPC errors.

Domain errors (`app_server.errors`) go on the wire as they are; pydantic validation errors become
-32602 naming each field path (never pydantic's text or the input values); anything else is a bug:
logged with its traceback to stderr and answered -32603 "Internal error".
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from app_server.errors import AppServerError
from protocol import errors as codes

if TYPE_CHECKING:
    from pydantic import ValidationError

logger = logging.getLogger(__name__)

_MAX_LISTED_PROBLEMS = 10


def wire_error(exc: BaseException, *, method: str) -> tuple[int, str, Any]:
    """(code, message, data) for an exception raised while answering `method`."""
    leaf = _single_leaf(exc)
    if isinstance(leaf, AppServerError):
        return leaf.code, leaf.message, leaf.data
    validation_error = _as_validation_error(leaf)
    if validation_error is not None:
        return codes.INVALID_PARAMS, describe_validation_error(validation_error), None
    logger.error("internal error while answering %s", method, exc_info=exc)
    return codes.INTERNAL_ERROR, "Internal error", None


def describe_invalid_params(error: ValueError) -> str:
    """The -32602 message for params a model rejected (pydantic's or a hand-written `WireValueError`)."""
    validation_error = _as_validation_error(error)
    if validation_error is not None:
        return describe_validation_error(validation_error)
    return f"Invalid params: {error}"


def describe_validation_error(error: ValidationError) -> str:
    """A one-line summary naming each offending field path (`clientInfo.name: Field required`)."""
    problems = []
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        path = ".".join(str(part) for part in detail["loc"]) or "params"
        problems.append(f"{path}: {detail['msg']}")
    shown = "; ".join(problems[:_MAX_LISTED_PROBLEMS])
    more = len(problems) - _MAX_LISTED_PROBLEMS
    return f"Invalid params: {shown}" + (f" (and {more} more)" if more > 0 else "")


def _single_leaf(exc: BaseException) -> BaseException:
    """A task group wraps one failure in an exception group; unwrap exactly that case."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _as_validation_error(exc: BaseException) -> ValidationError | None:
    # pydantic is not imported on the handshake path; if it is not loaded, exc cannot be one of its errors.
    if "pydantic" not in sys.modules:
        return None
    from pydantic import ValidationError

    return exc if isinstance(exc, ValidationError) else None
