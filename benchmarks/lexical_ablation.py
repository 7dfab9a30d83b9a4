"""Do lexical (TF-IDF) features help on top of the e5 embeddings? Prints dev metrics with and without them.

TF-IDF runs over spaCy-normalised text (slang table + lemma lookup, ``model.lexical.LexicalFeatures``),
with its vocabulary learned from the corpus train split. Only dev data is scored (corpus dev, NusaX valid):
the decision is taken on dev, never on test.

    .venv/bin/python benchmarks/lexical_ablation.py
"""

from __future__ import annotations

import time
from dataclasses import replace

from model.estimators import SENTIMENT_COLUMN, targets_from_records
from model.metrics import sentiment_metrics, value_metrics
from model.settings import Settings
from model.training import TrainingParams, fit_classifier, fit_features, load_training_data

VARIANTS = {
    "e5 embeddings only": {"lexical": False},
    "e5 + TF-IDF 3000 terms, weight 0.5": {"lexical_weight": 0.5},
    "e5 + TF-IDF 3000 terms, weight 1.0": {},
    "e5 + TF-IDF 6000 terms, weight 1.0": {"lexical_max_features": 6000},
}


def dev_scores(settings, data, params):
    """Value macro-F1, polarity accuracy, corpus-dev sentiment macro-F1 and NusaX-valid macro-F1."""
    features = fit_features(settings, data, params)
    classifier = fit_classifier(features, data, params)
    dev = data.corpus["dev"]
    X_dev, y_dev = features.transform([r["text"] for r in dev]), targets_from_records(dev)
    classifier.tune_thresholds(X_dev, y_dev)
    values = value_metrics(
        y_dev, classifier.value_proba(X_dev), classifier.thresholds_, classifier.polarity_proba(X_dev)
    )
    sentiment = sentiment_metrics(y_dev[:, SENTIMENT_COLUMN], classifier.sentiment_proba(X_dev))
    nusax = data.sentiment.split("valid", "nusax-senti-ind")
    gold = targets_from_records(nusax)[:, SENTIMENT_COLUMN]
    nusax_f1 = sentiment_metrics(gold, classifier.sentiment_proba(features.transform([r["text"] for r in nusax])))
    return values["macro_f1"], values["polarity_accuracy"], sentiment["macro_f1"], nusax_f1["macro_f1"]


def main() -> None:
    settings = Settings.from_env()
    base = TrainingParams()
    data = load_training_data(settings, base)
    print(
        f"{'features':38s} {'value macro-F1':>15s} {'polarity acc':>13s} {'sentiment F1':>13s} {'NusaX valid F1':>15s}"
    )
    for name, change in VARIANTS.items():
        start = time.time()
        scores = dev_scores(settings, data, replace(base, **change))
        print(
            f"{name:38s} " + " ".join(f"{s:>14.4f}" for s in scores) + f"   ({time.time() - start:.0f} s)", flush=True
        )


if __name__ == "__main__":
    main()
