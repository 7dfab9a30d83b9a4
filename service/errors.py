"""Every error the service answers is JSON: ``{"error": {"code", "message", "index"?, "request_id"}}``.

``model.errors`` classes and werkzeug's HTTP exceptions are mapped here to a status and a stable ``code``.
"""

from __future__ import annotations

import logging
from types import MappingProxyType

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from model.errors import InputError, ModelNotReadyError, PayloadTooLargeError
from service.observability import current_request_id

log = logging.getLogger(__name__)

# InputError codes that are not 422 (Unprocessable Content): the request could not even be read as JSON.
STATUS_BY_INPUT_CODE = MappingProxyType(
    {
        "malformed_json": 400,
        "invalid_encoding": 400,
        "unsupported_media_type": 415,
        "payload_too_large": 413,
    }
)

CODE_BY_HTTP_STATUS = MappingProxyType(
    {
        400: "bad_request",
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
    }
)

# Every code the service can answer with; the OpenAPI spec lists them.
ERROR_CODES = (
    "bad_request",
    "malformed_json",
    "invalid_encoding",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "unsupported_media_type",
    "invalid_type",
    "missing_field",
    "unknown_field",
    "empty_batch",
    "empty_text",
    "invalid_text",
    "text_too_long",
    "duplicate_id",
    "invalid_input",
    "model_not_ready",
    "model_load_failed",
    "internal_error",
)


def error_response(status: int, code: str, message: str, index: int | None = None, headers=None):
    """The JSON error response; also records the code for the access log and the metrics."""
    error = {"code": code, "message": message}
    if index is not None:
        error["index"] = index
    error["request_id"] = current_request_id()
    g.error_code = code
    response = jsonify({"error": error})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_input_error(exc: InputError):
    """Client input that cannot be used: 400, 413, 415 or 422 depending on its code."""
    if isinstance(exc, PayloadTooLargeError):
        return error_response(413, "payload_too_large", str(exc), exc.index)
    status = STATUS_BY_INPUT_CODE.get(exc.code, 422)
    return error_response(status, exc.code, str(exc), exc.index)


def handle_not_ready(exc: ModelNotReadyError):
    """503 while the model loads, or for good when its load failed (the cause says why)."""
    code = "model_load_failed" if exc.__cause__ is not None else "model_not_ready"
    headers = {} if exc.__cause__ is not None else {"Retry-After": "1"}
    return error_response(503, code, str(exc), headers=headers)


def handle_http_exception(exc: HTTPException):
    """Routing and protocol errors raised by werkzeug (404, 405, 413 ...), as JSON."""
    status = exc.code or 500
    code = CODE_BY_HTTP_STATUS.get(status, "bad_request" if status < 500 else "internal_error")
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return error_response(status, code, _http_message(status, exc), headers=headers)


def _http_message(status: int, exc: HTTPException) -> str:
    if status == 404:
        return "no such endpoint; see /docs or /openapi.json"
    if status == 405:
        return f"method not allowed here; allowed: {', '.join(sorted(getattr(exc, 'valid_methods', None) or []))}"
    if status == 413:
        from service.app import service_state  # not at import time: service.app imports this module

        return f"request body exceeds the limit of {service_state().settings.max_body_bytes} bytes"
    return exc.description or exc.name


def handle_unexpected(exc: Exception):
    """Anything else: logged with the request id and traceback, answered 500 without details."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error in request %s", current_request_id())
    return error_response(500, "internal_error", "internal error; quote the request_id when reporting it")


def register_error_handlers(app: Flask) -> None:
    """Install the JSON error handlers on ``app``."""
    app.register_error_handler(InputError, handle_input_error)
    app.register_error_handler(ModelNotReadyError, handle_not_ready)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
