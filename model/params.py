"""Training hyper-parameters, in a module of their own so that the CLI can show defaults without importing torch."""

from __future__ import annotations

from dataclasses import dataclass

VALUE_HEADS = ("binary", "ternary", "binary+ternary")  # FeedbackClassifier(value_head=...)
LEXICAL_VOCABULARIES = ("corpus", "corpus+public")  # train rows the TF-IDF vocabulary is learned from


@dataclass(frozen=True)
class TrainingParams:
    """Hyper-parameters of a training run (chosen on dev, recorded in the manifest)."""

    C_values: float = 1.0
    C_polarity: float = 1.0
    C_sentiment: float = 3.0  # chosen on dev by `berakhlak tune` (see benchmarks/RESULTS.md)
    value_head: str = "binary+ternary"  # both heads averaged: better on dev than either (dev_ablation.py)
    domain_weight: float = 3.0  # weight of a corpus row against a public sentiment row
    nusax_weight: float = 3.0  # weight of a NusaX train row against an SmSA row (500 against 10,380 rows)
    public_sentiment: bool = True
    lexical: bool = True  # TF-IDF beside the embeddings (kept: it helps on dev, see benchmarks/dev_ablation.py)
    lexical_max_features: int = 12000
    lexical_vocabulary: str = "corpus+public"  # one of LEXICAL_VOCABULARIES
    lexical_weight: float = 1.0
    review_budget: float = 0.25  # share of dev texts that needs_review flags (the least confident ones)
    limit: int | None = None  # first N rows of every split, for quick runs in tests and notebooks
    random_state: int = 0
