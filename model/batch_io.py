"""File formats of the batch tagger: chunked readers (CSV, JSONL, Parquet), part writers and assembly.

Readers hold one chunk of rows at a time. Bytes that are not valid UTF-8 are decoded with
``surrogateescape``, so such a row survives to be rejected as ``undecodable`` instead of stopping the run.
Every file is written to a temporary name and renamed into place, so no half-written file is ever seen.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import itertools
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from model.errors import InputError
from model.labels import SENTIMENTS, VALUE_IDS

INPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
OUTPUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
REQUIRED_COLUMNS = ("id", "text")
MALFORMED = "malformed_row"

_SCORES = pa.struct([(v, pa.float64()) for v in VALUE_IDS])
_PER_VALUE = pa.struct([(v, pa.string()) for v in VALUE_IDS])  # null where the value was not selected
TAG_SCHEMA = pa.schema([
    ("values", pa.list_(pa.string())), ("value_scores", _SCORES), ("value_polarity", _PER_VALUE),
    ("sentiment", pa.string()), ("sentiment_scores", pa.struct([(s, pa.float64()) for s in SENTIMENTS])),
    ("needs_review", pa.bool_()), ("evidence", _PER_VALUE), ("model_version", pa.string()),
])  # fmt: skip
TAG_COLUMNS = tuple(TAG_SCHEMA.names)


def file_format(path: Path, formats: dict[str, str], role: str) -> str:
    """The format named by a file's extension, or an ``InputError`` listing the supported ones."""
    found = formats.get(Path(path).suffix.lower())
    if found is None:
        raise InputError(f"{role} {path}: unsupported extension; use one of {', '.join(formats)}", code="bad_format")
    return found


@dataclass
class Chunk:
    """Up to ``chunk_size`` consecutive records of an input file."""

    index: int
    first_row: int  # 1-based number of its first record; a CSV header is not a record
    frame: pd.DataFrame  # one row per record, the input's columns
    malformed: dict[int, str] = field(default_factory=dict)  # position -> why it could not be parsed


def input_columns(path: Path, fmt: str) -> list[str]:
    """The columns of an input file, read from its header (JSONL: its first record)."""
    if fmt == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    if fmt == "csv":
        with _open_csv(path) as reader:
            header = next(reader, None)
        if header is None:
            raise InputError(f"{path} is empty: a CSV input needs a header row with id,text", code="missing_column")
        if len(set(header)) != len(header) or any(undecodable(name) for name in header):
            raise InputError(f"{path}: the header repeats a name or is not UTF-8: {header}", code="bad_header")
        return header
    first = next((record for record, problem in _jsonl_records(path) if problem is None), None)
    return list(first) if first is not None else list(REQUIRED_COLUMNS)


def check_columns(columns: list[str], path: Path) -> None:
    """Refuse, before any work, an input without ``id``/``text`` or with a column the output would overwrite."""
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            f"{path} lacks column(s) {', '.join(missing)}: the input needs 'id' and 'text' (found: {columns})",
            code="missing_column",
        )
    clashing = [c for c in columns if c in TAG_COLUMNS]
    if clashing:
        raise InputError(f"{path}: column(s) {clashing} clash with output columns; rename them", code="bad_header")


def fingerprint(path: Path) -> tuple[str, int, int]:
    """sha256, size in bytes and number of newlines of a file, in one pass of 1 MiB blocks."""
    digest, size, newlines = hashlib.sha256(), 0, 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            newlines += block.count(b"\n")
    return digest.hexdigest(), size, newlines


def estimated_rows(path: Path, fmt: str, newlines: int) -> int:
    """Rows of the input, exact for Parquet, from the newline count otherwise (for the progress bar)."""
    if fmt == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return max(newlines - (fmt == "csv"), 0)


def read_chunks(path: Path, fmt: str, chunk_size: int) -> Iterator[Chunk]:
    """The input in chunks of ``chunk_size`` records; always at least one (maybe empty) chunk."""
    columns = input_columns(path, fmt)
    if fmt == "parquet":
        frames = (b.to_pandas(types_mapper=pd.ArrowDtype) for b in pq.ParquetFile(path).iter_batches(chunk_size))
        groups = ((frame, {}) for frame in frames)
    elif fmt == "csv":
        groups = (_csv_frame(group, columns) for group in _grouped(_csv_records(path, len(columns)), chunk_size))
    else:
        groups = (_jsonl_frame(group) for group in _grouped(_jsonl_records(path), chunk_size))
    first_row = 1
    for index, (frame, malformed) in enumerate(groups):
        yield Chunk(index, first_row, frame, malformed)
        first_row += len(frame)
    if first_row == 1:
        yield Chunk(0, 1, _empty_frame(path, fmt, columns))


