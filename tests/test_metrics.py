import numpy as np
import pytest

from model.metrics import expected_calibration_error, review_metrics, tune_review_threshold


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
