"""Running the model: once per process or Dask worker, the engines that tag chunks, and the frame API.

``tag_dataframe`` tags a pandas frame, ``tag_dask`` a Dask one (both re-exported by ``model.batch``).

Workers never receive a pickled model. They receive an ``AnalyzerHandle`` (artifact folder, manifest digest),
and the ``AnalyzerPlugin`` registered on every worker loads the artifact from that folder once, when the worker
starts or joins. Each worker machine must therefore have this project installed and see the artifact (and the
cache folder, for the embedded encoder) at the same paths as the client; the manifest digest is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import distributed
import pandas as pd
from distributed.diagnostics.plugin import WorkerPlugin

from model.analyzer import Analyzer
from model.artifacts import read_manifest
from model.batch_io import TAG_COLUMNS, is_missing, undecodable
from model.errors import ArtifactError, ConfigurationError, InputError, ModelNotReadyError
from model.settings import Settings

WORKER_WAIT_SECONDS = 120
TASKS_PER_THREAD = 2  # enough queued work to keep every worker busy, few enough to bound the client's memory
TAG_DTYPES = {column: (bool if column == "needs_review" else object) for column in TAG_COLUMNS}


def manifest_digest(manifest: dict) -> str:
    """sha256 of a manifest's canonical JSON: identifies a model (its heads, encoder and thresholds)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


class AnalyzerHandle:
    """Where a process finds the analyzer: the artifact folder and its manifest digest, never the model itself.

    It pickles to a few bytes, so Dask sends it with each task. On a Dask worker ``get()`` returns the analyzer
    the worker's ``AnalyzerPlugin`` loaded once; anywhere else the ``analyzer`` given, or the model loaded on
    first use and kept.
    """

    def __init__(
        self, model_dir: Path | None = None, settings: Settings | None = None, analyzer: Analyzer | None = None
    ):
        self.settings = settings or Settings()
        # Absolute, since workers (maybe on other machines) resolve it in their own working directory.
        self.model_dir = Path(model_dir or self.settings.model_dir).expanduser().absolute()
        manifest = analyzer.manifest if analyzer is not None else read_manifest(self.model_dir)
        self.version = manifest["version"]
        self.model_digest = manifest_digest(manifest)
        self._lock = threading.Lock()
        self._analyzer = analyzer

    @property
    def plugin_name(self) -> str:
        """Name of the worker plugin holding this model (one per model, so several can coexist)."""
        return f"berakhlak-analyzer-{self.model_digest[:16]}"

    def __getstate__(self) -> dict:
        # Never the analyzer: a worker loads its own from the artifact.
        return {"settings": self.settings, "model_dir": self.model_dir, "version": self.version,
                "model_digest": self.model_digest}  # fmt: skip

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _lock=threading.Lock(), _analyzer=None)

    def __dask_tokenize__(self):
        return (type(self).__name__, str(self.model_dir), self.model_digest, repr(self.settings))

    def load(self) -> Analyzer:
        """Load the model from the artifact, refusing one whose manifest is not the recorded one."""
        analyzer = Analyzer.load(self.model_dir, self.settings)
        found = manifest_digest(analyzer.manifest)
        if found != self.model_digest:
            raise ArtifactError(
                f"{self.model_dir} holds another model (manifest digest {found[:12]}..., expected "
                f"{self.model_digest[:12]}...): every process must see the same artifact"
            )
        return analyzer

    def get(self) -> Analyzer:
        """The analyzer of this process: the worker plugin's on a Dask worker, else loaded once here."""
        try:
            worker = distributed.get_worker()
        except ValueError:  # not running on a Dask worker
            worker = None
        if worker is not None:
            plugin = worker.plugins.get(self.plugin_name)
            if plugin is None or plugin.analyzer is None:
                raise ModelNotReadyError(
                    f"Dask worker {worker.address} has no loaded {self.plugin_name} plugin: call tag_dask "
                    "while the distributed Client is the default one, or use open_engine"
                )
            return plugin.analyzer
        with self._lock:
            if self._analyzer is None:
                self._analyzer = self.load()
            return self._analyzer


