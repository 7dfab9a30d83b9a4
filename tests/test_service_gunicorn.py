"""The real thing: ``berakhlak serve`` under gunicorn with two workers on a loopback port, configured
through ``BERAKHLAK_*`` variables as in production, called over HTTP and stopped with SIGTERM.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from model.settings import REPO_ROOT

API_KEY = "kunci-uji"
START_TIMEOUT = 240  # seconds for both workers to import torch and load the model


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base: str, path: str, body=None, key: str | None = API_KEY) -> tuple[int, bytes]:
    """(status, body bytes) of a GET, or a POST of ``body`` as JSON."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    if key:
        headers["X-API-Key"] = key
    request = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


def metric(base: str, name: str, **labels) -> float:
    """One sample of /metrics (0 when absent)."""
    _, text = call(base, "/metrics")
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def wait_until(condition, process, timeout: float) -> None:
    """Poll ``condition()`` until true; fail if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"server exited with {process.returncode}"
        assert time.monotonic() < deadline, "server did not become ready in time"
        time.sleep(0.5)


@pytest.fixture
def server(tiny_settings, tiny_artifact, tmp_path, monkeypatch):
    """``berakhlak serve`` with 2 workers and multiprocess metrics; yields (base url, log path, process)."""
    port = free_port()
    for name, value in {
        "MODEL_DIR": tiny_artifact,
        "CACHE_DIR": tiny_settings.cache_dir,
        "PORT": port,
        "WORKERS": 2,
        "THREADS": 2,
        "METRICS_DIR": tmp_path / "metrics",
        "API_KEYS": API_KEY,
        "GRACEFUL_TIMEOUT": 10,
    }.items():
        monkeypatch.setenv(f"BERAKHLAK_{name}", str(value))
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve"], cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: call(base, "/readyz", key=None)[0] == 200, process, START_TIMEOUT)
        wait_until(lambda: metric(base, "berakhlak_model_ready") == 2, process, START_TIMEOUT)
        yield base, log_path, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.slow
def test_berakhlak_serve_runs_gunicorn_workers_that_answer_over_http(server):
    base, log_path, process = server
    assert call(base, "/livez", key=None)[0] == 200
    sent = 0
    for i in range(6):
        texts = [f"antrean di kantor samsat lama sekali nomor {i}", "petugasnya ramah, terima kasih"][: 1 + i % 2]
        status, body = call(base, "/v1/predict", {"inputs": texts})
        assert status == 200, body
        assert len(json.loads(body)["results"]) == len(texts)
        sent += len(texts)
    status, body = call(base, "/v1/predict", {"inputs": "halo"}, key=None)
    assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized"
    status, body = call(base, "/nowhere")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    # Multiprocess mode: whichever worker answers the scrape, the counts cover both workers.
    assert metric(base, "berakhlak_texts_tagged_total") == sent
    assert metric(base, "berakhlak_http_requests_total", endpoint="/v1/predict", status="200") == 6

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert call(base, "/livez", key=None)[0] == 0  # nobody listens any more
    access = [json.loads(line) for line in log_path.read_text().splitlines() if '"service.access"' in line]
    predicts = [entry for entry in access if entry["path"] == "/v1/predict"]
    assert len(predicts) == 7 and {entry["status"] for entry in predicts} == {200, 401}
    assert "samsat" not in log_path.read_text()
    assert len({entry["request_id"] for entry in access}) == len(access)
