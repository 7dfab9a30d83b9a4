"""Bad-input fuzzing: hypothesis (random JSON, unicode with lone surrogates and NUL, raw bytes) and
schemathesis (cases generated from /openapi.json). The worker must never answer 500 to a client error.

Bounded: at most a few dozen examples per test and no deadline, about a minute in all.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from model.settings import Settings
from service.app import service_state
from service.openapi import build_spec
from tests.test_service_support import ready_app

pytestmark = pytest.mark.slow  # a minute of generated requests in all

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
CLIENT_ERRORS = {400, 413, 415, 422}
ANY_CHAR = st.characters(exclude_categories=())  # includes lone surrogates (Cs) and NUL
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(ANY_CHAR, max_size=20)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(ANY_CHAR, max_size=8), inner, max_size=5),
    max_leaves=20,
)
TEXTS = st.text(ANY_CHAR, min_size=0, max_size=60)
ITEMS = st.one_of(
    TEXTS,
    st.fixed_dictionaries({"text": TEXTS}, optional={"id": st.none() | st.text(ANY_CHAR, max_size=6) | JSON_LEAVES}),
    JSON_VALUES,
)
NEAR_VALID = st.fixed_dictionaries(
    {"inputs": st.one_of(TEXTS, st.lists(ITEMS, max_size=10), JSON_VALUES)},
    optional={
        "parameters": st.dictionaries(
            st.sampled_from(["return_all_scores", "evidence", "truncate", "top_k"]), JSON_LEAVES, max_size=4
        ),
        "extra": JSON_LEAVES,
    },
)
# Every documented operation, from a spec built without loading anything; negative cases need an input.
SPEC = build_spec(Settings())
OPERATIONS = [(path, method) for path, item in SPEC["paths"].items() for method in item]
SCHEMATHESIS_RUNS = [(path, method, "positive") for path, method in OPERATIONS] + [
    (path, method, "negative") for path, method in OPERATIONS if "requestBody" in SPEC["paths"][path][method]
]


@pytest.fixture(scope="module")
def app(tiny_settings, tiny_artifact):
    """One ready app for the whole module (hypothesis calls the test many times)."""
    return ready_app(tiny_settings.replace(model_dir=tiny_artifact, max_batch=16, max_chars=80))


@pytest.fixture
def client(app):
    """Test client of the shared app (no spec checking: the fuzzers do their own checks)."""
    return app.test_client()


def assert_handled(answer, n_inputs: int | None = None) -> None:
    """A 200 with one result per input, or a JSON client error; never a 5xx."""
    assert answer.status_code == 200 or answer.status_code in CLIENT_ERRORS, answer.get_data(as_text=True)
    body = answer.get_json()
    if answer.status_code == 200:
        if n_inputs is not None:
            assert len(body["results"]) == n_inputs
        return
    assert set(body) == {"error"}
    assert {"code", "message", "request_id"} <= set(body["error"])


@FUZZ
@given(body=st.one_of(JSON_VALUES, NEAR_VALID))
def test_random_json_bodies_never_crash_the_worker(client, body):
    answer = client.post("/v1/predict", data=json.dumps(body), content_type="application/json")
    assert_handled(answer)


@FUZZ
@given(texts=st.lists(TEXTS, min_size=1, max_size=8))
def test_any_unicode_text_is_tagged_or_rejected_by_index(client, texts):
    answer = client.post("/v1/predict", data=json.dumps({"inputs": texts}), content_type="application/json")
    assert_handled(answer, n_inputs=len(texts))
    if answer.status_code == 422:
        error = answer.get_json()["error"]
        assert error["code"] in {"empty_text", "invalid_text"}
        assert 0 <= error["index"] < len(texts)
    if any("\ud800" <= c <= "\udfff" for t in texts for c in t):
        assert answer.status_code == 422


@FUZZ
@given(raw=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_raw_byte_bodies_never_crash_the_worker(client, raw, content_type):
    assert_handled(client.post("/v1/predict", data=raw, content_type=content_type))


def test_the_worker_is_still_ready_after_fuzzing(app, client):
    assert service_state(app).model.ready
    assert client.get("/readyz").status_code == 200


@pytest.fixture(scope="module")
def api_schema(app):
    """The app's OpenAPI document as schemathesis reads it, over WSGI."""
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def test_operation_list_matches_the_spec_served(api_schema):
    served = {(path, method) for path, item in api_schema.raw_schema["paths"].items() for method in item}
    assert served == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method", "mode"), SCHEMATHESIS_RUNS)
def test_schemathesis_finds_no_server_error_or_spec_mismatch(api_schema, path, method, mode):
    operation = api_schema[path][method]
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    if mode == "negative":
        checks.append(negative_data_rejection)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    def run(case):
        case.call_and_validate(checks=checks)

    run()
