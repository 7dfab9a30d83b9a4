"""Request ids, Prometheus metrics on a per-app registry, and one JSON access-log line per request.

With several gunicorn workers the metrics are either per worker (each scrape sees the worker that
answered it) or, when ``Settings.metrics_dir`` is set and ``berakhlak serve`` exported it as
``PROMETHEUS_MULTIPROC_DIR`` before prometheus_client was imported, summed over all workers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as prometheus_values

from model.labels import SENTIMENTS, VALUE_IDS
from model.settings import Settings

ACCESS_LOGGER = "service.access"
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is echoed only if it is short and plain, so it cannot forge log lines.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

log = logging.getLogger(__name__)


def current_request_id() -> str:
    """The id of the request being served (set first thing by ``start_request``)."""
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex
    return g.request_id


def multiprocess_mode_active() -> bool:
    """True when prometheus_client was imported with ``PROMETHEUS_MULTIPROC_DIR`` set."""
    return bool(getattr(prometheus_values.ValueClass, "_multiprocess", False))


class ServiceMetrics:
    """The service's Prometheus metrics, on a registry of their own (never the global one)."""

    def __init__(self, settings: Settings):
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = settings.metrics_dir is not None and multiprocess_mode_active()
        if settings.metrics_dir is not None and not self.multiprocess:
            log.warning("metrics_dir is set but PROMETHEUS_MULTIPROC_DIR was not: metrics are per worker")
        target = self.registry
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(self.registry, path=str(settings.metrics_dir))
            target = None  # values live in the shared files; the collector above reads them all
        self.requests = Counter(
            "berakhlak_http_requests", "HTTP requests answered.", ["method", "endpoint", "status"], registry=target
        )
        self.latency = Histogram(
            "berakhlak_http_request_duration_seconds", "Time to answer a request.", ["method", "endpoint"],
            buckets=LATENCY_BUCKETS, registry=target,
        )  # fmt: skip
        self.errors = Counter("berakhlak_http_errors", "Error responses by error code.", ["code"], registry=target)
        self.texts = Counter("berakhlak_texts_tagged", "Texts tagged.", registry=target)
        self.truncated = Counter("berakhlak_texts_truncated", "Texts cut to max_chars before tagging.", registry=target)
        self.review = Counter("berakhlak_texts_needs_review", "Tagged texts flagged needs_review.", registry=target)
        self.values = Counter("berakhlak_value_tags", "Values assigned to tagged texts.", ["value"], registry=target)
        self.sentiments = Counter("berakhlak_sentiments", "Sentiment of tagged texts.", ["sentiment"], registry=target)
        self.batch_size = Histogram(
            "berakhlak_batch_texts", "Texts per predict request.", buckets=BATCH_BUCKETS, registry=target
        )
        self.predict_latency = Histogram(
            "berakhlak_predict_duration_seconds", "Model time per predict request (one batch).",
            buckets=LATENCY_BUCKETS, registry=target,
        )  # fmt: skip
        self.ready = Gauge(
            "berakhlak_model_ready", "Workers whose model is loaded and warm.", multiprocess_mode="livesum",
            registry=target,
        )  # fmt: skip
        # Zero-valued series from the start, so dashboards see every value and sentiment.
        for value in VALUE_IDS:
            self.values.labels(value)
        for sentiment in SENTIMENTS:
            self.sentiments.labels(sentiment)

    def observe_request(self, method: str, endpoint: str, status: int, seconds: float, error_code: str | None):
        """Count one answered request."""
        self.requests.labels(method, endpoint, str(status)).inc()
        self.latency.labels(method, endpoint).observe(seconds)
        if error_code:
            self.errors.labels(error_code).inc()

    def observe_predictions(self, records: list[dict], n_truncated: int, seconds: float) -> None:
        """Count one batch of tagged texts by value and sentiment."""
        self.texts.inc(len(records))
        self.batch_size.observe(len(records))
        self.predict_latency.observe(seconds)
        if n_truncated:
            self.truncated.inc(n_truncated)
        for record in records:
            for value in record["values"]:
                self.values.labels(value).inc()
            self.sentiments.labels(record["sentiment"]).inc()
            if record["needs_review"]:
                self.review.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's ``fields`` and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    """Send the service's logs (``service.*``) to stderr as JSON lines; idempotent."""
    logger = logging.getLogger("service")
    logger.setLevel(level.upper())
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.propagate = False  # the root logger's plain-text handler would print every line twice


def install_request_hooks(app: Flask, metrics: ServiceMetrics) -> None:
    """Give each request an id and, once answered, count it and write its access-log line."""
    access = logging.getLogger(ACCESS_LOGGER)

    @app.before_request
    def start_request():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        response.headers[REQUEST_ID_HEADER] = current_request_id()
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        error_code = g.get("error_code")
        metrics.observe_request(request.method, endpoint, response.status_code, seconds, error_code)
        fields = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "request_id": current_request_id(),
            "n_texts": g.get("n_texts"),
            "remote_addr": request.remote_addr,
            "error": error_code,
        }
        access.info("request", extra={"fields": fields})
        return response
