"""Tagging on Dask: a real two-process LocalCluster must give exactly the local engine's output."""

import pickle

import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from model.analyzer import Analyzer
from model.batch import tag_dataframe, tag_file
from model.batch_dask import AnalyzerHandle, tag_dask
from model.batch_io import TAG_COLUMNS
from tests.test_batch import feedback_rows, write_rows


@pytest.fixture(scope="module")
def analyzer(tiny_artifact, tiny_settings):
    """The tiny model, loaded once for the module."""
    return Analyzer.load(tiny_artifact, tiny_settings)


@pytest.fixture(scope="module")
def client(tiny_artifact):
    """A Client (the default one) of two single-threaded worker processes on loopback."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as c,
        Client(c) as client,
    ):
        yield client


def test_a_handle_pickles_without_its_model(tiny_artifact, tiny_settings, analyzer):
    handle = AnalyzerHandle(tiny_artifact, tiny_settings, analyzer)
    assert handle.get() is analyzer
    payload = pickle.dumps(handle)
    assert len(payload) < 20_000
    copy = pickle.loads(payload)
    assert copy.model_digest == handle.model_digest and copy._analyzer is None


def test_tag_dask_without_a_cluster_loads_the_model_in_this_process(tiny_artifact, tiny_settings, analyzer):
    settings = tiny_settings.replace(chunk_size=4)
    frame = pd.DataFrame(feedback_rows(10))
    tagged = tag_dask(dd.from_pandas(frame, npartitions=2), tiny_artifact, settings).compute(scheduler="threads")
    parts = [frame.iloc[:5], frame.iloc[5:]]
    expected = pd.concat([tag_dataframe(p, analyzer, settings) for p in parts])
    assert tagged["id"].tolist() == expected["id"].tolist()
    for column in TAG_COLUMNS:
        assert tagged[column].tolist() == expected[column].tolist()


@pytest.mark.slow
def test_the_dask_engine_equals_the_local_engine_row_for_row(tmp_path, tiny_settings, analyzer, client):
    settings = tiny_settings.replace(chunk_size=7)
    rows = feedback_rows(60, seed=3)
    rows[10]["text"] = " "
    source = write_rows(tmp_path / "in.jsonl", rows)
    local = tag_file(source, tmp_path / "local.parquet", settings=settings, analyzer=analyzer)
    scheduler = client.scheduler.address
    on_dask = tag_file(source, tmp_path / "dask.parquet", settings=settings, engine="dask", scheduler=scheduler)

    assert (on_dask.rows_written, on_dask.rows_rejected, on_dask.chunks) == (59, 1, 9)
    assert pq.read_table(tmp_path / "dask.parquet").equals(pq.read_table(tmp_path / "local.parquet"))
    assert (tmp_path / "dask.rejects.jsonl").read_bytes() == (tmp_path / "local.rejects.jsonl").read_bytes()
    assert local.rows_written == on_dask.rows_written

    name = AnalyzerHandle(tiny_settings.model_dir, tiny_settings).plugin_name
    loaded = client.run(lambda dask_worker: id(dask_worker.plugins[name].analyzer))
    assert len(loaded) == 2
    tag_file(source, tmp_path / "again.jsonl", settings=settings, engine="dask", scheduler=scheduler)
    assert client.run(lambda dask_worker: id(dask_worker.plugins[name].analyzer)) == loaded  # not loaded again


@pytest.mark.slow
def test_tag_dask_on_the_cluster_equals_tag_dataframe(tiny_artifact, tiny_settings, analyzer, client):
    settings = tiny_settings.replace(chunk_size=5)
    frame = pd.DataFrame(feedback_rows(24, seed=4))
    ddf = dd.from_pandas(frame, npartitions=3)
    tagged = tag_dask(ddf, tiny_artifact, settings, evidence=False).compute()

    expected = pd.concat(
        [tag_dataframe(ddf.get_partition(i).compute(), analyzer, settings, evidence=False) for i in range(3)]
    )
    assert tagged["id"].tolist() == frame["id"].tolist()
    for column in TAG_COLUMNS:
        assert tagged[column].tolist() == expected[column].tolist()
    name = AnalyzerHandle(tiny_artifact, settings).plugin_name
    assert all(client.run(lambda dask_worker: dask_worker.plugins[name].analyzer is not None).values())
