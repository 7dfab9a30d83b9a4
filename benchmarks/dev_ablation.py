"""Which features and heads help? Prints dev metrics for each training recipe, one change at a time.

TF-IDF runs over spaCy-normalised text (slang table + lemma lookup, ``model.lexical.LexicalFeatures``).
Only dev data is scored (corpus dev, NusaX valid, SmSA valid): decisions are taken on dev, never on test.
NusaX valid has only 100 texts, so SmSA valid (same kind of text, about 1,200) is printed beside it.

    .venv/bin/python benchmarks/dev_ablation.py            # every variant
    .venv/bin/python benchmarks/dev_ablation.py 0 3        # variants 0 and 3 only
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from model.estimators import SENTIMENT_COLUMN, targets_from_records
from model.metrics import sentiment_metrics, value_metrics
from model.sentiment_data import NUSAX, SMSA
from model.settings import Settings
from model.training import TrainingParams, fit_classifier, fit_features, load_training_data

PREVIOUS = {"lexical_max_features": 3000, "lexical_vocabulary": "corpus", "value_head": "binary", "nusax_weight": 1.0}
VARIANTS = {
    "e5 embeddings only": {**PREVIOUS, "lexical": False},
    "e5 + TF-IDF 3000 corpus terms (previous recipe)": PREVIOUS,
    "previous + ternary value heads": {**PREVIOUS, "value_head": "ternary"},
    "previous + 12000 terms from corpus and public train": {
        **PREVIOUS,
        "lexical_max_features": 12000,
        "lexical_vocabulary": "corpus+public",
    },
    "+ NusaX rows weighted 3": {"C_values": 1.0},
    "+ value heads C = 3": {"C_values": 3.0},
    "+ value heads C = 10": {"C_values": 10.0},
}


def dev_scores(settings, data, params):
    """Value macro-F1, polarity accuracy, corpus-dev sentiment macro-F1, NusaX- and SmSA-valid macro-F1."""
    features = fit_features(settings, data, params)
    classifier = fit_classifier(features, data, params)
    dev = data.corpus["dev"]
    X_dev, y_dev = features.transform([r["text"] for r in dev]), targets_from_records(dev)
    classifier.tune_thresholds(X_dev, y_dev)
    values = value_metrics(
        y_dev, classifier.value_proba(X_dev), classifier.thresholds_, classifier.polarity_proba(X_dev)
    )
    sentiment = sentiment_metrics(y_dev[:, SENTIMENT_COLUMN], classifier.sentiment_proba(X_dev))
    public = [public_f1(features, classifier, data.sentiment.split("valid", origin)) for origin in (NUSAX, SMSA)]
    return values["macro_f1"], values["polarity_accuracy"], sentiment["macro_f1"], *public


def public_f1(features, classifier, rows):
    """Sentiment macro-F1 on public rows."""
    gold = targets_from_records(rows)[:, SENTIMENT_COLUMN]
    proba = classifier.sentiment_proba(features.transform([r["text"] for r in rows]))
    return sentiment_metrics(gold, proba)["macro_f1"]


def main() -> None:
    settings = Settings.from_env()
    base = TrainingParams()
    data = load_training_data(settings, base)
    chosen = {int(i) for i in sys.argv[1:]} or set(range(len(VARIANTS)))
    print(f"{'recipe':50s} {'value F1':>9s} {'polarity':>9s} {'sentiment':>9s} {'NusaX F1':>9s} {'SmSA F1':>9s}")
    for index, (name, change) in enumerate(VARIANTS.items()):
        if index not in chosen:
            continue
        start = time.time()
        scores = dev_scores(settings, data, replace(base, **change))
        print(f"{name:50s} " + " ".join(f"{s:>9.4f}" for s in scores) + f"   ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
