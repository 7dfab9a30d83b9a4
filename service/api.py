"""The endpoints: ``/v1/*`` (tagging, labels, model) and the operational ``/livez``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

import hmac
import math
import time

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import Unauthorized

from model.labels import CORE_VALUES, POLARITIES, SENTIMENTS
from service.app import service_state
from service.validation import parse_predict_request, read_json_body

API_KEY_HEADER = "X-API-Key"
MANIFEST_SUMMARY_FIELDS = (
    "format", "created", "git_commit", "training_data_sha256", "encoder", "labels", "thresholds",
    "review_threshold", "params", "libraries",
)  # fmt: skip

api = Blueprint("api", __name__)
ops = Blueprint("ops", __name__)


def require_api_key() -> None:
    """401 unless no keys are configured or ``X-API-Key`` matches one (compared in constant time)."""
    keys = service_state().settings.api_keys
    if not keys or request.method == "OPTIONS":  # CORS preflights never carry the key
        return
    sent = request.headers.get(API_KEY_HEADER, "").encode()
    # Compare against every key, without stopping early, so timing tells nothing about which matched.
    matches = [hmac.compare_digest(sent, key.encode()) for key in keys]
    if not any(matches):
        raise Unauthorized(f"missing or invalid API key; send it in the {API_KEY_HEADER} header")


api.before_request(require_api_key)


@api.post("/v1/predict")
def predict():
    """Tag one text or a batch (encoded as one batch)."""
    state = service_state()
    payload = read_json_body(request, state.settings.max_body_bytes)
    checked = parse_predict_request(payload, state.settings)
    g.n_texts = len(checked.texts)
    started = time.perf_counter()
    records = state.model.predict(list(checked.texts), evidence=checked.evidence)
    state.metrics.observe_predictions(records, sum(checked.truncated), time.perf_counter() - started)
    results = [
        _result(record, given_id, cut, checked.return_all_scores)
        for record, given_id, cut in zip(records, checked.ids, checked.truncated, strict=True)
    ]
    return {"model": state.model.identity(), "results": results}


def _result(record: dict, given_id, truncated: bool, all_scores: bool) -> dict:
    """The analyser's record with its id first and the truncation flag last."""
    result = {"id": given_id, **record, "truncated": truncated}
    if not all_scores:
        result["value_scores"] = {v: s for v, s in record["value_scores"].items() if v in record["values"]}
    return result


@api.get("/v1/labels")
def labels():
    """The seven values with their indicators (Indonesian and English) and current thresholds."""
    model = service_state().model
    analyzer = model.require()
    thresholds = analyzer.thresholds
    values = [
        {
            "id": value.id,
            "name_id": value.name,
            "name_en": value.name_en,
            "threshold": thresholds[value.id],
            "indicators": [{"id": i.id, "text_id": i.id_text, "text_en": i.en_text} for i in value.indicators],
        }
        for value in CORE_VALUES
    ]
    return {
        "model": model.identity(),
        "values": values,
        "polarities": list(POLARITIES),
        "sentiments": list(SENTIMENTS),
        "review_threshold": analyzer.review_threshold,
    }


@api.get("/v1/model")
def model_info():
    """The artifact's manifest summary (no file hashes) and its evaluation metrics."""
    model = service_state().model
    manifest = model.require().manifest
    summary = {name: manifest.get(name) for name in MANIFEST_SUMMARY_FIELDS}
    return _finite({**model.identity(), **summary, "metrics": manifest.get("metrics", {})})


def _finite(value):
    """NaN and infinities (possible in metrics of tiny splits) are not JSON: send null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@ops.get("/livez")
def livez():
    """The process answers; says nothing about the model."""
    return {"status": "alive"}


@ops.get("/readyz")
def readyz():
    """200 once the model is loaded and warm; 503 (with the reason) before that or if loading failed."""
    model = service_state().model
    model.require()
    return {"status": "ready", "model": model.identity()}


@ops.get("/metrics")
def metrics():
    """Prometheus metrics of this worker, or of all workers in multiprocess mode."""
    require_api_key()
    body, content_type = service_state().metrics.render()
    return Response(body, content_type=content_type)
