"""Helpers shared by the service tests: ready-made apps and a test client that checks every answer
against the app's own OpenAPI document (so the spec cannot drift from the real behaviour).

No tests here; the fixtures live in each test module, flaskr style, and call these helpers.
"""

from __future__ import annotations

import threading

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from model.analyzer import Analyzer
from service.app import create_app, service_state
from service.openapi import build_spec

READY_TIMEOUT = 300  # seconds; the first load in a session imports torch and spaCy


class SpecMismatchError(AssertionError):
    """A response the OpenAPI document does not describe."""


def pointer(*parts: str) -> str:
    """A JSON pointer fragment from raw keys (``/`` and ``~`` escaped)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def check_response(spec: dict, method: str, path: str, status: int, mimetype: str, body) -> None:
    """Raise ``SpecMismatchError`` unless the spec documents this answer and ``body`` fits its schema."""
    operation = spec["paths"].get(path, {}).get(method.lower())
    if operation is None:
        if method in ("HEAD", "OPTIONS"):
            return  # answered by Flask itself, not documented operations
        if status not in (404, 405):
            raise SpecMismatchError(f"{method} {path} answered {status} but is not in the spec")
        location = pointer("components", "schemas", "Error")
    else:
        if str(status) not in operation["responses"]:
            raise SpecMismatchError(f"{method} {path}: status {status} not documented")
        content = operation["responses"][str(status)].get("content", {})
        if mimetype not in content:
            raise SpecMismatchError(f"{method} {path} {status}: content type {mimetype} not documented")
        if mimetype != "application/json":
            return
        location = pointer("paths", path, method.lower(), "responses", str(status), "content", mimetype, "schema")
    registry = Registry().with_resource("urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"urn:spec#{location}"}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=str)
    if errors:
        raise SpecMismatchError(f"{method} {path} {status}: {errors[0].message} at {list(errors[0].absolute_path)}")


class SpecCheckingClient(FlaskClient):
    """A test client whose every response must match the app's OpenAPI document."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        spec = build_spec(service_state(self.application).settings)
        request = response.request
        body = response.get_json(silent=True) if response.mimetype == "application/json" else None
        check_response(spec, request.method, request.path, response.status_code, response.mimetype, body)
        return response


def ready_app(settings, timeout: float = READY_TIMEOUT, **kwargs) -> Flask:
    """An app whose model has finished loading (asserted ready)."""
    app = create_app(settings, **kwargs)
    app.config["TESTING"] = True
    app.test_client_class = SpecCheckingClient
    assert service_state(app).model.wait(timeout), service_state(app).model.error
    return app


class Gate:
    """A loader that waits until ``open()`` is called, to observe the service before the model is ready."""

    def __init__(self, fail: Exception | None = None):
        self._event = threading.Event()
        self.fail = fail
        self.calls = 0

    def open(self) -> None:
        """Let the load proceed."""
        self._event.set()

    def __call__(self, settings):
        self.calls += 1
        assert self._event.wait(READY_TIMEOUT)
        if self.fail is not None:
            raise self.fail
        return Analyzer.load(settings.model_dir, settings)


class SpyAnalyzer:
    """Wraps a real analyser: records each ``predict`` batch and can be told to fail."""

    def __init__(self, analyzer: Analyzer):
        self._analyzer = analyzer
        self.batches: list[list[str]] = []
        self.fail_with: Exception | None = None

    def __getattr__(self, name):
        return getattr(self._analyzer, name)

    def predict(self, texts, evidence=True):
        """Record the batch, then tag it (or raise ``fail_with``)."""
        self.batches.append(list(texts))
        if self.fail_with is not None:
            raise self.fail_with
        return self._analyzer.predict(texts, evidence=evidence)
