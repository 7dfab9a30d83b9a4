"""Exact and near-duplicate detection by character 5-gram Jaccard similarity.

All-pairs comparison of a few thousand texts is too slow for the test suite, so candidates come from a
prefix filter: two sets with Jaccard >= t must share one of the rarest ``|A| - ceil(t*|A|) + 1`` grams
of each set (Bayardo et al., "Scaling up all pairs similarity search", WWW 2007). Only candidates are
compared exactly, so the result equals the brute-force one.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter, defaultdict
from collections.abc import Sequence

NEAR_DUPLICATE_JACCARD = 0.7
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lowercase, strip ASCII punctuation and collapse white space (the leakage-filter normal form)."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.lower())).strip()


def char_ngrams(text: str, n: int = 5) -> frozenset[str]:
    """The set of character n-grams of the lowercased, space-collapsed text."""
    folded = _SPACES.sub(" ", text.lower()).strip()
    if len(folded) <= n:
        return frozenset([folded])
    return frozenset(folded[i : i + n] for i in range(len(folded) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two sets (1.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[int, int, float]]:
    """Every pair ``(i, j, similarity)`` with ``i < j`` whose 5-gram Jaccard is at least ``threshold``."""
    gram_sets = [char_ngrams(t) for t in texts]
    frequency = Counter(g for grams in gram_sets for g in grams)
    index: dict[str, list[int]] = defaultdict(list)
    pairs = []
    for j, grams in enumerate(gram_sets):
        ordered = sorted(grams, key=lambda g: (frequency[g], g))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        candidates = {i for g in prefix for i in index[g]}
        for i in sorted(candidates):
            similarity = jaccard(gram_sets[i], grams)
            if similarity >= threshold:
                pairs.append((i, j, similarity))
        for g in prefix:
            index[g].append(j)
    return pairs
