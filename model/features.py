"""The feature pipeline: sentence embeddings, optionally beside lexical TF-IDF features.

A plain scikit-learn ``FeatureUnion``, so researchers can put it in a ``Pipeline`` before
``FeedbackClassifier``; ``features_to_arrays`` / ``features_from_arrays`` store its learned state
(the lexical vocabulary and idf) in the artifact without pickle.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import FeatureUnion

from model.errors import ArtifactError
from model.estimators import SentenceEmbedder
from model.lexical import LexicalFeatures


def make_features(embedder: SentenceEmbedder, lexical: LexicalFeatures | None) -> FeatureUnion:
    """Embeddings, plus lexical features when ``lexical`` is given."""
    parts = [("embed", embedder)] + ([("lexical", lexical)] if lexical is not None else [])
    return FeatureUnion(parts)


def embedder_of(features: FeatureUnion) -> SentenceEmbedder:
    """The sentence embedder inside a feature union."""
    return features.named_transformers["embed"]


def lexical_of(features: FeatureUnion) -> LexicalFeatures | None:
    """The lexical transformer inside a feature union, if any."""
    return features.named_transformers.get("lexical")


def lexical_manifest(features: FeatureUnion) -> dict | None:
    """The lexical parameters for the manifest (None when the model uses embeddings only)."""
    lexical = lexical_of(features)
    if lexical is None:
        return None
    params = lexical.get_params()
    return {**params, "ngram_range": list(params["ngram_range"]), "n_terms": int(lexical.n_features_out_)}


def features_to_arrays(features: FeatureUnion) -> dict[str, np.ndarray]:
    """The learned lexical state as named arrays (empty for embeddings only)."""
    lexical = lexical_of(features)
    if lexical is None:
        return {}
    return {"lexical.vocabulary": lexical.vocabulary_, "lexical.idf": lexical.idf_}


def features_from_arrays(embedder: SentenceEmbedder, manifest_entry: dict | None, arrays: dict) -> FeatureUnion:
    """Rebuild the fitted feature union from an artifact."""
    if manifest_entry is None:
        return make_features(embedder, None)
    params = {k: v for k, v in manifest_entry.items() if k != "n_terms"}
    lexical = LexicalFeatures(**{**params, "ngram_range": tuple(params["ngram_range"])})
    try:
        lexical.vocabulary_ = np.asarray(arrays["lexical.vocabulary"], dtype=str)
        lexical.idf_ = np.asarray(arrays["lexical.idf"], dtype=np.float64)
    except KeyError as exc:
        raise ArtifactError(f"heads.npz lacks array {exc}") from exc
    lexical.n_features_out_ = len(lexical.vocabulary_)
    return make_features(embedder, lexical)
