"""Batch tagging in this process: formats, kept columns, rejects, resume and the DataFrame API."""

import csv
import json
import random

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.analyzer import Analyzer
from model.batch import SeenIds, parts_dir, tag_dataframe, tag_file
from model.batch_io import TAG_COLUMNS
from model.errors import InputError, ResumeError
from model.labels import SENTIMENTS, VALUE_IDS
from service.cli import main
from tests.tiny_model import FILLER, MOOD, WORDS

FORMATS = ("csv", "jsonl", "parquet")


@pytest.fixture(scope="module")
def analyzer(tiny_artifact, tiny_settings):
    """The tiny model, loaded once for the module."""
    return Analyzer.load(tiny_artifact, tiny_settings)


def feedback_rows(n, seed=0):
    """Rows with id, text (one or two sentences of the tiny vocabulary) and two other columns."""
    rng = random.Random(seed)
    vocabulary = [w for ws in WORDS.values() for w in ws] + [w for ws in MOOD.values() for w in ws] + FILLER
    rows = []
    for i in range(n):
        sentences = [" ".join(rng.sample(vocabulary, rng.randint(3, 8))) for _ in range(rng.randint(1, 2))]
        rows.append({"id": f"u{i:04d}", "text": ". ".join(sentences), "city": rng.choice(["Medan", "Kupang"]),
                     "rating": str(rng.randint(1, 5))})  # fmt: skip
    return rows