def _empty_frame(path: Path, fmt: str, columns: list[str]) -> pd.DataFrame:
    if fmt == "parquet":
        return pq.ParquetFile(path).schema_arrow.empty_table().to_pandas(types_mapper=pd.ArrowDtype)
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def is_missing(value) -> bool:
    """None, NA or NaN: a cell with no value."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def undecodable(value) -> bool:
    """True for text holding lone surrogates: the trace ``surrogateescape`` leaves of bytes that are not UTF-8."""
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(undecodable(k) or undecodable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(undecodable(v) for v in value)
    return False


def _grouped(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while group := list(itertools.islice(iterator, size)):
        yield group


@contextlib.contextmanager
def _open_csv(path: Path):
    # Fields longer than csv's default limit (128 KiB) must reach validation to be rejected as too long.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        yield csv.reader(handle)


def _csv_records(path: Path, n_columns: int) -> Iterator[tuple[list | None, str | None]]:
    with _open_csv(path) as reader:
        next(reader, None)
        for record in reader:
            if not record:
                continue  # a blank line holds no record
            if len(record) != n_columns:
                yield None, f"expected {n_columns} fields, found {len(record)}"
            else:
                yield record, None


def _csv_frame(group: list, columns: list[str]) -> tuple[pd.DataFrame, dict[int, str]]:
    # CSV has no types: every cell stays the string it was, so all chunks get the same schema.
    blank = [None] * len(columns)
    rows = [record if record is not None else blank for record, _ in group]
    malformed = {i: problem for i, (_, problem) in enumerate(group) if problem}
    return pd.DataFrame(rows, columns=columns, dtype=object), malformed


def _jsonl_records(path: Path) -> Iterator[tuple[dict | None, str | None]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle):
            line = raw.decode("utf-8", "surrogateescape").strip()
            if number == 0:
                line = line.removeprefix("\ufeff")
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield None, f"invalid JSON ({exc.msg})"
                continue
            if not isinstance(record, dict):
                yield None, f"a JSON {type(record).__name__}, not an object"
            elif any(undecodable(key) for key in record):
                yield None, "invalid UTF-8 in a field name"
            else:
                yield record, None


def _jsonl_frame(group: list) -> tuple[pd.DataFrame, dict[int, str]]:
    columns = dict.fromkeys(REQUIRED_COLUMNS)
    for record, _ in group:
        columns.update(dict.fromkeys(record or ()))
    # Built column by column so that a missing key is None (not NaN) and ints stay ints.
    data = {c: [record.get(c) if record else None for record, _ in group] for c in columns}
    malformed = {i: problem for i, (_, problem) in enumerate(group) if problem}
    return pd.DataFrame(data, dtype=object), malformed


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; on success it is flushed to disk and renamed to ``path``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Write dicts as JSON lines, atomically."""
    with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")


def write_json(path: Path, value) -> None:
    """Write one JSON document, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_part(path: Path, fmt: str, frame: pd.DataFrame, records: list[dict]) -> None:
    """Write tagged rows (``frame`` without its text, then the tags) as JSONL or Parquet, atomically."""
    kept = frame[["id", *(c for c in frame.columns if c not in REQUIRED_COLUMNS)]]
    if fmt == "jsonl":
        rows = kept.to_dict("records")
        write_jsonl(path, ({**_no_nan(row), **record} for row, record in zip(rows, records, strict=True)))
        return
    table = output_table(kept, records)
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary)


def output_table(kept: pd.DataFrame, records: list[dict]) -> pa.Table:
    """Arrow table of the kept input columns followed by the tag columns of ``TAG_SCHEMA``."""
    try:
        table = pa.Table.from_pandas(kept.reset_index(drop=True), preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"a column cannot be stored in Parquet ({exc}); write JSONL output instead") from exc
    for tag in TAG_SCHEMA:
        table = table.append_column(tag, pa.array([r[tag.name] for r in records], type=tag.type))
    return table.replace_schema_metadata(None)


def assemble(parts: list[Path], out: Path, fmt: str) -> int:
    """Join the parts, in order, into ``out`` (atomically); returns the rows written.

    JSONL parts are concatenated; Parquet parts become the row groups of one file.
    """
    if fmt == "jsonl":
        return concatenate(parts, out)
    schema = _unified_schema([pq.read_schema(p) for p in parts])
    rows = 0
    with atomic_path(out) as temporary, pq.ParquetWriter(temporary, schema) as writer:
        for part in parts:
            table = _conform(pq.read_table(part), schema)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def concatenate(parts: list[Path], out: Path) -> int:
    """Join text files byte for byte into ``out``, atomically; returns the number of lines."""
    lines = 0
    with atomic_path(out) as temporary, open(temporary, "wb") as sink:
        for part in parts:
            with open(part, "rb") as source:
                while block := source.read(1 << 20):
                    sink.write(block)
                    lines += block.count(b"\n")
    return lines


def _unified_schema(schemas: list[pa.Schema]) -> pa.Schema:
    # A JSONL column may be all-null in one chunk and int in another; permissive promotion reconciles them.
    try:
        unified = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"a column has different types in different chunks ({exc}); write JSONL instead") from exc
    names = [n for n in unified.names if n not in TAG_COLUMNS] + list(TAG_COLUMNS)
    return pa.schema([unified.field(n) for n in names])


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type) for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _no_nan(row: dict) -> dict:
    return {key: None if is_missing(value) else value for key, value in row.items()}


def _json_default(value):
    """JSON for what ``json`` cannot write itself: dates, numpy values, NA, bytes and the rest as text."""
    for convert in ("isoformat", "tolist"):
        if hasattr(value, convert):
            return getattr(value, convert)()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return None if value is pd.NA else str(value)
