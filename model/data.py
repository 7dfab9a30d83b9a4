"""Load and validate the BerAKHLAK corpus (``training_data/berakhlak/{train,dev,test}.jsonl``)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from model.dedup import near_duplicate_pairs, normalise
from model.errors import DataValidationError
from model.labels import POLARITIES, SENTIMENTS, VALUE_IDS

SPLITS = ("train", "dev", "test")
FIELDS = ("id", "text", "values", "value_polarity", "sentiment", "service", "register", "origin")
REGISTERS = ("gmaps_review", "appstore_review", "tweet", "lapor_complaint", "whatsapp", "skm_survey")


@dataclass(frozen=True)
class BalanceRules:
    """The minimums the corpus must meet (issue 2); tests build smaller rules for small data."""

    min_texts: int = 3000
    min_per_value: int = 250
    min_pos_per_value: int = 60
    min_neg_per_value: int = 120
    min_no_value_share: float = 0.12
    min_multi_value_share: float = 0.20
    min_sentiment_share: float = 0.15
    min_registers: int = 6
    min_services: int = 15

    @classmethod
    def relaxed(cls) -> BalanceRules:
        """No minimums: for subsets and small experiments (the schema and duplicate checks still run)."""
        return cls(0, 0, 0, 0, 0.0, 0.0, 0.0, 0, 0)


FIRST_ROUND_LAST_ID = 3573  # later ids come from the extension rounds (DATASHEET.md, steps 6-7), all in train


def is_first_round(record: dict) -> bool:
    """Whether a corpus record was written in the first authoring round (ids ``bk00001`` to ``bk03573``)."""
    return int(record["id"].removeprefix("bk")) <= FIRST_ROUND_LAST_ID


def corpus_dir(data_dir: Path) -> Path:
    """The folder holding the BerAKHLAK splits inside a ``training_data`` folder."""
    return Path(data_dir) / "berakhlak"


def read_jsonl(path: Path) -> list[dict]:
    """Read a JSON Lines file; a line that is not a JSON object raises DataValidationError naming it."""
    records, problems = [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{number}: not JSON ({exc.msg})")
                continue
            if not isinstance(record, dict):
                problems.append(f"{path.name}:{number}: not a JSON object")
                continue
            records.append(record)
    if problems:
        raise DataValidationError(problems)
    return records


def load_corpus(data_dir: Path) -> dict[str, list[dict]]:
    """Read the three splits; returns ``{"train": [...], "dev": [...], "test": [...]}``."""
    folder = corpus_dir(data_dir)
    missing = [s for s in SPLITS if not (folder / f"{s}.jsonl").is_file()]
    if missing:
        raise DataValidationError([f"missing split file {folder / (s + '.jsonl')}" for s in missing])
    return {split: read_jsonl(folder / f"{split}.jsonl") for split in SPLITS}


def corpus_sha256(data_dir: Path) -> str:
    """One sha256 over the split files, to record which data a model was trained on."""
    digest = hashlib.sha256()
    for split in SPLITS:
        digest.update((corpus_dir(data_dir) / f"{split}.jsonl").read_bytes())
    return digest.hexdigest()


def record_problems(record: dict) -> list[str]:
    """Schema problems of one record (empty when it is valid)."""
    problems = []
    if set(record) != set(FIELDS):
        missing, extra = set(FIELDS) - set(record), set(record) - set(FIELDS)
        problems.append(f"fields: missing {sorted(missing)}, unexpected {sorted(extra)}")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("text is empty or not a string")
    values = record.get("values")
    if not isinstance(values, list) or any(v not in VALUE_IDS for v in values):
        problems.append(f"values {values!r} not a list of {VALUE_IDS}")
    elif len(set(values)) != len(values):
        problems.append(f"values {values!r} repeat a value")
    polarity = record.get("value_polarity")
    if not isinstance(polarity, dict) or any(p not in POLARITIES for p in polarity.values()):
        problems.append(f"value_polarity {polarity!r} must map values to neg/pos")
    elif isinstance(values, list) and set(polarity) != set(values):
        problems.append(f"value_polarity keys {sorted(polarity)} differ from values {sorted(values)}")
    if record.get("sentiment") not in SENTIMENTS:
        problems.append(f"sentiment {record.get('sentiment')!r} not in {SENTIMENTS}")
    if record.get("register") not in REGISTERS:
        problems.append(f"register {record.get('register')!r} not in {REGISTERS}")
    for name in ("id", "service", "origin"):
        if not isinstance(record.get(name), str) or not record.get(name):
            problems.append(f"{name} is empty or not a string")
    return problems


def validate_corpus(splits: dict[str, list[dict]], rules: BalanceRules | None = None) -> dict:
    """Check schema, duplicates (within and across splits) and balance; return the summary counts.

    Raises DataValidationError listing every problem with the ids involved.
    """
    rules = rules or BalanceRules()
    problems = _schema_problems(splits)
    if problems:
        raise DataValidationError(problems)
    problems += _duplicate_problems(splits)
    summary = summarise(splits)
    problems += _balance_problems(summary, rules)
    if problems:
        raise DataValidationError(problems)
    return summary


def _schema_problems(splits):
    problems, seen_ids = [], Counter()
    for split, records in splits.items():
        for record in records:
            seen_ids[record.get("id")] += 1
            problems += [f"{split} id={record.get('id')!r}: {p}" for p in record_problems(record)]
    problems += [f"id {i!r} used {n} times" for i, n in seen_ids.items() if n > 1]
    return problems


def _duplicate_problems(splits):
    flat = [(split, r) for split, records in splits.items() for r in records]
    problems, by_normal = [], {}
    for split, record in flat:
        key = normalise(record["text"])
        if key in by_normal:
            other_split, other = by_normal[key]
            problems.append(f"exact duplicate: {other['id']} ({other_split}) == {record['id']} ({split})")
        else:
            by_normal[key] = (split, record)
    for i, j, similarity in near_duplicate_pairs([r["text"] for _, r in flat]):
        (split_a, a), (split_b, b) = flat[i], flat[j]
        if normalise(a["text"]) != normalise(b["text"]):
            problems.append(
                f"near duplicate (5-gram Jaccard {similarity:.2f}): {a['id']} ({split_a}) ~ {b['id']} ({split_b})"
            )
    return problems


def summarise(splits: dict[str, list[dict]]) -> dict:
    """Counts per split, value, polarity, sentiment, service and register, and length statistics."""
    records = [r for rs in splits.values() for r in rs]
    per_value = Counter(v for r in records for v in r["values"])
    polarity = Counter((v, p) for r in records for v, p in r["value_polarity"].items())
    lengths = sorted(len(r["text"].split()) for r in records)
    return {
        "texts": len(records),
        "splits": {split: len(rs) for split, rs in splits.items()},
        "values": {v: per_value[v] for v in VALUE_IDS},
        "polarity": {v: {p: polarity[(v, p)] for p in POLARITIES} for v in VALUE_IDS},
        "no_value": sum(1 for r in records if not r["values"]),
        "multi_value": sum(1 for r in records if len(r["values"]) >= 2),
        "sentiment": {s: sum(1 for r in records if r["sentiment"] == s) for s in SENTIMENTS},
        "services": dict(Counter(r["service"] for r in records).most_common()),
        "registers": dict(Counter(r["register"] for r in records).most_common()),
        "words": {
            "min": lengths[0] if lengths else 0,
            "median": lengths[len(lengths) // 2] if lengths else 0,
            "max": lengths[-1] if lengths else 0,
        },
    }


def _balance_problems(summary, rules):
    problems = []
    total = summary["texts"]
    if total < rules.min_texts:
        problems.append(f"corpus has {total} texts, fewer than {rules.min_texts}")
    for value in VALUE_IDS:
        count, pol = summary["values"][value], summary["polarity"][value]
        if count < rules.min_per_value:
            problems.append(f"value {value}: {count} texts, fewer than {rules.min_per_value}")
        if pol["pos"] < rules.min_pos_per_value:
            problems.append(f"value {value}: {pol['pos']} pos, fewer than {rules.min_pos_per_value}")
        if pol["neg"] < rules.min_neg_per_value:
            problems.append(f"value {value}: {pol['neg']} neg, fewer than {rules.min_neg_per_value}")
    shares = {
        "texts with no value": (summary["no_value"], rules.min_no_value_share),
        "texts with 2+ values": (summary["multi_value"], rules.min_multi_value_share),
        **{f"sentiment {s}": (n, rules.min_sentiment_share) for s, n in summary["sentiment"].items()},
    }
    for name, (count, minimum) in shares.items():
        if total and count / total < minimum:
            problems.append(f"{name}: {count / total:.1%} of texts, below {minimum:.0%}")
    if len(summary["registers"]) < rules.min_registers:
        problems.append(f"{len(summary['registers'])} registers, fewer than {rules.min_registers}")
    if len(summary["services"]) < rules.min_services:
        problems.append(f"{len(summary['services'])} services, fewer than {rules.min_services}")
    return problems