class AnalyzerPlugin(WorkerPlugin):
    """Loads the model from its artifact once per worker (when it starts or joins) and holds it for its tasks."""

    idempotent = True  # registering it again, e.g. by a second tag_dask call, keeps the loaded model

    def __init__(self, handle: AnalyzerHandle):
        self.handle = handle
        self.name = handle.plugin_name
        self.analyzer: Analyzer | None = None

    async def setup(self, worker) -> None:
        """Load the model in a thread: it takes seconds, and the worker's event loop must keep answering."""
        self.analyzer = await asyncio.to_thread(self.handle.load)

    def teardown(self, worker) -> None:
        """Drop the model."""
        self.analyzer = None


def _tag_chunk(handle: AnalyzerHandle, texts: list[str], evidence: bool) -> list[dict]:
    return handle.get().predict(texts, evidence=evidence)


class LocalEngine:
    """Tags chunks one after another in this process (loading the model now, before the first chunk)."""

    def __init__(self, handle: AnalyzerHandle, evidence: bool):
        self.handle, self.evidence = handle, evidence
        handle.get()

    def map_unordered(self, jobs: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[dict]]]:
        """(key, records) for each (key, texts) job."""
        for key, texts in jobs:
            yield key, (_tag_chunk(self.handle, texts, self.evidence) if texts else [])


class DaskEngine:
    """Sends chunks to Dask workers, a few per worker thread at a time, and yields their tags as they finish."""

    def __init__(self, client: distributed.Client, handle: AnalyzerHandle, evidence: bool):
        self.client, self.handle, self.evidence = client, handle, evidence
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except TimeoutError as exc:
            raise ConfigurationError(f"no Dask worker joined {client.scheduler.address} in time") from exc
        client.register_plugin(AnalyzerPlugin(handle))

    def _limit(self) -> int:
        # Asked again at every chunk, so that workers joining during a run get work too.
        return TASKS_PER_THREAD * max(sum(self.client.nthreads().values()), 1)

    def map_unordered(self, jobs: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[dict]]]:
        """(key, records) for each (key, texts) job, in the order the workers finish them."""
        running = distributed.as_completed(loop=self.client.loop)
        keys = {}
        for key, texts in jobs:
            if not texts:
                yield key, []
                continue
            future = self.client.submit(_tag_chunk, self.handle, texts, self.evidence, pure=False)
            keys[future.key] = key
            running.add(future)
            while running.count() >= self._limit():
                future = next(running)
                yield keys.pop(future.key), future.result()
        for future in running:
            yield keys.pop(future.key), future.result()


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2) -> Iterator[distributed.Client]:
    """A Client of the scheduler at ``scheduler``, or of a LocalCluster of single-threaded processes on loopback."""
    if scheduler:
        try:
            client = distributed.Client(scheduler, set_as_default=False)
        except OSError as exc:
            raise ConfigurationError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        with client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


@contextlib.contextmanager
def open_engine(engine: str, handle: AnalyzerHandle, evidence: bool, scheduler=None, dask_workers: int = 2):
    """The engine named ``local`` or ``dask`` (closing its cluster or connection on exit)."""
    if engine == "local":
        yield LocalEngine(handle, evidence)
    elif engine == "dask":
        with dask_client(scheduler, dask_workers) as client:
            yield DaskEngine(client, handle, evidence)
    else:
        raise ConfigurationError(f"unknown engine {engine!r}: use local or dask")


def text_problem(text, max_chars: int) -> tuple[str, str] | None:
    """Why a text cannot be tagged (reason, detail), or None."""
    if is_missing(text):
        return "empty_text", "no text"
    if not isinstance(text, str):
        return "invalid_text", f"text is a {type(text).__name__}, not a string"
    if undecodable(text):
        return "undecodable", "invalid UTF-8 in the text"
    if not text.strip():
        return "empty_text", "the text is empty or whitespace"
    if len(text) > max_chars:
        return "too_long", f"{len(text)} characters; the limit is {max_chars} (setting max_chars)"
    return None


