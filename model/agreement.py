"""Inter-annotator agreement between two labelling passes over the same texts."""

from __future__ import annotations

from sklearn.metrics import cohen_kappa_score, f1_score

from model.labels import SENTIMENTS, VALUE_IDS


def agreement(first: list[dict], second: list[dict]) -> dict:
    """Per-value F1 of ``second`` against ``first``, polarity and sentiment agreement, Cohen's kappa.

    F1 is symmetric in the two passes, so it reads as agreement on which texts carry each value.
    Polarity agreement counts the (text, value) pairs that both passes chose.
    """
    by_id = {r["id"]: r for r in second}
    missing = [r["id"] for r in first if r["id"] not in by_id]
    if missing or len(by_id) != len(first):
        raise ValueError(f"the passes label different texts (e.g. {missing[:5]})")
    pairs = [(r, by_id[r["id"]]) for r in first]
    per_value = {}
    for value in VALUE_IDS:
        a = [int(value in x["values"]) for x, _ in pairs]
        b = [int(value in y["values"]) for _, y in pairs]
        per_value[value] = {
            "f1": float(f1_score(a, b, zero_division=1.0)),
            "kappa": float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else 1.0,
            "first": sum(a),
            "second": sum(b),
        }
    both = [(x["value_polarity"][v], y["value_polarity"][v]) for x, y in pairs for v in x["values"] if v in y["values"]]
    sent_a = [x["sentiment"] for x, _ in pairs]
    sent_b = [y["sentiment"] for _, y in pairs]
    return {
        "texts": len(pairs),
        "per_value": per_value,
        "value_macro_f1": sum(m["f1"] for m in per_value.values()) / len(VALUE_IDS),
        "exact_value_sets": sum(set(x["values"]) == set(y["values"]) for x, y in pairs) / len(pairs),
        "no_value_agreement": sum((not x["values"]) == (not y["values"]) for x, y in pairs) / len(pairs),
        "polarity_agreement": sum(a == b for a, b in both) / len(both) if both else 1.0,
        "polarity_pairs": len(both),
        "sentiment_accuracy": sum(a == b for a, b in zip(sent_a, sent_b, strict=True)) / len(pairs),
        "sentiment_macro_f1": float(f1_score(sent_a, sent_b, average="macro", labels=list(SENTIMENTS))),
        "sentiment_kappa": float(cohen_kappa_score(sent_a, sent_b)),
    }
