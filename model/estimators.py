"""scikit-learn estimators: ``SentenceEmbedder`` (texts -> vectors), ``FeedbackClassifier`` (-> labels).

Targets are one integer matrix with ``N_TARGETS`` columns (see ``targets_from_records``):

- columns 0-6: value present (1), absent (0) or unknown (-1, e.g. public sentiment data without value labels);
- columns 7-13: polarity of that value, pos (1), neg (0) or not applicable (-1);
- column 14: sentiment index into ``SENTIMENTS`` (-1 when unknown).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.metrics import f1_score
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from model.encoder import QUERY_PROMPT, EmbeddingCache, embed_texts, encoder_fingerprint, load_encoder
from model.heads import CalibratedLinearClassifier, probability_of
from model.labels import SENTIMENTS, VALUE_IDS
from model.params import VALUE_HEADS
from model.settings import EMBEDDED_E5, Settings

N_VALUES = len(VALUE_IDS)
POLARITY_OFFSET = N_VALUES
SENTIMENT_COLUMN = 2 * N_VALUES
N_TARGETS = 2 * N_VALUES + 1
UNKNOWN = -1


def targets_from_records(records) -> np.ndarray:
    """Encode labelled records (corpus rows, or sentiment-only rows) into the target matrix."""
    y = np.full((len(records), N_TARGETS), UNKNOWN, dtype=int)
    for row, record in enumerate(records):
        if "values" in record:
            y[row, :N_VALUES] = [int(v in record["values"]) for v in VALUE_IDS]
            for column, value in enumerate(VALUE_IDS):
                if value in record["values"]:
                    y[row, POLARITY_OFFSET + column] = int(record["value_polarity"][value] == "pos")
        if record.get("sentiment") in SENTIMENTS:
            y[row, SENTIMENT_COLUMN] = SENTIMENTS.index(record["sentiment"])
    return y


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Encode texts with a sentence-transformers model into unit-norm vectors (cached on disk).

    ``encoder`` is any sentence-transformers model name or path, or the embedded multilingual-e5-small.
    """

    def __init__(self, encoder=EMBEDDED_E5, cache_dir=None, prompt=QUERY_PROMPT, batch_size=32, use_cache=True):
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.prompt = prompt
        self.batch_size = batch_size
        self.use_cache = use_cache

    def fit(self, X=None, y=None):
        """Load the encoder; there is nothing to learn."""
        cache_dir = Path(self.cache_dir) if self.cache_dir is not None else Settings().cache_dir
        self.model_ = load_encoder(self.encoder, cache_dir)
        self.fingerprint_ = encoder_fingerprint(self.encoder, cache_dir)
        self.cache_ = EmbeddingCache(cache_dir / "embeddings", self.fingerprint_) if self.use_cache else None
        self.n_features_out_ = self.model_.get_embedding_dimension()
        return self

    def transform(self, X):
        """Texts (a sequence of str) -> float32 array of shape (n, dim)."""
        check_is_fitted(self, "model_")
        texts = [X] if isinstance(X, str) else list(X)
        return embed_texts(self.model_, texts, prompt=self.prompt, batch_size=self.batch_size, cache=self.cache_)

    def get_feature_names_out(self, input_features=None):
        """Names ``embedding0`` ... for the output columns."""
        check_is_fitted(self, "n_features_out_")
        return np.array([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags


class FeedbackClassifier(ClassifierMixin, BaseEstimator):
    """Value, polarity and sentiment heads over a feature matrix, with calibrated probabilities.

    Per-value decision thresholds default to 0.5; ``tune_thresholds`` sets them on held-out data.
    ``value_head="ternary"`` trains each value head on absent / violated / shown instead of absent / present:
    the words that signal a violated value differ from those that signal it shown, so one linear boundary for
    "present" has to straddle both. ``value_head="binary+ternary"`` fits both per value and averages their
    probabilities that the value applies; on the corpus that beat either kind alone on dev, so training uses it
    (``model.params.TrainingParams``, ``benchmarks/dev_ablation.py``). ``value_heads_[j]`` is the tuple of
    value ``j``'s heads.
    """

    def __init__(
        self,
        C_values=1.0,
        C_polarity=1.0,
        C_sentiment=1.0,
        value_head="binary",
        class_weight="balanced",
        calibration_cv=3,
        max_iter=2000,
        random_state=None,
    ):
        self.C_values = C_values
        self.C_polarity = C_polarity
        self.C_sentiment = C_sentiment
        self.value_head = value_head
        self.class_weight = class_weight
        self.calibration_cv = calibration_cv
        self.max_iter = max_iter
        self.random_state = random_state

    def _head(self, C):
        return CalibratedLinearClassifier(
            C=C, class_weight=self.class_weight, calibration_cv=self.calibration_cv, max_iter=self.max_iter,
            random_state=self.random_state,
        )  # fmt: skip

    def fit(self, X, y, sample_weight=None):
        """Fit every head on the rows where its target is known; returns self."""
        X = validate_data(self, X, reset=True, dtype=np.float64, accept_sparse="csr")
        y = self._check_targets(y, X.shape[0])
        weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        kinds = self._kinds()
        self.value_heads_ = [
            tuple(self._fit_masked(X, self._value_target(y, j, kind), weights, self.C_values) for kind in kinds)
            for j in range(N_VALUES)
        ]
        self.polarity_heads_ = [
            self._fit_masked(X, y[:, POLARITY_OFFSET + j], weights, self.C_polarity) for j in range(N_VALUES)
        ]
        self.sentiment_head_ = self._fit_masked(X, y[:, SENTIMENT_COLUMN], weights, self.C_sentiment)
        if list(self.sentiment_head_.classes_) != list(range(len(SENTIMENTS))):
            raise ValueError(f"sentiment training data must hold all of {SENTIMENTS}")
        self.thresholds_ = np.full(N_VALUES, 0.5)
        self.classes_ = np.arange(len(SENTIMENTS))
        return self

    def _kinds(self):
        if self.value_head not in VALUE_HEADS:
            raise ValueError(f"value_head must be one of {VALUE_HEADS}, not {self.value_head!r}")
        return self.value_head.split("+")

    @staticmethod
    def _value_target(y, j, kind):
        if kind == "binary":
            return y[:, j]
        polarity = y[:, POLARITY_OFFSET + j]
        if ((y[:, j] == 1) & (polarity == UNKNOWN)).any():
            raise ValueError("a ternary value head needs the polarity of every present value")
        return np.where(y[:, j] == 1, 1 + polarity, y[:, j])  # 0 absent, 1 violated, 2 shown

    @staticmethod
    def _check_targets(y, n_rows):
        y = np.asarray(y)
        if y.ndim != 2 or y.shape != (n_rows, N_TARGETS):
            raise ValueError(f"y must have shape (n_samples, {N_TARGETS}); see targets_from_records")
        return y.astype(int)

    def _fit_masked(self, X, column, weights, C):
        known = column != UNKNOWN
        if not known.any():
            raise ValueError("a target column has no known row")
        return self._head(C).fit(X[known], column[known], sample_weight=weights[known])

    def _features(self, X):
        check_is_fitted(self, "sentiment_head_")
        return validate_data(self, X, reset=False, dtype=np.float64, accept_sparse="csr")

    def value_proba(self, X) -> np.ndarray:
        """Calibrated probability that each value applies, shape (n, 7)."""
        X = self._features(X)
        return np.column_stack(
            [np.mean([1.0 - probability_of(h, X, label=0) for h in heads], axis=0) for heads in self.value_heads_]
        )

    def polarity_proba(self, X) -> np.ndarray:
        """Probability that each value, if it applies, is shown (pos) rather than violated, shape (n, 7)."""
        X = self._features(X)
        return np.column_stack([probability_of(h, X) for h in self.polarity_heads_])

    def sentiment_proba(self, X) -> np.ndarray:
        """Calibrated sentiment probabilities in ``SENTIMENTS`` order, shape (n, 3)."""
        return self.sentiment_head_.predict_proba(self._features(X))

    def predict_proba(self, X) -> np.ndarray:
        """Sentiment probabilities (the single-output view used by scikit-learn tools)."""
        return self.sentiment_proba(X)

    def predict(self, X) -> np.ndarray:
        """Predicted target matrix in the encoding of ``targets_from_records``."""
        X = self._features(X)
        values = (self.value_proba(X) >= self.thresholds_).astype(int)
        polarity = np.where(values == 1, (self.polarity_proba(X) >= 0.5).astype(int), UNKNOWN)
        sentiment = self.sentiment_proba(X).argmax(axis=1)
        return np.column_stack([values, polarity, sentiment])

    def tune_thresholds(self, X, y, grid=None) -> FeedbackClassifier:
        """Choose each value's threshold to maximise its F1 on held-out ``(X, y)``."""
        grid = np.round(np.arange(0.05, 0.96, 0.01), 2) if grid is None else grid
        y = self._check_targets(y, _num_samples(X))
        scores = self.value_proba(X)
        for j in range(N_VALUES):
            known = y[:, j] != UNKNOWN
            if known.sum() and y[known, j].any():
                f1s = [f1_score(y[known, j], scores[known, j] >= t, zero_division=0) for t in grid]
                self.thresholds_[j] = float(grid[int(np.argmax(f1s))])
        return self

    def score(self, X, y, sample_weight=None) -> float:
        """Mean of value macro-F1 (rows with value labels) and sentiment macro-F1."""
        y = self._check_targets(y, _num_samples(X))
        predicted = self.predict(X)
        parts = []
        labelled = (y[:, :N_VALUES] != UNKNOWN).all(axis=1)
        if labelled.any():
            parts.append(
                f1_score(y[labelled, :N_VALUES], predicted[labelled, :N_VALUES], average="macro", zero_division=0)
            )
        known = y[:, SENTIMENT_COLUMN] != UNKNOWN
        if known.any():
            parts.append(f1_score(y[known, SENTIMENT_COLUMN], predicted[known, SENTIMENT_COLUMN], average="macro"))
        return float(np.mean(parts))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
