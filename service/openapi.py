"""The OpenAPI 3.1 description of the service, built from the live settings, and the ``/docs`` page.

The request schemas are deliberately no stricter than the server: every body they reject, the server
rejects too. The server checks more than a schema can say (duplicate ids, blank or invalid text).
"""

from __future__ import annotations

from flask import Blueprint, Response

from model.labels import POLARITIES, SENTIMENTS, VALUE_IDS
from model.settings import Settings
from service.app import service_state
from service.docs_page import render_docs
from service.errors import ERROR_CODES
from service.validation import PARAMETER_DEFAULTS

docs = Blueprint("docs", __name__)

JSON = "application/json"
STRING = {"type": "string"}
RESULT_FIELDS = (
    "id", "values", "value_scores", "value_polarity", "sentiment", "sentiment_scores",
    "needs_review", "evidence", "model_version", "truncated",
)  # fmt: skip


def _object(properties: dict, required=(), **extra) -> dict:
    """A closed object schema (no undocumented fields)."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _scores(names, required: bool) -> dict:
    return _object({n: {"type": "number", "minimum": 0, "maximum": 1} for n in names}, names if required else ())


def request_schemas(settings: Settings) -> dict:
    """Schemas of the predict request."""
    text = {
        "type": "string",
        "minLength": 1,
        "description": (
            f"Feedback text, not blank. Over {settings.max_chars} characters it is cut to that length and "
            "flagged (truncated: true) when truncation is on, else rejected with 422 text_too_long."
        ),
    }
    batch = {"type": "array", "minItems": 1, "maxItems": settings.max_batch}
    flag = {
        "return_all_scores": "false: value_scores holds only the selected values.",
        "evidence": "Quote, per selected value, the sentence that shows it best (false: evidence is {}).",
        "truncate": f"Cut texts over {settings.max_chars} characters instead of rejecting them.",
    }
    defaults = {**PARAMETER_DEFAULTS, "truncate": settings.truncate_long_texts}
    inputs = {
        "oneOf": [text, {**batch, "items": text}, {**batch, "items": _ref("InputItem")}],
        "description": f"One text, or up to {settings.max_batch} texts or {{id, text}} objects (one form per batch).",
    }
    id_schema = {"type": ["string", "null"], "minLength": 1, "description": "Unique in the batch; null means none."}
    return {
        "PredictRequest": _object({"inputs": inputs, "parameters": _ref("Parameters")}, ["inputs"]),
        "InputItem": _object({"id": id_schema, "text": text}, ["text"]),
        "Parameters": _object(
            {name: {"type": "boolean", "default": defaults[name], "description": doc} for name, doc in flag.items()}
        ),
    }


def response_schemas() -> dict:
    """Schemas of the answers."""
    model_ref = _object({"name": STRING, "version": STRING}, ["name", "version"])
    result = _object(
        {
            "id": {"type": ["string", "integer"], "description": "The input's id, else its index."},
            "values": {"type": "array", "items": {"enum": list(VALUE_IDS)}, "uniqueItems": True},
            "value_scores": _scores(VALUE_IDS, required=False),
            "value_polarity": _object({v: {"enum": list(POLARITIES)} for v in VALUE_IDS}),
            "sentiment": {"enum": list(SENTIMENTS)},
            "sentiment_scores": _scores(SENTIMENTS, required=True),
            "needs_review": {"type": "boolean"},
            "evidence": _object({v: STRING for v in VALUE_IDS}),
            "model_version": STRING,
            "truncated": {"type": "boolean", "description": "The text was cut to max_chars before tagging."},
        },
        RESULT_FIELDS,
    )
    indicator = _object({"id": STRING, "text_id": STRING, "text_en": STRING}, ["id", "text_id", "text_en"])
    value = _object(
        {
            "id": {"enum": list(VALUE_IDS)},
            "name_id": STRING,
            "name_en": STRING,
            "threshold": {"type": "number"},
            "indicators": {"type": "array", "items": indicator, "minItems": 3, "maxItems": 3},
        },
        ["id", "name_id", "name_en", "threshold", "indicators"],
    )
    nullable = {"type": ["string", "null"]}
    model_info = _object(
        {
            "name": STRING,
            "version": STRING,
            "format": {"type": "integer"},
            "created": nullable,
            "git_commit": nullable,
            "training_data_sha256": nullable,
            "encoder": {"type": "object", "required": ["name", "sha256", "prompt"]},
            "labels": {"type": ["object", "null"]},
            "thresholds": {"type": "object", "additionalProperties": {"type": "number"}},
            "review_threshold": {"type": ["number", "null"]},
            "params": {"type": ["object", "null"]},
            "libraries": {"type": ["object", "null"], "additionalProperties": STRING},
            "metrics": {"type": "object", "description": "Evaluation metrics per split, as in the manifest."},
        },
        ["name", "version", "encoder", "thresholds", "metrics"],
    )
    error = _object(
        {
            "code": {"enum": list(ERROR_CODES)},
            "message": STRING,
            "index": {"type": "integer", "minimum": 0, "description": "The first offending input."},
            "request_id": STRING,
        },
        ["code", "message", "request_id"],
    )
    return {
        "ModelRef": model_ref,
        "Result": result,
        "PredictResponse": _object(
            {"model": model_ref, "results": {"type": "array", "items": _ref("Result")}}, ["model", "results"]
        ),
        "Labels": _object(
            {
                "model": model_ref,
                "values": {"type": "array", "items": value, "minItems": 7, "maxItems": 7},
                "polarities": {"type": "array", "items": {"enum": list(POLARITIES)}},
                "sentiments": {"type": "array", "items": {"enum": list(SENTIMENTS)}},
                "review_threshold": {"type": "number"},
            },
            ["model", "values", "polarities", "sentiments", "review_threshold"],
        ),
        "ModelInfo": model_info,
        "Status": _object({"status": {"enum": ["alive", "ready"]}, "model": model_ref}, ["status"]),
        "Error": _object({"error": error}, ["error"]),
    }


def _operation(summary: str, responses: dict, protected: bool, body: dict | None = None) -> dict:
    operation = {"summary": summary, "responses": dict(responses)}
    if body is not None:
        operation["requestBody"] = body
    if protected:
        operation["security"] = [{"ApiKey": []}]
        operation["responses"]["401"] = _error("Missing or invalid X-API-Key (unauthorized).")
    operation["responses"]["500"] = _error("Unexpected error (internal_error); logged with the request_id.")
    return operation


def paths(settings: Settings) -> dict:
    """The path items, one per route of the app."""
    keys = bool(settings.api_keys)
    not_ready = _error("Model loading (model_not_ready, with Retry-After) or failed to load (model_load_failed).")
    predict_responses = {
        "200": _json(_ref("PredictResponse"), "One result per input, in input order."),
        "400": _error("Body is not JSON (malformed_json) or not UTF-8 (invalid_encoding)."),
        "413": _error(f"Body over {settings.max_body_bytes} bytes or over {settings.max_batch} inputs."),
        "415": _error("Content-Type is not application/json (unsupported_media_type)."),
        "422": _error("Input breaks the contract; error.index names the first offending input."),
        "503": not_ready,
    }
    text = {"text/plain": {"schema": STRING}}
    html = {"text/html": {"schema": STRING}}
    return {
        "/v1/predict": {
            "post": _operation(
                "Tag feedback texts (a batch is encoded as one batch)",
                predict_responses,
                keys,
                {"required": True, "content": {JSON: {"schema": _ref("PredictRequest")}}},
            )
        },
        "/v1/labels": {
            "get": _operation(
                "The seven values, their indicators (Indonesian text_id, English text_en) and current thresholds",
                {"200": _json(_ref("Labels"), "Label vocabulary."), "503": not_ready},
                keys,
            )
        },
        "/v1/model": {
            "get": _operation(
                "The loaded artifact: manifest summary and evaluation metrics",
                {"200": _json(_ref("ModelInfo"), "Model manifest summary."), "503": not_ready},
                keys,
            )
        },
        "/livez": {
            "get": _operation("Liveness: 200 while the worker runs", {"200": _json(_ref("Status"), "Alive.")}, False)
        },
        "/readyz": {
            "get": _operation(
                "Readiness: 200 once the model is loaded and warmed with one prediction",
                {"200": _json(_ref("Status"), "Ready."), "503": not_ready},
                False,
            )
        },
        "/metrics": {
            "get": _operation(
                "Prometheus metrics: per worker, or summed over workers in multiprocess mode (metrics_dir)",
                {"200": {"description": "Prometheus text format.", "content": text}},
                keys,
            )
        },
        "/openapi.json": {
            "get": _operation("This document", {"200": _json({"type": "object"}, "OpenAPI 3.1.")}, False)
        },
        "/docs": {
            "get": _operation(
                "This document as an HTML page", {"200": {"description": "HTML.", "content": html}}, False
            )
        },
    }


def build_spec(settings: Settings) -> dict:
    """The OpenAPI document for an app running with ``settings``."""
    spec = {
        "openapi": "3.1.0",
        "info": {
            "title": "BerAKHLAK feedback analyser",
            "version": "1",
            "description": (
                "Tags Indonesian citizen feedback on public services with the seven BerAKHLAK core values, "
                "their polarity and the text's sentiment. Every error is JSON "
                '{"error": {"code", "message", "index"?, "request_id"}}; unknown paths answer 404 (not_found) '
                "and wrong methods 405 (method_not_allowed). Every answer carries an X-Request-ID header "
                "(the caller's, when it sends a plain one of up to 128 characters)."
            ),
        },
        "paths": paths(settings),
        "components": {"schemas": {**request_schemas(settings), **response_schemas()}},
    }
    if settings.api_keys:
        spec["components"]["securitySchemes"] = {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
    return spec


@docs.get("/openapi.json")
def openapi_json():
    """The OpenAPI document."""
    return build_spec(service_state().settings)


@docs.get("/docs")
def docs_page():
    """The human-readable documentation."""
    return Response(render_docs(build_spec(service_state().settings)), content_type="text/html; charset=utf-8")
