"""Lexical features: TF-IDF over spaCy-normalised text (slang table + Indonesian lemmas).

Kept because they help on dev (``benchmarks/dev_ablation.py``): keyword cues such as *pungli*, *calo*
or *dilempar* are sharper in word n-grams than in a mean-pooled sentence embedding. The learned state is
the vocabulary (a string array) and the idf weights, so artifacts store them without pickle.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from model.text import normalise_text


class LexicalFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF of normalised word n-grams, L2-normalised and scaled by ``weight`` (sparse CSR float32 output).

    Sparse because a text holds a few dozen of the thousands of terms: a dense chunk of 2,000 texts by
    12,000 terms cost about 0.3 GB of peak memory in tagging (``benchmarks/tag.py``).
    """

    def __init__(self, max_features=3000, ngram_range=(1, 2), min_df=2, weight=1.0):
        self.max_features = max_features
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.weight = weight

    def _vectorizer(self, vocabulary=None):
        return TfidfVectorizer(
            ngram_range=tuple(self.ngram_range), min_df=self.min_df, max_features=self.max_features,
            sublinear_tf=True, vocabulary=vocabulary
        )  # fmt: skip

    def fit(self, X, y=None):
        """Learn the vocabulary and idf weights from texts."""
        vectorizer = self._vectorizer().fit([normalise_text(t) for t in X])
        terms = vectorizer.get_feature_names_out()
        self.vocabulary_ = np.asarray(terms, dtype=str)
        self.idf_ = vectorizer.idf_.astype(np.float64)
        self.n_features_out_ = len(terms)
        return self

    def transform(self, X):
        """Texts -> sparse CSR float32 matrix (n, n_terms)."""
        check_is_fitted(self, ("vocabulary_", "idf_"))
        matrix = self._fitted_vectorizer().transform([normalise_text(t) for t in X])
        return (matrix * self.weight).astype(np.float32).tocsr()

    def _fitted_vectorizer(self):
        # Rebuilding the term index on every call cost more than tagging one short text. The cache holds the
        # learned arrays it was built from, so a refit or arrays loaded from an artifact are never served stale.
        cached = getattr(self, "_vectorizer_cache", None)
        if cached is None or cached[0] is not self.vocabulary_ or cached[1] is not self.idf_:
            vectorizer = self._vectorizer({term: i for i, term in enumerate(self.vocabulary_)})
            vectorizer.idf_ = self.idf_
            cached = (self.vocabulary_, self.idf_, vectorizer)
            self._vectorizer_cache = cached
        return cached[2]

    def get_feature_names_out(self, input_features=None):
        """The terms, prefixed ``tfidf=``."""
        check_is_fitted(self, "vocabulary_")
        return np.array([f"tfidf={t}" for t in self.vocabulary_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
