"""The analyser used by the CLI, the service and the batch tagger: texts in, tagged records out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from model.artifacts import load_artifact
from model.errors import ArtifactError, EncoderError
from model.estimators import N_VALUES, FeedbackClassifier, SentenceEmbedder
from model.features import features_from_arrays
from model.heads import STATE, CalibratedLinearClassifier
from model.labels import SENTIMENTS, VALUE_IDS
from model.settings import Settings
from model.text import split_sentences


def classifier_to_arrays(classifier: FeedbackClassifier) -> dict[str, np.ndarray]:
    """Flatten a fitted classifier into named arrays for ``heads.npz``."""
    arrays = {"thresholds": np.asarray(classifier.thresholds_, dtype=np.float64)}
    for name, head in _named_heads(classifier):
        arrays.update({f"{name}.{key}": np.asarray(getattr(head, key)) for key in STATE})
    return arrays


def _named_heads(classifier):
    for value, heads in zip(VALUE_IDS, classifier.value_heads_, strict=True):
        # One head keeps the plain name, so artifacts with one head per value keep their layout.
        names = [f"value.{value}"] if len(heads) == 1 else [f"value.{value}@{k}" for k in range(len(heads))]
        yield from zip(names, heads, strict=True)
    yield from ((f"polarity.{v}", h) for v, h in zip(VALUE_IDS, classifier.polarity_heads_, strict=True))
    yield "sentiment", classifier.sentiment_head_


def classifier_from_arrays(arrays: dict[str, np.ndarray]) -> FeedbackClassifier:
    """Rebuild a fitted classifier from ``classifier_to_arrays`` output."""
    try:
        classifier = FeedbackClassifier()
        classifier.value_heads_ = [_value_heads(arrays, v) for v in VALUE_IDS]
        classifier.polarity_heads_ = [_head(arrays, f"polarity.{v}") for v in VALUE_IDS]
        classifier.sentiment_head_ = _head(arrays, "sentiment")
        classifier.thresholds_ = np.asarray(arrays["thresholds"], dtype=np.float64)
    except KeyError as exc:
        raise ArtifactError(f"heads.npz lacks array {exc}") from exc
    classifier.n_features_in_ = classifier.sentiment_head_.n_features_in_
    classifier.classes_ = np.arange(len(SENTIMENTS))
    return classifier


def _value_heads(arrays, value) -> tuple[CalibratedLinearClassifier, ...]:
    if f"value.{value}.coef_" in arrays:
        return (_head(arrays, f"value.{value}"),)
    members = []
    while f"value.{value}@{len(members)}.coef_" in arrays:
        members.append(_head(arrays, f"value.{value}@{len(members)}"))
    if not members:
        raise KeyError(f"value.{value}.coef_")
    return tuple(members)


def _head(arrays, prefix) -> CalibratedLinearClassifier:
    head = CalibratedLinearClassifier()
    for key in STATE:
        setattr(head, key, arrays[f"{prefix}.{key}"])
    head.n_features_in_ = head.coef_.shape[1]
    return head


def decision_confidence(value_p, thresholds, polarity_p, sentiment_p) -> np.ndarray:
    """Estimated probability that every decision about a text is right.

    The product, over values, of the calibrated probability of the decision taken (p if selected,
    1 - p if not), times the polarity confidence of each selected value and the top sentiment
    probability. ``needs_review`` flags texts whose confidence is below a threshold tuned on dev.
    """
    selected = value_p >= thresholds
    value_conf = np.where(selected, value_p, 1.0 - value_p)
    polarity_conf = np.where(selected, np.maximum(polarity_p, 1.0 - polarity_p), 1.0)
    return value_conf.prod(axis=1) * polarity_conf.prod(axis=1) * sentiment_p.max(axis=1)


def score_texts(features, classifier: FeedbackClassifier, texts: list[str]) -> dict[str, np.ndarray]:
    """Probabilities for a batch (``value``, ``polarity``, ``sentiment``) and the decision ``confidence``."""
    X = features.transform(texts)
    value_p = classifier.value_proba(X)
    polarity_p = classifier.polarity_proba(X)
    sentiment_p = classifier.sentiment_proba(X)
    confidence = decision_confidence(value_p, classifier.thresholds_, polarity_p, sentiment_p)
    return {"value": value_p, "polarity": polarity_p, "sentiment": sentiment_p, "confidence": confidence}


class Analyzer:
    """A loaded model: the encoder, the heads, the thresholds and the manifest."""

    def __init__(self, features, classifier: FeedbackClassifier, manifest: dict):
        self.features = features
        self.classifier = classifier
        self.manifest = manifest
        self.review_threshold = float(manifest.get("review_threshold", 0.0))

    @property
    def version(self) -> str:
        """The artifact's version string."""
        return self.manifest["version"]

    @property
    def thresholds(self) -> dict[str, float]:
        """Per-value decision thresholds."""
        return {v: float(t) for v, t in zip(VALUE_IDS, self.classifier.thresholds_, strict=True)}

    @classmethod
    def load(cls, model_dir: Path | None = None, settings: Settings | None = None) -> Analyzer:
        """Verify and load an artifact, with the encoder and lexical features it was trained with."""
        settings = settings or Settings()
        manifest, arrays = load_artifact(Path(model_dir or settings.model_dir))
        encoder = manifest["encoder"]
        embedder = SentenceEmbedder(
            encoder=encoder["name"], cache_dir=settings.cache_dir, prompt=encoder["prompt"],
            batch_size=settings.encode_batch_size, use_cache=False,
        ).fit()  # fmt: skip
        if embedder.fingerprint_ != encoder["sha256"]:
            raise EncoderError(
                f"the artifact was trained with encoder sha256 {encoder['sha256'][:12]}..., "
                f"but {encoder['name']!r} loads as {embedder.fingerprint_[:12]}..."
            )
        features = features_from_arrays(embedder, manifest.get("features", {}).get("lexical"), arrays)
        return cls(features, classifier_from_arrays(arrays), manifest)

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Raw probabilities for a batch: ``value``, ``polarity``, ``sentiment`` and ``confidence``."""
        return score_texts(self.features, self.classifier, texts)

    def predict(self, texts: list[str], evidence: bool = True) -> list[dict]:
        """Tag a batch of texts (encoded as one batch); one record per text, in order."""
        texts = list(texts)
        if not texts:
            return []
        s = self.scores(texts)
        selected = s["value"] >= self.classifier.thresholds_
        found = self._evidence(texts, selected) if evidence else [{} for _ in texts]
        return [self._record(s, selected, i, found[i]) for i in range(len(texts))]

    def _record(self, s, selected, i, evidence) -> dict:
        values = [v for j, v in enumerate(VALUE_IDS) if selected[i, j]]
        return {
            "values": values,
            "value_scores": {v: round(float(s["value"][i, j]), 4) for j, v in enumerate(VALUE_IDS)},
            "value_polarity": {
                v: "pos" if s["polarity"][i, j] >= 0.5 else "neg" for j, v in enumerate(VALUE_IDS) if selected[i, j]
            },
            "sentiment": SENTIMENTS[int(s["sentiment"][i].argmax())],
            "sentiment_scores": {
                name: round(float(p), 4) for name, p in zip(SENTIMENTS, s["sentiment"][i], strict=True)
            },
            "needs_review": bool(s["confidence"][i] < self.review_threshold),
            "evidence": evidence,
            "model_version": self.version,
        }

    def _evidence(self, texts, selected) -> list[dict[str, str]]:
        """For each selected value, the sentence whose own value score is highest."""
        owners, sentences = [], []
        for i, text in enumerate(texts):
            if selected[i].any():
                parts = split_sentences(text)
                owners += [i] * len(parts)
                sentences += parts
        found = [{} for _ in texts]
        if not sentences:
            return found
        per_text = Counter(owners)
        # A one-sentence text is its own evidence: no need to encode it again.
        multi = [j for j, i in enumerate(owners) if per_text[i] > 1]
        sentence_p = np.zeros((len(sentences), N_VALUES))
        if multi:
            features = self.features.transform([sentences[j] for j in multi])
            sentence_p[multi] = self.classifier.value_proba(features)
        best: dict[tuple[int, int], tuple[float, str]] = {}
        for j, i in enumerate(owners):
            for k in np.flatnonzero(selected[i]):
                if (i, k) not in best or sentence_p[j, k] > best[(i, k)][0]:
                    best[(i, k)] = (sentence_p[j, k], sentences[j])
        for (i, k), (_, sentence) in best.items():
            found[i][VALUE_IDS[k]] = sentence
        return found
