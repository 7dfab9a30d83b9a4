"""``berakhlak serve``: the service under gunicorn (gthread workers), or Flask's dev server with ``--dev``."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path

from gunicorn.app.base import BaseApplication

from model.settings import Settings

log = logging.getLogger(__name__)


def run_serve(args, settings: Settings) -> int:
    """Serve until stopped; ``settings`` already holds the command-line overrides. Returns the exit code."""
    if settings.metrics_dir is not None:
        prepare_metrics_dir(settings.metrics_dir)
    if args.dev:
        return run_dev_server(settings)
    application = GunicornService(settings)
    try:
        application.run()
    except SystemExit as exc:  # the arbiter exits through sys.exit even on a clean shutdown
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def prepare_metrics_dir(folder: Path) -> None:
    """Empty the Prometheus multiprocess folder and point prometheus_client at it.

    Must run before prometheus_client is first imported: it picks its storage at import time.
    Files of an earlier run would otherwise add their counts to this one's.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def run_dev_server(settings: Settings) -> int:
    """Flask's development server: one process, reloader and debugger off."""
    from service.app import create_app

    log.warning("development server: use `berakhlak serve` without --dev in production")
    create_app(settings).run(host=settings.host, port=settings.port, debug=False, use_reloader=False, threaded=True)
    return 0


def bind_address(host: str, port: int) -> str:
    """gunicorn's bind string (IPv6 addresses in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def gunicorn_options(settings: Settings) -> dict:
    """gunicorn settings derived from ``Settings``."""
    return {
        "bind": [bind_address(settings.host, settings.port)],
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "preload_app": settings.preload,
        "timeout": settings.timeout,
        "graceful_timeout": settings.graceful_timeout,
        "max_requests": settings.max_requests,
        "max_requests_jitter": settings.max_requests_jitter,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,  # the app writes its own JSON access line per request
        "errorlog": "-",
        "proc_name": "berakhlak",
        "post_worker_init": start_worker_model,
        "child_exit": forget_worker_metrics,
    }


def start_worker_model(worker) -> None:
    """gunicorn hook, in each new worker: share the cores between workers and start loading the model."""
    from service.app import service_state

    workers = worker.cfg.workers
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    service_state(worker.wsgi).model.start()


def forget_worker_metrics(server, worker) -> None:
    """gunicorn hook, in the master: drop a dead worker's live gauges (multiprocess mode only)."""
    folder = server.app.settings.metrics_dir
    if folder is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, path=str(folder))


class GunicornService(BaseApplication):
    """gunicorn run programmatically, with its configuration from ``Settings`` (not sys.argv)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        for name, value in gunicorn_options(self.settings).items():
            self.cfg.set(name, value)
        # gunicorn >= 25.1 opens a control socket at one fixed per-user path by default: two instances on a
        # machine would fight over it, and it can resize the worker pool. The service does not use it.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self):
        from service.app import create_app

        if self.settings.preload:
            import_model_code()
        # The model loads in each worker after the fork (post_worker_init), never in the master.
        return create_app(self.settings, start_loading=False)


def import_model_code() -> None:
    """Import the heavy libraries in the master, so forked workers share their pages."""
    for name in ("sentence_transformers", "model.analyzer", "model.text"):
        importlib.import_module(name)
