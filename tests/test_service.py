"""The HTTP service through Flask's test client, on the tiny real artifact.

Every response in this module is also checked against the app's OpenAPI document (SpecCheckingClient).
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from model.analyzer import Analyzer
from model.labels import CORE_VALUES, SENTIMENTS, VALUE_IDS
from model.settings import REPO_ROOT
from service.app import create_app, service_state
from service.openapi import build_spec
from tests.test_service_support import (
    Gate,
    SpecCheckingClient,
    SpecMismatchError,
    SpyAnalyzer,
    check_response,
    ready_app,
)

RESULT_FIELDS = {
    "id", "values", "value_scores", "value_polarity", "sentiment", "sentiment_scores",
    "needs_review", "evidence", "model_version", "truncated",
}  # fmt: skip
TEXTS = [
    "Petugas loket jutek dan antre lama sekali. Saya kecewa.",
    "Terima kasih, pelayanan cepat dan ramah.",
    "Jam buka kantor kelurahan hari Sabtu jam berapa?",
]


@pytest.fixture
def service_settings(tiny_settings, tiny_artifact):
    """The tiny artifact's settings, with small limits so the limit tests stay small."""
    return tiny_settings.replace(model_dir=tiny_artifact, max_body_bytes=20_000, max_batch=8, max_chars=200)


@pytest.fixture
def spy():
    """Filled with the SpyAnalyzer the app loads."""
    return {}


@pytest.fixture
def app(service_settings, spy):
    """A ready app whose analyser is a spy around the real one."""

    def loader(settings):
        spy["analyzer"] = SpyAnalyzer(Analyzer.load(settings.model_dir, settings))
        return spy["analyzer"]

    return ready_app(service_settings, loader=loader)


@pytest.fixture
def client(app):
    """Test client checking every answer against the OpenAPI document."""
    return app.test_client()


def predict(client, body, **kwargs):
    """POST a JSON body to /v1/predict."""
    return client.post("/v1/predict", json=body, **kwargs)


def metric_samples(client, headers=None) -> dict:
    """{(name, sorted label items): value} from /metrics."""
    text = client.get("/metrics", headers=headers).get_data(as_text=True)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


# --- readiness and model loading ---


@pytest.mark.slow
def test_importing_the_app_loads_no_model():
    code = "import sys, service.app; print('torch' in sys.modules, 'model.analyzer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_readyz_is_503_until_the_model_is_loaded_and_warm(service_settings):
    gate = Gate()
    app = create_app(service_settings, loader=gate)
    app.test_client_class = SpecCheckingClient
    client = app.test_client()
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json["error"]["code"] == "model_not_ready"
    assert not_ready.headers["Retry-After"] == "1"
    assert predict(client, {"inputs": "halo"}).json["error"]["code"] == "model_not_ready"
    assert client.get("/v1/labels").status_code == 503
    assert client.get("/livez").json == {"status": "alive"}
    gate.open()
    assert service_state(app).model.wait(300)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "model": {"name": "tiny-1", "version": "tiny-1"}}
    assert predict(client, {"inputs": "halo"}).status_code == 200
    assert gate.calls == 1


def test_failed_load_is_a_503_with_the_reason(service_settings, tmp_path):
    app = create_app(service_settings.replace(model_dir=tmp_path / "missing-model"))
    assert not service_state(app).model.wait(300)
    app.test_client_class = SpecCheckingClient
    client = app.test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "model_load_failed"
    assert "ArtifactError" in answer.json["error"]["message"]
    assert "manifest.json" in answer.json["error"]["message"]
    assert predict(client, {"inputs": "halo"}).json["error"]["code"] == "model_load_failed"
    assert client.get("/livez").status_code == 200


def test_model_loads_once_and_lazily_when_asked(service_settings):
    gate = Gate()
    gate.open()
    app = create_app(service_settings, loader=gate, start_loading=False)
    assert gate.calls == 0 and service_state(app).model.started_at is None
    client = app.test_client()
    assert client.get("/livez").status_code == 200  # the first request starts the load
    assert service_state(app).model.wait(300)
    for _ in range(3):
        client.get("/readyz")
    assert gate.calls == 1
    assert app.config["MAX_CONTENT_LENGTH"] == service_settings.max_body_bytes + 1  # see create_app


