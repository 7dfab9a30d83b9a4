"""End-to-end training, artifacts and the analyser, with the tiny random encoder."""

import json

import numpy as np
import pytest

from model.analyzer import Analyzer
from model.artifacts import HEADS, MANIFEST
from model.errors import ArtifactError, EncoderError, IntegrityError
from model.labels import SENTIMENTS, VALUE_IDS

FIELDS = {
    "values", "value_scores", "value_polarity", "sentiment", "sentiment_scores", "needs_review", "evidence",
    "model_version",
}  # fmt: skip


def test_artifact_has_manifest_with_hashes_and_no_pickle(tiny_artifact):
    manifest = json.loads((tiny_artifact / MANIFEST).read_text())
    for key in ("version", "created", "git_commit", "training_data_sha256", "encoder", "labels", "thresholds",
                "libraries", "metrics", "files"):  # fmt: skip
        assert key in manifest
    assert set(manifest["files"]) == {HEADS}
    assert manifest["labels"]["values"] == list(VALUE_IDS)
    with np.load(tiny_artifact / HEADS, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)


def test_loaded_model_predicts_every_field(tiny_artifact, tiny_settings):
    analyzer = Analyzer.load(tiny_artifact, tiny_settings)
    records = analyzer.predict(["pungli calo kecewa parah. loket kantor", "terima kasih bagus"])
    assert len(records) == 2
    for record in records:
        assert set(record) == FIELDS
        assert set(record["value_scores"]) == set(VALUE_IDS)
        assert set(record["value_polarity"]) == set(record["values"]) == set(record["evidence"])
        assert set(record["sentiment_scores"]) == set(SENTIMENTS)
        assert abs(sum(record["sentiment_scores"].values()) - 1) < 1e-3
        assert record["model_version"] == "tiny-1"


def test_evidence_is_a_sentence_of_the_text(tiny_artifact, tiny_settings):
    analyzer = Analyzer.load(tiny_artifact, tiny_settings)
    text = "pungli calo suap kecewa. terima kasih bagus. antre lama lambat"
    record = analyzer.predict([text])[0]
    assert all(sentence in text for sentence in record["evidence"].values())


def test_predict_is_batch_order_independent(tiny_artifact, tiny_settings):
    analyzer = Analyzer.load(tiny_artifact, tiny_settings)
    texts = ["antre lama", "data salah keliru kecewa", "bagus terima kasih"]
    one_by_one = [analyzer.predict([t])[0] for t in texts]
    assert analyzer.predict(texts) == one_by_one
    assert analyzer.predict([]) == []


def _copy(artifact, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(artifact, target)
    return target


def test_tampered_weights_are_refused(tiny_artifact, tiny_settings, tmp_path):
    copy = _copy(tiny_artifact, tmp_path)
    data = bytearray((copy / HEADS).read_bytes())
    data[-10] ^= 0xFF
    (copy / HEADS).write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match"):
        Analyzer.load(copy, tiny_settings)


def test_unlisted_file_is_refused(tiny_artifact, tiny_settings, tmp_path):
    copy = _copy(tiny_artifact, tmp_path)
    (copy / "extra.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(IntegrityError, match="not in the manifest"):
        Analyzer.load(copy, tiny_settings)


def test_missing_manifest_is_refused(tiny_artifact, tiny_settings, tmp_path):
    copy = _copy(tiny_artifact, tmp_path)
    (copy / MANIFEST).unlink()
    with pytest.raises(ArtifactError, match="not a model artifact"):
        Analyzer.load(copy, tiny_settings)


def test_encoder_mismatch_is_refused(tiny_artifact, tiny_settings, tmp_path):
    copy = _copy(tiny_artifact, tmp_path)
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["encoder"]["sha256"] = "0" * 64
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(EncoderError, match="trained with encoder"):
        Analyzer.load(copy, tiny_settings)


def test_existing_version_is_not_overwritten(tiny_artifact, tiny_settings):
    from model.training import TrainingParams, train
    from tests.tiny_model import SMALL_RULES

    with pytest.raises(ArtifactError, match="already exists"):
        train(tiny_settings, TrainingParams(public_sentiment=False), version="tiny-1", rules=SMALL_RULES)


def test_metrics_cover_dev_and_test(tiny_artifact):
    metrics = json.loads((tiny_artifact / MANIFEST).read_text())["metrics"]
    assert {"dev", "test"} <= set(metrics)
    assert 0 <= metrics["test"]["values"]["macro_f1"] <= 1
    assert len(metrics["test"]["sentiment"]["confusion"]) == 3
