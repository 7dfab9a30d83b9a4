"""Evaluation metrics over score arrays: per-value P/R/F1, polarity accuracy, sentiment F1, ECE."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from model.estimators import N_VALUES, POLARITY_OFFSET, SENTIMENT_COLUMN
from model.labels import SENTIMENTS, VALUE_IDS


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE with equal-width bins: the weighted mean gap between confidence and accuracy."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            gap += members.mean() * abs(confidence[members].mean() - correct[members].mean())
    return float(gap)


def reliability_bins(confidence, correct, bins: int = 10) -> list[dict]:
    """Per-bin mean confidence, accuracy and count, for the reliability diagram."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "count": int((index == b).sum()),
            "confidence": float(confidence[index == b].mean()) if (index == b).any() else None,
            "accuracy": float(correct[index == b].mean()) if (index == b).any() else None,
        }
        for b in range(bins)
    ]


def value_metrics(y: np.ndarray, value_p: np.ndarray, thresholds: np.ndarray, polarity_p: np.ndarray) -> dict:
    """Per-value and averaged metrics for rows whose value labels are known."""
    gold = y[:, :N_VALUES]
    predicted = (value_p >= thresholds).astype(int)
    p, r, f, support = precision_recall_fscore_support(gold, predicted, average=None, zero_division=0)
    per_value = {
        v: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(support[j])}
        for j, v in enumerate(VALUE_IDS)
    }
    gold_pol = y[:, POLARITY_OFFSET : POLARITY_OFFSET + N_VALUES]
    predicted_pol = (polarity_p >= 0.5).astype(int)
    detected = (gold == 1) & (predicted == 1)
    present = gold == 1
    binary_conf = np.where(predicted == 1, value_p, 1 - value_p).ravel()
    return {
        "per_value": per_value,
        "macro_f1": float(f1_score(gold, predicted, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(gold, predicted, average="micro", zero_division=0)),
        "exact_match": float((gold == predicted).all(axis=1).mean()),
        "no_value_accuracy": float(((gold.sum(1) == 0) == (predicted.sum(1) == 0)).mean()),
        "polarity_accuracy": _share(predicted_pol[detected] == gold_pol[detected]),
        "polarity_accuracy_on_gold_values": _share(predicted_pol[present] == gold_pol[present]),
        "polarity_pairs": int(detected.sum()),
        "value_ece": expected_calibration_error(binary_conf, (predicted == gold).ravel()),
        "macro_f1_ci95": macro_f1_interval(gold == 1, predicted == 1),
    }


def sentiment_metrics(y_sentiment: np.ndarray, sentiment_p: np.ndarray) -> dict:
    """Macro-F1, accuracy, confusion matrix (rows gold, columns predicted) and top-label ECE."""
    predicted = sentiment_p.argmax(axis=1)
    correct = predicted == y_sentiment
    per_class = f1_score(y_sentiment, predicted, average=None, labels=range(len(SENTIMENTS)), zero_division=0)
    return {
        "macro_f1": float(f1_score(y_sentiment, predicted, average="macro", zero_division=0)),
        "accuracy": float(correct.mean()),
        "per_class_f1": {s: float(v) for s, v in zip(SENTIMENTS, per_class, strict=True)},
        "confusion": confusion_matrix(y_sentiment, predicted, labels=range(len(SENTIMENTS))).tolist(),
        "ece": expected_calibration_error(sentiment_p.max(axis=1), correct),
        "reliability": reliability_bins(sentiment_p.max(axis=1), correct),
        "support": len(y_sentiment),
        "macro_f1_ci95": macro_f1_interval(_one_hot(y_sentiment), _one_hot(predicted)),
    }


def macro_f1_interval(gold, predicted, resamples: int = 1000, level: float = 0.95, random_state: int = 0):
    """Percentile bootstrap interval of macro-F1, resampling texts with replacement.

    ``gold`` and ``predicted`` are (n_texts, n_labels) indicator matrices. A split of about 500 texts leaves a
    point or two of macro-F1 within sampling noise; the interval says how much, so that a score near a target
    is read as such. Labels with no gold and no predicted text in a resample score 0, as sklearn's do.
    """
    gold, predicted = np.asarray(gold, dtype=bool), np.asarray(predicted, dtype=bool)
    if len(gold) == 0:
        return [0.0, 0.0]
    rng = np.random.default_rng(random_state)
    draws = np.stack(
        [np.bincount(rng.integers(0, len(gold), len(gold)), minlength=len(gold)) for _ in range(resamples)]
    )
    tp, fp, fn = (draws @ m.astype(int) for m in (gold & predicted, ~gold & predicted, gold & ~predicted))
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros(denominator.shape), where=denominator > 0)
    low, high = np.quantile(f1.mean(axis=1), [(1 - level) / 2, (1 + level) / 2])
    return [float(low), float(high)]


def _one_hot(labels) -> np.ndarray:
    return np.asarray(labels)[:, None] == np.arange(len(SENTIMENTS))


def review_metrics(y, scores: dict, thresholds, review_threshold: float) -> dict:
    """How well ``needs_review`` catches texts with any wrong value, polarity or sentiment."""
    wrong = any_error(y, scores, thresholds)
    flagged = scores["confidence"] < review_threshold
    caught = (flagged & wrong).sum()
    return {
        "flag_rate": float(flagged.mean()),
        "precision": float(caught / flagged.sum()) if flagged.any() else 0.0,
        "recall": float(caught / wrong.sum()) if wrong.any() else 1.0,
        "error_rate_unflagged": float(wrong[~flagged].mean()) if (~flagged).any() else 0.0,
        "error_rate_all": float(wrong.mean()),
    }


def any_error(y, scores: dict, thresholds) -> np.ndarray:
    """True where a text has any wrong value, polarity (of a detected value) or sentiment."""
    predicted = scores["value"] >= thresholds
    gold = y[:, :N_VALUES] == 1
    gold_pol = y[:, POLARITY_OFFSET : POLARITY_OFFSET + N_VALUES]
    polarity_wrong = (predicted & gold & ((scores["polarity"] >= 0.5).astype(int) != gold_pol)).any(axis=1)
    sentiment_wrong = scores["sentiment"].argmax(axis=1) != y[:, SENTIMENT_COLUMN]
    return (predicted != gold).any(axis=1) | polarity_wrong | sentiment_wrong


def tune_review_threshold(scores: dict, review_budget: float) -> float:
    """The confidence below which a text is flagged, so that ``review_budget`` of dev texts are flagged.

    A budget rather than the F1-optimal cut: most texts have some error in one of nine decisions, so the
    F1-optimal threshold flags about three texts in four, more than a complaint desk can review. Flagging the
    least confident share routes the texts most likely to be wrong; ``review_metrics`` reports how many
    errors that share catches.
    """
    return float(np.quantile(scores["confidence"], review_budget))


def _share(mask: np.ndarray) -> float:
    return float(mask.mean()) if mask.size else 0.0