# --- predict ---


def test_single_text_gets_one_full_result(client, app):
    answer = predict(client, {"inputs": TEXTS[0]})
    assert answer.status_code == 200
    assert answer.json["model"] == {"name": "tiny-1", "version": "tiny-1"}
    [result] = answer.json["results"]
    assert set(result) == RESULT_FIELDS
    assert result["id"] == 0 and result["truncated"] is False
    assert list(result["value_scores"]) == list(VALUE_IDS)
    assert set(result["values"]) <= set(VALUE_IDS)
    assert set(result["value_polarity"]) == set(result["values"])
    assert result["sentiment"] in SENTIMENTS


def test_batch_is_one_analyzer_batch_in_input_order(client, spy, app):
    spy["analyzer"].batches.clear()
    answer = predict(client, {"inputs": TEXTS})
    assert spy["analyzer"].batches == [TEXTS]
    expected = spy["analyzer"]._analyzer.predict(TEXTS)
    results = answer.json["results"]
    assert [r["id"] for r in results] == [0, 1, 2]
    assert [{k: v for k, v in r.items() if k not in ("id", "truncated")} for r in results] == expected


def test_objects_keep_their_ids_and_parameters_shape_the_result(client):
    inputs = [{"id": "b-2", "text": TEXTS[1]}, {"id": "a-1", "text": TEXTS[0]}, {"text": TEXTS[2], "id": None}]
    answer = predict(client, {"inputs": inputs, "parameters": {"return_all_scores": False, "evidence": False}})
    results = answer.json["results"]
    assert [r["id"] for r in results] == ["b-2", "a-1", 2]
    for result in results:
        assert set(result["value_scores"]) == set(result["values"])
        assert result["evidence"] == {}


def test_evidence_quotes_a_sentence_of_the_text_for_each_value(client):
    results = predict(client, {"inputs": TEXTS, "parameters": {"evidence": True}}).json["results"]
    for text, result in zip(TEXTS, results, strict=True):
        assert set(result["evidence"]) == set(result["values"])
        assert all(sentence in text for sentence in result["evidence"].values())


def test_nul_characters_are_tagged_not_crashed_on(client):
    answer = predict(client, {"inputs": ["a\x00b petugas", "\x00"]})
    assert answer.status_code == 200
    assert len(answer.json["results"]) == 2


# --- long texts ---


def test_long_text_is_truncated_and_flagged_by_default(client, spy, service_settings):
    long_text = "pelayanan lambat " * 30
    answer = predict(client, {"inputs": [long_text, "pendek"]})
    assert [r["truncated"] for r in answer.json["results"]] == [True, False]
    assert spy["analyzer"].batches[-1][0] == long_text[: service_settings.max_chars]


def test_long_text_is_422_when_truncation_is_off(service_settings):
    client = ready_app(service_settings.replace(truncate_long_texts=False)).test_client()
    body = {"inputs": ["pendek", "x" * 201]}
    error = predict(client, body).json["error"]
    assert (error["code"], error["index"]) == ("text_too_long", 1)
    assert "201" in error["message"] and "200" in error["message"]
    answer = predict(client, {**body, "parameters": {"truncate": True}})
    assert answer.status_code == 200 and answer.json["results"][1]["truncated"] is True


def test_per_request_truncate_false_overrides_the_setting(client):
    answer = predict(client, {"inputs": "x" * 201, "parameters": {"truncate": False}})
    assert answer.status_code == 422 and answer.json["error"]["code"] == "text_too_long"


# --- errors ---

