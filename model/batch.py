"""Batch tagging of files: ``tag_file`` reads any size in chunks, resumes after a crash, and accounts for every row.

``model.batch_io`` reads and writes the files; ``model.batch_dask`` loads the model once per process or Dask worker,
runs the chunks, and tags pandas and Dask frames (``tag_dataframe`` and ``tag_dask``, re-exported here).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from model import batch_io
from model.analyzer import Analyzer
from model.artifacts import sha256_file
from model.batch_dask import AnalyzerHandle, open_engine, tag_dask, tag_dataframe, text_problem
from model.errors import InputError, ResumeError
from model.settings import Settings

__all__ = ["TagSummary", "parts_dir", "tag_dask", "tag_dataframe", "tag_file", "validate_chunk"]

PARTS_FORMAT = 1  # bump when the parts' layout or content changes, so old parts are not reused

logger = logging.getLogger(__name__)


class SeenIds:
    """The ids claimed so far, as sorted runs of 16-byte BLAKE2b digests: 16 bytes per id however long it is.

    Runs are merged like the digits of a binary counter, so there are O(log n) of them to search.
    """

    def __init__(self):
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def claim(self, ids: list[str]) -> list[bool]:
        """True for each id never claimed before (the first of repeats within ``ids`` wins); claims those."""
        if not ids:
            return []
        digests = np.array([hashlib.blake2b(i.encode("utf-8", "surrogatepass"), digest_size=16).digest() for i in ids])
        digests = digests.astype("S16")
        new = np.zeros(len(ids), dtype=bool)
        new[np.unique(digests, return_index=True)[1]] = True
        for run in self._runs:
            at = np.searchsorted(run, digests).clip(max=len(run) - 1)
            new &= run[at] != digests
        if new.any():
            self._runs.append(np.sort(digests[new]))
        while len(self._runs) > 1 and len(self._runs[-2]) <= len(self._runs[-1]):
            last = self._runs.pop()
            self._runs[-1] = np.sort(np.concatenate([self._runs[-1], last]))
        return new.tolist()


def validate_chunk(chunk: batch_io.Chunk, seen: SeenIds, max_chars: int) -> tuple[pd.DataFrame, list[dict]]:
    """Split a chunk into the rows to tag and its rejects (``row``, ``id``, ``reason``, ``detail``).

    Reasons, checked in this order: ``malformed_row`` (CSV field count, invalid JSON), ``undecodable`` (bytes
    that are not UTF-8, in any column), ``missing_id``, ``invalid_text`` (not a string), ``empty_text`` (missing,
    empty or whitespace), ``too_long`` (over ``max_chars``) and ``duplicate_id``: the first row with an id that
    passes the other checks claims it in ``seen``, and later rows with that id are rejected.
    """
    columns = list(chunk.frame.columns)
    id_at, text_at = columns.index("id"), columns.index("text")
    rows = list(chunk.frame.itertuples(index=False, name=None))
    problems = {}
    for i, cells in enumerate(rows):
        problem = (batch_io.MALFORMED, chunk.malformed[i]) if i in chunk.malformed else None
        problem = problem or _cells_problem(cells, columns) or _id_problem(cells[id_at])
        problem = problem or text_problem(cells[text_at], max_chars)
        if problem:
            problems[i] = problem
    candidates = [i for i in range(len(rows)) if i not in problems]
    for i, new in zip(candidates, seen.claim([str(rows[i][id_at]) for i in candidates]), strict=True):
        if not new:
            problems[i] = ("duplicate_id", "an earlier row has the same id")
    keep = np.array([i not in problems for i in range(len(rows))], dtype=bool)
    accepted = chunk.frame.loc[keep].reset_index(drop=True)
    rejects = [
        {"row": chunk.first_row + i, "id": _printable(rows[i][id_at]), "reason": reason, "detail": detail}
        for i, (reason, detail) in sorted(problems.items())
    ]
    return accepted, rejects


def _cells_problem(cells: tuple, columns: list[str]) -> tuple[str, str] | None:
    bad = [column for column, value in zip(columns, cells, strict=True) if batch_io.undecodable(value)]
    return ("undecodable", f"invalid UTF-8 in column(s) {', '.join(bad)}") if bad else None


def _id_problem(ident) -> tuple[str, str] | None:
    if batch_io.is_missing(ident) or (isinstance(ident, str) and not ident.strip()):
        return "missing_id", "no id"
    return None


def _printable(ident):
    """An id as it can be written to JSON: invalid bytes shown as escapes, missing or blank as null."""
    if _id_problem(ident):
        return None
    if isinstance(ident, str):
        return ident.encode("utf-8", "backslashreplace").decode("utf-8")
    return ident if isinstance(ident, int | float | bool) else str(ident)


@dataclass
class TagSummary:
    """What a ``tag_file`` run did; ``rows_read == rows_written + rows_rejected`` always holds."""

    output: Path
    rejects: Path
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    chunks: int = 0
    chunks_resumed: int = 0
    seconds: float = 0.0

    def add(self, facts: dict, rejects: list[dict]) -> None:
        """Count one chunk."""
        self.chunks += 1
        self.rows_read += facts["rows_read"]
        self.rows_written += facts["rows_written"]
        self.rows_rejected += facts["rows_rejected"]
        self.reasons.update(r["reason"] for r in rejects)


def parts_dir(out: Path) -> Path:
    """The work folder of a ``tag_file`` run writing ``out``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


