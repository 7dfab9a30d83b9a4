"""The Flask application factory and the per-worker model holder.

Importing this module loads no model. ``create_app`` builds the app and (unless told not to) starts a
background thread that loads the artifact and warms it with one prediction; ``/readyz`` answers 503
until that is done. Under gunicorn, ``berakhlak serve`` starts the thread in each worker after the fork
(torch's thread pools do not survive a fork), so each worker holds its own model.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from flask_cors import CORS

from model.errors import ModelNotReadyError
from model.settings import Settings
from service.errors import register_error_handlers
from service.observability import REQUEST_ID_HEADER, ServiceMetrics, configure_logging, install_request_hooks

EXTENSION = "berakhlak"
WARMUP_TEXT = "Petugas di loket kelurahan ramah dan cepat. Terima kasih atas pelayanannya."

log = logging.getLogger(__name__)


def load_analyzer(settings: Settings):
    """Default loader: the verified artifact at ``settings.model_dir`` (imported here, never at import time)."""
    from model.analyzer import Analyzer

    return Analyzer.load(settings.model_dir, settings)


class ModelHolder:
    """One analyser per process: loaded in a background thread, warmed, then shared by request threads.

    Predictions are serialised by a lock: the tokenizer is not safe to call from several threads at
    once, and torch already spreads one batch over the CPU cores. Scale with workers, not threads.
    """

    def __init__(self, settings: Settings, loader: Callable[[Settings], object], on_ready: Callable[[], None]):
        self.settings = settings
        self._loader = loader
        self._on_ready = on_ready
        self._start_lock = threading.Lock()
        self._reset(pid=None)

    def _reset(self, pid: int | None) -> None:
        self._pid = pid
        self._predict_lock = threading.Lock()  # new after a fork: a copied lock may be held forever
        self._done = threading.Event()
        self.analyzer = None
        self.error: Exception | None = None
        self.started_at: float | None = None

    def start(self) -> None:
        """Start loading in this process, once (again after a fork, whose child has no loader thread)."""
        if self._pid == os.getpid():  # the common case, on every request: no lock needed
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._reset(pid=os.getpid())
            self.started_at = time.monotonic()
            threading.Thread(target=self._load, name="berakhlak-model-loader", daemon=True).start()

    def _load(self) -> None:
        try:
            analyzer = self._loader(self.settings)
            with self._predict_lock:
                analyzer.predict([WARMUP_TEXT], evidence=True)
        except Exception as exc:  # any failure leaves the worker alive but unready, with the reason
            self.error = exc
            log.exception("model load failed from %s", self.settings.model_dir)
        else:
            self.analyzer = analyzer
            self._on_ready()
            log.info("model %s ready in %.1f s", analyzer.version, time.monotonic() - self.started_at)
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        """Whether the model is loaded and warm."""
        return self.analyzer is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loading finished (well or not); returns ``ready``."""
        self._done.wait(timeout)
        return self.ready

    def require(self):
        """The analyser, or ``ModelNotReadyError`` (caused by the load error when the load failed)."""
        if self.analyzer is not None:
            return self.analyzer
        if self.error is not None:
            message = f"model failed to load: {type(self.error).__name__}: {self.error}"
            raise ModelNotReadyError(message) from self.error
        if self.started_at is None:
            raise ModelNotReadyError("model loading has not started")
        elapsed = time.monotonic() - self.started_at
        raise ModelNotReadyError(f"model is loading ({elapsed:.0f} s so far); retry shortly")

    def predict(self, texts: list[str], evidence: bool) -> list[dict]:
        """Tag one batch (encoded as one batch)."""
        analyzer = self.require()
        with self._predict_lock:
            return analyzer.predict(texts, evidence=evidence)

    def identity(self) -> dict[str, str]:
        """``{"name", "version"}`` of the loaded model: the artifact folder's name and the manifest's version."""
        return {"name": Path(self.settings.model_dir).name, "version": self.require().version}


@dataclass(frozen=True)
class ServiceState:
    """What the app keeps on ``app.extensions["berakhlak"]``."""

    settings: Settings
    model: ModelHolder
    metrics: ServiceMetrics


def service_state(app: Flask | None = None) -> ServiceState:
    """The state of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]


def create_app(
    settings: Settings | None = None,
    *,
    loader: Callable[[Settings], object] | None = None,
    start_loading: bool = True,
) -> Flask:
    """Build the service. ``loader(settings) -> Analyzer`` replaces the artifact load (tests use it).

    With ``start_loading=False`` the model starts loading at the first request or when ``berakhlak
    serve`` calls ``service_state(app).model.start()`` in a freshly forked worker.
    """
    from service.api import api, ops
    from service.openapi import docs

    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__, static_folder=None)
    # One byte over the limit: werkzeug silently cuts a chunked body at MAX_CONTENT_LENGTH, so the extra
    # byte is what lets read_json_body tell "exactly at the limit" from "over it" (413).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    app.json.sort_keys = False  # keep the documented key order (values in BerAKHLAK order)
    metrics = ServiceMetrics(settings)
    holder = ModelHolder(settings, loader or load_analyzer, on_ready=lambda: metrics.ready.set(1))
    app.extensions[EXTENSION] = ServiceState(settings=settings, model=holder, metrics=metrics)
    install_request_hooks(app, metrics)
    app.before_request(holder.start)  # cheap no-op once started in this process
    register_error_handlers(app)
    for blueprint in (api, ops, docs):
        app.register_blueprint(blueprint)
    if settings.cors_origins:
        CORS(
            app,
            origins=list(settings.cors_origins),
            methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Content-Type", "X-API-Key", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
            max_age=600,
        )
    if start_loading:
        holder.start()
    return app
