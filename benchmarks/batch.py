"""Batch engines: texts/s of ``tag_file`` with the local engine and with a LocalCluster, peak RSS, scaling.

Tags the same generated Parquet file (see ``benchmarks/feedback_texts.py``) in this process, then on a
LocalCluster of single-threaded worker processes, and checks both outputs are identical. Start-up (loading the
model, starting the workers) is timed apart from tagging; peak RSS adds up this process and all its children.

    .venv/bin/python benchmarks/batch.py [--model-dir DIR] [--rows 20000] [--workers 2] [--no-evidence]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback_texts import feedback_texts
from tag import benchmark_settings

from model.analyzer import Analyzer
from model.batch import tag_file
from model.batch_dask import AnalyzerHandle, AnalyzerPlugin, dask_client

MIB = 1 << 20


class PeakMemory:
    """Samples the RSS of this process plus all its children (Dask nannies and workers) in a thread."""

    def __init__(self, interval: float = 0.1):
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, help="artifact folder (default: Settings().model_dir)")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (1 thread each)")
    parser.add_argument("--chunk-size", type=int, help="rows per chunk (default: the chunk_size setting)")
    parser.add_argument("--no-evidence", action="store_true")
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.WARNING)
    settings = benchmark_settings(args.model_dir)
    if args.chunk_size:
        settings = settings.replace(chunk_size=args.chunk_size)
    evidence = not args.no_evidence
    texts = feedback_texts(args.rows, seed=2)
    print(f"{args.rows} texts, chunk size {settings.chunk_size}, evidence {evidence}, model {settings.model_dir}")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.parquet"
        pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts}).to_parquet(source)

        with PeakMemory() as memory:
            start = time.perf_counter()
            analyzer = Analyzer.load(settings=settings)
            startup = time.perf_counter() - start
            summary = tag_file(source, Path(folder) / "local.parquet", settings=settings, evidence=evidence,
                               analyzer=analyzer)  # fmt: skip
        local_rate = summary.rows_written / summary.seconds
        print(
            f"local engine: {local_rate:8.1f} texts/s ({summary.seconds:.1f} s; model loaded in {startup:.1f} s), "
            f"peak RSS {memory.peak / MIB:,.0f} MiB"
        )
        del analyzer

        start = time.perf_counter()
        with PeakMemory() as memory, dask_client(None, args.workers) as client:
            client.register_plugin(AnalyzerPlugin(AnalyzerHandle(settings.model_dir, settings)))
            startup = time.perf_counter() - start
            address = client.scheduler.address
            summary = tag_file(source, Path(folder) / "dask.parquet", settings=settings, evidence=evidence,
                               engine="dask", scheduler=address)  # fmt: skip
        dask_rate = summary.rows_written / summary.seconds
        print(
            f"dask engine, {args.workers} workers: {dask_rate:8.1f} texts/s ({summary.seconds:.1f} s; workers started "
            f"and models loaded in {startup:.1f} s), peak RSS with workers {memory.peak / MIB:,.0f} MiB"
        )
        print(f"scaling: dask / local = {dask_rate / local_rate:.2f}x")
        same = pq.read_table(Path(folder) / "dask.parquet").equals(pq.read_table(Path(folder) / "local.parquet"))
        print(f"outputs identical: {same}")


if __name__ == "__main__":
    main()
