"""A tiny random sentence-transformers encoder and a small corpus, for fast end-to-end tests.

The encoder is a 2-layer BERT with random weights over a word-level vocabulary: its embeddings are
meaningless but deterministic, so training, artifacts, the service and the tagger run for real in seconds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from model.data import BalanceRules
from model.labels import SENTIMENTS, VALUE_IDS

WORDS = {
    "berorientasi_pelayanan": ["antre", "lama", "lambat", "ramah", "cepat", "jutek"],
    "akuntabel": ["pungli", "calo", "suap", "terlambat", "jujur", "disiplin"],
    "kompeten": ["salah", "data", "keliru", "paham", "teliti", "jelas"],
    "harmonis": ["dibentak", "diskriminasi", "menolong", "hormat", "kasar", "sopan"],
    "loyal": ["bocor", "kampanye", "rahasia", "bangga", "mencoreng", "nama"],
    "adaptif": ["online", "manual", "aplikasi", "inovasi", "kertas", "digital"],
    "kolaboratif": ["dilempar", "integrasi", "koordinasi", "kerjasama", "instansi", "rujukan"],
}
MOOD = {
    "negatif": ["kecewa", "parah", "buruk"],
    "netral": ["tanya", "info", "jam"],
    "positif": ["terima", "kasih", "bagus"],
}
FILLER = ["kantor", "petugas", "loket", "kemarin", "saya", "pelayanan", "di", "dan", "yang", "sudah"]
SMALL_RULES = BalanceRules(
    min_texts=30, min_per_value=3, min_pos_per_value=1, min_neg_per_value=1, min_no_value_share=0.05,
    min_multi_value_share=0.05, min_sentiment_share=0.05, min_registers=1, min_services=1,
)  # fmt: skip


def vocabulary() -> list[str]:
    """Every word the tiny corpus uses."""
    words = [w for ws in WORDS.values() for w in ws] + [w for ws in MOOD.values() for w in ws] + FILLER
    return sorted(set(words)) + [f"w{i}" for i in range(400)]


def build_tiny_encoder(directory: Path) -> Path:
    """Save a random 2-layer BERT sentence-transformers model to ``directory``; returns it."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as st_models
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {w: i for i, w in enumerate(specials + vocabulary())}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=256,
    )  # fmt: skip
    hf_dir = directory / "hf"
    BertModel(config).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    word = st_models.Transformer(str(hf_dir), max_seq_length=128)
    pooling = st_models.Pooling(word.get_embedding_dimension(), "mean")
    SentenceTransformer(modules=[word, pooling, st_models.Normalize()], device="cpu").save(str(directory / "st"))
    return directory / "st"


def tiny_record(i: int, rng: random.Random) -> dict:
    """One synthetic labelled record whose words carry its labels."""
    n_values = rng.choice([0, 1, 1, 2])
    values = rng.sample(VALUE_IDS, n_values)
    polarity = {v: rng.choice(["neg", "pos"]) for v in values}
    sentiment = rng.choice(SENTIMENTS)
    words = [w for v in values for w in rng.sample(WORDS[v][:3] if polarity[v] == "neg" else WORDS[v][3:], 2)]
    words += rng.sample(MOOD[sentiment], 2) + rng.sample(FILLER, 3) + [f"w{i}", f"w{(i * 7) % 400}"]
    rng.shuffle(words)
    text = " ".join(words[:4]) + ". " + " ".join(words[4:])
    return {
        "id": f"tiny{i:04d}", "text": text, "values": values, "value_polarity": polarity, "sentiment": sentiment,
        "service": "dukcapil_ktp", "register": "tweet", "origin": "authored",
    }  # fmt: skip


def write_tiny_corpus(data_dir: Path, n: int = 240, seed: int = 0) -> Path:
    """Write ``berakhlak/{train,dev,test}.jsonl`` (60/20/20) under ``data_dir``; returns ``data_dir``."""
    rng = random.Random(seed)
    records = [tiny_record(i, rng) for i in range(n)]
    cut = {"train": records[: n * 6 // 10], "dev": records[n * 6 // 10 : n * 8 // 10], "test": records[n * 8 // 10 :]}
    folder = Path(data_dir) / "berakhlak"
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in cut.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return Path(data_dir)
