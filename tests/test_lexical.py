"""LexicalFeatures: sparse TF-IDF over normalised text, and its cached vectorizer."""

import numpy as np
from scipy import sparse

from model.lexical import LexicalFeatures

TEXTS = ["petugas minta uang pelicin", "antrean lama sekali", "petugas ramah dan cepat", "minta uang lagi"]


def test_transform_is_sparse_float32_with_one_column_per_term():
    lexical = LexicalFeatures(min_df=1).fit(TEXTS)
    X = lexical.transform(TEXTS)
    assert sparse.issparse(X) and X.format == "csr" and X.dtype == np.float32
    assert X.shape == (len(TEXTS), len(lexical.vocabulary_))
    np.testing.assert_allclose(sparse.linalg.norm(X, axis=1), 1.0, rtol=1e-5)


def test_weight_scales_the_features():
    plain = LexicalFeatures(min_df=1).fit(TEXTS).transform(TEXTS)
    doubled = LexicalFeatures(min_df=1, weight=2.0).fit(TEXTS).transform(TEXTS)
    np.testing.assert_allclose(doubled.toarray(), 2.0 * plain.toarray(), rtol=1e-6)


def test_refit_is_not_served_by_the_stale_cached_vectorizer():
    lexical = LexicalFeatures(min_df=1).fit(TEXTS)
    lexical.transform(TEXTS)
    lexical.fit(["jalan rusak parah"])
    X = lexical.transform(["jalan rusak parah"])
    assert X.shape[1] == len(lexical.vocabulary_) and X.nnz > 0


def test_arrays_assigned_after_fit_are_used():
    source = LexicalFeatures(min_df=1).fit(TEXTS)
    target = LexicalFeatures(min_df=1).fit(["lain sama sekali"])
    target.transform(["lain"])
    target.vocabulary_, target.idf_ = source.vocabulary_, source.idf_
    np.testing.assert_allclose(target.transform(TEXTS).toarray(), source.transform(TEXTS).toarray())