ERROR_ROWS = [
    # (raw body, content type, status, code, index)
    (b'{"inputs": ', "application/json", 400, "malformed_json", None),
    (b"", "application/json", 400, "malformed_json", None),
    (b'{"inputs": NaN}', "application/json", 400, "malformed_json", None),
    (b'{"inputs": "caf\xe9"}', "application/json", 400, "invalid_encoding", None),
    (b'{"inputs": "halo"}', "text/plain", 415, "unsupported_media_type", None),
    (b'{"inputs": "halo"}', "application/x-www-form-urlencoded", 415, "unsupported_media_type", None),
    (b'{"inputs": "halo"}', "application/json; charset=latin-1", 415, "unsupported_media_type", None),
    (b'["halo"]', "application/json", 422, "invalid_type", None),
    (b'{"parameters": {}}', "application/json", 422, "missing_field", None),
    (b'{"inputs": 3}', "application/json", 422, "invalid_type", None),
    (b'{"inputs": null}', "application/json", 422, "invalid_type", None),
    (b'{"inputs": []}', "application/json", 422, "empty_batch", None),
    (b'{"inputs": ["a", 3]}', "application/json", 422, "invalid_type", 1),
    (b'{"inputs": ["a", {"text": "b"}]}', "application/json", 422, "invalid_type", 1),
    (b'{"inputs": ["a", ""]}', "application/json", 422, "empty_text", 1),
    (b'{"inputs": ["a", " \\n\\t\\u3000 "]}', "application/json", 422, "empty_text", 1),
    (b'{"inputs": "   "}', "application/json", 422, "empty_text", 0),
    (b'{"inputs": ["ok", "x\\ud800y"]}', "application/json", 422, "invalid_text", 1),
    (b'{"inputs": [{"id": "a", "text": "x"}, {"id": "a", "text": "z"}]}', "application/json", 422, "duplicate_id", 1),
    (b'{"inputs": [{"id": 7, "text": "x"}]}', "application/json", 422, "invalid_type", 0),
    (b'{"inputs": [{"id": "a"}]}', "application/json", 422, "missing_field", 0),
    (b'{"inputs": [{"text": "a", "lang": "id"}]}', "application/json", 422, "unknown_field", 0),
    (b'{"inputs": "a", "model": "x"}', "application/json", 422, "unknown_field", None),
    (b'{"inputs": "a", "parameters": {"top_k": 3}}', "application/json", 422, "unknown_field", None),
    (b'{"inputs": "a", "parameters": {"evidence": "yes"}}', "application/json", 422, "invalid_type", None),
    (b'{"inputs": "a", "parameters": []}', "application/json", 422, "invalid_type", None),
]


@pytest.mark.parametrize(("body", "content_type", "status", "code", "index"), ERROR_ROWS)
def test_bad_requests_get_a_json_error_naming_the_problem(client, body, content_type, status, code, index):
    answer = client.post("/v1/predict", data=body, content_type=content_type)
    assert answer.status_code == status
    error = answer.json["error"]
    assert error["code"] == code
    assert error.get("index") == index
    assert error["request_id"] == answer.headers["X-Request-ID"]


def test_unknown_fields_are_named(client):
    message = predict(client, {"inputs": "a", "parameters": {"top_k": 1, "lang": "id"}}).json["error"]["message"]
    assert '"top_k"' in message and '"lang"' in message


def test_every_invalid_input_is_counted_not_only_the_first(client):
    error = predict(client, {"inputs": ["ok", "", 3, " "]}).json["error"]
    assert error["index"] == 1
    assert "2 other inputs are invalid" in error["message"]


