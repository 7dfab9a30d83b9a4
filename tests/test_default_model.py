"""The shipped default artifact loads on this machine's freshly built encoder and tags sensibly."""

import pytest

from model.analyzer import Analyzer
from model.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer.load(settings=Settings())


def test_default_model_loads_with_verified_hashes(analyzer):
    assert analyzer.version == Settings().model_dir.name
    assert analyzer.manifest["encoder"]["name"] == Settings().encoder


CLEAR_CASES = [
    (
        "Ngurus KTP disuruh bayar 150rb sama oknum biar cepet jadi, katanya uang rokok. Parah pungli masih ada",
        "akuntabel", "neg", "negatif",
    ),
    (
        "Dari kelurahan disuruh ke kecamatan, dari kecamatan disuruh balik ke dukcapil, dilempar-lempar terus",
        "kolaboratif", "neg", "negatif",
    ),
    (
        "Data pribadi saya bocor, nomor HP saya disebar petugas ke pinjol. Mencoreng nama instansi",
        "loyal", "neg", "negatif",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "value", "polarity", "sentiment"), CLEAR_CASES)
def test_clear_examples_get_their_value(analyzer, text, value, polarity, sentiment):
    result = analyzer.predict([text])[0]
    assert value in result["values"]
    assert result["value_polarity"][value] == polarity
    assert result["sentiment"] == sentiment


def test_bare_rating_gets_no_value(analyzer):
    result = analyzer.predict(["mantap jiwa pokoknya"])[0]
    assert result["values"] == []
    assert result["sentiment"] == "positif"
