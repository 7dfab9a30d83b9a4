"""Multi-label stratified splitting of the corpus (used once, when the corpus is built or extended)."""

from __future__ import annotations

import random
from collections import Counter

from model.labels import VALUE_IDS

NO_VALUE = "__none__"


def _strata(record: dict) -> list[str]:
    """The labels a record is stratified on: its values (or 'none'), their polarities and the sentiment."""
    labels = [f"{v}:{record['value_polarity'][v]}" for v in record["values"]] or [NO_VALUE]
    return [*labels, *record["values"], f"sentiment:{record['sentiment']}"]


def stratified_split(records: list[dict], ratios: dict[str, float], random_state: int = 0) -> dict[str, list[dict]]:
    """Assign records to splits so every value, polarity and sentiment is spread in ``ratios``.

    Greedy iterative stratification (Sechidis et al., 2011): records carrying the rarest labels are
    placed first, each into the split that most lacks that record's rarest label.
    """
    rng = random.Random(random_state)
    shuffled = records[:]
    rng.shuffle(shuffled)
    label_counts = Counter(label for r in shuffled for label in _strata(r))
    total = sum(ratios.values())
    wanted = {split: {label: n * share / total for label, n in label_counts.items()} for split, share in ratios.items()}
    size_wanted = {split: len(shuffled) * share / total for split, share in ratios.items()}
    have = {split: Counter() for split in ratios}
    out = {split: [] for split in ratios}

    def rarity(record):
        return min(label_counts[label] for label in _strata(record))

    for record in sorted(shuffled, key=rarity):
        rarest = min(_strata(record), key=lambda label: label_counts[label])
        split = max(
            ratios,
            key=lambda s: (
                wanted[s][rarest] - have[s][rarest],
                size_wanted[s] - len(out[s]),
            ),
        )
        out[split].append(record)
        have[split].update(_strata(record))
    return out


def value_spread(splits: dict[str, list[dict]]) -> dict[str, dict[str, int]]:
    """Texts per value in each split, for the datasheet and the tests."""
    return {
        split: {v: sum(1 for r in records if v in r["values"]) for v in VALUE_IDS} for split, records in splits.items()
    }


def assemble_corpus(raw: list[dict], ratios: dict[str, float], random_state: int = 0) -> tuple[dict, list[str]]:
    """Clean authored records, drop repeats, give ids and split them; returns (splits, notes).

    A record whose text is an exact or near duplicate (5-gram Jaccard >= 0.7) of an earlier one is dropped,
    and each drop is listed in ``notes`` so that the datasheet can count them.
    """
    from model.dedup import near_duplicate_pairs, normalise

    notes, kept, seen = [], [], set()
    for record in raw:
        text = " ".join(record["text"].split())
        key = normalise(text)
        if key in seen:
            notes.append(f"exact duplicate dropped: {text[:80]!r}")
            continue
        seen.add(key)
        kept.append({**record, "text": text})
    drop = set()
    for i, j, similarity in near_duplicate_pairs([r["text"] for r in kept]):
        if i not in drop and j not in drop:
            drop.add(j)
            notes.append(f"near duplicate ({similarity:.2f}) dropped: {kept[j]['text'][:80]!r}")
    kept = [r for n, r in enumerate(kept) if n not in drop]
    for n, record in enumerate(kept, 1):
        record["id"] = f"bk{n:05d}"
        record["origin"] = "authored"
    splits = stratified_split(kept, ratios, random_state)
    field_order = ("id", "text", "values", "value_polarity", "sentiment", "service", "register", "origin")
    ordered = {
        split: [{k: r[k] for k in field_order} for r in sorted(rows, key=lambda r: r["id"])]
        for split, rows in splits.items()
    }
    return ordered, notes
