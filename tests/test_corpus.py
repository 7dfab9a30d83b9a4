"""The shipped BerAKHLAK corpus meets every rule of the validator (schema, duplicates, balance)."""

import statistics

import pytest

from model.data import REGISTERS, is_first_round, load_corpus, validate_corpus
from model.settings import Settings


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(Settings().data_dir)


def test_shipped_corpus_passes_the_validator(corpus):
    summary = validate_corpus(corpus)
    assert summary["texts"] >= 3000


def first_round(rows):
    return [r for r in rows if is_first_round(r)]


def test_first_round_splits_are_about_70_15_15(corpus):
    total = sum(len(first_round(rows)) for rows in corpus.values())
    assert abs(len(first_round(corpus["train"])) / total - 0.70) < 0.02
    assert abs(len(corpus["dev"]) / total - 0.15) < 0.02
    assert abs(len(corpus["test"]) / total - 0.15) < 0.02


def test_extension_texts_are_in_train_only(corpus):
    assert first_round(corpus["dev"]) == corpus["dev"] and first_round(corpus["test"]) == corpus["test"]
    assert len(corpus["train"]) > len(first_round(corpus["train"]))


def test_lengths_and_registers_vary(corpus):
    rows = [r for split in corpus.values() for r in split]
    words = [len(r["text"].split()) for r in rows]
    assert min(words) >= 3 and max(words) > 150
    assert 20 <= statistics.median(words) <= 30
    assert {r["register"] for r in rows} == set(REGISTERS)
    assert all(r["origin"] == "authored" for r in rows)


def test_datasheet_statistics_match_the_corpus(corpus):
    from model.datasheet import render_statistics, statistics_block

    datasheet = (Settings().data_dir / "DATASHEET.md").read_text(encoding="utf-8")
    assert statistics_block(datasheet) == render_statistics(corpus), "run model.datasheet.refresh_datasheet"
