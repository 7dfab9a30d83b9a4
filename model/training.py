"""Training: corpus + public sentiment data -> embeddings -> heads -> tuned thresholds -> artifact."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np

from model.analyzer import Analyzer, classifier_to_arrays, score_texts
from model.artifacts import git_commit, library_versions, save_artifact, sha256_file
from model.data import BalanceRules, corpus_sha256, load_corpus, validate_corpus
from model.estimators import SENTIMENT_COLUMN, FeedbackClassifier, SentenceEmbedder, targets_from_records
from model.features import embedder_of, features_to_arrays, lexical_manifest, make_features
from model.labels import POLARITIES, SENTIMENTS, VALUE_IDS
from model.lexical import LexicalFeatures
from model.metrics import review_metrics, sentiment_metrics, tune_review_threshold, value_metrics
from model.params import LEXICAL_VOCABULARIES, TrainingParams
from model.sentiment_data import NUSAX, SentimentData, load_sentiment_data, sentiment_dir
from model.settings import REPO_ROOT, Settings


@dataclass
class TrainingData:
    """The corpus splits and the public sentiment rows."""

    corpus: dict[str, list[dict]]
    sentiment: SentimentData | None


def load_training_data(settings: Settings, params: TrainingParams, rules: BalanceRules | None = None):
    """Load and validate the corpus, and load the public sentiment data when the params ask for it."""
    corpus = load_corpus(settings.data_dir)
    validate_corpus(corpus, rules)
    if params.limit:
        corpus = {split: rows[: params.limit] for split, rows in corpus.items()}
    sentiment = load_sentiment_data(settings.data_dir) if params.public_sentiment else None
    if sentiment is not None and params.limit:
        sentiment = SentimentData(_limit_per_split(sentiment.rows, params.limit), sentiment.dropped)
    return TrainingData(corpus, sentiment)


def _limit_per_split(rows, limit):
    kept, seen = [], {}
    for row in rows:
        key = (row["origin"], row["split"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            kept.append(row)
    return kept


def make_embedder(settings: Settings) -> SentenceEmbedder:
    """The cached embedder that training, evaluation and notebooks share."""
    return SentenceEmbedder(
        encoder=settings.encoder, cache_dir=settings.cache_dir, batch_size=settings.encode_batch_size
    ).fit()


def fit_features(settings: Settings, data: TrainingData, params: TrainingParams):
    """Embeddings plus (if enabled) TF-IDF whose vocabulary is learned from train splits only."""
    lexical = None
    if params.lexical:
        lexical = LexicalFeatures(max_features=params.lexical_max_features, weight=params.lexical_weight)
        lexical.fit([r["text"] for r in vocabulary_rows(data, params.lexical_vocabulary)])
    return make_features(make_embedder(settings), lexical)


def vocabulary_rows(data: TrainingData, source: str) -> list[dict]:
    """The train rows the TF-IDF vocabulary is learned from.

    With "corpus+public" the public sentiment train rows join the corpus: their words (product and
    restaurant reviews) carry most of the sentiment signal the NusaX benchmark asks for.
    """
    if source not in LEXICAL_VOCABULARIES:
        raise ValueError(f"lexical_vocabulary must be one of {LEXICAL_VOCABULARIES}, not {source!r}")
    rows = list(data.corpus["train"])
    if source == "corpus+public" and data.sentiment:
        rows += data.sentiment.split("train")
    return rows


def fit_classifier(features, data: TrainingData, params: TrainingParams) -> FeedbackClassifier:
    """Fit the heads on corpus train plus public sentiment train, with domain rows up-weighted."""
    rows = list(data.corpus["train"])
    public = data.sentiment.split("train") if data.sentiment else []
    X = features.transform([r["text"] for r in rows + public])
    y = targets_from_records(rows + public)
    return make_classifier(params).fit(X, y, sample_weight=sample_weights(rows, public, params))


def make_classifier(params: TrainingParams) -> FeedbackClassifier:
    """An unfitted classifier with the run's hyper-parameters."""
    return FeedbackClassifier(
        C_values=params.C_values, C_polarity=params.C_polarity, C_sentiment=params.C_sentiment,
        value_head=params.value_head, random_state=params.random_state,
    )  # fmt: skip


def sample_weights(corpus_rows, public_rows, params: TrainingParams) -> np.ndarray:
    """Row weights: corpus rows ``domain_weight``, NusaX rows ``nusax_weight``, other public rows 1."""
    public = [params.nusax_weight if r["origin"] == NUSAX else 1.0 for r in public_rows]
    return np.r_[np.full(len(corpus_rows), params.domain_weight), public]