def write_rows(path, rows):
    """Write rows as CSV, JSONL or Parquet according to the extension; returns the path."""
    if path.suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def read_output(path):
    """The rows of a JSONL or Parquet output as dicts."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return pq.read_table(path).to_pylist()


def read_rejects(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("out_format", ["jsonl", "parquet"])
@pytest.mark.parametrize("in_format", FORMATS)
def test_every_format_is_tagged_with_its_other_columns_kept(tmp_path, tiny_settings, analyzer, in_format, out_format):
    rows = feedback_rows(30)
    source = write_rows(tmp_path / f"in.{in_format}", rows)
    out = tmp_path / f"out.{out_format}"
    summary = tag_file(source, out, settings=tiny_settings.replace(chunk_size=8), analyzer=analyzer)

    assert (summary.rows_read, summary.rows_written, summary.rows_rejected, summary.chunks) == (30, 30, 0, 4)
    tagged = read_output(out)
    assert list(tagged[0]) == ["id", "city", "rating", *TAG_COLUMNS]
    assert [(r["id"], r["city"], r["rating"]) for r in tagged] == [(r["id"], r["city"], r["rating"]) for r in rows]
    expected = [p for i in range(0, 30, 8) for p in analyzer.predict([r["text"] for r in rows[i : i + 8]])]
    for row, record in zip(tagged, expected, strict=True):
        assert row["values"] == record["values"]
        assert row["value_scores"] == record["value_scores"]
        assert set(row["value_scores"]) == set(VALUE_IDS)
        assert row["sentiment"] == record["sentiment"]
        assert row["sentiment_scores"] == record["sentiment_scores"]
        assert set(row["sentiment_scores"]) == set(SENTIMENTS)
        assert row["needs_review"] == record["needs_review"]
        assert row["model_version"] == "tiny-1"
        # Parquet keeps one field per value (null when not selected); JSONL keeps the API's dicts.
        assert {k: v for k, v in row["value_polarity"].items() if v} == record["value_polarity"]
        assert {k: v for k, v in row["evidence"].items() if v} == record["evidence"]
    assert read_rejects(summary.rejects) == []
    assert not parts_dir(out).exists()


def test_bad_rows_are_rejected_with_their_reason_and_counted(tmp_path, tiny_settings, analyzer):
    good = feedback_rows(6)
    for row in good:
        row["text"] = row["text"][:40]
    lines = [b"id,text,note"]
    lines += [f"{r['id']},{r['text']},ok".encode() for r in good[:3]]
    lines += [
        b"bad1,,empty",
        b"bad2,   ,whitespace",
        b"bad3,petugas ramah \xff\xfe loket,bytes in the text",
        b"bad4,petugas ramah,bytes in a note \xc3\x28",
        b"bad5," + b"lama " * 20 + b",too long",
        b",petugas ramah,no id",
        f"{good[0]['id']},loket cepat,a second u0000".encode(),
        b"bad6,too,many,fields",
    ]
    lines += [f"{r['id']},{r['text']},ok".encode() for r in good[3:]]
    source = tmp_path / "in.csv"
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    summary = tag_file(source, out, settings=tiny_settings.replace(max_chars=60, chunk_size=4), analyzer=analyzer)

    assert (summary.rows_read, summary.rows_written, summary.rows_rejected) == (14, 6, 8)
    assert [r["id"] for r in read_output(out)] == [r["id"] for r in good]
    rejects = read_rejects(tmp_path / "out.rejects.jsonl")
    assert [(r["row"], r["id"], r["reason"]) for r in rejects] == [
        (4, "bad1", "empty_text"),
        (5, "bad2", "empty_text"),
        (6, "bad3", "undecodable"),
        (7, "bad4", "undecodable"),
        (8, "bad5", "too_long"),
        (9, None, "missing_id"),
        (10, good[0]["id"], "duplicate_id"),
        (11, None, "malformed_row"),
    ]
    assert "note" in rejects[3]["detail"] and "100 characters" in rejects[4]["detail"]
    assert summary.reasons == {"empty_text": 2, "undecodable": 2, "too_long": 1, "missing_id": 1,
                               "duplicate_id": 1, "malformed_row": 1}  # fmt: skip


def test_bad_jsonl_lines_are_rejected_not_fatal(tmp_path, tiny_settings, analyzer):
    good = feedback_rows(2)
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        json.dumps(good[0]).encode() + b"\n"
        b"{not json\n"
        b"[1, 2]\n"
        b"\n"  # a blank line is no record
        b'{"id": "x1", "text": "petugas \xff ramah"}\n'
        b'{"id": "x2", "text": 12}\n'
        b'{"id": "x3"}\n' + json.dumps(good[1]).encode() + b"\n"
    )
    summary = tag_file(source, tmp_path / "out.parquet", settings=tiny_settings, analyzer=analyzer)

    assert (summary.rows_read, summary.rows_written, summary.rows_rejected) == (7, 2, 5)
    rejects = read_rejects(tmp_path / "out.rejects.jsonl")
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (2, "malformed_row"), (3, "malformed_row"), (4, "undecodable"), (5, "invalid_text"), (6, "empty_text"),
    ]  # fmt: skip
    assert pq.read_table(tmp_path / "out.parquet").column("id").to_pylist() == [good[0]["id"], good[1]["id"]]


def test_a_jsonl_column_missing_from_early_chunks_still_makes_one_parquet(tmp_path, tiny_settings, analyzer):
    rows = feedback_rows(9)
    for i, row in enumerate(rows):
        row.pop("rating")
        if i >= 6:
            row["stars"] = i
    source = write_rows(tmp_path / "in.jsonl", rows)
    tag_file(source, tmp_path / "out.parquet", settings=tiny_settings.replace(chunk_size=3), analyzer=analyzer)

    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column("stars").to_pylist() == [None] * 6 + [6, 7, 8]
    assert table.schema.field("stars").type == pa.int64()


@pytest.mark.parametrize("in_format", FORMATS)
def test_missing_columns_are_refused_before_any_work(tmp_path, tiny_settings, in_format):
    source = write_rows(tmp_path / f"in.{in_format}", [{"id": "a", "body": "petugas ramah"}])
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match="text"):
        tag_file(source, out, settings=tiny_settings)
    assert not out.exists() and not parts_dir(out).exists()


def test_unknown_formats_and_clashing_columns_are_refused(tmp_path, tiny_settings):
    source = write_rows(tmp_path / "in.csv", [{"id": "a", "text": "petugas ramah", "sentiment": "x"}])
    with pytest.raises(InputError, match="extension"):
        tag_file(source, tmp_path / "out.csv", settings=tiny_settings)
    with pytest.raises(InputError, match="clash"):
        tag_file(source, tmp_path / "out.jsonl", settings=tiny_settings)


def test_an_input_with_only_a_header_gives_an_empty_output(tmp_path, tiny_settings, analyzer):
    source = tmp_path / "in.csv"
    source.write_text("id,text,city\n", encoding="utf-8")
    summary = tag_file(source, tmp_path / "out.parquet", settings=tiny_settings, analyzer=analyzer)
    assert (summary.rows_read, summary.rows_written, summary.rows_rejected) == (0, 0, 0)
    assert pq.read_table(tmp_path / "out.parquet").column_names == ["id", "city", *TAG_COLUMNS]


class Interrupting:
    """An analyzer that counts its batches and raises KeyboardInterrupt on batch number ``stop_at``."""

    def __init__(self, analyzer, stop_at=None, manifest=None):
        self.analyzer, self.stop_at, self.calls = analyzer, stop_at, 0
        self.manifest = manifest or analyzer.manifest

    def predict(self, texts, evidence=True):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return self.analyzer.predict(texts, evidence=evidence)


def interrupted_run(tmp_path, settings, analyzer, n_rows=40, stop_at=3):
    """Tag a CSV of ``n_rows`` rows in chunks of 5 and interrupt it while it tags chunk ``stop_at``."""
    rows = feedback_rows(n_rows)
    rows[7]["text"] = ""
    source = write_rows(tmp_path / "in.csv", rows)
    out = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        tag_file(source, out, settings=settings, analyzer=Interrupting(analyzer, stop_at))
    return source, out


def test_an_interrupted_run_resumes_and_equals_a_clean_run(tmp_path, tiny_settings, analyzer):
    settings = tiny_settings.replace(chunk_size=5)
    source, out = interrupted_run(tmp_path, settings, analyzer)
    assert not out.exists() and len(list(parts_dir(out).glob("*.done.json"))) == 2

    counting = Interrupting(analyzer)
    summary = tag_file(source, out, settings=settings, analyzer=counting)
    assert counting.calls == 8 - 2 and summary.chunks_resumed == 2
    assert (summary.rows_read, summary.rows_written, summary.rows_rejected) == (40, 39, 1)

    clean = tmp_path / "clean.parquet"
    tag_file(source, clean, settings=settings, analyzer=analyzer)
    assert pq.read_table(out).equals(pq.read_table(clean))
    assert read_rejects(tmp_path / "out.rejects.jsonl") == read_rejects(tmp_path / "clean.rejects.jsonl")
    ids = pq.read_table(out).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 39


def test_a_damaged_or_unfinished_part_is_tagged_again(tmp_path, tiny_settings, analyzer):
    settings = tiny_settings.replace(chunk_size=5)
    source, out = interrupted_run(tmp_path, settings, analyzer, stop_at=4)
    folder = parts_dir(out)
    with open(folder / "chunk-00000001.parquet", "ab") as part:
        part.write(b"garbage")
    (folder / "chunk-00000002.done.json").unlink()  # as if killed between the part and its sidecar

    counting = Interrupting(analyzer)
    summary = tag_file(source, out, settings=settings, analyzer=counting)
    assert summary.chunks_resumed == 1 and counting.calls == 7
    clean = tmp_path / "clean.parquet"
    tag_file(source, clean, settings=settings, analyzer=analyzer)
    assert pq.read_table(out).equals(pq.read_table(clean))


def test_parts_of_another_input_or_model_are_not_mixed_in(tmp_path, tiny_settings, analyzer):
    settings = tiny_settings.replace(chunk_size=5)
    source, out = interrupted_run(tmp_path, settings, analyzer)
    other_model = Interrupting(analyzer, manifest={**analyzer.manifest, "version": "tiny-2"})
    with pytest.raises(ResumeError, match=r"model.*rm -r"):
        tag_file(source, out, settings=settings, analyzer=other_model)
    with pytest.raises(ResumeError, match="options"):
        tag_file(source, out, settings=settings.replace(chunk_size=6), analyzer=analyzer)
    with open(source, "a", encoding="utf-8") as handle:
        handle.write("late,petugas ramah,Medan,5\n")
    with pytest.raises(ResumeError, match="input"):
        tag_file(source, out, settings=settings, analyzer=analyzer)


def test_seen_ids_match_a_set_across_many_claims():
    rng = random.Random(1)
    seen, reference = SeenIds(), set()
    for _ in range(60):
        ids = [f"id{rng.randint(0, 900)}" for _ in range(rng.randint(0, 40))]
        expected = []
        for ident in ids:
            expected.append(ident not in reference)
            reference.add(ident)
        assert seen.claim(ids) == expected
    assert len(seen) == len(reference)


def test_tag_dataframe_keeps_columns_and_index(tiny_settings, analyzer):
    rows = feedback_rows(7)
    frame = pd.DataFrame(rows, index=[f"k{i}" for i in range(7)])
    tagged = tag_dataframe(frame, analyzer, tiny_settings.replace(chunk_size=3), evidence=False)
    assert list(tagged.columns) == [*frame.columns, *TAG_COLUMNS]
    assert tagged.index.equals(frame.index) and tagged[list(frame.columns)].equals(frame)
    expected = [p for i in range(0, 7, 3) for p in analyzer.predict(frame["text"].iloc[i : i + 3], evidence=False)]
    assert tagged["value_scores"].tolist() == [p["value_scores"] for p in expected]
    assert tagged["evidence"].tolist() == [{}] * 7


def test_tag_dataframe_refuses_bad_texts(tiny_settings, analyzer):
    frame = pd.DataFrame({"text": ["ramah", " ", "x" * 10]})
    with pytest.raises(InputError, match="2 text") as caught:
        tag_dataframe(frame, analyzer, tiny_settings.replace(max_chars=5))
    assert caught.value.index == 1 and caught.value.code == "empty_text"


def test_cli_prints_the_summary_and_exits_zero(tmp_path, tiny_settings, tiny_artifact, monkeypatch, capsys):
    monkeypatch.setenv("BERAKHLAK_MODEL_DIR", str(tiny_artifact))
    monkeypatch.setenv("BERAKHLAK_CACHE_DIR", str(tiny_settings.cache_dir))
    rows = feedback_rows(5)
    rows[2]["text"] = " "
    source = write_rows(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert main(["tag", str(source), "--out", str(out), "--no-evidence", "--chunk-size", "2"]) == 0
    printed = capsys.readouterr().out
    assert "rows read = rows written + rows rejected: 5 = 4 + 1" in printed and "empty_text" in printed
    assert [r["evidence"] for r in read_output(out)] == [{}] * 4

    assert main(["tag", str(tmp_path / "none.csv"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
