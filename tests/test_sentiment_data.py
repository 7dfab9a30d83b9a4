"""The imported public sentiment data and its leakage filter (reads the real files; fast)."""

from collections import Counter

import pytest

from model.sentiment_data import NUSAX, SMSA, leakage_key, load_sentiment_data
from model.settings import Settings


@pytest.fixture(scope="module")
def data():
    return load_sentiment_data(Settings().data_dir)


def test_leakage_key_ignores_case_punctuation_and_spacing():
    assert leakage_key("Tempatnya nyaman, harga Rp.10.000!") == leakage_key("tempat nya nyaman , harga rp . 10.000")


def test_nusax_is_kept_whole_in_its_original_splits(data):
    counts = Counter(r["split"] for r in data.rows if r["origin"] == NUSAX)
    assert counts == {"train": 500, "valid": 100, "test": 400}


def test_no_smsa_sentence_matches_a_nusax_test_or_valid_sentence(data):
    held_out = {leakage_key(r["text"]) for r in data.rows if r["origin"] == NUSAX and r["split"] != "train"}
    assert not any(leakage_key(r["text"]) in held_out for r in data.rows if r["origin"] == SMSA)
    # The dataset README documents 217 NusaX test sentences equal to an SmSA train sentence.
    assert data.dropped["smsa_matching_nusax_test"] >= 217


def test_no_text_is_in_two_splits(data):
    owners = {}
    for row in data.rows:
        owners.setdefault(leakage_key(row["text"]), set()).add(row["split"])
    assert all(len(splits) == 1 for splits in owners.values())


def test_rows_have_the_common_format(data):
    assert {tuple(sorted(r)) for r in data.rows} == {("origin", "sentiment", "split", "text")}
    assert {r["sentiment"] for r in data.rows} == {"negatif", "netral", "positif"}
