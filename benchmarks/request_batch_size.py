"""Encoder batch size for HTTP-sized requests: texts/s when each request of 32 texts is encoded on its own.

A request's texts are padded to the longest text of their encoder batch; large files are sorted by length
first, requests are not. This chose the default ``encode_batch_size`` setting.

    .venv/bin/python benchmarks/request_batch_size.py [--requests 12] [--request-size 32]
"""

from __future__ import annotations

import argparse
import time

from feedback_texts import feedback_texts

from model.analyzer import Analyzer
from model.features import embedder_of
from model.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--request-size", type=int, default=32)
    args = parser.parse_args()
    embedder = embedder_of(Analyzer.load(settings=Settings.from_env()).features)
    size = args.request_size
    texts = feedback_texts(size * args.requests, seed=5)
    embedder.transform(texts[:size])  # warm-up
    for batch_size in (32, 16, 8, 4):
        embedder.batch_size = batch_size
        start = time.perf_counter()
        for i in range(args.requests):
            embedder.transform(texts[i * size : (i + 1) * size])
        rate = size * args.requests / (time.perf_counter() - start)
        print(f"encoder batch size {batch_size:>2}: {rate:6.1f} texts/s on requests of {size} texts", flush=True)


if __name__ == "__main__":
    main()