def split_scores(features, classifier, records) -> dict:
    """Probabilities and confidence for labelled records (the same numbers the Analyzer serves)."""
    return score_texts(features, classifier, [r["text"] for r in records])


def corpus_metrics(features, classifier, review_threshold, records) -> dict:
    """All metrics of one labelled corpus split."""
    y, scores = targets_from_records(records), split_scores(features, classifier, records)
    return {
        "values": value_metrics(y, scores["value"], classifier.thresholds_, scores["polarity"]),
        "sentiment": sentiment_metrics(y[:, SENTIMENT_COLUMN], scores["sentiment"]),
        "review": review_metrics(y, scores, classifier.thresholds_, review_threshold),
        "texts": len(y),
    }


def public_metrics(features, classifier, rows) -> dict:
    """Sentiment metrics on public rows (e.g. the NusaX test set)."""
    X = features.transform([r["text"] for r in rows])
    gold = np.array([SENTIMENTS.index(r["sentiment"]) for r in rows])
    return sentiment_metrics(gold, classifier.sentiment_proba(X))


def dev_metrics(settings: Settings, data: TrainingData, params: TrainingParams) -> dict:
    """Fit and tune a run, then score corpus dev (the metrics model-selection scripts compare)."""
    features, classifier, review = fit_and_tune(settings, data, params)
    metrics = corpus_metrics(features, classifier, review, data.corpus["dev"])
    return {"features": features, "classifier": classifier, "dev": metrics}


def fit_and_tune(settings: Settings, data: TrainingData, params: TrainingParams):
    """Fit on train; tune value and review thresholds on dev. Returns (features, classifier, review)."""
    features = fit_features(settings, data, params)
    classifier = fit_classifier(features, data, params)
    dev = data.corpus["dev"]
    X_dev = features.transform([r["text"] for r in dev])
    y_dev = targets_from_records(dev)
    classifier.tune_thresholds(X_dev, y_dev)
    review = tune_review_threshold(split_scores(features, classifier, dev), params.review_budget)
    return features, classifier, review


def all_metrics(features, classifier, review, data: TrainingData) -> dict:
    """Metrics on corpus dev and test and on NusaX valid and test (none of them used for fitting)."""
    metrics = {}
    for split in ("dev", "test"):
        metrics[split] = corpus_metrics(features, classifier, review, data.corpus[split])
    if data.sentiment:
        for split in ("valid", "test"):
            metrics[f"nusax_{split}"] = public_metrics(features, classifier, data.sentiment.split(split, origin=NUSAX))
    return metrics


def data_sha256(settings: Settings) -> str:
    """One sha256 over the corpus splits and the imported sentiment files."""
    digest = hashlib.sha256(corpus_sha256(settings.data_dir).encode())
    for path in sorted(sentiment_dir(settings.data_dir).rglob("*")):
        if path.is_file():
            digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def default_version(settings: Settings) -> str:
    """``berakhlak-e5-YYYY.MM.DD`` (with a time suffix when that name is taken)."""
    now = datetime.now(UTC)
    version = f"berakhlak-e5-{now:%Y.%m.%d}"
    if (settings.artifacts_root / version).exists():
        version += f"-{now:%H%M%S}"
    return version


def train(
    settings: Settings | None = None,
    params: TrainingParams | None = None,
    version: str | None = None,
    rules: BalanceRules | None = None,
) -> Analyzer:
    """Train, evaluate on held-out splits, write ``artifacts/<version>/``; return the loaded model."""
    settings = settings or Settings()
    params = params or TrainingParams()
    data = load_training_data(settings, params, rules)
    features, classifier, review = fit_and_tune(settings, data, params)
    embedder = embedder_of(features)
    version = version or default_version(settings)
    manifest = {
        "version": version,
        "git_commit": git_commit(REPO_ROOT),
        "training_data_sha256": data_sha256(settings),
        "encoder": {"name": settings.encoder, "sha256": embedder.fingerprint_, "prompt": embedder.prompt},
        "labels": {"values": list(VALUE_IDS), "polarities": list(POLARITIES), "sentiments": list(SENTIMENTS)},
        "features": {"embeddings": embedder.n_features_out_, "lexical": lexical_manifest(features)},
        "thresholds": {v: float(t) for v, t in zip(VALUE_IDS, classifier.thresholds_, strict=True)},
        "review_threshold": review,
        "params": asdict(params),
        "libraries": library_versions(),
        "metrics": all_metrics(features, classifier, review, data),
    }
    arrays = classifier_to_arrays(classifier) | features_to_arrays(features)
    directory = save_artifact(settings.artifacts_root / version, arrays, manifest)
    return Analyzer.load(directory, settings)
