"""Encoder speed: texts/s for batch encoding and single-text latency (median, p95), on generated texts.

.venv/bin/python benchmarks/encode.py [--texts 1000] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback_texts import feedback_texts

from model.encoder import embed_texts, load_encoder
from model.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--singles", type=int, default=200, help="texts timed one by one")
    args = parser.parse_args()
    settings = Settings.from_env()
    model = load_encoder(settings.encoder, settings.cache_dir)
    texts = feedback_texts(args.texts, seed=1)
    embed_texts(model, texts[:32], batch_size=args.batch_size)  # warm-up
    start = time.perf_counter()
    embed_texts(model, texts, batch_size=args.batch_size)
    elapsed = time.perf_counter() - start
    latencies = []
    for text in texts[: args.singles]:
        t0 = time.perf_counter()
        embed_texts(model, [text])
        latencies.append((time.perf_counter() - t0) * 1000)
    words = [len(t.split()) for t in texts]
    print(
        f"encoder: {settings.encoder}; torch threads: {__import__('torch').get_num_threads()}; cores: {os.cpu_count()}"
    )
    print(f"texts: {len(texts)} (words median {statistics.median(words):.0f}, max {max(words)})")
    print(f"batch encoding (batch size {args.batch_size}): {len(texts) / elapsed:.1f} texts/s ({elapsed:.1f} s)")
    print(f"single text: median {np.median(latencies):.1f} ms, p95 {np.percentile(latencies, 95):.1f} ms")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