class PartsDir:
    """The work folder beside the output (``OUT.parts/``): per chunk a part, its rejects and a sidecar.

    The sidecar is written last, atomically, so a chunk counts as done only once its files are complete; it records
    the chunk's rows and its files' sha256, checked again before the chunk is skipped. ``run.json`` records the
    input, model and options the parts come from: a run with other ones is refused rather than mixed with them.
    """

    def __init__(self, out: Path, run: dict, fmt: str):
        self.path = parts_dir(out)
        self.run = run
        self.fmt = fmt
        self.digest = hashlib.sha256(json.dumps(run, sort_keys=True).encode()).hexdigest()

    def open(self) -> None:
        """Create the folder, or check that the one already there belongs to this run."""
        marker = self.path / "run.json"
        if marker.is_file():
            try:
                earlier = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                earlier = {}
            if earlier != self.run:
                changed = [k for k in self.run if earlier.get(k) != self.run[k]]
                raise ResumeError(
                    f"{self.path} holds the parts of an interrupted run whose {' and '.join(changed)} differ from "
                    f"this run's; they cannot be mixed. Re-run with the original input, model and options to "
                    f"finish it, or delete the folder to start over: rm -r '{self.path}'"
                )
            return
        self.path.mkdir(parents=True, exist_ok=True)
        batch_io.write_json(marker, self.run)

    def _files(self, index: int) -> tuple[Path, Path, Path]:
        stem = self.path / f"chunk-{index:08d}"
        return stem.with_suffix(f".{self.fmt}"), stem.with_suffix(".rejects.jsonl"), stem.with_suffix(".done.json")

    def is_done(self, facts: dict) -> bool:
        """Whether a complete, intact part with exactly these facts (chunk, rows) is already there."""
        part, rejects, sidecar = self._files(facts["chunk"])
        try:
            recorded = json.loads(sidecar.read_text(encoding="utf-8"))
            if recorded.get("run") != self.digest or any(recorded.get(k) != v for k, v in facts.items()):
                return False
            return recorded.get("files") == {p.name: sha256_file(p) for p in (part, rejects)}
        except (OSError, ValueError):
            return False

    def commit(self, facts: dict, frame: pd.DataFrame, records: list[dict], rejects: list[dict]) -> None:
        """Write a chunk's part and rejects, then its sidecar (which marks it done)."""
        part, rejects_path, sidecar = self._files(facts["chunk"])
        batch_io.write_part(part, self.fmt, frame, records)
        batch_io.write_jsonl(rejects_path, rejects)
        files = {p.name: sha256_file(p) for p in (part, rejects_path)}
        run = {"run": self.digest, "input_sha256": self.run["input"]["sha256"], "model": self.run["model"]["version"]}
        batch_io.write_json(sidecar, {**run, **facts, "files": files})

    def finish(self, chunks: int, out: Path, rejects: Path) -> int:
        """Assemble the parts into ``out`` and ``rejects``, remove the folder; returns the rows in ``out``."""
        files = [self._files(i) for i in range(chunks)]
        batch_io.concatenate([r for _, r, _ in files], rejects)
        written = batch_io.assemble([p for p, _, _ in files], out, self.fmt)
        shutil.rmtree(self.path)
        return written


