"""``CalibratedLinearClassifier``: a class-weighted logistic regression with post-hoc calibration.

Binary problems get Platt scaling, multiclass problems temperature scaling, both fitted on
cross-validated decision values: class weights shift the raw probabilities, and the calibration map
undoes that shift without seeing the training rows' own in-sample scores. The whole learned state is
a few arrays (``coef_``, ``intercept_``, ``calibration_``, ``classes_``), so artifacts need no pickle.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

STATE = ("coef_", "intercept_", "calibration_", "classes_")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    exp = np.exp(z - z.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


class CalibratedLinearClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression (class-weighted) whose probabilities are calibrated on out-of-fold scores."""

    def __init__(self, C=1.0, class_weight="balanced", calibration_cv=3, max_iter=2000, random_state=None):
        self.C = C
        self.class_weight = class_weight
        self.calibration_cv = calibration_cv
        self.max_iter = max_iter
        self.random_state = random_state

    def _logistic(self):
        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
        )

    def fit(self, X, y, sample_weight=None):
        """Fit the regression, then the calibration map; returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, accept_sparse="csr")
        check_classification_targets(y)
        sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        if not sample_weight.any():
            raise ValueError("sample weights are all zero: nothing to fit")
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) == 1:
            # One class seen: answer it with certainty rather than fail (a rare value in a small split).
            self.coef_ = np.zeros((1, X.shape[1]))
            self.intercept_ = np.zeros(1)
            self.calibration_ = np.array([0.0, 0.0])
            self.n_iter_ = np.zeros(1, dtype=int)
            return self
        model = self._logistic().fit(X, encoded, sample_weight=sample_weight)
        self.coef_, self.intercept_, self.n_iter_ = model.coef_, model.intercept_, model.n_iter_
        scores = self._held_out_scores(X, encoded, sample_weight)
        self.calibration_ = (
            _fit_platt(scores, encoded) if len(self.classes_) == 2 else _fit_temperature(scores, encoded)
        )
        return self

    def _held_out_scores(self, X, encoded, sample_weight):
        n_splits = min(self.calibration_cv, int(np.bincount(encoded).min()))
        if n_splits < 2:
            return self._raw(X)
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        scores = np.zeros((len(encoded), self.coef_.shape[0]))
        for train, held in folds.split(X, encoded):
            model = self._logistic().fit(X[train], encoded[train], sample_weight=sample_weight[train])
            scores[held] = model.decision_function(X[held]).reshape(len(held), -1)
        return scores

    def _raw(self, X):
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def decision_function(self, X):
        """Uncalibrated linear scores (1-D for two classes, like LogisticRegression)."""
        check_is_fitted(self, STATE)
        scores = self._raw(validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr"))
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Calibrated class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, STATE)
        scores = self._raw(validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr"))
        if len(self.classes_) == 1:
            return np.ones((len(scores), 1))
        if len(self.classes_) == 2:
            a, b = self.calibration_
            positive = sigmoid(a * scores[:, 0] + b)
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores / self.calibration_[0])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def predict(self, X):
        """The most probable class."""
        best = self.predict_proba(X).argmax(axis=1)
        return self.classes_[best]


def probability_of(head: CalibratedLinearClassifier, X, label=1) -> np.ndarray:
    """P(class == label), 0 when the head never saw that label."""
    proba = head.predict_proba(X)
    where = np.flatnonzero(head.classes_ == label)
    return proba[:, where[0]] if where.size else np.zeros(len(proba))


def _fit_platt(scores, y):
    calibrator = LogisticRegression(C=1e4, max_iter=1000).fit(scores.reshape(-1, 1), y)
    return np.array([calibrator.coef_[0, 0], calibrator.intercept_[0]])


def _fit_temperature(logits, y):
    def nll(t):
        p = softmax(logits / t)
        return -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))

    return np.array([minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x])
