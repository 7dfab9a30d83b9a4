"""``berakhlak tag`` in a real subprocess: interrupted by signals it resumes; its memory stays bounded."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from model.analyzer import Analyzer
from model.batch import parts_dir, tag_file
from tests.test_batch import feedback_rows, write_rows

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20


@pytest.fixture
def tag_env(monkeypatch, tiny_settings, tiny_artifact):
    """Settings for the subprocesses, as the BERAKHLAK_* variables they inherit."""
    monkeypatch.setenv("BERAKHLAK_MODEL_DIR", str(tiny_artifact))
    monkeypatch.setenv("BERAKHLAK_CACHE_DIR", str(tiny_settings.cache_dir))


def tag_process(source, out, log):
    """Start ``python -m service.cli tag`` (settings come from the environment, see ``tag_env``)."""
    command = [sys.executable, "-m", "service.cli", "tag", str(source), "--out", str(out), "--no-progress"]
    return psutil.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, preexec_fn=default_sigint)


def default_sigint():
    # A shell without job control starts background commands (`make test &`, nohup) with SIGINT ignored,
    # and children inherit that: the tagger would never see the test's Ctrl-C and would run to the end.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finished_chunks(out) -> int:
    return len(list(parts_dir(out).glob("*.done.json")))


def interrupt(process, out, at_least, sig) -> int:
    """Send ``sig`` once ``at_least`` chunks are finished; returns how many were finished then."""
    deadline = time.monotonic() + 300
    while (done := finished_chunks(out)) < at_least:
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before the signal could be sent"
    process.send_signal(sig)
    process.wait(timeout=120)
    return done


@pytest.mark.slow
def test_a_run_killed_by_signals_resumes_to_the_clean_output(
    tmp_path, tiny_settings, tiny_artifact, tag_env, monkeypatch
):
    chunk_size, n_rows = 10, 600
    monkeypatch.setenv("BERAKHLAK_CHUNK_SIZE", str(chunk_size))
    rows = feedback_rows(n_rows, seed=5)
    rows[123]["text"] = ""
    source = write_rows(tmp_path / "in.csv", rows)
    out, log_path = tmp_path / "out.parquet", tmp_path / "log.txt"
    chunks = n_rows // chunk_size

    with open(log_path, "w") as log:
        first = tag_process(source, out, log)
        done = interrupt(first, out, 3, signal.SIGINT)
        assert first.returncode == 130
        assert "run the same command again to resume" in log_path.read_text()

        second = tag_process(source, out, log)
        done = interrupt(second, out, done + 3, signal.SIGKILL)
        assert second.returncode == -signal.SIGKILL
        assert not out.exists() and done < chunks

        third = tag_process(source, out, log)
        assert third.wait(timeout=600) == 0, log_path.read_text()
    printed = log_path.read_text()
    assert f"rows read = rows written + rows rejected: {n_rows:,} = {n_rows - 1:,} + 1" in printed
    assert "done by an earlier run" in printed
    assert not parts_dir(out).exists()

    clean = tmp_path / "clean.parquet"
    analyzer = Analyzer.load(tiny_artifact, tiny_settings)
    tag_file(source, clean, settings=tiny_settings.replace(chunk_size=chunk_size), analyzer=analyzer)
    resumed = pq.read_table(out)
    assert resumed.equals(pq.read_table(clean))
    ids = resumed.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == n_rows - 1
    assert (tmp_path / "out.rejects.jsonl").read_bytes() == (tmp_path / "clean.rejects.jsonl").read_bytes()


@pytest.mark.slow
def test_memory_stays_bounded_over_twenty_chunks(tmp_path, tag_env, monkeypatch):
    # Each row carries a 400 KB column, so the 20 chunks make a 400 MB file: holding it would show.
    chunk_size, payload = 50, 400_000
    monkeypatch.setenv("BERAKHLAK_CHUNK_SIZE", str(chunk_size))
    source = tmp_path / "big.csv"
    rows = feedback_rows(20 * chunk_size, seed=6)
    with open(source, "w", encoding="utf-8") as handle:
        handle.write("id,text,blob\n")
        for row in rows:
            handle.write(f"{row['id']},{row['text']},{row['id']}{'x' * payload}\n")
    assert source.stat().st_size > 20 * chunk_size * payload
    out = tmp_path / "out.parquet"

    with open(tmp_path / "log.txt", "w") as log:
        process = tag_process(source, out, log)
        baseline, peak = None, 0
        while process.poll() is None:
            try:
                rss = process.memory_info().rss
            except psutil.NoSuchProcess:
                break
            if baseline is None and finished_chunks(out) >= 1:
                baseline = rss  # the model is loaded and one chunk has gone through
            peak = max(peak, rss)
            time.sleep(0.02)
    assert process.wait() == 0, (tmp_path / "log.txt").read_text()
    assert baseline is not None
    assert peak - baseline < 300 * MB, f"RSS grew by {(peak - baseline) / MB:.0f} MB"
    assert pq.ParquetFile(out).metadata.num_rows == 20 * chunk_size
    assert pq.read_table(out, columns=["blob"]).column("blob")[7].as_py() == rows[7]["id"] + "x" * payload
