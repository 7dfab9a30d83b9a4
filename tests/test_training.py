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


def test_embedder_and_classifier_work_in_pipeline_and_grid_search(tiny_settings, tiny_artifact):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from model.data import load_corpus
    from model.estimators import FeedbackClassifier, SentenceEmbedder, targets_from_records

    records = load_corpus(tiny_settings.data_dir)["train"]
    texts, y = [r["text"] for r in records], targets_from_records(records)
    embedder = SentenceEmbedder(encoder=tiny_settings.encoder, cache_dir=tiny_settings.cache_dir)
    pipe = Pipeline([("embed", embedder), ("clf", FeedbackClassifier(random_state=0))])
    search = GridSearchCV(pipe, {"clf__C_values": [0.1, 1.0]}, cv=2).fit(texts, y)
    assert search.predict(texts[:4]).shape == (4, y.shape[1])
    assert search.best_estimator_.named_steps["embed"].transform(["antre lama"]).shape == (1, 32)


def test_embedding_cache_returns_the_same_vectors(tiny_settings, tiny_artifact):
    from model.estimators import SentenceEmbedder

    embedder = SentenceEmbedder(encoder=tiny_settings.encoder, cache_dir=tiny_settings.cache_dir).fit()
    texts = ["pungli calo", "antre lama sekali", "pungli calo"]
    first = embedder.transform(texts)
    assert embedder.cache_.path.is_file()
    np.testing.assert_allclose(embedder.transform(texts), first)
    uncached = SentenceEmbedder(encoder=tiny_settings.encoder, cache_dir=tiny_settings.cache_dir, use_cache=False)
    np.testing.assert_allclose(uncached.fit().transform(texts), first, atol=1e-6)


def _training_data():
    from model.sentiment_data import NUSAX, SMSA, SentimentData
    from model.training import TrainingData
    from tests.conftest import make_record

    corpus = {"train": [make_record(1, "antre lama"), make_record(2, "petugas ramah")], "dev": [], "test": []}
    public = [
        {"text": "makanannya enak", "sentiment": "positif", "origin": SMSA, "split": "train"},
        {"text": "filmnya bagus", "sentiment": "positif", "origin": NUSAX, "split": "train"},
        {"text": "kurang puas", "sentiment": "negatif", "origin": NUSAX, "split": "valid"},
    ]
    return TrainingData(corpus, SentimentData(public))


def test_vocabulary_comes_from_train_rows_only():
    from model.training import vocabulary_rows

    data = _training_data()
    assert [r["text"] for r in vocabulary_rows(data, "corpus")] == ["antre lama", "petugas ramah"]
    both = [r["text"] for r in vocabulary_rows(data, "corpus+public")]
    assert both == ["antre lama", "petugas ramah", "makanannya enak", "filmnya bagus"]
    with pytest.raises(ValueError, match="lexical_vocabulary"):
        vocabulary_rows(data, "everything")


def test_sample_weights_up_weight_corpus_and_nusax_rows():
    from model.params import TrainingParams
    from model.training import sample_weights

    data = _training_data()
    params = TrainingParams(domain_weight=3.0, nusax_weight=2.0)
    weights = sample_weights(data.corpus["train"], data.sentiment.split("train"), params)
    np.testing.assert_array_equal(weights, [3.0, 3.0, 1.0, 2.0])


def test_git_commit_marks_uncommitted_changes(tmp_path):
    import subprocess

    from model.artifacts import git_commit

    assert git_commit(tmp_path) is None

    def run(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    run("init", "-q")
    (tmp_path / "a.txt").write_text("one")
    run("add", "a.txt")
    run("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "one")
    head = git_commit(tmp_path)
    assert head and len(head) == 40
    (tmp_path / "a.txt").write_text("two")
    assert git_commit(tmp_path) == f"{head}-dirty"
