"""Do lexical (TF-IDF) features help on top of the e5 embeddings? Prints dev metrics with and without them.

TF-IDF runs over spaCy-normalised text (slang table + lemma lookup, ``model.text.normalise_text``).
Only ``dev`` splits are scored: the decision is taken on dev, never on test.

    .venv/bin/python benchmarks/lexical_ablation.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from model.estimators import SENTIMENT_COLUMN, FeedbackClassifier, targets_from_records
from model.metrics import sentiment_metrics, value_metrics
from model.settings import Settings
from model.text import normalise_text
from model.training import TrainingParams, load_training_data, make_embedder


def features(embedder, vectorizer, records, weight):
    dense = embedder.transform([r["text"] for r in records])
    if vectorizer is None:
        return dense
    lexical = vectorizer.transform([normalise_text(r["text"]) for r in records]).toarray() * weight
    return np.hstack([dense, lexical.astype(np.float32)])


def run(data, embedder, vectorizer, weight, params):
    train = data.corpus["train"] + data.sentiment.split("train")
    X = features(embedder, vectorizer, train, weight)
    y = targets_from_records(train)
    sample_weight = np.r_[
        np.full(len(data.corpus["train"]), params.domain_weight), np.ones(len(train) - len(data.corpus["train"]))
    ]
    clf = FeedbackClassifier(random_state=0).fit(X, y, sample_weight=sample_weight)
    dev = data.corpus["dev"]
    X_dev, y_dev = features(embedder, vectorizer, dev, weight), targets_from_records(dev)
    clf.tune_thresholds(X_dev, y_dev)
    values = value_metrics(y_dev, clf.value_proba(X_dev), clf.thresholds_, clf.polarity_proba(X_dev))
    sentiment = sentiment_metrics(y_dev[:, SENTIMENT_COLUMN], clf.sentiment_proba(X_dev))
    nusax = data.sentiment.split("valid", "nusax-senti-ind")
    X_nusax = features(embedder, vectorizer, nusax, weight)
    gold = targets_from_records(nusax)[:, SENTIMENT_COLUMN]
    nusax_f1 = sentiment_metrics(gold, clf.sentiment_proba(X_nusax))["macro_f1"]
    return values["macro_f1"], values["polarity_accuracy"], sentiment["macro_f1"], nusax_f1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-features", type=int, default=3000)
    args = parser.parse_args()
    settings = Settings.from_env()
    params = TrainingParams()
    data = load_training_data(settings, params)
    embedder = make_embedder(settings)
    corpus_train = [normalise_text(r["text"]) for r in data.corpus["train"]]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=args.max_features, sublinear_tf=True)
    vectorizer.fit(corpus_train)
    print(
        f"{'features':34s} {'value macro-F1':>15s} {'polarity acc':>13s} {'sentiment F1':>13s} {'NusaX valid F1':>15s}"
    )
    for name, vec, weight in [("e5 embeddings", None, 0.0), ("e5 + TF-IDF (weight 0.5)", vectorizer, 0.5),
                              ("e5 + TF-IDF (weight 1.0)", vectorizer, 1.0)]:  # fmt: skip
        start = time.time()
        scores = run(data, embedder, vec, weight, params)
        print(f"{name:34s} " + " ".join(f"{s:>14.4f}" for s in scores) + f"   ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
