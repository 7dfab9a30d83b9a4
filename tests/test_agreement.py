import pytest

from model.agreement import agreement


def label(i, values, sentiment, polarity=None):
    return {"id": i, "values": values, "value_polarity": polarity or {v: "neg" for v in values}, "sentiment": sentiment}


def test_identical_passes_agree_fully():
    first = [label("a", ["akuntabel"], "negatif"), label("b", [], "positif"), label("c", ["loyal"], "netral")]
    result = agreement(first, list(reversed(first)))
    assert result["value_macro_f1"] == 1.0
    assert result["sentiment_kappa"] == 1.0
    assert result["exact_value_sets"] == 1.0


def test_disagreements_are_counted():
    first = [label("a", ["akuntabel"], "negatif"), label("b", ["akuntabel"], "positif"), label("c", [], "netral")]
    second = [
        label("a", ["akuntabel"], "negatif", {"akuntabel": "pos"}),
        label("b", [], "positif"),
        label("c", [], "negatif"),
    ]
    result = agreement(first, second)
    assert result["per_value"]["akuntabel"]["f1"] == pytest.approx(2 / 3)
    assert result["polarity_agreement"] == 0.0 and result["polarity_pairs"] == 1
    assert result["sentiment_accuracy"] == pytest.approx(2 / 3)
    assert result["exact_value_sets"] == pytest.approx(2 / 3)


def test_different_texts_are_refused():
    with pytest.raises(ValueError, match="different texts"):
        agreement([label("a", [], "netral")], [label("b", [], "netral")])