def tag_texts(analyzer: Analyzer, texts: list[str], evidence: bool, batch_rows: int) -> list[dict]:
    """``analyzer.predict`` over ``batch_rows`` texts at a time (bounds the memory of the embeddings)."""
    records = []
    for start in range(0, len(texts), batch_rows):
        records += analyzer.predict(texts[start : start + batch_rows], evidence=evidence)
    return records


def with_tags(frame: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    """A copy of ``frame`` with the tag columns appended (dicts and lists as Python objects)."""
    tagged = frame.copy()
    for column, dtype in TAG_DTYPES.items():
        tagged[column] = pd.Series([r[column] for r in records], index=frame.index, dtype=dtype)
    return tagged


def check_frame(frame: pd.DataFrame, max_chars: int) -> None:
    """Refuse a frame without ``text``, with a column the tags would overwrite, or with a text not taggable."""
    if "text" not in frame.columns:
        raise InputError(f"the frame needs a 'text' column (found: {list(frame.columns)})", code="missing_column")
    clashing = [c for c in frame.columns if c in TAG_COLUMNS]
    if clashing:
        raise InputError(f"column(s) {clashing} clash with the tag columns; rename them", code="bad_header")
    problems = [(i, p) for i, t in enumerate(frame["text"].tolist()) if (p := text_problem(t, max_chars))]
    if problems:
        first, (reason, detail) = problems[0]
        raise InputError(
            f"{len(problems)} text(s) cannot be tagged; the first, at position {first}, is {reason}: {detail}",
            index=first, code=reason,
        )  # fmt: skip


def tag_dataframe(
    df: pd.DataFrame, analyzer: Analyzer | None = None, settings: Settings | None = None, evidence: bool = True
) -> pd.DataFrame:
    """Tag a pandas frame with a ``text`` column; returns a copy with the tag columns appended.

    Every column and the index are kept. Texts are checked as the file tagger checks them (a string, not empty,
    valid Unicode, at most ``settings.max_chars``); a frame has no rejects file, so any bad text raises an
    ``InputError`` counting them and naming the first. ``analyzer`` defaults to ``Analyzer.load(settings=...)``.
    """
    settings = settings or Settings()
    check_frame(df, settings.max_chars)
    analyzer = analyzer or Analyzer.load(settings=settings)
    return with_tags(df, tag_texts(analyzer, df["text"].tolist(), evidence, settings.chunk_size))


def _tag_partition(frame: pd.DataFrame, handle: AnalyzerHandle, evidence: bool) -> pd.DataFrame:
    check_frame(frame, handle.settings.max_chars)
    texts = frame["text"].tolist()
    return with_tags(frame, tag_texts(handle.get(), texts, evidence, handle.settings.chunk_size))


def tag_dask(ddf, model_dir: Path | None = None, settings: Settings | None = None, evidence: bool = True):
    """Tag a Dask DataFrame with a ``text`` column, lazily; returns it with the tag columns appended.

    With a distributed Client as the default, each worker loads the model once, through an ``AnalyzerPlugin``
    registered here; without one (the threaded scheduler) this process loads it once. Texts are checked as by
    ``tag_dataframe``: a bad one fails the computation with an ``InputError``. Partitions are encoded
    ``settings.chunk_size`` rows at a time.
    """
    handle = AnalyzerHandle(model_dir, settings)
    meta = ddf._meta
    check_frame(meta, handle.settings.max_chars)
    # Without a distributed Client (ValueError) the threaded scheduler runs the tasks in this process.
    with contextlib.suppress(ValueError):
        distributed.default_client().register_plugin(AnalyzerPlugin(handle))
    return ddf.map_partitions(_tag_partition, handle, evidence, meta=with_tags(meta, []))
