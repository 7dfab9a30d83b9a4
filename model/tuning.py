"""Choose training hyper-parameters on ``dev`` (never on ``test``).

The heads are independent, so each parameter is chosen on the metric it drives: ``C_values`` on value
macro-F1 (after per-value threshold tuning), ``C_polarity`` on polarity accuracy over gold values, and
``C_sentiment`` with ``domain_weight`` on the mean of corpus-dev and NusaX-valid sentiment macro-F1.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from model.estimators import SENTIMENT_COLUMN, targets_from_records
from model.metrics import sentiment_metrics, value_metrics
from model.sentiment_data import NUSAX
from model.settings import Settings
from model.training import TrainingParams, fit_features, load_training_data, make_classifier, sample_weights

DEFAULT_GRID = {
    "C_values": (0.3, 1.0, 3.0, 10.0),
    "C_polarity": (0.3, 1.0, 3.0, 10.0),
    "C_sentiment": (0.3, 1.0, 3.0),
    "domain_weight": (1.0, 3.0, 10.0),
}


def _fit(X, y, weights, params: TrainingParams):
    return make_classifier(params).fit(X, y, sample_weight=weights)


def tune(settings: Settings | None = None, grid: dict | None = None, log=print) -> tuple[TrainingParams, list]:
    """Grid-search the parameters on dev; returns the best params and every trial's scores."""
    settings = settings or Settings()
    grid = {**DEFAULT_GRID, **(grid or {})}
    data = load_training_data(settings, TrainingParams())
    features = fit_features(settings, data, TrainingParams())
    corpus, public = data.corpus["train"], data.sentiment.split("train")
    train = corpus + public
    X, y = features.transform([r["text"] for r in train]), targets_from_records(train)
    dev = data.corpus["dev"]
    X_dev, y_dev = features.transform([r["text"] for r in dev]), targets_from_records(dev)
    nusax = data.sentiment.split("valid", NUSAX)
    X_nx, y_nx = features.transform([r["text"] for r in nusax]), targets_from_records(nusax)[:, SENTIMENT_COLUMN]
    best, trials = TrainingParams(), []
    for weight, C_sentiment in itertools.product(grid["domain_weight"], grid["C_sentiment"]):
        params = replace(best, domain_weight=weight, C_sentiment=C_sentiment)
        weights = sample_weights(corpus, public, params)
        clf = _fit(X, y, weights, params)
        dev_f1 = sentiment_metrics(y_dev[:, SENTIMENT_COLUMN], clf.sentiment_proba(X_dev))["macro_f1"]
        nusax_f1 = sentiment_metrics(y_nx, clf.sentiment_proba(X_nx))["macro_f1"]
        trials.append({"domain_weight": weight, "C_sentiment": C_sentiment, "dev_sentiment_f1": dev_f1,
                       "nusax_valid_f1": nusax_f1, "score": (dev_f1 + nusax_f1) / 2})  # fmt: skip
        log(trials[-1])
    top = max((t for t in trials if "C_sentiment" in t), key=lambda t: t["score"])
    best = replace(best, domain_weight=top["domain_weight"], C_sentiment=top["C_sentiment"])
    weights = sample_weights(corpus, public, best)
    for C in grid["C_values"]:
        clf = _fit(X, y, weights, replace(best, C_values=C)).tune_thresholds(X_dev, y_dev)
        scores = value_metrics(y_dev, clf.value_proba(X_dev), clf.thresholds_, clf.polarity_proba(X_dev))
        trials.append({"C_values": C, "dev_value_macro_f1": scores["macro_f1"], "score": scores["macro_f1"]})
        log(trials[-1])
    best = replace(best, C_values=max((t for t in trials if "C_values" in t), key=lambda t: t["score"])["C_values"])
    for C in grid["C_polarity"]:
        clf = _fit(X, y, weights, replace(best, C_polarity=C))
        scores = value_metrics(y_dev, clf.value_proba(X_dev), clf.thresholds_, clf.polarity_proba(X_dev))
        accuracy = scores["polarity_accuracy_on_gold_values"]
        trials.append({"C_polarity": C, "dev_polarity_accuracy": accuracy, "score": accuracy})
        log(trials[-1])
    best = replace(
        best, C_polarity=max((t for t in trials if "C_polarity" in t), key=lambda t: t["score"])["C_polarity"]
    )
    return best, trials