def test_limits_answer_413(client, service_settings):
    too_many = predict(client, {"inputs": ["teks"] * (service_settings.max_batch + 1)})
    assert too_many.status_code == 413 and too_many.json["error"]["code"] == "payload_too_large"
    assert str(service_settings.max_batch) in too_many.json["error"]["message"]
    too_big = predict(client, {"inputs": "a" * service_settings.max_body_bytes})
    assert too_big.status_code == 413 and too_big.json["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("extra", [0, 1, 5000])
def test_streamed_bodies_over_the_limit_are_413_not_cut(client, service_settings, extra):
    limit = service_settings.max_body_bytes
    body = json.dumps({"inputs": "x"}).encode()
    body += b" " * (limit - len(body) + extra)  # JSON allows trailing whitespace
    answer = client.post(
        "/v1/predict",
        input_stream=io.BytesIO(body),  # no Content-Length, as a chunked request under gunicorn
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    if extra == 0:
        assert answer.status_code == 200
    else:
        assert answer.status_code == 413 and answer.json["error"]["code"] == "payload_too_large"
        assert str(limit) in answer.json["error"]["message"]


def test_unknown_route_is_404_and_wrong_method_405(client):
    missing = client.get("/v2/predict")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.get("/v1/predict")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]


def test_unexpected_errors_are_500_logged_with_the_request_id(client, spy, caplog):
    spy["analyzer"].fail_with = RuntimeError("secret internal detail")
    with caplog.at_level(logging.ERROR):
        logging.getLogger("service").addHandler(caplog.handler)
        try:
            answer = predict(client, {"inputs": "halo"}, headers={"X-Request-ID": "req-123"})
        finally:
            logging.getLogger("service").removeHandler(caplog.handler)
    assert answer.status_code == 500
    error = answer.json["error"]
    assert error["code"] == "internal_error" and error["request_id"] == "req-123"
    assert "secret" not in answer.get_data(as_text=True) and "Traceback" not in answer.get_data(as_text=True)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "req-123" in record.getMessage() and record.exc_info[0] is RuntimeError


# --- access, CORS, request ids, logs ---


def test_api_keys_guard_everything_but_health(service_settings):
    client = ready_app(service_settings.replace(api_keys=("k-one", "k-two"))).test_client()
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": "k-one "}):
        answer = predict(client, {"inputs": "halo"}, headers=headers)
        assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthorized"
    assert predict(client, {"inputs": "halo"}, headers={"X-API-Key": "k-two"}).status_code == 200
    assert client.get("/v1/labels", headers={"X-API-Key": "k-one"}).status_code == 200
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"X-API-Key": "k-one"}).status_code == 200
    assert client.get("/livez").status_code == 200 and client.get("/readyz").status_code == 200
    assert "ApiKey" in client.get("/openapi.json").json["components"]["securitySchemes"]


