import json

import pytest

from model.data import BalanceRules, load_corpus, read_jsonl, record_problems, validate_corpus
from model.errors import DataValidationError
from model.splitting import stratified_split, value_spread
from tests.conftest import make_record

SMALL = BalanceRules(
    min_texts=1,
    min_per_value=0,
    min_pos_per_value=0,
    min_neg_per_value=0,
    min_no_value_share=0,
    min_multi_value_share=0,
    min_sentiment_share=0,
    min_registers=1,
    min_services=1,
)


def small_splits():
    return {
        "train": [
            make_record(1, "Petugas loket KTP jutek sekali, ditanya malah diam", ["berorientasi_pelayanan"]),
            make_record(2, "Diminta bayar 50rb biar cepat, ini pungli", ["akuntabel"]),
        ],
        "dev": [make_record(3, "Mantap", sentiment="positif")],
        "test": [make_record(4, "Data KK saya salah ketik nama ibu", ["kompeten"])],
    }


def test_valid_small_corpus_passes_and_is_summarised():
    summary = validate_corpus(small_splits(), SMALL)
    assert summary["texts"] == 4
    assert summary["values"]["akuntabel"] == 1
    assert summary["no_value"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(values=["ramah"], value_polarity={"ramah": "neg"}), "not a list of"),
        (lambda r: r.update(value_polarity={}), "differ from values"),
        (lambda r: r.update(value_polarity={"akuntabel": "bad"}), "must map values to neg/pos"),
        (lambda r: r.update(text="   "), "text is empty"),
        (lambda r: r.update(sentiment="senang"), "sentiment"),
        (lambda r: r.pop("register"), "missing ['register']"),
        (lambda r: r.update(extra=1), "unexpected ['extra']"),
    ],
)
def test_schema_problems_name_the_offending_id(change, message):
    splits = small_splits()
    change(splits["train"][1])
    with pytest.raises(DataValidationError) as error:
        validate_corpus(splits, SMALL)
    assert "t0002" in str(error.value)
    assert message in str(error.value)


def test_exact_duplicate_across_splits_is_reported_with_both_ids():
    splits = small_splits()
    splits["test"].append(make_record(9, "diminta bayar 50rb, biar cepat!! ini PUNGLI", ["akuntabel"]))
    with pytest.raises(DataValidationError) as error:
        validate_corpus(splits, SMALL)
    assert "exact duplicate: t0002 (train) == t0009 (test)" in str(error.value)


def test_near_duplicate_is_reported():
    splits = small_splits()
    splits["dev"].append(make_record(8, "Petugas loket KTP jutek sekali, ditanya malah diam saja", ["harmonis"]))
    with pytest.raises(DataValidationError, match=r"near duplicate .*t0001 \(train\) ~ t0008 \(dev\)"):
        validate_corpus(splits, SMALL)


def test_repeated_id_is_reported():
    splits = small_splits()
    splits["test"][0]["id"] = "t0001"
    with pytest.raises(DataValidationError, match="id 't0001' used 2 times"):
        validate_corpus(splits, SMALL)


def test_balance_minimums_are_enforced():
    with pytest.raises(DataValidationError) as error:
        validate_corpus(small_splits(), BalanceRules())
    text = str(error.value)
    assert "fewer than 3000" in text
    assert "value loyal: 0 texts, fewer than 250" in text


def test_read_jsonl_names_bad_lines(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"id": "a"}\nnot json\n[1]\n', encoding="utf-8")
    with pytest.raises(DataValidationError) as error:
        read_jsonl(path)
    assert "train.jsonl:2: not JSON" in str(error.value)
    assert "train.jsonl:3: not a JSON object" in str(error.value)


def test_load_corpus_reports_missing_split(tmp_path):
    (tmp_path / "berakhlak").mkdir()
    (tmp_path / "berakhlak" / "train.jsonl").write_text(json.dumps(make_record(1, "x")) + "\n")
    with pytest.raises(DataValidationError, match="missing split file"):
        load_corpus(tmp_path)


def test_record_problems_empty_for_valid_record():
    assert record_problems(make_record(1, "Antre lama", ["berorientasi_pelayanan"])) == []


def test_stratified_split_spreads_every_value_and_keeps_every_record():
    records = []
    values = ["berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif"]
    for i in range(700):
        chosen = [values[i % 7]] + ([values[(i * 3) % 7]] if i % 4 == 0 else [])
        records.append(make_record(i, f"teks {i}", list(dict.fromkeys(chosen))))
    splits = stratified_split(records, {"train": 0.7, "dev": 0.15, "test": 0.15}, random_state=1)
    assert sorted(r["id"] for rs in splits.values() for r in rs) == sorted(r["id"] for r in records)
    assert abs(len(splits["train"]) - 490) <= 15
    spread = value_spread(splits)
    for value in values:
        total = sum(spread[s][value] for s in splits)
        assert spread["test"][value] >= 0.1 * total
        assert spread["dev"][value] >= 0.1 * total
