"""Error analysis tables for notebooks: predictions beside gold labels, worst errors, per-service scores."""

from __future__ import annotations

import pandas as pd
from sklearn.metrics import f1_score

from model.labels import VALUE_IDS


def predictions_frame(analyzer, records: list[dict]) -> pd.DataFrame:
    """One row per record: text, service, register, gold and predicted labels, confidence and error flags."""
    predicted = analyzer.predict([r["text"] for r in records], evidence=False)
    confidence = analyzer.scores([r["text"] for r in records])["confidence"]
    rows = []
    for record, guess, conf in zip(records, predicted, confidence, strict=True):
        gold_values, guess_values = set(record["values"]), set(guess["values"])
        rows.append(
            {
                "id": record["id"],
                "text": record["text"],
                "service": record["service"],
                "register": record["register"],
                "gold_values": sorted(gold_values),
                "predicted_values": sorted(guess_values),
                "missed": sorted(gold_values - guess_values),
                "spurious": sorted(guess_values - gold_values),
                "polarity_errors": sorted(
                    v for v in gold_values & guess_values if record["value_polarity"][v] != guess["value_polarity"][v]
                ),
                "gold_sentiment": record["sentiment"],
                "predicted_sentiment": guess["sentiment"],
                "confidence": float(conf),
                "needs_review": guess["needs_review"],
            }
        )
    frame = pd.DataFrame(rows)
    frame["value_error"] = frame["missed"].str.len().gt(0) | frame["spurious"].str.len().gt(0)
    frame["sentiment_error"] = frame["gold_sentiment"] != frame["predicted_sentiment"]
    frame["any_error"] = frame["value_error"] | frame["sentiment_error"] | frame["polarity_errors"].str.len().gt(0)
    return frame


def worst_errors(frame: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The wrong predictions the model was most confident about (the ones ``needs_review`` misses)."""
    wrong = frame[frame["any_error"]]
    columns = ["id", "text", "gold_values", "predicted_values", "gold_sentiment", "predicted_sentiment", "confidence"]
    return wrong.sort_values("confidence", ascending=False).head(n)[columns]


def value_confusions(frame: pd.DataFrame) -> pd.DataFrame:
    """Per value: how often it was missed, predicted spuriously, and which value was predicted instead."""
    rows = []
    for value in VALUE_IDS:
        missed = frame[frame["missed"].apply(lambda m, v=value: v in m)]
        instead = pd.Series([s for row in missed["spurious"] for s in row], dtype=object).value_counts()
        rows.append(
            {
                "value": value,
                "support": int(frame["gold_values"].apply(lambda g, v=value: v in g).sum()),
                "missed": len(missed),
                "spurious": int(frame["spurious"].apply(lambda s, v=value: v in s).sum()),
                "polarity_errors": int(frame["polarity_errors"].apply(lambda p, v=value: v in p).sum()),
                "most_often_instead": instead.index[0] if len(instead) else "",
            }
        )
    return pd.DataFrame(rows)


def per_group_scores(frame: pd.DataFrame, column: str = "service") -> pd.DataFrame:
    """Value micro-F1, sentiment accuracy and error rate for each service (or register)."""
    rows = []
    for name, group in frame.groupby(column):
        gold = [[int(v in g) for v in VALUE_IDS] for g in group["gold_values"]]
        guess = [[int(v in p) for v in VALUE_IDS] for p in group["predicted_values"]]
        rows.append(
            {
                column: name,
                "texts": len(group),
                "value_micro_f1": round(f1_score(gold, guess, average="micro", zero_division=0), 3),
                "sentiment_accuracy": round(float((~group["sentiment_error"]).mean()), 3),
                "any_error_rate": round(float(group["any_error"].mean()), 3),
            }
        )
    return pd.DataFrame(rows).sort_values("value_micro_f1")