def test_cors_allows_only_the_configured_origins(service_settings):
    allowed = "https://dasbor.example.go.id"
    client = ready_app(service_settings.replace(cors_origins=(allowed,), api_keys=("k",))).test_client()
    headers = {"Origin": allowed, "X-API-Key": "k"}
    assert client.get("/v1/labels", headers=headers).headers["Access-Control-Allow-Origin"] == allowed
    other = client.get("/v1/labels", headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options(
        "/v1/predict",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == allowed
    assert "x-api-key" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_no_cors_headers_without_configured_origins(client):
    assert "Access-Control-Allow-Origin" not in client.get("/livez", headers={"Origin": "https://x.example"}).headers


def test_request_ids_are_echoed_only_when_safe(client):
    assert client.get("/livez", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    forged = client.get("/livez", headers={"X-Request-ID": 'x" injected'}).headers["X-Request-ID"]
    assert forged != 'x" injected' and len(forged) == 32


def test_access_log_is_one_json_line_per_request_without_the_text(client):
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(handler.format(record))
    handler.setFormatter(logging.getLogger("service").handlers[0].formatter)
    access = logging.getLogger("service.access")
    access.addHandler(handler)
    try:
        predict(client, {"inputs": ["RAHASIA-PELAPOR-42 petugas", "dua"]}, headers={"X-Request-ID": "r1"})
        predict(client, {"inputs": ["RAHASIA-PELAPOR-42", ""]})
        client.get("/nowhere")
    finally:
        access.removeHandler(handler)
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 3
    assert all("RAHASIA" not in line for line in lines)
    first = entries[0]
    assert {k: first[k] for k in ("method", "path", "status", "request_id", "n_texts")} == {
        "method": "POST", "path": "/v1/predict", "status": 200, "request_id": "r1", "n_texts": 2,
    }  # fmt: skip
    assert first["duration_ms"] >= 0 and first["remote_addr"] == "127.0.0.1"
    assert (entries[1]["status"], entries[1]["error"]) == (422, "empty_text")
    assert entries[2]["status"] == 404


# --- labels, model, metrics ---


def test_labels_list_the_seven_values_with_indicators_and_thresholds(client, spy):
    body = client.get("/v1/labels").json
    assert [v["id"] for v in body["values"]] == list(VALUE_IDS)
    thresholds = spy["analyzer"].thresholds
    for value, core in zip(body["values"], CORE_VALUES, strict=True):
        assert value["threshold"] == thresholds[core.id]
        assert (value["name_id"], value["name_en"]) == (core.name, core.name_en)
        assert [(i["text_id"], i["text_en"]) for i in value["indicators"]] == [
            (i.id_text, i.en_text) for i in core.indicators
        ]


def test_model_endpoint_summarises_the_manifest(client, spy):
    body = client.get("/v1/model").json
    manifest = spy["analyzer"].manifest
    assert body["version"] == manifest["version"]
    assert body["encoder"] == manifest["encoder"]
    assert body["thresholds"] == manifest["thresholds"]
    assert body["metrics"].keys() == manifest["metrics"].keys()
    assert "files" not in body


def test_metrics_count_requests_texts_values_and_sentiments(client):
    results = predict(client, {"inputs": TEXTS}).json["results"]
    predict(client, {"inputs": ""})
    samples = metric_samples(client)
    assert samples[("berakhlak_texts_tagged_total", ())] == len(TEXTS)  # the warm-up is not counted
    for sentiment in SENTIMENTS:
        counted = samples[("berakhlak_sentiments_total", (("sentiment", sentiment),))]
        assert counted == sum(r["sentiment"] == sentiment for r in results)
    for value in VALUE_IDS:
        counted = samples[("berakhlak_value_tags_total", (("value", value),))]
        assert counted == sum(value in r["values"] for r in results)
    ok = (("endpoint", "/v1/predict"), ("method", "POST"), ("status", "200"))
    assert samples[("berakhlak_http_requests_total", ok)] == 1
    assert samples[("berakhlak_http_errors_total", (("code", "empty_text"),))] == 1
    assert samples[("berakhlak_model_ready", ())] == 1


def test_metrics_registry_is_per_app_not_global(client, service_settings):
    predict(client, {"inputs": "halo"})
    other = ready_app(service_settings).test_client()
    assert metric_samples(client)[("berakhlak_texts_tagged_total", ())] == 1
    assert metric_samples(other)[("berakhlak_texts_tagged_total", ())] == 0
    assert REGISTRY.get_sample_value("berakhlak_texts_tagged_total") is None


# --- the OpenAPI document and the docs page ---


def test_every_route_is_documented_and_every_documented_route_exists(app):
    routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    spec = app.test_client().get("/openapi.json").json
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert routes == documented


def test_openapi_document_is_the_one_built_from_settings(client, service_settings):
    spec = client.get("/openapi.json").json
    assert spec == build_spec(service_settings)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["schemas"]["PredictRequest"]["properties"]["inputs"]["oneOf"][1]["maxItems"] == 8


def test_the_spec_checker_rejects_answers_the_spec_does_not_describe(service_settings):
    spec = build_spec(service_settings)
    with pytest.raises(SpecMismatchError, match="not documented"):
        check_response(spec, "GET", "/livez", 418, "application/json", {})
    with pytest.raises(SpecMismatchError):
        check_response(spec, "POST", "/v1/predict", 200, "application/json", {"model": {}, "results": []})
    with pytest.raises(SpecMismatchError):
        check_response(spec, "GET", "/readyz", 503, "application/json", {"error": {"code": "nope", "message": ""}})


def test_docs_page_is_self_contained_html_covering_every_path(client):
    answer = client.get("/docs")
    assert answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert not any(tag in page for tag in ("<script", "<link", "<img", "src=", "@import"))  # nothing fetched
    for path in client.get("/openapi.json").json["paths"]:
        assert f"<code>{path}</code>" in page
