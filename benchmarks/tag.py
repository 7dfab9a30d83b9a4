"""Tagging speed: texts/s in batch and the latency of one text, with and without evidence, plus peak RSS.

Texts are generated here from templates and a vocabulary of services, places, staff and amounts, in formal and
informal registers (median ~25 words); the corpus is never read.

    .venv/bin/python benchmarks/tag.py [--model-dir DIR] [--texts 1000] [--singles 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from feedback_texts import feedback_texts

from model.analyzer import Analyzer
from model.batch import tag_dataframe, tag_file
from model.settings import Settings


def benchmark_settings(model_dir: Path | None) -> Settings:
    """``Settings.from_env()``, with ``model_dir`` when given."""
    return Settings.from_env(**({"model_dir": model_dir} if model_dir else {}))


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_rate(repeats: int, run) -> float:
    """Runs of ``run()`` per second, from the fastest of ``repeats`` (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1 / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, help="artifact folder (default: Settings().model_dir)")
    parser.add_argument("--texts", type=int, default=1000, help="texts tagged in batch")
    parser.add_argument("--singles", type=int, default=200, help="texts timed one at a time")
    parser.add_argument("--repeats", type=int, default=3, help="batch runs per figure; the fastest is shown")
    args = parser.parse_args()
    settings = benchmark_settings(args.model_dir)
    start = time.perf_counter()
    analyzer = Analyzer.load(settings=settings)
    load_seconds = time.perf_counter() - start
    texts = feedback_texts(args.texts, seed=1)
    words = [len(t.split()) for t in texts]
    analyzer.predict(texts[:16])  # warm-up: first-call allocations and the sentence splitter
    torch_threads = __import__("torch").get_num_threads()
    print(f"model {analyzer.version} from {settings.model_dir} (loaded in {load_seconds:.1f} s)")
    print(f"cores {os.cpu_count()}, torch threads {torch_threads}, chunk size {settings.chunk_size}")
    print(f"texts {len(texts)}: words median {statistics.median(words):.0f}, p95 {np.percentile(words, 95):.0f}")
    frame = pd.DataFrame({"id": [f"b{i}" for i in range(len(texts))], "text": texts})
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.parquet"
        frame.to_parquet(source)
        for evidence in (True, False):
            label = "with evidence   " if evidence else "without evidence"
            in_memory = best_rate(args.repeats, partial(tag_dataframe, frame, analyzer, settings, evidence))
            out = Path(folder) / "out.parquet"
            run = partial(tag_file, source, out, settings=settings, evidence=evidence, analyzer=analyzer)
            to_file = best_rate(args.repeats, run)
            print(
                f"batch {label}: {len(texts) * in_memory:7.1f} texts/s (tag_dataframe), "
                f"{len(texts) * to_file:7.1f} texts/s (tag_file, Parquet to Parquet)"
            )
    for evidence in (True, False):
        latencies = []
        for text in texts[: args.singles]:
            start = time.perf_counter()
            analyzer.predict([text], evidence=evidence)
            latencies.append((time.perf_counter() - start) * 1000)
        label = "with evidence   " if evidence else "without evidence"
        print(f"one text {label}: median {np.median(latencies):6.1f} ms, p95 {np.percentile(latencies, 95):6.1f} ms")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
