import numpy as np
import pytest
from sklearn.metrics import f1_score

from model.metrics import (
    expected_calibration_error,
    macro_f1_interval,
    review_metrics,
    sentiment_metrics,
    tune_review_threshold,
)


def test_ece_is_zero_for_perfect_calibration_and_large_for_overconfidence():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 20000)
    correct = rng.uniform(size=20000) < confidence
    assert expected_calibration_error(confidence, correct) < 0.02
    assert expected_calibration_error(np.full(1000, 0.99), np.arange(1000) % 2 == 0) == pytest.approx(0.49)


def test_review_threshold_flags_the_budgeted_share_of_least_confident_texts():
    confidence = np.linspace(0.01, 1.0, 100)
    threshold = tune_review_threshold({"confidence": confidence}, 0.25)
    flagged = confidence < threshold
    assert flagged.sum() == 25
    assert flagged[:25].all()


def test_review_metrics_count_caught_errors():
    y = np.array([[1, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, 0]] * 4)
    value = np.zeros((4, 7))
    value[:2, 0] = 0.9  # rows 0-1 right, rows 2-3 miss the value
    scores = {
        "value": value,
        "polarity": np.zeros((4, 7)),
        "sentiment": np.tile([0.9, 0.05, 0.05], (4, 1)),
        "confidence": np.array([0.9, 0.8, 0.1, 0.7]),
    }
    result = review_metrics(y, scores, np.full(7, 0.5), review_threshold=0.5)
    assert result["flag_rate"] == 0.25
    assert result["recall"] == 0.5 and result["precision"] == 1.0


def noisy_labels(n, error_rate, seed=0):
    rng = np.random.default_rng(seed)
    gold = rng.random((n, 4)) < 0.3
    predicted = gold ^ (rng.random((n, 4)) < error_rate)
    return gold, predicted


def test_macro_f1_interval_brackets_the_score_and_narrows_with_more_texts():
    widths = []
    for n in (200, 3200):
        gold, predicted = noisy_labels(n, 0.15)
        low, high = macro_f1_interval(gold, predicted)
        assert low < f1_score(gold, predicted, average="macro") < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2  # the width shrinks about as 1 / sqrt(n): 4x here


def test_macro_f1_interval_is_a_point_when_predictions_are_perfect_and_repeatable():
    gold, predicted = noisy_labels(300, 0.1)
    assert macro_f1_interval(gold, gold) == [1.0, 1.0]
    assert macro_f1_interval(gold, predicted) == macro_f1_interval(gold, predicted)
    assert macro_f1_interval(gold, predicted) != macro_f1_interval(gold, predicted, random_state=1)


def test_sentiment_metrics_carry_an_interval_around_macro_f1():
    gold = np.repeat([0, 1, 2], 100)
    probabilities = np.eye(3)[np.where(np.arange(300) % 7 == 0, (gold + 1) % 3, gold)]
    metrics = sentiment_metrics(gold, probabilities)
    low, high = metrics["macro_f1_ci95"]
    assert low < metrics["macro_f1"] < high
