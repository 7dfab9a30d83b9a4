"""Public Indonesian sentiment data (NusaX-senti Indonesian and SmSA) in one common format.

Each row is ``{"text", "sentiment", "origin", "split"}`` with the datasets' own splits kept
(``train``, ``valid``, ``test``) and labels mapped to ``negatif``/``netral``/``positif``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from model.dedup import normalise
from model.errors import DataValidationError

LABEL_MAP = {"negative": "negatif", "neutral": "netral", "positive": "positif"}
ORIGINAL_SPLITS = ("train", "valid", "test")
NUSAX = "nusax-senti-ind"
SMSA = "smsa"


def leakage_key(text: str) -> str:
    """The key on which SmSA and NusaX sentences are matched.

    Lowercase, punctuation stripped, and spaces removed rather than only collapsed: SmSA is pre-tokenised
    ("tempat nya", "rp . 10.000") while NusaX is not, so collapsing spaces finds 110 of the NusaX test
    sentences in SmSA train and removing them finds the 217 that the dataset README documents.
    """
    return re.sub(r"\s+", "", normalise(text))


@dataclass
class SentimentData:
    """The loaded rows and what the leakage filter removed."""

    rows: list[dict]
    dropped: dict[str, int] = field(default_factory=dict)

    def split(self, name: str, origin: str | None = None) -> list[dict]:
        """Rows of one original split, optionally of one origin."""
        return [r for r in self.rows if r["split"] == name and (origin is None or r["origin"] == origin)]


def sentiment_dir(data_dir: Path) -> Path:
    """The folder holding the imported sentiment datasets inside ``training_data``."""
    return Path(data_dir) / "sentiment"


def read_nusax(folder: Path) -> list[dict]:
    """NusaX-senti Indonesian, ``{train,valid,test}.csv`` with columns ``id,text,label``."""
    rows = []
    for split in ORIGINAL_SPLITS:
        with open(folder / f"{split}.csv", encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                rows.append(_row(record["text"], record["label"], NUSAX, split, folder))
    return rows


def read_smsa(folder: Path) -> list[dict]:
    """SmSA, ``{split}_preprocess.tsv`` with ``text<TAB>label`` and no header."""
    rows = []
    for split in ORIGINAL_SPLITS:
        with open(folder / f"{split}_preprocess.tsv", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    text, label = line.rstrip("\n").rsplit("\t", 1)
                    rows.append(_row(text, label, SMSA, split, folder))
    return rows


def _row(text: str, label: str, origin: str, split: str, folder: Path) -> dict:
    if label not in LABEL_MAP:
        raise DataValidationError([f"{folder}/{split}: unknown label {label!r} for text {text[:60]!r}"])
    return {"text": text, "sentiment": LABEL_MAP[label], "origin": origin, "split": split}


def load_sentiment_data(data_dir: Path) -> SentimentData:
    """Load both datasets and apply the leakage filter.

    Dropped, in order:
    - every SmSA row whose key equals a NusaX test sentence (NusaX was built from SmSA);
    - every SmSA row whose key equals a NusaX valid sentence (NusaX valid is used for tuning);
    - every SmSA row whose key appears in another split of either dataset, so no text is in two splits
      (NusaX, the benchmark, is kept whole; within SmSA the evaluation split keeps the text).
    Exact repeats inside one split are kept once.
    """
    folder = sentiment_dir(data_dir)
    nusax, smsa = read_nusax(folder / NUSAX), read_smsa(folder / SMSA)
    nusax_test = {leakage_key(r["text"]) for r in nusax if r["split"] == "test"}
    nusax_valid = {leakage_key(r["text"]) for r in nusax if r["split"] == "valid"}
    dropped = {"smsa_matching_nusax_test": 0, "smsa_matching_nusax_valid": 0, "cross_split": 0, "repeats": 0}
    kept = []
    for row in smsa:
        key = leakage_key(row["text"])
        if key in nusax_test:
            dropped["smsa_matching_nusax_test"] += 1
        elif key in nusax_valid:
            dropped["smsa_matching_nusax_valid"] += 1
        else:
            kept.append(row)
    rows = _one_split_per_text(nusax + kept, dropped)
    return SentimentData(rows=rows, dropped=dropped)


def _one_split_per_text(rows: list[dict], dropped: dict[str, int]) -> list[dict]:
    # NusaX rows first, then evaluation splits: the benchmark stays whole and leaks go out of train.
    priority = {"test": 0, "valid": 1, "train": 2}
    owner: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: (r["origin"] != NUSAX, priority[r["split"]])):
        owner.setdefault(leakage_key(row["text"]), row["split"])
    seen, out = set(), []
    for row in rows:
        key = leakage_key(row["text"])
        if owner[key] != row["split"]:
            dropped["cross_split"] += 1
        elif key in seen:
            dropped["repeats"] += 1
        else:
            seen.add(key)
            out.append(row)
    return out
