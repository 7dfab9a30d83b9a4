"""Load benchmark of the HTTP service: ``berakhlak serve`` (gunicorn) on loopback, driven by concurrent clients.

Clients mix single texts and batches of 32 generated Indonesian feedback texts for a fixed time, check
that every answer is a well-formed 200, and the script prints throughput (requests/s and texts/s),
p50/p95/p99 latency per kind and the RSS of each gunicorn worker. Exit code 1 if any request failed.

    python benchmarks/load.py                      # the default model, 16 clients, 60 s
    python benchmarks/load.py --model-dir DIR --duration 10 --workers 2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from feedback_texts import feedback_texts

from model.labels import SENTIMENTS, VALUE_IDS
from model.settings import REPO_ROOT, Settings

HOST = "127.0.0.1"  # loopback only
RESULT_FIELDS = {
    "id", "values", "value_scores", "value_polarity", "sentiment", "sentiment_scores",
    "needs_review", "evidence", "model_version", "truncated",
}  # fmt: skip


@dataclass
class Tally:
    """What one client saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"single": [], "batch": []})
    texts: dict[str, int] = field(default_factory=lambda: {"single": 0, "batch": 0})
    errors: dict[str, int] = field(default_factory=lambda: {"single": 0, "batch": 0})
    error_samples: list[str] = field(default_factory=list)


def well_formed(status: int, body: bytes, n: int) -> str | None:
    """None if the answer is a proper 200 for ``n`` texts, else what is wrong with it."""
    if status != 200:
        return f"status {status}: {body[:200]!r}"
    try:
        results = json.loads(body)["results"]
    except (ValueError, KeyError, TypeError) as exc:
        return f"bad JSON: {exc}"
    if len(results) != n:
        return f"{len(results)} results for {n} texts"
    for r in results:
        if set(r) != RESULT_FIELDS or r["sentiment"] not in SENTIMENTS or not set(r["values"]) <= set(VALUE_IDS):
            return f"malformed result {r!r}"[:300]
    return None