class _Feeder:
    """Reads and validates chunks, skips those already done, and holds the others until their tags return."""

    def __init__(self, parts: PartsDir, summary: TagSummary, max_chars: int, bar):
        self.parts, self.summary, self.max_chars, self.bar = parts, summary, max_chars, bar
        self.seen = SeenIds()
        self.pending: dict[int, tuple] = {}

    def jobs(self, chunks: Iterable[batch_io.Chunk]) -> Iterator[tuple[int, list[str]]]:
        """(chunk index, texts to tag) for every chunk not already done."""
        for chunk in chunks:
            # Done chunks are validated too: their ids must be claimed before later chunks are checked.
            accepted, rejected = validate_chunk(chunk, self.seen, self.max_chars)
            facts = {"chunk": chunk.index, "first_row": chunk.first_row, "rows_read": len(chunk.frame),
                     "rows_written": len(accepted), "rows_rejected": len(rejected)}  # fmt: skip
            self.summary.add(facts, rejected)
            if self.parts.is_done(facts):
                self.summary.chunks_resumed += 1
                self.bar.update(facts["rows_read"])
                continue
            self.pending[chunk.index] = (facts, accepted, rejected)
            yield chunk.index, accepted["text"].tolist()

    def done(self, index: int, records: list[dict]) -> None:
        """Write the part of a chunk whose tags came back."""
        facts, accepted, rejected = self.pending.pop(index)
        self.parts.commit(facts, accepted, records, rejected)
        self.bar.update(facts["rows_read"])


def tag_file(
    source: Path, out: Path, *, settings: Settings | None = None, rejects: Path | None = None,
    evidence: bool = True, engine: str = "local", scheduler: str | None = None, dask_workers: int = 2,
    progress: bool = False, analyzer: Analyzer | None = None,
) -> TagSummary:  # fmt: skip
    """Tag a CSV, JSONL or Parquet file with columns ``id``, ``text`` into a JSONL or Parquet file.

    Reads ``settings.chunk_size`` rows at a time; each chunk is tagged in this process (``engine="local"``) or on
    Dask workers (``"dask"``: at ``scheduler``, or a LocalCluster of ``dask_workers`` processes), written to
    ``OUT.parts/`` and finally assembled into ``out``. An interrupted run resumes where it stopped when run again.
    Rejected rows go to ``rejects`` (default: ``out`` with suffix ``.rejects.jsonl``). ``analyzer``, a loaded
    model, saves loading ``settings.model_dir`` in this process (Dask workers still load the artifact).
    """
    settings = settings or Settings()
    source, out = Path(source), Path(out)
    in_fmt = batch_io.file_format(source, batch_io.INPUT_FORMATS, "input")
    out_fmt = batch_io.file_format(out, batch_io.OUTPUT_FORMATS, "output")
    rejects = Path(rejects) if rejects else out.with_suffix(".rejects.jsonl")
    if not source.is_file():
        raise InputError(f"input {source} does not exist", code="not_found")
    if len({source.resolve(), out.resolve(), rejects.resolve()}) < 3:
        raise InputError("the input, the output and the rejects file must be three different files")
    batch_io.check_columns(batch_io.input_columns(source, in_fmt), source)
    for folder in {out.parent, rejects.parent}:
        folder.mkdir(parents=True, exist_ok=True)  # now, not after hours of tagging
    started = time.perf_counter()
    handle = AnalyzerHandle(settings.model_dir, settings, analyzer)
    sha256, size, newlines = batch_io.fingerprint(source)
    run = {
        "parts_format": PARTS_FORMAT,
        "input": {"sha256": sha256, "bytes": size},
        "model": {"version": handle.version, "manifest_digest": handle.model_digest},
        "options": {"chunk_size": settings.chunk_size, "max_chars": settings.max_chars, "evidence": evidence,
                    "output_format": out_fmt},
    }  # fmt: skip
    parts = PartsDir(out, run, out_fmt)
    parts.open()
    summary = TagSummary(out, rejects)
    total = batch_io.estimated_rows(source, in_fmt, newlines)
    with (
        open_engine(engine, handle, evidence, scheduler, dask_workers) as tagger,  # loads the model first
        tqdm(total=total, unit=" rows", disable=not progress, dynamic_ncols=True, smoothing=0.1) as bar,
    ):
        feeder = _Feeder(parts, summary, settings.max_chars, bar)
        chunks = batch_io.read_chunks(source, in_fmt, settings.chunk_size)
        for index, records in tagger.map_unordered(feeder.jobs(chunks)):
            feeder.done(index, records)
    if summary.rows_read != summary.rows_written + summary.rows_rejected:
        raise AssertionError(f"rows do not add up: {summary}")
    written = parts.finish(summary.chunks, out, rejects)
    if written != summary.rows_written:
        raise AssertionError(f"{out} holds {written} rows, expected {summary.rows_written}")
    if summary.chunks_resumed:
        logger.info("%d of %d chunks were already done by an earlier run", summary.chunks_resumed, summary.chunks)
    summary.seconds = time.perf_counter() - started
    return summary