def client_loop(port: int, pool: list[str], args, seed: int, start: float, stop: float, tally: Tally) -> None:
    """Send requests until ``stop``; count those that finish after ``start`` (the warm-up is not counted)."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if args.api_key:
        headers["X-API-Key"] = args.api_key
    while time.monotonic() < stop:
        kind = "batch" if rng.random() < args.batch_share else "single"
        texts = rng.sample(pool, args.batch_size) if kind == "batch" else [rng.choice(pool)]
        body = json.dumps({"inputs": texts if kind == "batch" else texts[0]})
        began = time.monotonic()
        try:
            connection.request("POST", "/v1/predict", body=body, headers=headers)
            answer = connection.getresponse()
            problem = well_formed(answer.status, answer.read(), len(texts))
        except (OSError, http.client.HTTPException) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=120)
        ended = time.monotonic()
        if not start <= ended <= stop:  # only requests that finish inside the measured window
            continue
        if problem:
            tally.errors[kind] += 1
            if len(tally.error_samples) < 5:
                tally.error_samples.append(problem)
            continue
        tally.latencies[kind].append(ended - began)
        tally.texts[kind] += len(texts)
    connection.close()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(args, port: int, workdir: Path) -> subprocess.Popen:
    """``berakhlak serve`` configured through BERAKHLAK_* variables, as in production."""
    overrides = {
        "MODEL_DIR": args.model_dir, "HOST": HOST, "PORT": port, "WORKERS": args.workers,
        "THREADS": args.threads, "METRICS_DIR": workdir / "metrics", "MAX_BATCH": max(args.batch_size, 256),
    }  # fmt: skip
    if args.cache_dir:
        overrides["CACHE_DIR"] = args.cache_dir
    if args.api_key:
        overrides["API_KEYS"] = args.api_key
    os.environ.update({f"BERAKHLAK_{k}": str(v) for k, v in overrides.items()})  # inherited by the server
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - the server writes to it until stopped
    return subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], cwd=REPO_ROOT, stdout=log, stderr=log)


def ready_workers(port: int, api_key: str | None) -> int:
    """How many workers report a loaded model (0 while the server is not up)."""
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        connection.request("GET", "/metrics", headers={"X-API-Key": api_key} if api_key else {})
        text = connection.getresponse().read().decode()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("berakhlak_model_ready "):
            return int(float(line.split()[1]))
    return 0


def wait_ready(server: subprocess.Popen, port: int, args, timeout: float) -> None:
    """Block until every worker is ready; exit if the server dies or takes too long."""
    deadline = time.monotonic() + timeout
    while ready_workers(port, args.api_key) < args.workers:
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"server did not become ready (exit code {server.poll()}); see its log")
        time.sleep(0.5)


class RssSampler(threading.Thread):
    """Samples the RSS of each gunicorn worker (children of the server) every half second; keeps the peak."""

    def __init__(self, server_pid: int):
        super().__init__(daemon=True)
        self.server = psutil.Process(server_pid)
        self.peak: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            for child in self.server.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                except psutil.Error:
                    continue
                self.last[child.pid] = rss
                self.peak[child.pid] = max(rss, self.peak.get(child.pid, 0))


def percentiles_ms(latencies: list[float]) -> list[float]:
    """p50, p95, p99 in milliseconds (NaN when empty)."""
    if not latencies:
        return [float("nan")] * 3
    return [float(v) * 1000 for v in np.percentile(latencies, [50, 95, 99])]


def report(tallies: list[Tally], seconds: float, sampler: RssSampler, master_rss: int) -> dict:
    """Print the figures; return them as a dict."""
    figures = {"duration_s": round(seconds, 1), "kinds": {}, "rss_mib": {}}
    print(
        f"\n{'kind':<8}{'requests':>10}{'errors':>8}{'req/s':>9}{'texts/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    )
    for kind in ("single", "batch", "all"):
        kinds = ("single", "batch") if kind == "all" else (kind,)
        lat = [x for t in tallies for k in kinds for x in t.latencies[k]]
        texts = sum(t.texts[k] for t in tallies for k in kinds)
        errors = sum(t.errors[k] for t in tallies for k in kinds)
        p50, p95, p99 = percentiles_ms(lat)
        row = {"requests": len(lat), "errors": errors, "requests_per_s": len(lat) / seconds,
               "texts_per_s": texts / seconds, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}  # fmt: skip
        figures["kinds"][kind] = row
        print(f"{kind:<8}{len(lat):>10}{errors:>8}{row['requests_per_s']:>9.1f}{row['texts_per_s']:>10.1f}"
              f"{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")  # fmt: skip
    print(f"\nRSS (MiB) of the gunicorn master: {master_rss / 2**20:.0f}")
    for pid in sorted(sampler.peak):
        figures["rss_mib"][pid] = {"last": sampler.last[pid] / 2**20, "peak": sampler.peak[pid] / 2**20}
        print(f"  worker {pid}: {sampler.last[pid] / 2**20:.0f} (peak {sampler.peak[pid] / 2**20:.0f})")
    for sample in [s for t in tallies for s in t.error_samples][:5]:
        print(f"error sample: {sample}")
    return figures


def parse_args(argv=None):
    """Command-line options."""
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=defaults.model_dir, help="artifact (default: Settings)")
    parser.add_argument("--cache-dir", type=Path, help="encoder cache (default: Settings)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load first")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batch-share", type=float, default=0.5, help="share of requests that are batches")
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--api-key", help="configure and send this API key")
    parser.add_argument("--pool", type=int, default=2000, help="distinct generated texts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-timeout", type=float, default=600.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the benchmark; 0 if every request succeeded."""
    args = parse_args(argv)
    pool = feedback_texts(args.pool, args.seed)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="berakhlak-load-") as tmp:
        workdir = Path(tmp)
        server = start_server(args, port, workdir)
        try:
            print(f"server pid {server.pid} on {HOST}:{port}, {args.workers} worker(s), model {args.model_dir}")
            wait_ready(server, port, args, args.start_timeout)
            sampler = RssSampler(server.pid)
            sampler.start()
            start = time.monotonic() + args.warmup
            stop = start + args.duration
            tallies = [Tally() for _ in range(args.clients)]
            threads = [
                threading.Thread(target=client_loop, args=(port, pool, args, args.seed + i, start, stop, tally))
                for i, tally in enumerate(tallies)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            sampler.stopped.set()
            figures = report(tallies, args.duration, sampler, psutil.Process(server.pid).memory_info().rss)
        except BaseException:
            print((workdir / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    figures.update(clients=args.clients, batch_size=args.batch_size, workers=args.workers, threads=args.threads)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if figures["kinds"]["all"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
